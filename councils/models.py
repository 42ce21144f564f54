"""Outstanding initiatives (issue 20): selection rounds whose councils score the initiatives
nominated up the union tree.

A round (đợt xét chọn) belongs to a programme and a unit, at that unit's level; it has a rubric
(criteria with their maximum points and, optionally, bands the points must fall in), a quota, a
deadline for nominations, a spread beyond which a nomination needs a third scorer, and a council
(hội đồng): accounts with a chair, a secretary, members, and reserve members who score only the
nominations the chair assigns them. Units nominate valid initiatives of their subtree to the round
of their own unit or of the unit directly above; a nomination selected in a round may be forwarded
to a round of the level above, naming the nomination it comes from.

A round is open for nominations, then scored, then closed. Each scorer's sheet for a nomination is
a draft until submitted, and a submitted sheet never changes. Closing ranks the nominations by
their mean, applies the quota (ties at the quota decided by the criteria in the rubric's order,
then by the chair), and freezes the round: nothing of a closed round is changed or deleted
afterwards (councils.services refuses, and so do the models' save and delete).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from initiatives.models import Initiative, Program
from sangkien.collation import VIETNAMESE_DB_COLLATION
from unions.models import Union

# The most points one criterion may be worth: a rubric is out of 100 in practice, a few criteria
# out of 1000 at most.
MAX_CRITERION_POINTS = 1000


class Frozen(Exception):
    """A closed round, or a row of one, was about to be changed or deleted."""


def _refuse_when_closed(round_id: int | None, what: str) -> None:
    if (
        round_id is not None
        and SelectionRound.objects.filter(pk=round_id, status=SelectionRound.Status.CLOSED).exists()
    ):
        raise Frozen(f"round {round_id} is closed: its {what} never change")


class SelectionRound(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open for nominations")
        SCORING = "scoring", _("Scoring")
        CLOSED = "closed", _("Closed")

    program = models.ForeignKey(Program, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Union, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    # The unit's name and level as they were when the round was set up (documents cite them).
    unit_name = models.CharField(_("unit"), max_length=255)
    level = models.CharField(_("level"), max_length=16, choices=Union.Level.choices)
    name = models.CharField(_("name"), max_length=300, db_collation=VIETNAMESE_DB_COLLATION)
    quota = models.PositiveSmallIntegerField(_("quota"), validators=[MinValueValidator(1), MaxValueValidator(10000)])
    deadline = models.DateField(_("nominations until"))
    spread_threshold = models.PositiveSmallIntegerField(
        _("spread that calls for a third scorer (points)"),
        validators=[MaxValueValidator(MAX_CRITERION_POINTS * 20)],
    )
    pass_mark = models.PositiveSmallIntegerField(
        _("pass mark (points)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_CRITERION_POINTS * 20)],
        help_text=_("Optional: a nomination whose mean is below it is not selected, whatever the quota."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    # PROTECT on the accounts: deleting one would delete its admin history (LogEntry cascades), where
    # every step of the round is written; deactivate it instead.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("set up by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("set up at"), default=timezone.now)
    scoring_started_at = models.DateTimeField(_("scoring started at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # What the chair decided at the quota when nominations were still level after the criteria.
    tie_break = models.TextField(_("the chair's decision on a tie"), blank=True)
    # Given when closing, for the documents: where the council met (the minutes' and the cover
    # submission's date line) and the cover submission's number ("15/TTr-CĐTCT"), blank for none yet.
    place = models.CharField(_("place"), max_length=100, blank=True)
    submission_number = models.CharField(_("cover submission number"), max_length=50, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("selection round")
        verbose_name_plural = _("selection rounds")
        indexes = [
            # The rounds of a unit and of the units under it: WHERE unit_id IN … ORDER BY created_at.
            models.Index(fields=["unit", "-created_at"], name="round_unit_newest"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(quota__gte=1), name="round_quota_positive"),
            models.CheckConstraint(
                condition=~models.Q(status="closed") | models.Q(closed_at__isnull=False, closed_by__isnull=False),
                name="round_closed_has_who_and_when",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        _refuse_when_closed(self.pk, "settings")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("councils:round", args=[self.pk])

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        _refuse_when_closed(self.pk, "settings")
        return super().delete(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_scoring(self) -> bool:
        return self.status == self.Status.SCORING

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED

    @property
    def takes_nominations(self) -> bool:
        """Open, and its deadline (the end of that day, local time) not passed."""
        return self.is_open and timezone.localdate() <= self.deadline


class _RoundPart(models.Model):
    """A row that belongs to a round: frozen with it."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        _refuse_when_closed(self.round_id_of(), "rows")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        _refuse_when_closed(self.round_id_of(), "rows")
        return super().delete(*args, **kwargs)

    def round_id_of(self) -> int | None:
        raise NotImplementedError


