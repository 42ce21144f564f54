from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from unions.permissions import site_flags


def access(request: HttpRequest) -> dict[str, object]:
    """`can`: what the menus and buttons may offer this account, from the access policy (templates
    never re-derive a rule), decided only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {"can": SimpleLazyObject(lambda: site_flags(user))}
