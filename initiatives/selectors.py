"""Reads for pages: each returns fully shaped data in a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from initiatives import counting
from initiatives.models import Author, Initiative, Program, QuarterTarget, StatusChange, Target
from initiatives.quarters import Quarter, derived_target
from initiatives.querysets import InitiativeQuerySet
from sangkien.public_pages import forget_public_pages
from unions.models import Union, User
from unions.permissions import restrict


@dataclass(frozen=True, kw_only=True)
class ProgramProgress:
    program: Program
    submitted: int
    valid: int

    @property
    def percent(self) -> float:
        """Share of the programme target reached by submitted initiatives, capped at 100."""
        if not self.program.target:
            return 0.0
        return min(100.0, 100.0 * self.submitted / self.program.target)


# Every page asks for the programme and its phases, which change a few times a year: they are kept
# in the cache, forgotten whenever a programme or a phase is saved or deleted (initiatives.apps) and
# at the latest after this many seconds (a save while the cache was down is seen within it).
CURRENT_PROGRAM_KEY = "current-program"
CURRENT_PROGRAM_SECONDS = 60


def current_program() -> Program | None:
    """The programme the public pages show: the active one that started last, with its phases."""
    cached = cache.get(CURRENT_PROGRAM_KEY)
    if cached is not None:
        return cached or None  # False: no active programme
    program = Program.objects.filter(is_active=True).prefetch_related("phases").first()
    cache.set(CURRENT_PROGRAM_KEY, program or False, CURRENT_PROGRAM_SECONDS)
    return program


def forget_current_program(**_: object) -> None:
    """A programme or a phase changed: the cached programme, and the public pages showing it."""
    cache.delete(CURRENT_PROGRAM_KEY)
    forget_public_pages()


# The public home page is the most visited one; counting 2.5 million initiatives takes ~200 ms,
# so its figures may be up to this old (the page says so).
PROGRESS_CACHE_SECONDS = 60


def program_progress(*, program: Program) -> ProgramProgress:
    key = f"program-progress:{program.pk}"
    counts = cache.get(key)
    if counts is None:
        counts = Initiative.objects.filter(program=program).aggregate(
            submitted=Count("pk", filter=counting.submitted()),
            valid=Count("pk", filter=counting.valid()),
        )
        cache.set(key, counts, PROGRESS_CACHE_SECONDS)
    return ProgramProgress(program=program, submitted=counts["submitted"], valid=counts["valid"])


def visible_initiatives(*, user: User) -> InitiativeQuerySet:
    """What a user may see: its unit's subtree, or everything for a national account."""
    return restrict(Initiative.objects.all(), user)


def initiative_list_rows(*, user: User, filters: dict[str, Any]) -> InitiativeQuerySet:
    """ "Sáng kiến của đơn vị": filtered, newest first, with everything a row shows (bounded queries)."""
    rows = visible_initiatives(user=user).select_related("unit", "field", "phase")
    if filters.get("unit"):
        rows = rows.filter(unit__path__startswith=filters["unit"].path)
    if filters.get("field"):
        rows = rows.filter(field=filters["field"])
    if filters.get("status"):
        rows = rows.filter(status=filters["status"])
    if filters.get("phase"):
        rows = rows.filter(phase=filters["phase"])
    if filters.get("q"):
        rows = rows.search(filters["q"])
    if filters.get("import"):
        # Within what the user may see, like every filter: another subtree's token finds nothing.
        rows = rows.filter(import_token=filters["import"])
    authors = Prefetch("authors", queryset=Author.objects.only("initiative_id", "full_name", "share_percent"))
    return rows.prefetch_related(authors).order_by("-updated_at", "-pk")


def initiative_detail(*, user: User, pk: int) -> Initiative:
    """One initiative the user may see, with its authors, attachments and timeline; 404 otherwise."""
    timeline = Prefetch(
        "status_changes", queryset=StatusChange.objects.select_related("by", "duplicate_of__unit").order_by("at", "pk")
    )
    return get_object_or_404(
        visible_initiatives(user=user)
        .select_related("unit", "field", "phase", "program", "created_by")
        .prefetch_related("authors", "attachments", timeline, "program__phases"),
        pk=pk,
    )


def _published(*, program: Program) -> InitiativeQuerySet:
    """What the public pages show at all: the programme's valid initiatives."""
    return Initiative.objects.filter(program=program, status=Initiative.Status.VALID)