class Criterion(_RoundPart):
    """A criterion of the rubric: novelty /30, effect /40, replicability /30…"""

    round = models.ForeignKey(
        SelectionRound, verbose_name=_("round"), on_delete=models.CASCADE, related_name="criteria"
    )
    position = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("criterion"), max_length=200)
    max_points = models.PositiveSmallIntegerField(
        _("maximum points"), validators=[MinValueValidator(1), MaxValueValidator(MAX_CRITERION_POINTS)]
    )

    class Meta:
        ordering = ["round", "position"]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        constraints = [
            models.UniqueConstraint(fields=["round", "position"], name="criterion_position"),
            models.CheckConstraint(condition=models.Q(max_points__gte=1), name="criterion_points_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (/{self.max_points})"

    def round_id_of(self) -> int | None:
        return self.round_id


class Band(_RoundPart):
    """A band of a criterion ("25–30: entirely new"): when a criterion has bands, its points fall in one."""

    criterion = models.ForeignKey(
        Criterion, verbose_name=_("criterion"), on_delete=models.CASCADE, related_name="bands"
    )
    low = models.PositiveSmallIntegerField(_("from (points)"))
    high = models.PositiveSmallIntegerField(_("to (points)"))
    label = models.CharField(_("description"), max_length=300)

    class Meta:
        ordering = ["criterion", "-high"]
        verbose_name = _("band")
        verbose_name_plural = _("bands")
        constraints = [models.CheckConstraint(condition=models.Q(low__lte=models.F("high")), name="band_ordered")]

    def __str__(self) -> str:
        return f"{self.low}–{self.high}: {self.label}"

    def round_id_of(self) -> int | None:
        return Criterion.objects.filter(pk=self.criterion_id).values_list("round_id", flat=True).first()


class Member(_RoundPart):
    """An account on a round's council."""

    class Role(models.TextChoices):
        CHAIR = "chair", _("Chair")
        SECRETARY = "secretary", _("Secretary")
        MEMBER = "member", _("Member")
        # Scores only the nominations the chair assigns (the third scorer where two disagree).
        RESERVE = "reserve", _("Reserve scorer")

    round = models.ForeignKey(SelectionRound, verbose_name=_("round"), on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("account"), on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    # As they were when the member was appointed: the minutes name them so.
    full_name = models.CharField(_("full name"), max_length=300)
    unit_name = models.CharField(_("unit"), max_length=255, blank=True)
    added_at = models.DateTimeField(_("appointed at"), default=timezone.now)
    # Recorded by the chair for a member who takes no part: its sheets are not owed, the minutes
    # list it as absent.
    absent = models.BooleanField(_("absent"), default=False)

    class Meta:
        ordering = ["round", "pk"]
        verbose_name = _("council member")
        verbose_name_plural = _("council members")
        constraints = [
            models.UniqueConstraint(fields=["round", "user"], name="member_once_per_round"),
            models.UniqueConstraint(fields=["round"], condition=models.Q(role="chair"), name="round_one_chair"),
            models.UniqueConstraint(fields=["round"], condition=models.Q(role="secretary"), name="round_one_secretary"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.get_role_display()})"

    def round_id_of(self) -> int | None:
        return self.round_id

    @property
    def scores_every_nomination(self) -> bool:
        return self.role != self.Role.RESERVE


class Nomination(_RoundPart):
    """An initiative put forward to a round, by an officer of the round's unit or of a unit directly
    under it, or forwarded from a round of the level below that selected it."""

    class Result(models.TextChoices):
        PENDING = "pending", _("Awaiting the council")
        SELECTED = "selected", _("Selected")
        NOT_SELECTED = "not_selected", _("Not selected")

    round = models.ForeignKey(
        SelectionRound, verbose_name=_("round"), on_delete=models.CASCADE, related_name="nominations"
    )
    initiative = models.ForeignKey(
        Initiative, verbose_name=_("initiative"), on_delete=models.PROTECT, related_name="nominations"
    )
    # The unit that put it forward, and its name then.
    from_unit = models.ForeignKey(
        Union, verbose_name=_("nominated by (unit)"), on_delete=models.PROTECT, related_name="+"
    )
    from_unit_name = models.CharField(_("nominated by (unit)"), max_length=255)
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("nominated by"), on_delete=models.PROTECT, related_name="+"
    )
    nominated_at = models.DateTimeField(_("nominated at"), default=timezone.now)
    justification = models.TextField(_("justification"), max_length=2000)
    recognition_number = models.CharField(_("recognition decision number"), max_length=100)
    recognition_date = models.DateField(_("recognition decision date"))
    forwarded_from = models.OneToOneField(
        "self",
        verbose_name=_("forwarded from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="forwarded_to",
    )
    # Set when the round closes.
    result = models.CharField(_("result"), max_length=12, choices=Result.choices, default=Result.PENDING)
    mean = models.DecimalField(_("mean score"), max_digits=8, decimal_places=2, null=True, blank=True)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)

    class Meta:
        ordering = ["round", "rank", "nominated_at", "pk"]
        verbose_name = _("nomination")
        verbose_name_plural = _("nominations")
        indexes = [
            # The public page of outstanding initiatives: WHERE result = 'selected' ORDER BY …
            models.Index(fields=["result", "round"], name="nomination_result"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["round", "initiative"], name="nomination_once_per_round"),
        ]

    def __str__(self) -> str:
        return f"{self.initiative} → {self.round}"

    def round_id_of(self) -> int | None:
        return self.round_id


class Conflict(_RoundPart):
    """A member who may not score a nomination: found by the portal (the member's unit is the
    initiative's, or lies under it, or an author's workplace is the member's unit; the member is an
    author) or declared by the member or the chair. The member's sheet for it is never counted."""

    nomination = models.ForeignKey(
        Nomination, verbose_name=_("nomination"), on_delete=models.CASCADE, related_name="conflicts"
    )
    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="conflicts")
    reason = models.CharField(_("reason"), max_length=300)
    # None: found by the portal itself.
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("declared by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    declared_at = models.DateTimeField(_("declared at"), default=timezone.now)

    class Meta:
        ordering = ["nomination", "member"]
        verbose_name = _("conflict of interest")
        verbose_name_plural = _("conflicts of interest")
        constraints = [models.UniqueConstraint(fields=["nomination", "member"], name="conflict_once")]

    def __str__(self) -> str:
        return f"{self.member} – {self.reason}"

    def round_id_of(self) -> int | None:
        return Nomination.objects.filter(pk=self.nomination_id).values_list("round_id", flat=True).first()


class ExtraScorer(_RoundPart):
    """A reserve member the chair asked to score a nomination (the third scorer, where the others'
    totals are further apart than the round's spread)."""

    nomination = models.ForeignKey(
        Nomination, verbose_name=_("nomination"), on_delete=models.CASCADE, related_name="extra_scorers"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="extra_nominations"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assigned by"), on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)

    class Meta:
        ordering = ["nomination", "assigned_at"]
        verbose_name = _("third scorer")
        verbose_name_plural = _("third scorers")
        constraints = [models.UniqueConstraint(fields=["nomination", "member"], name="extra_scorer_once")]

    def __str__(self) -> str:
        return str(self.member)

    def round_id_of(self) -> int | None:
        return Nomination.objects.filter(pk=self.nomination_id).values_list("round_id", flat=True).first()


class ScoreSheet(_RoundPart):
    """One member's scores for one nomination: a draft the member may change, then submitted (final)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", pgettext_lazy("score sheet", "Submitted")

    nomination = models.ForeignKey(
        Nomination, verbose_name=_("nomination"), on_delete=models.CASCADE, related_name="sheets"
    )
    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="sheets")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    total = models.PositiveIntegerField(_("total"))
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        ordering = ["nomination", "member"]
        verbose_name = _("score sheet")
        verbose_name_plural = _("score sheets")
        constraints = [
            models.UniqueConstraint(fields=["nomination", "member"], name="sheet_once_per_member"),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(submitted_at__isnull=False),
                name="sheet_submitted_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} – {self.total}"

    def round_id_of(self) -> int | None:
        return Nomination.objects.filter(pk=self.nomination_id).values_list("round_id", flat=True).first()

    @property
    def is_submitted(self) -> bool:
        return self.status == self.Status.SUBMITTED


class Score(_RoundPart):
    """A sheet's points on one criterion, with the scorer's comment."""

    sheet = models.ForeignKey(
        ScoreSheet, verbose_name=_("score sheet"), on_delete=models.CASCADE, related_name="scores"
    )
    criterion = models.ForeignKey(Criterion, verbose_name=_("criterion"), on_delete=models.CASCADE, related_name="+")
    points = models.PositiveSmallIntegerField(_("points"))
    comment = models.CharField(_("comment"), max_length=500, blank=True)

    class Meta:
        ordering = ["sheet", "criterion__position"]
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        constraints = [models.UniqueConstraint(fields=["sheet", "criterion"], name="score_once_per_criterion")]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.points}"

    def round_id_of(self) -> int | None:
        return Criterion.objects.filter(pk=self.criterion_id).values_list("round_id", flat=True).first()
