"""What the honours pages read: the decisions an account sees, the published ones, a unit's honours."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

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


def published_periods(program: Program) -> list[PublishedPeriod]:
    """The periods with an issued decision, the latest decided first (one query)."""
    seen: dict[str, PublishedPeriod] = {}
    for token, label in published(program).values_list("period_token", "period_label"):
        seen.setdefault(token, PublishedPeriod(token, label))
    return list(seen.values())


def honoured_entries(decisions: QuerySet[Any] | list[int]) -> QuerySet[HonourEntry]:
    """The honoured entries (meeting the rule, not left out) of the decisions, in their order."""
    return HonourEntry.objects.filter(decision__in=decisions, meets=True, excluded=False).order_by(
        "decision_id", "position"
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
