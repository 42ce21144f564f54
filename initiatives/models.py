from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from initiatives.querysets import InitiativeQuerySet
from sangkien.cleaning import CleanTextModel, refuse_look_alike
from sangkien.collation import VIETNAMESE_DB_COLLATION
from sangkien.downloads import EXTENSIONS, random_file_name
from sangkien.text import fold
from unions.models import Union


class Program(CleanTextModel, models.Model):
    """Chương trình: e.g. "01 triệu sáng kiến", with a national target."""

    name = models.CharField(_("name"), max_length=300, db_collation=VIETNAMESE_DB_COLLATION)
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


class Field(CleanTextModel, models.Model):
    """Lĩnh vực: ATVSLĐ, môi trường, chuyển đổi số…"""

    name = models.CharField(_("name"), max_length=200, unique=True, db_collation=VIETNAMESE_DB_COLLATION)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("field")
        verbose_name_plural = _("fields")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        refuse_look_alike(self, "name")  # the imports match names by their folded key


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


class QuarterTarget(models.Model):
    """Chỉ tiêu quý: a unit's target number of initiatives for one calendar quarter of a programme, as
    assigned by the level above. A quarter without one takes the share of the unit's programme
    target that falls in it (initiatives.quarters: the documented rule, pro rata of the days)."""

    program = models.ForeignKey(
        Program, verbose_name=_("programme"), on_delete=models.CASCADE, related_name="quarter_targets"
    )
    unit = models.ForeignKey(Union, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="quarter_targets")
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(
        _("quarter"), choices=[(n, n) for n in range(1, 5)], validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    quantity = models.PositiveIntegerField(_("target number of initiatives"))

    class Meta:
        verbose_name = _("quarter target")
        verbose_name_plural = _("quarter targets")
        # A year of them nationally is about 520,000 rows: the latest quarters first, from the index.
        ordering = ["program", "-year", "-quarter", "unit"]
        indexes = [models.Index(fields=["program", "year", "quarter", "unit"], name="quarter_target_by_quarter")]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "unit", "year", "quarter"], name="quarter_target_unique_per_unit_and_quarter"
            ),
            models.CheckConstraint(condition=models.Q(quarter__gte=1, quarter__lte=4), name="quarter_target_quarter"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} – {self.quarter}/{self.year}: {self.quantity}"

    def clean(self) -> None:
        """A quarter within the programme's dates (the import refuses the others with the same words)."""
        from initiatives.quarters import Quarter, outside_message

        if self.program_id is not None and self.year and self.quarter in range(1, 5):
            message = outside_message(self.program, Quarter(self.year, self.quarter))
            if message:
                raise ValidationError({"quarter": message})


# The highest value benefit of one initiative, in đồng (a million billion): beyond any real
# initiative, so extra zeros typed by mistake are caught, and the leaderboard's BIGINT sums hold
# over 9,000 initiatives even at this value.
MAX_VALUE_VND = 10**15


class Initiative(CleanTextModel, models.Model):
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
    title = models.CharField(_("title"), max_length=500, db_collation=VIETNAMESE_DB_COLLATION)
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
    # The import from Excel that created it: the import form's one-time token (FormSubmission), so
    # that the import and any repeat of it lead to the list of its initiatives (?import=<token>).
    # A plain value, not a foreign key: the tokens are pruned after a day, the list filter stays.
    import_token = models.UUIDField(_("import"), null=True, blank=True, editable=False)

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
            # The officer's list (recently updated first): walked newest first until a page of the
            # subtree is found, instead of sorting the whole subtree (31,000 rows: 105 ms -> 4 ms).
            models.Index(fields=["-updated_at", "-id"], name="initiative_recently_updated"),
            # The admin lists narrowed to a status, newest first, and the board's review queue (submitted,
            # oldest first: the same index read backwards). Without it "valid, newest first" walked the
            # 200,000 newest initiatives, none of them reviewed yet, to find a page (870 ms).
            models.Index(fields=["status", "-submitted_at", "-id"], name="initiative_status_newest"),
            # The officer's list narrowed to one import (WHERE import_token = …): without it counting an
            # import's few rows reads the whole table. Partial: only imported initiatives have one.
            models.Index(
                fields=["import_token"],
                name="initiative_import",
                condition=models.Q(import_token__isnull=False),
            ),
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


