from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from initiatives.querysets import InitiativeQuerySet
from sangkien.downloads import EXTENSIONS
from sangkien.text import fold
from unions.models import EmulationCluster, Union


class Program(models.Model):
    """Chương trình: e.g. "01 triệu sáng kiến", with a national target."""

    name = models.CharField(_("name"), max_length=300)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    target = models.PositiveIntegerField(_("target number of initiatives"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="program_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Phase(models.Model):
    """Giai đoạn of a programme; leaderboards and exports can be narrowed to one."""

    program = models.ForeignKey(Program, verbose_name=_("programme"), on_delete=models.CASCADE, related_name="phases")
    number = models.PositiveSmallIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=200)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))

    class Meta:
        ordering = ["program", "number"]
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        constraints = [
            models.UniqueConstraint(fields=["program", "number"], name="phase_number_unique_in_program"),
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")), name="phase_dates_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.program.name} – {self.name}"


class Field(models.Model):
    """Lĩnh vực: ATVSLĐ, môi trường, chuyển đổi số…"""

    name = models.CharField(_("name"), max_length=200, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("field")
        verbose_name_plural = _("fields")

    def __str__(self) -> str:
        return self.name


class Target(models.Model):
    """Chỉ tiêu: a unit's target number of initiatives in a programme (assigned or self-registered)."""

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        SELF_REGISTERED = "self_registered", _("Self-registered")

    program = models.ForeignKey(Program, verbose_name=_("programme"), on_delete=models.CASCADE, related_name="targets")
    unit = models.ForeignKey(Union, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="targets")
    quantity = models.PositiveIntegerField(_("target number of initiatives"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.ASSIGNED)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.UniqueConstraint(fields=["program", "unit"], name="target_unique_per_unit_and_program"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} – {self.quantity}"


# The highest value benefit of one initiative, in đồng (a million billion): beyond any real
# initiative, so extra zeros typed by mistake are caught, and the leaderboard's BIGINT sums hold
# over 9,000 initiatives even at this value.
MAX_VALUE_VND = 10**15


class Initiative(models.Model):
    """Sáng kiến, submitted by an officer on behalf of its authors."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        VALID = "valid", _("Valid")
        RETURNED = "returned", _("Returned for completion")
        REJECTED = "rejected", _("Rejected")

    class Kind(models.TextChoices):
        TECHNICAL = "technical", _("Technical solution")
        MANAGEMENT = "management", _("Management solution")
        OPERATIONAL = "operational", _("Operational solution")
        APPLIED_PROGRESS = "applied_progress", _("Application of technical progress")
        RESEARCH = "research", _("Scientific research project")

    class RecognitionLevel(models.TextChoices):
        UNIT = "unit", _("Unit level")
        SECTOR_PROVINCE = "sector_province", _("Sector or provincial level")
        NATIONAL = "national", _("National level")

    program = models.ForeignKey(
        Program, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="initiatives"
    )
    phase = models.ForeignKey(
        Phase, verbose_name=_("phase"), null=True, blank=True, on_delete=models.PROTECT, related_name="initiatives"
    )
    unit = models.ForeignKey(Union, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="initiatives")
    title = models.CharField(_("title"), max_length=500)
    field = models.ForeignKey(
        Field, verbose_name=_("field"), null=True, blank=True, on_delete=models.PROTECT, related_name="initiatives"
    )
    kind = models.CharField(_("kind of solution"), max_length=20, choices=Kind.choices, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    description = models.TextField(_("description (current state, solution)"), blank=True)
    scope = models.TextField(_("scope of application"), blank=True)
    first_applied_on = models.DateField(_("first applied on"), null=True, blank=True)
    effectiveness = models.TextField(_("effectiveness"), blank=True)
    value_vnd = models.BigIntegerField(
        _("value benefit (VND)"),
        null=True,
        blank=True,
        validators=[
            MinValueValidator(0),
            MaxValueValidator(
                MAX_VALUE_VND, _("A value benefit is at most 1.000.000.000.000.000 đồng; check the amount.")
            ),
        ],
    )
    is_confidential = models.BooleanField(_("contains confidential information"), default=False)
    recognition_number = models.CharField(_("recognition decision number"), max_length=100, blank=True)
    recognition_date = models.DateField(_("recognition decision date"), null=True, blank=True)
    recognition_level = models.CharField(
        _("recognition level"), max_length=20, choices=RecognitionLevel.choices, blank=True
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Every account that created, edited or submitted it (site, import or admin): none of them may
    # review it (unions.permissions.may_review).
    editors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("edited by"), blank=True, related_name="edited_initiatives"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Folded title for diacritic-free search; authors' names are added by the services.
    search_text = models.TextField(blank=True, editable=False)

    objects = InitiativeQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = _("initiative")
        verbose_name_plural = _("initiatives")
        indexes = [
            # A unit's list and the per-unit counts: WHERE unit_id = … AND status …
            models.Index(fields=["unit", "status"], name="initiative_unit_status"),
            # Programme progress and the review queue: WHERE program_id = … AND status = … ORDER BY submitted_at
            models.Index(fields=["program", "status", "submitted_at"], name="initiative_program_status"),
            # The default ordering (newest first), e.g. the admin list's first page at millions of rows.
            models.Index(fields=["-submitted_at", "-id"], name="initiative_newest_first"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(value_vnd__isnull=True) | models.Q(value_vnd__gte=0),
                name="initiative_value_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(submitted_at__isnull=False),
                name="initiative_submitted_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("initiatives:detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        """Officers edit drafts and returned initiatives; submitted ones are read-only for them."""
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)

    def refresh_search_text(self, author_names: list[str] | None = None) -> None:
        self.search_text = fold(" ".join([self.title, *(author_names or [])]))


class Author(models.Model):
    """Tác giả, with a share of the initiative; an initiative's shares sum to 100."""

    initiative = models.ForeignKey(
        Initiative, verbose_name=_("initiative"), on_delete=models.CASCADE, related_name="authors"
    )
    full_name = models.CharField(_("full name"), max_length=200)
    position = models.CharField(_("position"), max_length=200, blank=True)
    workplace = models.CharField(_("workplace"), max_length=300, blank=True)
    share_percent = models.DecimalField(
        _("contribution share (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal(100))],
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["initiative", "order", "pk"]
        verbose_name = _("author")
        verbose_name_plural = _("authors")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(share_percent__gt=0) & models.Q(share_percent__lte=100),
                name="author_share_between_0_and_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.share_percent}%)"


class StatusChange(models.Model):
    """One step of an initiative's life cycle: who, when, from, to, and the reason shown to officers."""

    initiative = models.ForeignKey(
        Initiative, verbose_name=_("initiative"), on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(_("from"), max_length=12, choices=Initiative.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=Initiative.Status.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("at"))
    reason = models.TextField(_("reason"), blank=True)
    # The reviewer's private note: shown in the admin only, never to officers.
    note = models.TextField(_("private note"), blank=True)

    class Meta:
        ordering = ["initiative", "at", "pk"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        # The timeline on the detail page: WHERE initiative_id = … ORDER BY at
        indexes = [models.Index(fields=["initiative", "at"], name="statuschange_timeline")]

    def __str__(self) -> str:
        return f"{self.get_from_status_display() or '–'} → {self.get_to_status_display()}"


# What may be attached: every type the portal hands out, with the extension it is saved and
# downloaded under (sangkien.downloads names the download from the type, never from the upload).
ATTACHMENT_EXTENSIONS = dict(EXTENSIONS)


def random_file_name(folder: str, content_type: str) -> str:
    """A non-guessable name under MEDIA_ROOT, its extension from the sniffed type (not the user's
    file name, which is kept in the row only)."""
    extension = ATTACHMENT_EXTENSIONS.get(content_type, "")
    return f"{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{extension}"


def attachment_path(attachment: Attachment, filename: str) -> str:
    return random_file_name("attachments", attachment.content_type)


class ReviewQueue(Initiative):
    """Hàng chờ duyệt: the submitted initiatives, oldest first (an admin view of Initiative)."""

    class Meta:
        proxy = True
        verbose_name = _("review queue item")
        verbose_name_plural = _("review queue")


class Attachment(models.Model):
    """A file attached to an initiative (PDF, DOCX, XLSX, JPG, PNG), checked by its content."""

    initiative = models.ForeignKey(
        Initiative, verbose_name=_("initiative"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["initiative", "pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("initiatives:attachment", args=[self.pk])


def question_attachment_path(question: Question, filename: str) -> str:
    return random_file_name("questions", question.attachment_type)


class Question(models.Model):
    """Câu hỏi / vướng mắc: a unit's question to the board, answered in the admin."""

    unit = models.ForeignKey(Union, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="questions")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("asked by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("question"))
    initiative = models.ForeignKey(
        Initiative,
        verbose_name=_("initiative"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="questions",
    )
    attachment = models.FileField(_("attachment"), upload_to=question_attachment_path, max_length=200, blank=True)
    attachment_name = models.CharField(_("file name"), max_length=255, blank=True)
    attachment_type = models.CharField(_("content type"), max_length=100, blank=True)
    asked_at = models.DateTimeField(_("asked at"), default=timezone.now)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("answered by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answer_seen_at = models.DateTimeField(_("answer seen at"), null=True, blank=True)
    is_public = models.BooleanField(
        _("public in the FAQ"), default=False, help_text=_("Shown in the public FAQ, without the asker's name.")
    )
    search_text = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["-asked_at", "-pk"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        indexes = [
            # The board's "waiting" list: WHERE answered_at IS NULL ORDER BY asked_at
            models.Index(fields=["answered_at", "asked_at"], name="question_waiting"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_public=False) | models.Q(answered_at__isnull=False),
                name="question_public_only_when_answered",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    def get_absolute_url(self) -> str:
        return reverse("initiatives:question", args=[self.pk])

    def refresh_search_text(self) -> None:
        self.search_text = fold(" ".join([self.subject, self.body, self.answer]))


class PendingQuestion(Question):
    """Câu hỏi chờ trả lời: the questions without an answer, oldest first (an admin view)."""

    class Meta:
        proxy = True
        verbose_name = _("question awaiting an answer")
        verbose_name_plural = _("questions awaiting an answer")


class Page(models.Model):
    """Editable content such as the guide "Hướng dẫn cập nhật sáng kiến" (plain text, paragraphs)."""

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("content"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("page")
        verbose_name_plural = _("pages")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("page", args=[self.slug])


class Notification(models.Model):
    """An e-mail owed to a unit's officers (outbox): written with the change it tells about, so a
    broker or mail server that is down delays it but never loses it."""

    class Kind(models.TextChoices):
        STATUS_CHANGE = "status_change", _("Status change")
        ANSWER = "answer", _("Answer to a question")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField(_("object id"))
    # The unit whose officers receive it: what scopes the outbox to a province's board.
    unit = models.ForeignKey(
        Union, verbose_name=_("unit"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # Not before: each attempt moves it on (1, 2, 4 … minutes, then hourly) before it starts, so a
    # failing mail server is tried again later by the resend job, not by a worker that waits.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The backlog's oldest owed e-mail: WHERE sent_at IS NULL … MIN(created_at)
            models.Index(fields=["sent_at", "created_at"], name="notification_pending"),
            # The resend job: WHERE sent_at IS NULL AND next_attempt_at <= now ORDER BY next_attempt_at;
            # partial, so it holds the owed rows only, however many were sent.
            models.Index(fields=["next_attempt_at"], condition=models.Q(sent_at__isnull=True), name="notification_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.object_id}"


class LeaderboardSnapshot(models.Model):
    """Bảng xếp hạng "tính đến ngày/giờ": every unit's rolled-up figures at one instant, kept as history.

    Written only by `initiatives.leaderboard.leaderboard_snapshot`; one per programme and instant, so a
    rerun for the same instant finds it and changes nothing.
    """

    program = models.ForeignKey(
        Program, verbose_name=_("programme"), on_delete=models.CASCADE, related_name="snapshots"
    )
    taken_at = models.DateTimeField(_("as of"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    seconds = models.FloatField(_("time taken (s)"), default=0)
    row_count = models.PositiveIntegerField(_("rows"), default=0)

    class Meta:
        ordering = ["program", "-taken_at"]
        get_latest_by = "taken_at"
        verbose_name = _("leaderboard snapshot")
        verbose_name_plural = _("leaderboard snapshots")
        constraints = [
            models.UniqueConstraint(fields=["program", "taken_at"], name="snapshot_unique_per_instant"),
        ]

    def __str__(self) -> str:
        return f"{self.program.name} – {timezone.localtime(self.taken_at):%d/%m/%Y %H:%M}"


class LeaderboardRow(models.Model):
    """One unit's figures over its whole subtree in one context (a phase or the whole programme, a
    field or all fields) of a snapshot, with its rank in its level block and in its emulation cluster.

    Level and cluster are copied as they were at the snapshot, so history survives a restructuring.
    Units with no submitted initiative in a context have no row (they are not ranked).
    """

    # Hundreds of thousands of rows go in per snapshot: the composite indexes below serve every
    # lookup, so the foreign keys get no index of their own, and the database checks none of them
    # (checking the snapshot's alone took 4 s at commit): only the snapshot service writes rows,
    # in the transaction that creates their snapshot, from existing units; Django cascades deletes.
    snapshot = models.ForeignKey(
        LeaderboardSnapshot, on_delete=models.CASCADE, related_name="rows", db_index=False, db_constraint=False
    )
    unit = models.ForeignKey(Union, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    # The context: a phase's id or 0 for the whole programme, a field's id or 0 for all fields. Not
    # nullable foreign keys: PostgreSQL reads an index in order only after equalities, and
    # "IS NULL" is not one, so the top 10 of a block would sort every row of the block.
    phase_key = models.PositiveIntegerField(default=0)
    field_key = models.PositiveIntegerField(default=0)
    level = models.CharField(max_length=16, choices=Union.Level.choices)
    # As it was: a cluster deleted later leaves history untouched.
    cluster = models.ForeignKey(
        EmulationCluster, null=True, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    submitted = models.PositiveIntegerField()
    valid = models.PositiveIntegerField()
    value_vnd = models.BigIntegerField()
    participating = models.PositiveIntegerField()  # grassroots units of the subtree with a submission
    target = models.PositiveIntegerField()  # the unit's chỉ tiêu in the programme, 0 when none
    rank = models.PositiveIntegerField()  # in the level block, nationally; ties share a rank
    cluster_rank = models.PositiveIntegerField(null=True)  # in the level block within its cluster

    class Meta:
        verbose_name = _("leaderboard row")
        verbose_name_plural = _("leaderboard rows")
        indexes = [
            # A block's ranking: WHERE snapshot_id = … AND phase_key = … AND field_key = … AND level = …
            # ORDER BY rank, unit_id LIMIT 10. Within a cluster the same, with AND cluster_id = …:
            # the cluster's rows come in the same order, and a cluster holds a few % of a block, so
            # the scan reads a few hundred entries to find ten (a second index cost 2 s a snapshot).
            models.Index(
                fields=["snapshot", "phase_key", "field_key", "level", "rank", "unit"], name="lbrow_block_rank"
            ),
            # Given units' rows: a subtree's (from a list of its unit ids), the previous snapshot's,
            # a unit's own lines in several contexts, its history:
            # WHERE snapshot_id = … AND unit_id … [AND phase_key = … AND field_key = …]
            # (Deleting a unit, which cascades here, scans the table: units with initiatives are
            # protected from deletion, and only they have rows.)
            models.Index(fields=["snapshot", "unit", "phase_key", "field_key"], name="lbrow_units"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} #{self.rank}"


class LeaderboardWeek(models.Model):
    """Submissions per week and field of a large unit's subtree (the Confederation and tier-2 units)
    at a snapshot; the weekly chart of smaller subtrees is counted from their initiatives directly."""

    # Written by the snapshot service alone, like LeaderboardRow: no foreign key checked at commit.
    snapshot = models.ForeignKey(
        LeaderboardSnapshot, on_delete=models.CASCADE, related_name="weeks", db_index=False, db_constraint=False
    )
    unit = models.ForeignKey(Union, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    week = models.DateField()  # the Monday starting the week, local time
    # null: initiatives with no field; the week's total is the sum over the week's rows
    field = models.ForeignKey(Field, null=True, on_delete=models.CASCADE, related_name="+", db_index=False)
    submitted = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("weekly submissions")
        verbose_name_plural = _("weekly submissions")
        # The weekly chart: WHERE snapshot_id = … AND unit_id = … ORDER BY week
        indexes = [models.Index(fields=["snapshot", "unit", "week"], name="lbweek_series")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.week:%d/%m/%Y}: {self.submitted}"


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
        ordering = ["criterion", "min_value"]
        verbose_name = _("scoring band")
        verbose_name_plural = _("scoring bands")
        constraints = [models.UniqueConstraint(fields=["criterion", "min_value"], name="band_unique_threshold")]

    def __str__(self) -> str:
        return f"≥ {self.min_value}: {self.points}"


def export_path(job: ExportJob, filename: str) -> str:
    return f"exports/{filename}"


class ExportJob(models.Model):
    """An emulation-criteria workbook asked for from the site and built by a worker.

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

    program = models.ForeignKey(Program, verbose_name=_("programme"), on_delete=models.CASCADE, related_name="+")
    phase = models.ForeignKey(
        Phase, verbose_name=_("phase"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
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
    total_rows = models.PositiveIntegerField(_("units to write"), default=0)
    rows_done = models.PositiveIntegerField(_("units written"), default=0)
    seconds = models.FloatField(_("time taken (s)"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    file = models.FileField(_("file"), upload_to=export_path, max_length=200, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("emulation export")
        verbose_name_plural = _("emulation exports")
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="exportjob_status")]

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
        if not self.is_lost:
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
        ordering = ["-at"]
        verbose_name = _("export start")
        verbose_name_plural = _("export starts")
        # The limits: WHERE user_id = … AND at >= now() - 1 hour
        indexes = [models.Index(fields=["user", "at"], name="exportstart_user_at")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.job_id} ({self.at:%Y-%m-%d %H:%M})"


class FormSubmission(models.Model):
    """A form's one-time token, stored with what its first POST created (initiatives.once): a second
    POST of the same form (a double click, a resent request, the Back button) finds it and is
    answered with the first result. The primary key is the guarantee: two POSTs at once both insert
    it, the second waits for the first's transaction and then fails."""

    class Purpose(models.TextChoices):
        INITIATIVE = "initiative", _("New initiative")
        IMPORT = "import", _("Import from Excel")
        QUESTION = "question", _("Question")

    token = models.UUIDField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    created_at = models.DateTimeField(default=timezone.now)
    result_url = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.token}"
