from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from questions.selectors import new_answers_count


def new_answers(request: HttpRequest) -> dict[str, object]:
    """The menu's count of new answers, counted only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"new_answers": SimpleLazyObject(lambda: new_answers_count(user=user))}
