"""Honours decisions (issue 19, items 3–5): the leading units of a period, as a snapshot counted
them, turned into a decision that names its evidence and never changes.

A decision is prepared as a draft from a proposal (leaderboard.honours.propose): each leading unit
of each level block and emulation cluster becomes an entry with its figures, its target for the
period and whether it met the rule, copied then. The rule itself (the count used and the margin)
and the targets are copied too: neither is versioned elsewhere, so only the decision remembers
what it was decided with. Those who decide may exclude an entry with a reason, or take the
exclusion back, while it is a draft. Issuing it (number, date, signer, note) freezes it: nothing of
an issued decision or its entries is changed or deleted afterwards (honours.services refuses, and
so do the models' save and delete). A correction is a new decision that names the one it corrects;
once issued, it replaces it on the public page, which still shows both.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from initiatives.models import Phase, Program
from leaderboard.models import HonourRule, LeaderboardSnapshot
from unions.levels import BLOCK_NAMES
from unions.models import EmulationCluster, Union


class Frozen(Exception):
    """An issued decision, or an entry of one, was about to be changed or deleted."""


class HonourDecision(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")

    class PeriodKind(models.TextChoices):
        QUARTER = "quarter", _("Quarter")
        PHASE = "phase", _("Phase")
        PROGRAMME = "programme", _("Whole programme")

    program = models.ForeignKey(Program, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="+")
    # The evidence: kept for good once the decision is issued (leaderboard.snapshots.pin), and never
    # deleted while a decision names it.
    snapshot = models.ForeignKey(
        LeaderboardSnapshot, verbose_name=_("snapshot"), on_delete=models.PROTECT, related_name="+"
    )
    taken_at = models.DateTimeField(_("figures as of"))
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    # A quarter: its key (year * 10 + number, initiatives.quarters.Quarter.key); a phase: the phase.
    quarter_key = models.PositiveIntegerField(_("quarter"), null=True, blank=True)
    phase = models.ForeignKey(
        Phase, verbose_name=_("phase"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The period as it was named then ("Quý 3/2022", a phase's name and dates), and its token in the
    # pages' addresses ("2022-3", "phase-4", "programme": honours.services.PeriodChoice).
    period_label = models.CharField(_("period"), max_length=200)
    period_token = models.CharField(_("period"), max_length=20)
    # The subtree it decides for (the root for the whole tree), and its name as it was.
    scope = models.ForeignKey(Union, verbose_name=_("units under"), on_delete=models.PROTECT, related_name="+")
    scope_name = models.CharField(_("units under"), max_length=255)
    # The rule it was decided with, as it was (leaderboard.HonourRule is the programme's rule now).
    count = models.CharField(_("count by"), max_length=16, choices=HonourRule.Count.choices)
    margin = models.PositiveIntegerField(_("at least this many above the target"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Set when it is issued: the body that issues it (the decider's unit; the root for the national
    # leadership and board) and its name then, the place and date it is signed at, the number (unique
    # for the body and the year: numbering starts again each year), the signer.
    issuer = models.ForeignKey(
        Union, verbose_name=_("issued by (body)"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issuer_name = models.CharField(_("issued by (body)"), max_length=255, blank=True)
    number = models.CharField(_("decision number"), max_length=50, blank=True)
    place = models.CharField(_("place"), max_length=100, blank=True)
    signed_on = models.DateField(_("date of the decision"), null=True, blank=True)
    signed_year = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    signer = models.CharField(_("signed by"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    # A correction names the decision it corrects; once issued, it replaces it.
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
    )
    # PROTECT: deleting an account would also delete its admin history (django.contrib.admin's
    # LogEntry cascades), where every step of a decision is written; deactivate it instead.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("prepared by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("prepared at"), default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-created_at"]
        verbose_name = _("honours decision")
        verbose_name_plural = _("honours decisions")
        indexes = [
            # The public page: the issued decisions of a programme, latest first.
            models.Index(fields=["program", "status", "-signed_on"], name="honour_decision_published"),
        ]
        constraints = [
            # A decision is corrected once; a later correction corrects the correction.
            models.UniqueConstraint(
                fields=["corrects"], condition=models.Q(status="issued"), name="honour_corrected_once"
            ),
            # A body does not give the same number twice in a year.
            models.UniqueConstraint(
                fields=["issuer", "signed_year", "number"],
                condition=models.Q(status="issued"),
                name="honour_number_unique",
            ),
            # A period is decided once for the same units; what follows is a correction.
            models.UniqueConstraint(
                fields=["program", "scope", "period_token"],
                condition=models.Q(status="issued", corrects__isnull=True),
                name="honour_period_decided_once",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft")
                | (
                    ~models.Q(number="")
                    & models.Q(signed_on__isnull=False, signed_year__isnull=False, issuer__isnull=False)
                    & ~models.Q(signer="")
                ),
                name="honour_issued_has_number_date_signer",
            ),
        ]

    def __str__(self) -> str:
        if self.status == self.Status.ISSUED:
            return f"{self.number} ({self.period_label})"
        return f"#{self.pk} ({self.period_label})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and HonourDecision.objects.filter(pk=self.pk, status=self.Status.ISSUED).exists():
            raise Frozen(f"decision {self.pk} is issued")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if HonourDecision.objects.filter(pk=self.pk, status=self.Status.ISSUED).exists():
            raise Frozen(f"decision {self.pk} is issued")
        return super().delete(*args, **kwargs)

    @property
    def is_issued(self) -> bool:
        return self.status == self.Status.ISSUED


class HonourEntry(models.Model):
    """A leading unit of a level block (no cluster) or an emulation cluster, with its figures as the
    snapshot counted them and its target for the period, copied when the draft was prepared."""

    decision = models.ForeignKey(
        HonourDecision, verbose_name=_("decision"), on_delete=models.CASCADE, related_name="entries"
    )
    position = models.PositiveIntegerField(_("position"))
    level = models.CharField(_("level"), max_length=16, choices=Union.Level.choices)
    cluster = models.ForeignKey(
        EmulationCluster,
        verbose_name=_("emulation cluster"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The cluster's name as it was; empty for the whole level block.
    cluster_name = models.CharField(_("emulation cluster"), max_length=255, blank=True)
    # The unit, and its code and name as the snapshot saw them (a unit merged away later leaves them).
    unit = models.ForeignKey(
        Union, verbose_name=_("unit"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    unit_code = models.CharField(_("unit code"), max_length=50)
    unit_name = models.CharField(_("unit"), max_length=255)
    count = models.PositiveIntegerField(_("initiatives"))
    target = models.PositiveIntegerField(_("target for the period"), null=True, blank=True)
    meets = models.BooleanField(_("meets the rule"))
    excluded = models.BooleanField(_("excluded"), default=False)
    reason = models.CharField(_("reason for the exclusion"), max_length=300, blank=True)

    class Meta:
        ordering = ["decision", "position"]
        verbose_name = _("honours entry")
        verbose_name_plural = _("honours entries")
        indexes = [
            # A unit's honours (its dashboard page, the mail it gets).
            models.Index(fields=["unit", "decision"], name="honour_entry_unit"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["decision", "position"], name="honour_entry_position"),
            models.CheckConstraint(
                condition=models.Q(excluded=False) | ~models.Q(reason=""), name="honour_exclusion_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_code} – {self.unit_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if HonourDecision.objects.filter(pk=self.decision_id, status=HonourDecision.Status.ISSUED).exists():
            raise Frozen(f"decision {self.decision_id} is issued")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if HonourDecision.objects.filter(pk=self.decision_id, status=HonourDecision.Status.ISSUED).exists():
            raise Frozen(f"decision {self.decision_id} is issued")
        return super().delete(*args, **kwargs)

    @property
    def honoured(self) -> bool:
        return self.meets and not self.excluded

    @property
    def group_name(self) -> str:
        return group_name(self.level, self.cluster_name)


def group_name(level: str, cluster_name: str) -> str:
    """ "Khối công đoàn cơ sở – Cụm 1", or the level block alone (no cluster name)."""
    block = str(BLOCK_NAMES.get(level, level))
    return f"{block} – {cluster_name}" if cluster_name else block
