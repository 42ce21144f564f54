"""What the honours pages read: the decisions an account sees, the published ones, a unit's honours."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from honours.models import HonourDecision, HonourEntry
from initiatives.models import Program
from unions.models import Union

ISSUED = HonourDecision.Status.ISSUED


def _superseded() -> Exists:
    """An issued correction names it."""
    return Exists(HonourDecision.objects.filter(corrects=OuterRef("pk"), status=ISSUED))


def decisions_under(scope: Union) -> QuerySet[HonourDecision]:
    """The drafts and decisions for units under `scope` (its own included), latest first."""
    return (
        HonourDecision.objects.filter(scope__path__startswith=scope.path)
        .select_related("scope", "corrects")
        .annotate(superseded=_superseded())
        .order_by("-created_at", "-pk")
    )


def published(program: Program) -> QuerySet[HonourDecision]:
    """The programme's issued decisions, the latest signed first, each with whether a correction
    replaced it."""
    return (
        HonourDecision.objects.filter(program=program, status=ISSUED)
        .select_related("corrects")
        .annotate(superseded=_superseded())
        .order_by("-signed_on", "-issued_at", "-pk")
    )


@dataclass(frozen=True)
class PublishedPeriod:
    token: str
    label: str


def period_token(decision: HonourDecision) -> str:
    if decision.period_kind == HonourDecision.PeriodKind.QUARTER and decision.quarter_key:
        year, number = divmod(decision.quarter_key, 10)
        return f"{year}-{number}"
    if decision.period_kind == HonourDecision.PeriodKind.PHASE:
        return f"phase-{decision.phase_id}"
    return "programme"


def published_periods(program: Program) -> list[PublishedPeriod]:
    """The periods with an issued decision, the latest decided first (one query)."""
    seen: dict[str, PublishedPeriod] = {}
    rows = published(program).values_list("period_kind", "quarter_key", "phase_id", "period_label")
    for kind, quarter_key, phase_id, label in rows:
        token = period_token(HonourDecision(period_kind=kind, quarter_key=quarter_key, phase_id=phase_id))
        seen.setdefault(token, PublishedPeriod(token, label))
    return list(seen.values())


def period_filter(token: str) -> Q | None:
    """The decisions of a period's token, or None for a token that names none."""
    if token == "programme":
        return Q(period_kind=HonourDecision.PeriodKind.PROGRAMME)
    if token.startswith("phase-") and token[6:].isdigit() and len(token) < 20:
        return Q(period_kind=HonourDecision.PeriodKind.PHASE, phase_id=int(token[6:]))
    year, _, number = token.partition("-")
    if year.isdigit() and len(year) == 4 and number in ("1", "2", "3", "4"):
        return Q(period_kind=HonourDecision.PeriodKind.QUARTER, quarter_key=int(year) * 10 + int(number))
    return None


def honoured_entries(decisions: QuerySet[Any] | list[int]) -> QuerySet[HonourEntry]:
    """The honoured entries (meeting the rule, not left out) of the decisions, in their order."""
    return HonourEntry.objects.filter(decision__in=decisions, meets=True, excluded=False).order_by(
        "decision", "position"
    )


def latest(program: Program, *, units: int = 12) -> tuple[HonourDecision | None, list[HonourEntry]]:
    """The latest issued decision still standing (no correction replaced it), with the first
    `units` units it honours (the home page links to the rest): one query. A decision that
    honours no unit is not shown."""
    standing = published(program).filter(~_superseded()).values("pk")[:1]
    entries = list(honoured_entries(standing).select_related("decision", "decision__corrects")[:units])
    return (entries[0].decision if entries else None), entries


def of_unit(unit: Union) -> list[HonourEntry]:
    """The unit's honours: the entries of issued decisions no correction replaced, the latest first."""
    return list(
        HonourEntry.objects.filter(unit=unit, meets=True, excluded=False, decision__status=ISSUED)
        .exclude(Exists(HonourDecision.objects.filter(corrects=OuterRef("decision"), status=ISSUED)))
        .select_related("decision")
        .order_by("-decision__signed_on", "-decision_id", "position")
    )
