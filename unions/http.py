"""The request a view gets once `login_required` (or the admin's own check) has let it through."""

from __future__ import annotations

from django.http import HttpRequest

from unions.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A request from a signed-in account: `request.user` is a `User`, never `AnonymousUser`.

    For annotations only (django-stubs' recipe): Django builds plain HttpRequests, and
    `login_required` and `staff_member_required` are what make this one true."""

    user: User


def account(request: HttpRequest) -> User:
    """`request.user` in the admin, whose views only signed-in staff reach (`AdminSite.admin_view`
    and `has_permission`): a ModelAdmin's hooks take a plain HttpRequest, so the type says less."""
    user = request.user
    assert isinstance(user, User), "the admin serves signed-in accounts only"
    return user
