"""Run by tests/test_upgrade.py with the old code before the upgrade and with the new code after it
(its folder as the working directory): what that code makes of the database. Asked on stdin (JSON)
for the dashboard to render; answers with JSON on the line marked ANSWER_MARK:

- content_types: id → [model_name, db_table, is_proxy] of the installed model it resolves to, or null;
- log_entries: id → null when the LogEntry's `get_edited_object()` finds its object, else the error;
- dashboard: the page's status as the given user, the text of its "as of" line, the given
  instant written as that line writes it, and which of the given unit names it shows.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
from typing import Any

import django

ANSWER_MARK = "UPGRADE-ANSWER "  # as in tests/upgrade.py (this script cannot import it)
AS_OF_LINE = re.compile(r"<p[^>]*\bdata-as-of\b[^>]*>(.*?)</p>", re.DOTALL)
TAGS = re.compile(r"<[^>]+>")


def content_types() -> dict[int, list | None]:
    from django.contrib.contenttypes.models import ContentType

    found: dict[int, list | None] = {}
    for content_type in ContentType.objects.order_by("pk"):
        resolved = content_type.model_class()
        meta = resolved._meta if resolved is not None else None
        found[content_type.pk] = [meta.model_name, meta.db_table, meta.proxy] if meta else None
    return found


def log_entries() -> dict[int, str | None]:
    from django.contrib.admin.models import LogEntry

    errors: dict[int, str | None] = {}
    for entry in LogEntry.objects.select_related("content_type").order_by("pk"):
        try:
            entry.get_edited_object()
            errors[entry.pk] = None
        except Exception as error:  # any failure to resolve is the finding
            errors[entry.pk] = f"{type(error).__name__}: {error}"
    return errors


def dashboard(*, path: str, username: str, taken_at: str, unit_names: list[str]) -> dict[str, Any]:
    """The dashboard as the user sees it, found by its path (its view may have moved)."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import resolve
    from django.utils import dateformat, timezone
    from django.utils.dateparse import parse_datetime

    setup_test_environment()  # the test client's host, "testserver", is allowed
    client = Client()
    from django.conf import settings

    # The backend that checks passwords, whatever this version of the code names it (the last one).
    client.force_login(get_user_model().objects.get(username=username), backend=settings.AUTHENTICATION_BACKENDS[-1])
    response = client.get(path)
    body = response.content.decode()
    line = AS_OF_LINE.search(body)
    shown = html.unescape(TAGS.sub(" ", body))
    instant = timezone.localtime(parse_datetime(taken_at))
    return {
        "view": resolve(path).view_name,
        "status": response.status_code,
        "as_of": html.unescape(TAGS.sub("", line.group(1))).strip() if line else None,
        "when": dateformat.format(instant, "H:i"),
        "day": dateformat.format(instant, "d/m/Y"),
        "unit_names_shown": [name for name in unit_names if name in shown],
    }


def main() -> None:
    question = json.load(sys.stdin)
    sys.path[0] = os.getcwd()  # the code to run, not this script's folder
    django.setup()
    answer = {
        "content_types": content_types(),
        "log_entries": log_entries(),
        "dashboard": dashboard(**question["dashboard"]),
    }
    print(ANSWER_MARK + json.dumps(answer))


if __name__ == "__main__":
    main()
