"""Reads for the councils' pages: the rounds an account sees, a round's page, the public list of
outstanding initiatives, an initiative's nominations."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Avg, Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.http import Http404

from councils.models import Conflict, Nomination, Score, ScoreSheet, SelectionRound
from initiatives.models import Initiative, Program
from unions.levels import LEVEL_RANK
from unions.models import User
from unions.permissions import is_national, sees_round


def visible_rounds(user: User) -> QuerySet[SelectionRound]:
    """The rounds of the account's unit and the units under it, and those it sits on, newest first."""
    rounds = SelectionRound.objects.select_related("unit", "program")
    if is_national(user):
        return rounds
    mine = Q(members__user=user)
    if user.unit_id is not None and user.unit is not None:
        mine |= Q(unit__path__startswith=user.unit.path)
    ids = SelectionRound.objects.filter(mine).values("pk")
    return rounds.filter(pk__in=ids)


def round_for(user: User, pk: int) -> SelectionRound:
    """A round the account sees (sees_round), or 404: a round it may not see does not exist for it."""
    found = SelectionRound.objects.select_related("unit", "program", "closed_by").filter(pk=pk).first()
    if found is None or not sees_round(user, found):
        raise Http404
    return found


def published(program: Program, level: str = "") -> QuerySet[Nomination]:
    """The nominations of the programme selected by closed rounds, the highest level first, then the
    newest round and the rank: the public "Sáng kiến tiêu biểu" (whose links open the programme's
    public initiative pages)."""
    rows = Nomination.objects.filter(
        round__program=program, result=Nomination.Result.SELECTED, round__status=SelectionRound.Status.CLOSED
    )
    if level:
        rows = rows.filter(round__level=level)
    level_rank = Case(
        *(When(round__level=name, then=Value(rank)) for name, rank in LEVEL_RANK.items()),
        default=Value(99),
        output_field=IntegerField(),
    )
    return (
        rows.select_related("round", "initiative__field", "initiative__unit")
        .annotate(level_rank=level_rank)
        .order_by("level_rank", "-round__closed_at", "round_id", "rank", "pk")
    )


def nominations_of(initiative: Initiative) -> list[Nomination]:
    """An initiative's nominations, oldest first, with their rounds (its timeline)."""
    return list(
        Nomination.objects.filter(initiative=initiative)
        .select_related("round", "forwarded_from__round")
        .order_by("nominated_at", "pk")
    )


def selected_of(initiative: Initiative) -> list[Nomination]:
    """The closed rounds that selected the initiative (its public page's badges)."""
    return [n for n in nominations_of(initiative) if n.result == Nomination.Result.SELECTED and n.round.is_closed]


def criterion_means(selection_round: SelectionRound) -> dict[int, dict[int, Decimal]]:
    """Each nomination's mean on each criterion, over its counted sheets (submitted, by a member not
    in conflict on it), in one query: what breaks a tie on the mean, shown beside the ranking."""
    conflicted = Conflict.objects.filter(
        nomination_id=OuterRef("sheet__nomination_id"), member_id=OuterRef("sheet__member_id")
    )
    rows = (
        Score.objects.filter(sheet__nomination__round=selection_round, sheet__status=ScoreSheet.Status.SUBMITTED)
        .filter(~Exists(conflicted))
        .values("criterion_id", nomination=F("sheet__nomination_id"))
        .annotate(mean=Avg("points"))
        .order_by()
    )
    means: dict[int, dict[int, Decimal]] = {}
    for row in rows:
        means.setdefault(row["nomination"], {})[row["criterion_id"]] = Decimal(row["mean"]).quantize(Decimal("0.01"))
    return means
