from __future__ import annotations

import datetime as dt
import logging
import time

import pytest
from celery import Celery
from celery.exceptions import Retry
from django.conf import settings
from django.core import mail
from django.db import transaction

from initiatives.models import Notification, StatusChange
from initiatives.notifications import enqueue_on_commit
from initiatives.services import initiative_review, question_answer, question_ask
from initiatives.tasks import resend_pending_notifications, send_notification
from tests.factories import InitiativeFactory, UserFactory

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
    # What the broker outage left unsent is still owed, and the beat job queues it again.
    owed = Notification.objects.get()
    assert owed.sent_at is None
    Notification.objects.filter(pk=owed.pk).update(created_at=owed.created_at - dt.timedelta(minutes=11))
    assert resend_pending_notifications.apply().get() == 1


def test_a_mail_server_that_is_down_is_retried_and_the_review_stands(
    program, unit_tree, reviewer, officers, settings
) -> None:
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 2}}}  # fmt: skip
    initiative = InitiativeFactory(program=program, unit=unit_tree.gang_thep)
    initiative_review(initiative=initiative, decision="valid", by=reviewer)
    with pytest.raises(Retry) as retry:  # a worker would run it again later, with backoff
        send_notification.apply(args=[Notification.objects.get().pk])
    assert isinstance(retry.value.exc, ConnectionRefusedError)
    owed = Notification.objects.get()
    assert (owed.sent_at, owed.attempts) == (None, 1) and "ConnectionRefusedError" in owed.last_error
    initiative.refresh_from_db()
    assert initiative.status == "valid"


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
