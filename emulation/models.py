"""Emulation (thi đua) criteria with their scoring bands, and the jobs that build the workbook."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from initiatives.models import Phase, Program
from unions.models import EmulationCluster, Union


class EmulationCriterion(models.Model):
    """A tiêu chí thi đua of a programme: a metric of each unit's figures, scored by bands and
    weighted; a unit's score is the sum over the criteria of weight × the points of its band."""

    class Metric(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted initiatives")
        VALID = "valid", _("Valid initiatives")
        COMPLETION = "completion", _("Completion of the target (%)")
        PER_100_MEMBERS = "per_100_members", _("Initiatives per 100 members")
        PARTICIPATION = "participation", _("Participating grassroots units (%)")
        VALUE = "value", _("Value benefit (đồng)")
        VALID_RATIO = "valid_ratio", _("Valid share of the submitted (%)")

    program = models.ForeignKey(Program, verbose_name=_("programme"), on_delete=models.CASCADE, related_name="criteria")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=255)
    metric = models.CharField(_("metric"), max_length=20, choices=Metric.choices)
    weight = models.DecimalField(
        _("weight"), max_digits=6, decimal_places=2, default=Decimal(1), validators=[MinValueValidator(Decimal(0))]
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        db_table = "initiatives_emulationcriterion"  # its table from before the app split
        ordering = ["program", "position", "code"]
        verbose_name = _("emulation criterion")
        verbose_name_plural = _("emulation criteria")
        constraints = [models.UniqueConstraint(fields=["program", "code"], name="criterion_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class ScoringBand(models.Model):
    """From this value of the criterion's metric up (to the next band), a unit earns these points."""

    criterion = models.ForeignKey(
        EmulationCriterion, verbose_name=_("criterion"), on_delete=models.CASCADE, related_name="bands"
    )
    min_value = models.DecimalField(_("from (at least)"), max_digits=18, decimal_places=2)
    points = models.DecimalField(_("points"), max_digits=8, decimal_places=2)

    class Meta:
        db_table = "initiatives_scoringband"  # its table from before the app split
        ordering = ["criterion", "min_value"]
        verbose_name = _("scoring band")
        verbose_name_plural = _("scoring bands")
        constraints = [models.UniqueConstraint(fields=["criterion", "min_value"], name="band_unique_threshold")]

    def __str__(self) -> str:
        return f"≥ {self.min_value}: {self.points}"


def export_path(job: ExportJob, filename: str) -> str:
    return f"exports/{filename}"


class ExportJob(models.Model):
    """A workbook asked for from the site and built by a worker: the emulation-criteria workbook
    of a subtree, or an officer's filtered list of initiatives (`kind`; emulation.kinds builds each).

    Life cycle: queued → running → done | failed. A worker claims a queued job (or a running one
    whose heartbeat stopped: the worker died) with a conditional UPDATE and a fresh claim token;
    only the holder of the current token may report progress or finish, so a job is built once
    even if its message is delivered twice. The file is written under a temporary name and renamed
    when complete, so a half-written file is never offered for download.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Kind(models.TextChoices):
        EMULATION = "emulation", _("Emulation criteria")
        INITIATIVE_LIST = "initiative_list", _("List of initiatives")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.EMULATION)
    # What else defines an export of its kind: for the officer's list, its filters as the list's
    # query string held them (re-validated against the asker's access when the worker builds it).
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    # An officer's list spans the programmes (the list has no programme filter): none then.
    program = models.ForeignKey(
        Program, verbose_name=_("programme"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    phase = models.ForeignKey(
        Phase, verbose_name=_("phase"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The emulation workbook's units; for an officer's list, the subtree the officer saw when asking.
    scope = models.ForeignKey(Union, verbose_name=_("units under"), on_delete=models.CASCADE, related_name="+")
    level = models.CharField(_("level"), max_length=16, choices=Union.Level.choices, blank=True)
    cluster = models.ForeignKey(
        EmulationCluster,
        verbose_name=_("emulation cluster"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("asked by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(_("asked at"), default=timezone.now)
    as_of = models.DateTimeField(_("as of"), default=timezone.now)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    total_rows = models.PositiveIntegerField(_("rows to write"), default=0)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    seconds = models.FloatField(_("time taken (s)"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    file = models.FileField(_("file"), upload_to=export_path, max_length=200, blank=True)

    # What the exports page shows of a job, set there for its template (not columns).
    label: str
    error_text: str
    filters: str  # an officer's list: its filters, named

    class Meta:
        db_table = "initiatives_exportjob"  # its table from before the app split
        ordering = ["-requested_at"]
        verbose_name = _("emulation export")
        verbose_name_plural = _("emulation exports")
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="exportjob_status")]
        constraints = [
            # Only an officer's list spans the programmes; an emulation workbook is of one.
            models.CheckConstraint(
                condition=models.Q(kind="initiative_list") | models.Q(program__isnull=False),
                name="exportjob_emulation_has_program",
            )
        ]

    def __str__(self) -> str:
        return f"{self.pk}: {self.scope.code} ({self.get_status_display()})"

    @property
    def is_lost(self) -> bool:
        """Running, but no worker has reported for a while: it died mid-run."""
        if self.status != self.Status.RUNNING or self.heartbeat_at is None:
            return False
        return timezone.now() - self.heartbeat_at > dt.timedelta(seconds=settings.EXPORT_STALE_SECONDS)

    @property
    def is_abandoned(self) -> bool:
        """Lost for twice the stale period: a worker would have taken it over by now (its message
        comes back after the broker's visibility timeout, EXPORT_STALE_SECONDS), so the message is
        gone too (Redis lost it, or its retries ran out) and only a retry builds it."""
        if not self.is_lost or self.heartbeat_at is None:  # a lost job has a heartbeat
            return False
        return timezone.now() - self.heartbeat_at > dt.timedelta(seconds=2 * settings.EXPORT_STALE_SECONDS)

    @property
    def is_waiting_too_long(self) -> bool:
        """Still queued long after it was asked for: no worker took it (the broker was down)."""
        waited = timezone.now() - self.requested_at
        return self.status == self.Status.QUEUED and waited > dt.timedelta(seconds=settings.EXPORT_STALE_SECONDS)

    @property
    def can_retry(self) -> bool:
        return self.status == self.Status.FAILED or self.is_lost or self.is_waiting_too_long

    @property
    def is_settled(self) -> bool:
        """Nothing more will happen to it by itself: done, failed, or abandoned (only the Retry button
        moves it on), so the page stops following it. A lost job is not: another worker takes it
        over by itself; nor one waiting for a worker."""
        return self.status in (self.Status.DONE, self.Status.FAILED) or self.is_abandoned


class ExportStart(models.Model):
    """A build started on someone's behalf: a new export or a retry. The per-hour limit counts
    these, and the concurrent limit counts the jobs they started that are still queued or running
    (a job retried by another account counts for that account too)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("asked by"), on_delete=models.CASCADE, related_name="+"
    )
    job = models.ForeignKey(ExportJob, verbose_name=_("export"), on_delete=models.CASCADE, related_name="starts")
    at = models.DateTimeField(_("asked at"), default=timezone.now)

    class Meta:
        db_table = "initiatives_exportstart"  # its table from before the app split
        ordering = ["-at"]
        verbose_name = _("export start")
        verbose_name_plural = _("export starts")
        # The limits: WHERE user_id = … AND at >= now() - 1 hour
        indexes = [models.Index(fields=["user", "at"], name="exportstart_user_at")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.job_id} ({self.at:%Y-%m-%d %H:%M})"
