"""Reads for pages: each returns fully shaped data in a bounded number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from initiatives.models import Author, Initiative, Program, Question, StatusChange
from initiatives.querysets import InitiativeQuerySet
from sangkien.text import fold
from unions.models import User


@dataclass(frozen=True)
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
            submitted=Count("pk", filter=~Q(status=Initiative.Status.DRAFT)),
            valid=Count("pk", filter=Q(status=Initiative.Status.VALID)),
        )
        cache.set(key, counts, PROGRESS_CACHE_SECONDS)
    return ProgramProgress(program=program, submitted=counts["submitted"], valid=counts["valid"])


def visible_initiatives(*, user: User) -> InitiativeQuerySet:
    """What a user may see and work on: an officer its unit's subtree, a superuser everything."""
    initiatives = Initiative.objects.all()
    if user.is_superuser:
        return initiatives
    if user.is_authenticated and user.unit_id:
        return initiatives.in_subtree(user.unit)
    return initiatives.none()


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
    """Questions of the officer's subtree; a superuser sees them all."""
    if user.is_superuser:
        return Question.objects.all()
    if user.is_authenticated and user.unit_id:
        return Question.objects.filter(unit__path__startswith=user.unit.path)
    return Question.objects.none()


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
