"""What a closed round's documents say, read once (`facts_of`: a fixed number of queries
whatever the round's size), and how they write numbers and names."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from councils.models import Conflict, Criterion, ExtraScorer, Member, Nomination, ScoreSheet, SelectionRound
from initiatives.models import Author, Initiative
from sangkien.official_documents import Busy as Busy  # re-exported: the task and the views catch it here
from sangkien.official_documents import (
    Text,
    date_line,
)

NOTHING = "–"  # a value not given


@dataclass(frozen=True)
class SheetRow:
    """A submitted sheet as the minutes list it: its points in the rubric's order."""

    member: Member
    points: list[int | None]
    total: int
    counted: bool
    note: str


@dataclass(frozen=True)
class Nominee:
    nomination: Nomination
    sheets: list[SheetRow]
    authors: list[Author]

    @property
    def initiative(self) -> Initiative:
        return self.nomination.initiative

    @property
    def confidential(self) -> bool:
        return self.initiative.is_confidential

    @property
    def selected(self) -> bool:
        return self.nomination.result == Nomination.Result.SELECTED


@dataclass(frozen=True)
class Facts:
    """Everything both documents say about a closed round, read in a handful of queries."""

    round: SelectionRound
    criteria: list[Criterion]
    members: list[Member]
    nominees: list[Nominee]  # by rank; at a level rank, the selected first
    conflicts: list[Conflict]
    extra_scorers: list[ExtraScorer]

    def member_named(self, role: str) -> str:
        return next((m.full_name for m in self.members if m.role == role), "")


def facts_of(selection_round: SelectionRound) -> Facts:
    found = SelectionRound.objects.select_related("program", "unit__parent").get(pk=selection_round.pk)
    criteria = list(found.criteria.prefetch_related("bands").order_by("position"))
    members = list(found.members.order_by("pk"))
    by_id = {member.pk: member for member in members}
    nominations = list(
        found.nominations.select_related("initiative__unit", "initiative__field").prefetch_related(
            Prefetch("initiative__authors", queryset=Author.objects.order_by("order", "pk")),
            Prefetch("conflicts", queryset=Conflict.objects.select_related("declared_by").order_by("member_id")),
            Prefetch("extra_scorers", queryset=ExtraScorer.objects.order_by("assigned_at", "pk")),
            Prefetch(
                "sheets",
                queryset=ScoreSheet.objects.filter(status=ScoreSheet.Status.SUBMITTED)
                .order_by("member_id")
                .prefetch_related("scores"),
            ),
        )
    )
    nominations.sort(
        key=lambda n: (n.rank if n.rank is not None else 1 << 31, n.result != Nomination.Result.SELECTED, n.pk)
    )
    nominees, conflicts, extra = [], [], []
    for nomination in nominations:
        conflicted = {conflict.member_id for conflict in nomination.conflicts.all()}
        thirds = {scorer.member_id for scorer in nomination.extra_scorers.all()}
        rows = []
        for sheet in nomination.sheets.all():
            points = {score.criterion_id: score.points for score in sheet.scores.all()}
            counted = sheet.member_id not in conflicted
            note = "" if counted else _("not counted: conflict of interest")
            if counted and sheet.member_id in thirds:
                note = _("third scorer")
            rows.append(
                SheetRow(
                    member=by_id[sheet.member_id],
                    points=[points.get(criterion.pk) for criterion in criteria],
                    total=sheet.total,
                    counted=counted,
                    note=note,
                )
            )
        nominees.append(Nominee(nomination, rows, list(nomination.initiative.authors.all())))
        for conflict in nomination.conflicts.all():
            conflict.member = by_id[conflict.member_id]
            conflicts.append(conflict)
        for scorer in nomination.extra_scorers.all():
            scorer.member = by_id[scorer.member_id]
            extra.append(scorer)
    return Facts(found, criteria, members, nominees, conflicts, extra)


def points_text(value: Decimal | None) -> str:
    """A mean as Vietnamese writes it: 82,50."""
    return NOTHING if value is None else f"{value:.2f}".replace(".", ",")


def share_text(value: Decimal) -> str:
    """An author's share: 100%, 33,3%."""
    return f"{value.normalize():f}".replace(".", ",") + "%"


def _closed_on(selection_round: SelectionRound) -> str:
    assert selection_round.closed_at is not None  # a closed round's constraint
    return date_line(timezone.localdate(selection_round.closed_at), selection_round.place)


def _closed_date(selection_round: SelectionRound) -> str:
    assert selection_round.closed_at is not None
    return timezone.localdate(selection_round.closed_at).strftime("%d/%m/%Y")


def _initiative_unit(nominee: Nominee) -> str:
    return _("Confidential information") if nominee.confidential else nominee.initiative.unit.name


def _declared_by(conflict: Conflict, members: list[Member]) -> str:
    if conflict.declared_by_id is None or conflict.declared_by is None:
        return capfirst(_("found by the portal"))
    named = next((m.full_name for m in members if m.user_id == conflict.declared_by_id), "")
    return named or conflict.declared_by.get_full_name().strip() or conflict.declared_by.get_username()


def _heading(text: str) -> Text:
    return Text(text, "B", "L", before=3)
