"""Reads of questions and the FAQ, each for a page or a figure."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import QuerySet

from questions.models import Question
from sangkien.text import fold
from unions.models import Union, User
from unions.permissions import restrict


def visible_questions(*, user: User) -> QuerySet[Question]:
    """Questions of the officer's subtree; a national account sees them all."""
    return restrict(Question.objects.all(), user)


# The menu's badge is on every page of an officer: its count is kept in the cache, forgotten when one
# of the officer's questions is answered or its answer opened (questions.services), at the latest
# after this many seconds.
NEW_ANSWERS_SECONDS = 60


def _new_answers_key(user_id: int) -> str:
    return f"new-answers:{user_id}"


def new_answers_count(*, user: User) -> int:
    """Answers to the user's own questions not opened yet (the menu's badge)."""
    key = _new_answers_key(user.pk)
    count = cache.get(key)
    if count is None:
        count = Question.objects.filter(asked_by=user, answered_at__isnull=False, answer_seen_at__isnull=True).count()
        cache.set(key, count, NEW_ANSWERS_SECONDS)
    return count


def forget_new_answers(*, user_id: int | None) -> None:
    if user_id is not None:
        cache.delete(_new_answers_key(user_id))


def public_faq(*, term: str = "") -> QuerySet[Question]:
    """Hỏi đáp: answered questions the board made public, newest answer first, searchable folded."""
    questions = Question.objects.filter(is_public=True, answered_at__isnull=False).only(
        "pk", "subject", "body", "answer", "answered_at"
    )
    folded = fold(term)
    if folded:
        questions = questions.filter(search_text__contains=folded)
    return questions.order_by("-answered_at", "-pk")


@dataclass(frozen=True, kw_only=True)
class AnswerMetrics:
    answered: int  # questions answered since the period's start
    median_answer: dt.timedelta | None  # from asking to answering
    waiting: int  # questions without an answer now


def answer_metrics(*, since: dt.datetime, unit: Union | None = None) -> AnswerMetrics:
    """The board's answering since `since`, for `unit`'s subtree when the board member is scoped to one."""
    questions = Question.objects.all()
    if unit is not None:
        questions = questions.filter(unit__path__startswith=unit.path)
    answers = questions.filter(answered_at__gte=since).values_list("asked_at", "answered_at")
    times = [answered - asked for asked, answered in answers.iterator(chunk_size=5000) if answered is not None]
    return AnswerMetrics(
        answered=len(times),
        # median() asks only for sorting, + and / 2, which timedelta has; typeshed wants numbers.
        median_answer=statistics.median(times) if times else None,  # type: ignore[type-var]
        waiting=questions.filter(answered_at__isnull=True).count(),
    )
