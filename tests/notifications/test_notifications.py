from __future__ import annotations

import datetime as dt
import logging
import re
import time

import pytest
from celery import Celery
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from initiatives.models import StatusChange
from initiatives.services import initiative_review
from notifications import outbox
from notifications.models import Notification
from notifications.outbox import MAX_ATTEMPTS, RESEND_GIVE_UP_AFTER, resend_due, retry_delay
from notifications.tasks import resend_pending_notifications, send_notification
from questions.services import question_answer, question_ask
from sangkien.queueing import enqueue_on_commit
from tests.conftest import role_group
from tests.factories import InitiativeFactory, UserFactory
from tests.workers import silent_smtp_server
from unions.permissions import REVIEWERS_GROUP

pytestmark = pytest.mark.django_db


@pytest.fixture
def officers(unit_tree):
    return [
        UserFactory(username="a", email="a@thep.vn", unit=unit_tree.gang_thep),
        UserFactory(username="b", email="b@thep.vn", unit=unit_tree.gang_thep),
        UserFactory(username="c", email="c@rangdong.vn", unit=unit_tree.rang_dong),  # another unit
    ]


def test_a_decision_is_mailed_to_the_units_officers_in_vietnamese_after_commit(
    program, unit_tree, reviewer, officers, django_capture_on_commit_callbacks
) -> None:
    initiative = InitiativeFactory(program=program, unit=unit_tree.gang_thep, title="Cải tiến lò cao")
    with django_capture_on_commit_callbacks() as callbacks:
        initiative_review(initiative=initiative, decision="returned", by=reviewer, reason="Bổ sung số liệu <b>",
                          note="riêng tư")  # fmt: skip
    assert len(callbacks) == 1  # queued only once the review is committed
    owed = Notification.objects.get()
    assert (owed.kind, owed.object_id, owed.sent_at) == ("status_change", StatusChange.objects.get().pk, None)
    assert send_notification.apply(args=[owed.pk]).get() == 2  # what the worker runs
    assert send_notification.apply(args=[owed.pk]).get() == 0  # idempotent: sent once
    owed.refresh_from_db()
    assert owed.sent_at is not None
    message = mail.outbox[0]
    assert message.subject == "[Sáng kiến] Yêu cầu bổ sung: Cải tiến lò cao"
    assert sorted(message.bcc) == ["a@thep.vn", "b@thep.vn"] and message.to == []
    assert "Lý do: Bổ sung số liệu <b>" in message.body and "riêng tư" not in message.body
    html = message.alternatives[0].content
    assert "Bổ sung số liệu &lt;b&gt;" in html and "/initiatives/" in html


def test_nothing_is_queued_when_the_review_rolls_back(
    program, unit_tree, reviewer, officers, django_capture_on_commit_callbacks
) -> None:
    initiative = InitiativeFactory(program=program, unit=unit_tree.gang_thep)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        initiative_review(initiative=initiative, decision="valid", by=reviewer)
        raise RuntimeError("something later in the same request failed")
    assert callbacks == [] and not Notification.objects.exists()
    initiative.refresh_from_db()
    assert initiative.status == "submitted"


def test_a_broker_that_is_down_never_undoes_or_breaks_the_review(
    program, unit_tree, reviewer, django_capture_on_commit_callbacks, caplog
) -> None:
    unreachable = Celery("down", broker="redis://127.0.0.1:1/0", set_as_current=False)
    unreachable.conf.broker_transport_options = settings.CELERY_BROKER_TRANSPORT_OPTIONS

    @unreachable.task(name="probe")
    def probe() -> None:
        """Never runs: publishing it is what fails."""

    initiative = InitiativeFactory(program=program, unit=unit_tree.gang_thep)
    started = time.perf_counter()
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        initiative_review(initiative=initiative, decision="valid", by=reviewer)
        enqueue_on_commit(probe)  # a real broker refusing connections
    assert time.perf_counter() - started < 2, "the request must not wait for the broker"
    initiative.refresh_from_db()
    assert initiative.status == "valid"
    assert "Could not queue probe" in caplog.text
    # What the broker outage left unsent is still owed: its own task has two minutes, then the
    # resend job (every minute) sends it.
    owed = Notification.objects.get()
    assert owed.sent_at is None
    assert resend_pending_notifications.apply().get() == 0
    Notification.objects.filter(pk=owed.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    assert resend_pending_notifications.apply().get() == 1


def test_a_mail_server_that_is_down_is_tried_again_later_and_the_review_stands(
    program, unit_tree, reviewer, officers, settings
) -> None:
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 2}}}  # fmt: skip
    initiative = InitiativeFactory(program=program, unit=unit_tree.gang_thep)
    initiative_review(initiative=initiative, decision="valid", by=reviewer)
    # One attempt, then the task ends: no Celery retry holds a message, or a worker, through a backoff.
    assert send_notification.apply(args=[Notification.objects.get().pk]).get() is None
    owed = Notification.objects.get()
    assert (owed.sent_at, owed.attempts) == (None, 1) and "ConnectionRefusedError" in owed.last_error
    assert timezone.now() + dt.timedelta(seconds=40) < owed.next_attempt_at < timezone.now() + dt.timedelta(seconds=80)
    initiative.refresh_from_db()
    assert initiative.status == "valid"
    # A second message for it (the admin's, a duplicate) and the resend job leave it to its backoff.
    assert send_notification.apply(args=[owed.pk]).get() == 0
    assert resend_pending_notifications.apply().get() == 0
    assert Notification.objects.get().attempts == 1
    # Its time comes, the mail server is back: the resend job sends it.
    Notification.objects.filter(pk=owed.pk).update(next_attempt_at=timezone.now())
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert resend_pending_notifications.apply().get() == 1
    owed.refresh_from_db()
    assert (owed.attempts, owed.last_error, owed.next_attempt_at) == (2, "", None) and owed.sent_at
    assert len(mail.outbox) == 1


