"""Login lockout on top of django-axes: a username and a client address are each locked on their own,
the address only at its own, higher, limit; the lockout page is the portal's, in Vietnamese."""

from __future__ import annotations

from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

# The longest username an account may have (AbstractUser.username): a longer one is no account's,
# and axes would fail to store it (its column holds 255 characters).
USERNAME_MAX_LENGTH = 150


def login_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """The username a login attempt names, as axes counts it (AXES_USERNAME_CALLABLE): cut to the
    longest a real account can have, so a hostile 10,000-character name is one more failure, not
    an error."""
    source = credentials if credentials is not None else request.POST
    name = source.get(settings.AXES_USERNAME_FORM_FIELD) if source is not None else None
    return str(name)[:USERNAME_MAX_LENGTH] if name is not None else None


def _client_address(request: HttpRequest) -> str:
    """The client address axes put on the request (AXES_CLIENT_IP_CALLABLE) and stores attempts under."""
    return request.axes_ip_address  # type: ignore[attr-defined]  # axes' own attribute, unknown to the stubs


def _failures(attempts: QuerySet[AccessAttempt]) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class PortalAxesHandler(AxesDatabaseHandler):
    """Axes' database handler (no cache, so Redis plays no part) with one limit per username
    (AXES_FAILURE_LIMIT) and another per client address (LOGIN_FAILURE_LIMIT_PER_ADDRESS).

    Axes compares one count with AXES_FAILURE_LIMIT; an address that reached its own limit is
    reported as having reached that one."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
        username = get_client_username(request, credentials)
        by_username = _failures(recent.filter(username=username)) if username is not None else 0
        by_address = _failures(recent.filter(ip_address=_client_address(request)))
        if by_address >= settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS:
            return max(by_username, settings.AXES_FAILURE_LIMIT)
        return by_username

    def user_logged_in(self, sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
        """The right password clears the failures of that username from this address, so a few typos
        a day never add up to a lockout. Failures under other usernames, and this username's from
        other addresses (someone else's guesses), stay counted."""
        super().user_logged_in(sender, request, user, **kwargs)
        AccessAttempt.objects.filter(username=user.get_username(), ip_address=_client_address(request)).delete()


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """429 with the portal's page, for the site's login and the admin's alike."""
    cool_off = get_cool_off(request)
    minutes = round(cool_off.total_seconds() / 60) if cool_off else None
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
