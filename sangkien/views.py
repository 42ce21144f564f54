"""The pages that gather several apps (the home page, the board's metrics) and the portal's own
(health, the proxy's 413): the top of the house, which may import every app."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from honours.selectors import latest as latest_honours
from initiatives.models import Initiative
from initiatives.selectors import current_program, program_progress, review_metrics
from leaderboard.dashboard import public_leaders
from notifications.outbox import mail_backlog
from questions.selectors import answer_metrics
from sangkien.public_pages import public_page
from sangkien.request_limits import body_limit, too_large_response, view_name_of
from unions.http import AuthenticatedHttpRequest
from unions.levels import BLOCK_NAMES
from unions.permissions import board_scope, may_see_board_metrics


@public_page()
def home(request: HttpRequest) -> HttpResponse:
    """The programme's public home page: its name, phases, progress towards the target and leaders."""
    program = current_program()
    progress = program_progress(program=program) if program else None
    snapshot, leaders = public_leaders(program=program) if program else (None, {})
    blocks = [(BLOCK_NAMES[level], rows) for level, rows in leaders.items() if rows]
    decision, entries = latest_honours(program) if program else (None, [])
    context = {
        "program": program,
        "progress": progress,
        "snapshot": snapshot,
        "leader_blocks": blocks,
        "honours_decision": decision,
        "honours_entries": entries,
    }
    return render(request, "home.html", context)


def _duration(value: dt.timedelta | None) -> str:
    if value is None:
        return "–"
    hours = int(value.total_seconds() // 3600)
    return _("%(days)s days %(hours)s hours") % {"days": hours // 24, "hours": hours % 24}


@staff_member_required
def board_metrics(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The board's figures: backlog by status, median times to review and to answer over 30 days."""
    if not may_see_board_metrics(request.user):
        raise PermissionDenied(_("The board metrics are for the board and leadership."))
    since, unit = timezone.now() - dt.timedelta(days=30), board_scope(request.user)
    reviews, answers = review_metrics(since=since, unit=unit), answer_metrics(since=since, unit=unit)
    context = {
        **admin.site.each_context(request),
        "title": _("Board metrics"),
        "reviews": reviews,
        "answers": answers,
        "backlog": [(label, reviews.backlog[value]) for value, label in Initiative.Status.choices],
        "median_review": _duration(reviews.median_review),
        "median_answer": _duration(answers.median_answer),
    }
    return render(request, "admin/board_metrics.html", context)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form sent from a page left open past its session, or by a browser that
    blocks cookies, gets the portal's page. `reason` is Django's English diagnosis: the middleware
    has already logged it (django.security.csrf), the user is told what to do instead."""
    return render(request, "403_csrf.html", status=403)


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


def livez(request: HttpRequest) -> HttpResponse:
    """The process answers, without the database: a liveness probe for the orchestrator (healthz is
    readiness), and the bare page bench/pages.py weighs every other page against (Django's whole
    middleware and a small template, nothing else)."""
    return render(request, "livez.html")


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
