"""Reads for pages: each returns fully shaped data in a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from initiatives import counting
from initiatives.models import Author, Initiative, Program, Question, StatusChange
from initiatives.querysets import InitiativeQuerySet
from sangkien.text import fold
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


def current_program() -> Program | None:
    """The programme the public pages show: the active one that started last."""
    return Program.objects.filter(is_active=True).prefetch_related("phases").first()


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
    authors = Prefetch("authors", queryset=Author.objects.only("initiative_id", "full_name", "share_percent"))
    return rows.prefetch_related(authors).order_by("-updated_at", "-pk")


def initiative_detail(*, user: User, pk: int) -> Initiative:
    """One initiative the user may see, with its authors, attachments and timeline; 404 otherwise."""
    timeline = Prefetch("status_changes", queryset=StatusChange.objects.select_related("by").order_by("at", "pk"))
    return get_object_or_404(
        visible_initiatives(user=user)
        .select_related("unit", "field", "phase", "program", "created_by")
        .prefetch_related("authors", "attachments", timeline, "program__phases"),
        pk=pk,
    )


def visible_questions(*, user: User) -> QuerySet[Question]:
    """Questions of the officer's subtree; a national account sees them all."""
    return restrict(Question.objects.all(), user)


def new_answers_count(*, user: User) -> int:
    """Answers to the user's own questions not opened yet (the menu's badge)."""
    return Question.objects.filter(asked_by=user, answered_at__isnull=False, answer_seen_at__isnull=True).count()


def public_faq(*, term: str = "") -> QuerySet[Question]:
    """Hỏi đáp: answered questions the board made public, newest answer first, searchable folded."""
    questions = Question.objects.filter(is_public=True, answered_at__isnull=False).only(
        "pk", "subject", "body", "answer", "answered_at"
    )
    folded = fold(term)
    if folded:
        questions = questions.filter(search_text__contains=folded)
    return questions.order_by("-answered_at", "-pk")


def public_initiatives(*, program: Program, filters: dict[str, Any]) -> QuerySet[Initiative]:
    """The programme's valid initiatives for the public; what a confidential one may show is the
    template's business (name, field and benefit only), the query loads no more than needed."""
    rows = (
        Initiative.objects.filter(program=program, status=Initiative.Status.VALID)
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


@dataclass(frozen=True, kw_only=True)
class BoardMetrics:
    backlog: dict[str, int]
    reviewed: int
    median_review: dt.timedelta | None
    answered: int
    median_answer: dt.timedelta | None
    waiting_questions: int


def _median(durations: list[dt.timedelta]) -> dt.timedelta | None:
    return statistics.median(durations) if durations else None


def board_metrics(*, since: dt.datetime, unit: Union | None = None) -> BoardMetrics:
    """Backlog by status; median time to first review and to answer a question since `since`;
    for `unit`'s subtree when the board member is scoped to one."""
    initiatives, changes, questions = Initiative.objects.all(), StatusChange.objects.all(), Question.objects.all()
    if unit is not None:
        initiatives = initiatives.in_subtree(unit)
        changes = changes.filter(initiative__unit__path__startswith=unit.path)
        questions = questions.filter(unit__path__startswith=unit.path)
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
    answers = questions.filter(answered_at__gte=since).values_list("asked_at", "answered_at")
    answer_times = [answered - asked for asked, answered in answers.iterator(chunk_size=5000)]
    return BoardMetrics(
        backlog={status: backlog.get(status, 0) for status in Initiative.Status.values},
        reviewed=len(review_times),
        median_review=_median(review_times),
        answered=len(answer_times),
        median_answer=_median(answer_times),
        waiting_questions=questions.filter(answered_at__isnull=True).count(),
    )
