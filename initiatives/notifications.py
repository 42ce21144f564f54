"""E-mail to the officers of a unit when the board decides on an initiative or answers a question.

Sent by Celery tasks enqueued after commit (initiatives.tasks): a mail server or a broker that is
down never undoes or blocks the review itself.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from initiatives.models import Notification, Question, StatusChange
from unions.models import Union, User

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 50  # then it stays visible in the admin with its last error


def notify(*, kind: str, object_id: int, unit_id: int | None) -> Notification:
    """Owe an e-mail to the officers of a unit: the row commits with the change; a worker sends
    it, the resend job retries."""
    from initiatives.tasks import send_notification

    notification = Notification.objects.create(kind=kind, object_id=object_id, unit_id=unit_id)
    enqueue_on_commit(send_notification, notification.pk)
    return notification


def deliver(*, notification_id: int, site_url: str) -> int:
    """Send an owed e-mail once; returns how many officers it went to (0 if already sent)."""
    notification = Notification.objects.filter(pk=notification_id, sent_at__isnull=True).first()
    if notification is None:
        return 0
    sender = send_status_change if notification.kind == Notification.Kind.STATUS_CHANGE else send_answer
    try:
        count = sender(notification.object_id, site_url=site_url)
    except Exception as error:
        Notification.objects.filter(pk=notification.pk).update(
            attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"[:2000]
        )
        logger.warning("Notification %s not sent yet: %s", notification.pk, error)
        raise
    Notification.objects.filter(pk=notification.pk, sent_at__isnull=True).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
    )
    return count


def pending(*, older_than: dt.timedelta) -> list[int]:
    """Owed e-mails whose task was lost (broker down) or gave up: the resend job queues them again."""
    cutoff = timezone.now() - older_than
    rows = Notification.objects.filter(sent_at__isnull=True, created_at__lt=cutoff, attempts__lt=MAX_ATTEMPTS)
    return list(rows.order_by("created_at").values_list("pk", flat=True)[:1000])


# When this process may try a broker (by URL) again after it failed (time.monotonic()): a request
# that queues many tasks (a bulk review, "send again" on 100 rows) pays one timeout, not one each.
_broker_retry_at: dict[str, float] = {}


def enqueue_on_commit(task: object, *args: object) -> None:
    """Queue `task` once the transaction commits; a broker that is down or hung is logged, never
    raised, and costs at most its timeouts (settings, "Redis down or hung"): the notifications'
    resend job, or an export's retry, queues the row again."""

    def send() -> None:
        broker = task.app.conf.broker_url or ""
        if time.monotonic() < _broker_retry_at.get(broker, 0.0):
            logger.info("Not queuing %s%r: the broker failed moments ago; the row waits for a retry", task.name, args)
            return
        try:
            task.apply_async(args=args, retry=False)
        except Exception:  # the broker is down: what was decided stands, its row waits to be queued again
            if not task.app.conf.task_always_eager:  # an eager task's own error says nothing of a broker
                _broker_retry_at[broker] = time.monotonic() + settings.REDIS_RETRY_AFTER_SECONDS
            logger.exception("Could not queue %s%r: the broker is down; the row waits for a retry", task.name, args)

    transaction.on_commit(send)


def _officers(unit: Union, *also: User | None) -> list[str]:
    emails = set(User.objects.filter(unit=unit, is_active=True).exclude(email="").values_list("email", flat=True))
    emails.update(user.email for user in also if user is not None and user.is_active and user.email)
    return sorted(emails)


def _send(*, template: str, context: dict, recipients: list[str]) -> int:
    if not recipients:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, to=[], bcc=recipients)  # officers don't see each other
    message.attach_alternative(html, "text/html")
    message.send()
    return len(recipients)


def send_status_change(change_id: int, *, site_url: str) -> int:
    """Tell the unit's officers what the board decided, and why. Returns how many were told."""
    change = StatusChange.objects.select_related("initiative__unit").filter(pk=change_id).first()
    if change is None:  # rolled back or deleted meanwhile: nothing to tell
        return 0
    initiative = change.initiative
    context = {"change": change, "initiative": initiative, "url": site_url + initiative.get_absolute_url()}
    return _send(template="status_change", context=context, recipients=_officers(initiative.unit))


def send_answer(question_id: int, *, site_url: str) -> int:
    question = (
        Question.objects.select_related("unit", "asked_by").filter(pk=question_id, answered_at__isnull=False).first()
    )
    if question is None:
        return 0
    context = {"question": question, "url": site_url + reverse("initiatives:question", args=[question.pk])}
    return _send(template="answer", context=context, recipients=_officers(question.unit, question.asked_by))
