from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from initiatives.dashboard import dashboard_scope
from initiatives.emulation import export_scope
from initiatives.selectors import new_answers_count


def new_answers(request: HttpRequest) -> dict[str, object]:
    """The menu's count of new answers, counted only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"new_answers": SimpleLazyObject(lambda: new_answers_count(user=user))}


def dashboard_link(request: HttpRequest) -> dict[str, object]:
    """Whether the menu shows the dashboard (officers, the board, leadership) and the emulation
    exports (leadership and the board), decided only when shown."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "has_dashboard": SimpleLazyObject(lambda: dashboard_scope(user) is not None),
        "has_exports": SimpleLazyObject(lambda: export_scope(user) is not None),
    }
