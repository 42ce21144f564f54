"""Run by tests/test_upgrade.py with the OLD code (its folder as the working directory) after
`migrate` and `seed_demo`: adds what the demo lacks and the upgrade must keep: questions answered
and waiting, owed and sent e-mails (the outbox), an emulation export job, direct user permissions
and a group of our own, and admin history (a LogEntry for a row of every model, proxies included,
as the admin writes them).

Models are looked up by class name, not by app label, so the script does not care which app holds
them. Answers with JSON on the line marked ANSWER_MARK.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys

import django

ANSWER_MARK = "UPGRADE-ANSWER "  # as in tests/upgrade.py (this script cannot import it)
DEMO_OFFICER = "canbo.thep"  # given direct permissions
DEMO_OTHER_OFFICER = "canbo.rangdong"  # put in the group below
OWN_GROUP = "Upgrade proof"


def model(name: str) -> type:
    """The installed model (proxies included) whose class has this name, wherever it lives."""
    from django.apps import apps

    found = [candidate for candidate in apps.get_models() if candidate.__name__ == name]
    if len(found) != 1:
        raise LookupError(f"{len(found)} installed models are named {name}")
    return found[0]


def add_questions(*, asker: object, answerer: object, now: dt.datetime) -> list:
    question = model("Question")
    unit = asker.unit
    waiting = question.objects.create(
        unit=unit, asked_by=asker, subject="Thời hạn nộp sáng kiến giai đoạn 2", body="Xin hỏi hạn cuối là ngày nào?"
    )
    answered = question.objects.create(
        unit=unit, asked_by=asker, subject="Mẫu phiếu đăng ký", body="Có mẫu phiếu đăng ký sáng kiến không?",
        answer="Có, xem mục Hướng dẫn.", answered_by=answerer, answered_at=now, is_public=True,
    )  # fmt: skip
    return [waiting, answered]


def add_notifications(*, answered_question: object, unit: object, now: dt.datetime) -> None:
    notification = model("Notification")
    change = model("StatusChange").objects.order_by("pk").first()
    notification.objects.create(
        kind="answer", object_id=answered_question.pk, unit=unit, sent_at=now, attempts=1
    )  # sent
    notification.objects.create(
        kind="status_change", object_id=change.pk, unit=change.initiative.unit, attempts=2,
        last_error="Connection refused", next_attempt_at=now + dt.timedelta(minutes=4),
    )  # owed, failing  # fmt: skip


def add_export_job(*, user: object, scope: object, now: dt.datetime) -> None:
    program = model("Program").objects.order_by("pk").first()
    job = model("ExportJob").objects.create(
        program=program, scope=scope, requested_by=user, status="done", attempts=1,
        started_at=now - dt.timedelta(seconds=3), heartbeat_at=now, finished_at=now, total_rows=20, rows_done=20,
        seconds=3.0, file="exports/upgrade-proof.xlsx",
    )  # fmt: skip
    model("ExportStart").objects.create(user=user, job=job, at=now)


def add_grants(*, officer: object, other_officer: object) -> None:
    """Every view_ permission to one officer directly, every change_ permission to a group of our own
    with another officer in it: grants on every content type."""
    from django.contrib.auth.models import Group, Permission

    officer.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    group, _ = Group.objects.get_or_create(name=OWN_GROUP)
    group.permissions.add(*Permission.objects.filter(codename__startswith="change_"))
    other_officer.groups.add(group)


def add_log_entries(*, user: object) -> int:
    """A LogEntry for the first row of every model that has rows, each with the content type the
    admin would use (a proxy's own for a proxy model's admin)."""
    from django.apps import apps
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    written = 0
    for candidate in apps.get_models():
        if candidate is LogEntry:
            continue
        row = candidate._base_manager.order_by("pk").first()
        if row is None:
            continue
        LogEntry.objects.create(
            user=user, content_type=ContentType.objects.get_for_model(candidate, for_concrete_model=False),
            object_id=str(row.pk), object_repr=str(row)[:200], action_flag=CHANGE,
            change_message=json.dumps([{"changed": {"fields": ["upgrade proof"]}}]),
        )  # fmt: skip
        written += 1
    return written


def main() -> None:
    sys.path[0] = os.getcwd()  # the code to run, not this script's folder
    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    users = get_user_model().objects
    now = timezone.now()
    with transaction.atomic():
        admin = users.filter(is_superuser=True).order_by("pk").first()
        officer = users.get(username=DEMO_OFFICER)
        other_officer = users.get(username=DEMO_OTHER_OFFICER)
        _waiting, answered = add_questions(asker=officer, answerer=admin, now=now)
        add_notifications(answered_question=answered, unit=officer.unit, now=now)
        add_export_job(user=admin, scope=officer.unit, now=now)
        add_grants(officer=officer, other_officer=other_officer)
        log_entries = add_log_entries(user=admin)
    print(ANSWER_MARK + json.dumps({"log_entries": log_entries}))


if __name__ == "__main__":
    main()