def public_initiatives(*, program: Program, filters: dict[str, Any]) -> QuerySet[Initiative]:
    """The programme's valid initiatives for the public; what a confidential one may show is the
    template's business (name, field and benefit only), the query loads no more than needed."""
    rows = (
        _published(program=program)
        .select_related("unit", "field")
        .only(
            "pk",
            "title",
            "is_confidential",
            "value_vnd",
            "effectiveness",
            "summary",
            "unit__name",
            "unit__path",
            "field__name",
            "submitted_at",
        )
    )
    if filters.get("field"):
        rows = rows.filter(field=filters["field"])
    # A confidential initiative must not be found through what it hides: its unit, or its
    # authors' names (which the folded search text holds).
    if filters.get("unit"):
        rows = rows.filter(unit__path__startswith=filters["unit"].path, is_confidential=False)
    if filters.get("q"):
        rows = rows.search(filters["q"]).filter(is_confidential=False)
    return rows.order_by("-submitted_at", "-pk")


@dataclass(frozen=True)
class PublicInitiative:
    """One initiative's public page: a confidential one carries its name, field and benefit only
    (`initiative` holds no more, and `authors` is empty: they are not even read)."""

    initiative: Initiative
    authors: list[Author]


def public_initiative(*, program: Program, pk: int) -> PublicInitiative:
    """A valid initiative of the programme for its public page (one of the rows
    `public_initiatives` lists); 404 for anything else."""
    initiative = get_object_or_404(
        _published(program=program).select_related("unit", "field", "phase").defer("search_text"), pk=pk
    )
    if initiative.is_confidential:
        # A fresh object with the three things it may show: nothing else can reach the page.
        shown = Initiative(
            pk=initiative.pk,
            title=initiative.title,
            field=initiative.field,
            value_vnd=initiative.value_vnd,
            is_confidential=True,
            status=initiative.status,
        )
        return PublicInitiative(initiative=shown, authors=[])
    authors = Author.objects.filter(initiative=initiative).only("full_name", "position", "workplace", "share_percent")
    return PublicInitiative(initiative=initiative, authors=list(authors.order_by("order", "pk")))


@dataclass(frozen=True, kw_only=True)
class ReviewMetrics:
    backlog: dict[str, int]  # initiatives per status now
    reviewed: int  # initiatives reviewed for the first time since the period's start
    median_review: dt.timedelta | None  # from submission to first review


def review_metrics(*, since: dt.datetime, unit: Union | None = None) -> ReviewMetrics:
    """Backlog by status and the median time to a first review since `since`; for `unit`'s subtree
    when the board member is scoped to one."""
    initiatives, changes = Initiative.objects.all(), StatusChange.objects.all()
    if unit is not None:
        initiatives = initiatives.in_subtree(unit)
        changes = changes.filter(initiative__unit__path__startswith=unit.path)
    backlog = dict(initiatives.order_by().values_list("status").annotate(n=Count("pk")))
    first_reviews = (
        changes.filter(at__gte=since, from_status=Initiative.Status.SUBMITTED)
        .order_by("initiative_id", "at")
        .values_list("initiative_id", "at", "initiative__submitted_at")
    )
    seen: set[int] = set()
    review_times = []
    for initiative_id, at, submitted_at in first_reviews.iterator(chunk_size=5000):
        if initiative_id not in seen and submitted_at:
            seen.add(initiative_id)
            review_times.append(at - submitted_at)
    return ReviewMetrics(
        backlog={status: backlog.get(status, 0) for status in Initiative.Status.values},
        reviewed=len(review_times),
        # median() asks only for sorting, + and / 2, which timedelta has; typeshed wants numbers.
        median_review=statistics.median(review_times) if review_times else None,  # type: ignore[type-var]
    )


def quarter_targets(program: Program, quarter: Quarter, *, unit_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Each unit's target for the quarter (initiatives.quarters: the one assigned, else its days' share
    of the programme target), for the units with an assigned quarter target or a programme target, or
    only `unit_ids`: two queries."""
    assigned = QuarterTarget.objects.filter(program=program, year=quarter.year, quarter=quarter.number)
    whole = Target.objects.filter(program=program)
    if unit_ids is not None:
        ids = list(unit_ids)
        assigned, whole = assigned.filter(unit_id__in=ids), whole.filter(unit_id__in=ids)
    targets = {
        unit_id: derived_target(quantity, program=program, quarter=quarter)
        for unit_id, quantity in whole.values_list("unit_id", "quantity")
    }
    targets.update(assigned.values_list("unit_id", "quantity"))
    return targets
