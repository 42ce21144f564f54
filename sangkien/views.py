from __future__ import annotations

from urllib.parse import urlsplit

from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache

from initiatives.notifications import mail_backlog
from sangkien.request_limits import body_limit, too_large_response, view_name_of


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for the container health check: the app answers and reaches its database (else 503).
    Then, for monitoring, the outbox as `name value` lines: e-mails owed, how many of them failed at
    least once, given up, the oldest one's age in seconds, and whether it is late (MAIL_LATE_MINUTES)
    ("mail_backlog unknown" if it cannot be read). Mail that is late is no reason to restart the
    portal, so it never changes the status; and the lines are counts and an age only, nothing about
    whom, what or which mail server."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    lines = ["ok"]
    try:
        backlog = mail_backlog()
    except DatabaseError:  # e.g. migrations not applied yet: the portal itself answers
        lines.append("mail_backlog unknown")
    else:
        lines += [
            f"mail_owed {backlog.owed}",
            f"mail_failing {backlog.failing}",
            f"mail_given_up {backlog.given_up}",
            f"mail_oldest_seconds {backlog.oldest_seconds}",
            f"mail_late {int(backlog.is_late)}",
        ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


def too_large(request: HttpRequest) -> HttpResponse:
    """The 413 page nginx shows for a body above its client_max_body_size for the URL: deploy/nginx.conf
    turns its own English page into a GET of this one, naming the refused URL in X-Original-URI (a
    header nginx always overwrites; without nginx it only changes the figure and link shown)."""
    try:
        original = urlsplit(request.headers.get("X-Original-URI", "")).path
    except ValueError:  # the client's raw request line, e.g. "//[x/": no page to link back to
        original = ""
    view_name = view_name_of(original) if original.startswith("/") else None
    back = original if view_name not in (None, "too_large") else None
    return too_large_response(request, limit=body_limit(view_name), length=None, back=back)