class Author(CleanTextModel, models.Model):
    """Tác giả, with a share of the initiative; an initiative's shares sum to 100."""

    initiative = models.ForeignKey(
        Initiative, verbose_name=_("initiative"), on_delete=models.CASCADE, related_name="authors"
    )
    full_name = models.CharField(_("full name"), max_length=200, db_collation=VIETNAMESE_DB_COLLATION)
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
    # A return or a rejection for "trùng lặp": the initiative this one copies (initiatives.likeness).
    duplicate_of = models.ForeignKey(
        "Initiative",
        verbose_name=_("duplicate of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["initiative", "at", "pk"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        # The timeline on the detail page: WHERE initiative_id = … ORDER BY at
        indexes = [models.Index(fields=["initiative", "at"], name="statuschange_timeline")]

    def __str__(self) -> str:
        return f"{self.get_from_status_display() or '–'} → {self.get_to_status_display()}"


class SimilarGroup(models.Model):
    """Nhóm trùng lặp: initiatives submitted anywhere in the country whose title and summary are
    near-copies of one another (initiatives.likeness.GROUP_FROM), joined as each is submitted. The
    first is the one submitted earliest: the original the others may copy."""

    first = models.ForeignKey(
        Initiative, verbose_name=_("first submitted"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    size = models.PositiveIntegerField(_("initiatives"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # A member's text changed (likeness.remember): the group may have held only through it, so the
    # next grouping run dissolves it and groups its members again.
    recheck = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["-size", "-pk"]
        verbose_name = _("duplicate group")
        verbose_name_plural = _("duplicate groups")
        # The board's list, largest first, at national scale.
        indexes = [models.Index(fields=["-size", "-id"], name="similargroup_largest_first")]

    def __str__(self) -> str:
        # Never the first member's title: a board of another branch may open a group whose first
        # member is confidential.
        return gettext("Duplicate group no. %(number)s") % {"number": self.pk}


class Fingerprint(models.Model):
    """The MinHash bands of a submitted initiative's folded title and summary (initiatives.likeness):
    two initiatives that share one band are candidates for the copied-initiative check, which then
    measures their likeness exactly. One indexed column per band: a lookup is one index probe per
    band, on PostgreSQL and on the demo's SQLite alike."""

    initiative = models.OneToOneField(
        Initiative, primary_key=True, on_delete=models.CASCADE, related_name="fingerprint"
    )
    group = models.ForeignKey(
        SimilarGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="fingerprints",
        db_index=False,  # the partial index below: most initiatives are in no group
    )
    # Not yet compared with the others for the duplicate groups (initiatives.tasks.group_similar).
    grouped = models.BooleanField(default=False)
    band_0 = models.IntegerField()
    band_1 = models.IntegerField()
    band_2 = models.IntegerField()
    band_3 = models.IntegerField()
    band_4 = models.IntegerField()
    band_5 = models.IntegerField()
    band_6 = models.IntegerField()
    band_7 = models.IntegerField()
    band_8 = models.IntegerField()
    band_9 = models.IntegerField()
    band_10 = models.IntegerField()
    band_11 = models.IntegerField()
    band_12 = models.IntegerField()
    band_13 = models.IntegerField()
    band_14 = models.IntegerField()
    band_15 = models.IntegerField()

    class Meta:
        verbose_name = _("fingerprint")
        verbose_name_plural = _("fingerprints")
        indexes = [
            # (band, initiative): a check reads a band's first ids in order, the earliest originals first,
            # for the size of an index on the band alone (two 4-byte keys fit the tuple's 8-byte alignment).
            *(
                models.Index(fields=[f"band_{band}", "initiative"], name=f"fingerprint_band_{band}")
                for band in range(16)
            ),
            models.Index(fields=["initiative"], name="fingerprint_to_group", condition=models.Q(grouped=False)),
            models.Index(fields=["group"], name="fingerprint_group", condition=models.Q(group__isnull=False)),
        ]

    def __str__(self) -> str:
        return str(self.initiative_id)


# What may be attached: every type the portal hands out, with the extension it is saved and
# downloaded under (sangkien.downloads names the download from the type, never from the upload).
ATTACHMENT_EXTENSIONS = dict(EXTENSIONS)


def attachment_path(attachment: Attachment, filename: str) -> str:
    return random_file_name("attachments", attachment.content_type)


class CountMark(models.Model):
    """An initiative whose counted figures may have changed since the last leaderboard snapshot:
    written by every write path in the writer's transaction (`initiatives.counting.mark`), read and
    deleted by the snapshot, which re-counts the initiative as it then is (docs/leaderboard-storage.md
    §2.3). It carries no values, so a stale or concurrent writer cannot make a count wrong, and no
    foreign key, so the mark of a deleted initiative outlives it.

    Insert-only for the writers and small (one snapshot's worth): no index but the primary key,
    so a mark costs a submission one cheap INSERT."""

    initiative_id = models.BigIntegerField(_("initiative"))
    marked_at = models.DateTimeField(_("marked at"), db_default=Now())

    class Meta:
        verbose_name = _("count mark")
        verbose_name_plural = _("count marks")

    def __str__(self) -> str:
        return f"#{self.initiative_id}"


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


class FormSubmission(models.Model):
    """A form's one-time token, stored with what its first POST created (initiatives.once): a second
    POST of the same form (a double click, a resent request, the Back button) finds it and is
    answered with the first result. The primary key is the guarantee: two POSTs at once both insert
    it, the second waits for the first's transaction and then fails."""

    class Purpose(models.TextChoices):
        INITIATIVE = "initiative", _("New initiative")
        IMPORT = "import", _("Import from Excel")
        QUESTION = "question", _("Question")
        HONOURS = "honours", _("Honours decision")
        COUNCILS = "councils", _("Selection round")

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