def test_a_silent_mail_server_costs_an_attempt_one_timeout(program, unit_tree, reviewer, officers, settings) -> None:
    with silent_smtp_server() as smtp:
        settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                        "OPTIONS": {"host": "127.0.0.1", "port": smtp.port, "timeout": 1}}}  # fmt: skip
        initiative_review(initiative=InitiativeFactory(program=program, unit=unit_tree.gang_thep), decision="valid",
                          by=reviewer)  # fmt: skip
        started = time.monotonic()
        assert send_notification.apply(args=[Notification.objects.get().pk]).get() is None
        assert time.monotonic() - started < 2
    owed = Notification.objects.get()
    assert owed.attempts == 1 and owed.last_error.endswith("timed out")


def test_each_failure_waits_twice_as_long_up_to_an_hour() -> None:
    minutes = [retry_delay(attempts).total_seconds() / 60 for attempts in (1, 2, 3, 7, 8, 49)]
    for got, expected in zip(minutes, [1, 2, 4, 60, 60, 60], strict=True):
        assert 0.75 * expected <= got <= 1.25 * expected


def test_the_resend_job_sends_what_is_due_and_stops_when_the_mail_server_keeps_failing(
    program, unit_tree, reviewer, officers, settings
) -> None:
    for _ in range(6):
        initiative_review(initiative=InitiativeFactory(program=program, unit=unit_tree.gang_thep), decision="valid",
                          by=reviewer)  # fmt: skip
    Notification.objects.update(next_attempt_at=timezone.now() - dt.timedelta(minutes=1))
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 2}}}  # fmt: skip
    # Three failures in a row: the server is down, the other three wait for the next run.
    assert resend_due(site_url="http://x") == (0, RESEND_GIVE_UP_AFTER)
    assert sorted(Notification.objects.values_list("attempts", flat=True)) == [0, 0, 0, 1, 1, 1]
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert resend_due(site_url="http://x") == (3, 0)  # the three that failed wait for their backoff
    assert Notification.objects.filter(sent_at__isnull=True, attempts=1).count() == 3
    assert len(mail.outbox) == 3


def test_send_again_in_the_admin_tries_even_an_e_mail_that_was_given_up(
    client, program, unit_tree, reviewer, officers, settings, django_capture_on_commit_callbacks
) -> None:
    initiative_review(initiative=InitiativeFactory(program=program, unit=unit_tree.gang_thep), decision="valid",
                      by=reviewer)  # fmt: skip
    owed = Notification.objects.get()
    Notification.objects.filter(pk=owed.pk).update(attempts=MAX_ATTEMPTS, last_error="TimeoutError: timed out",
                                                   next_attempt_at=timezone.now() + dt.timedelta(hours=1))  # fmt: skip
    assert resend_pending_notifications.apply().get() == 0  # given up: the resend job leaves it
    client.force_login(reviewer)
    url = reverse("admin:notifications_notification_changelist")
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(url, {"action": "send_again", "_selected_action": [owed.pk]})
    assert len(callbacks) == 1
    assert send_notification.apply(args=[owed.pk]).get() == 2
    owed.refresh_from_db()
    assert owed.sent_at is not None


def test_the_admin_shows_the_mail_backlog_to_those_who_see_the_outbox(
    client, program, unit_tree, reviewer, officers
) -> None:
    for _ in range(3):
        initiative_review(initiative=InitiativeFactory(program=program, unit=unit_tree.gang_thep), decision="valid",
                          by=reviewer)  # fmt: skip
    first = Notification.objects.order_by("pk").first()
    Notification.objects.filter(pk=first.pk).update(created_at=timezone.now() - dt.timedelta(minutes=20), attempts=2,
                                                    last_error="TimeoutError: timed out")  # fmt: skip
    Notification.objects.exclude(pk=first.pk).filter(pk__in=Notification.objects.order_by("-pk")[:1]).update(
        sent_at=timezone.now()
    )
    client.force_login(reviewer)
    attributes, text, link = backlog_line(client.get(reverse("admin:index")).content.decode())
    assert text.startswith("Thư chưa gửi được: 2; thư lâu nhất đã chờ 20 phút; đã gửi lỗi ít nhất một lần: 1.")
    assert 'class="errornote"' in attributes  # older than MAIL_LATE_MINUTES
    assert link == reverse("admin:notifications_notification_changelist") + "?sent_at__isempty=1"
    _attributes, text, _link = backlog_line(client.get(link).content.decode())
    assert text.startswith("Thư chưa gửi được: 2;")
    # A province board that is not Công Thương's sees its own subtree's outbox: nothing owed there.
    other = UserFactory(username="ban.hanoi", unit=unit_tree.ha_noi, is_staff=True)
    other.groups.add(role_group(REVIEWERS_GROUP))
    client.force_login(other)
    assert b"data-mail-backlog" not in client.get(reverse("admin:index")).content


def backlog_line(html: str) -> tuple[str, str, str | None]:
    """The admin's backlog line: its attributes, its text, its link."""
    found = re.search(r"<p ([^>]*)data-mail-backlog>(.*?)</p>", html, re.DOTALL)
    assert found, "no backlog line"
    link = re.search(r'href="([^"]+)"', found[2])
    return found[1], " ".join(strip_tags(found[2]).split()), link[1].replace("&amp;", "&") if link else None


def test_the_health_check_reports_the_mail_backlog_but_stays_ok_while_mail_is_late(
    client, program, unit_tree, reviewer, officers
) -> None:
    assert client.get("/healthz/").content.decode().splitlines()[0] == "ok"
    initiative_review(initiative=InitiativeFactory(program=program, unit=unit_tree.gang_thep), decision="valid",
                      by=reviewer)  # fmt: skip
    error = "SMTPAuthenticationError: 535 bad password for sangkien@congdoan.vn"
    Notification.objects.update(created_at=timezone.now() - dt.timedelta(hours=2), attempts=7, last_error=error)
    response = client.get("/healthz/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    lines = dict(line.split(" ", 1) for line in response.content.decode().splitlines()[1:])
    assert lines == {"mail_owed": "1", "mail_failing": "1", "mail_given_up": "0", "mail_oldest_seconds": lines[
        "mail_oldest_seconds"], "mail_late": "1"}  # fmt: skip
    assert 7200 <= int(lines["mail_oldest_seconds"]) < 7260
    assert "@" not in response.content.decode() and "535" not in response.content.decode()


def test_an_answer_is_mailed_to_the_asker_and_the_units_officers(unit_tree, officer, reviewer, officers) -> None:
    officer.email = "canbo@thep.vn"
    officer.save()
    question = question_ask(unit=unit_tree.gang_thep, by=officer, subject="Cách tính giá trị", body="?")
    question_answer(question=question, answer="Theo một năm áp dụng.", by=reviewer, is_public=False)
    assert send_notification.apply(args=[Notification.objects.get(kind="answer").pk]).get() == 3
    message = mail.outbox[0]
    assert message.subject == "[Sáng kiến] Ban đã trả lời: Cách tính giá trị"
    assert "Theo một năm áp dụng." in message.body


def test_beat_resends_owed_mails_every_few_minutes() -> None:
    from sangkien.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["resend-pending-notifications"]
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    assert entry["schedule"] <= 600


def test_an_attempt_in_progress_is_reserved_for_as_long_as_a_send_may_take(unit_tree, program) -> None:
    """A slow mail server: the resend job must not take the same e-mail while its first send runs."""
    owed = Notification.objects.create(kind=Notification.Kind.ANSWER, object_id=1, unit=unit_tree.thep)
    assert outbox._claim(owed.pk, due_only=False)
    owed.refresh_from_db()
    assert owed.next_attempt_at >= timezone.now() + dt.timedelta(seconds=outbox.SEND_TIME_LIMIT - 5)
    assert not outbox._claim(owed.pk, due_only=True)
