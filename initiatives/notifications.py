"""E-mail to the officers of a unit when the board decides on an initiative or answers a question.

Sent by Celery tasks enqueued after commit (initiatives.tasks): a mail server or a broker that is
down never undoes or blocks the review itself. Each owed e-mail is a `Notification` row (the
outbox): its task tries once; a failure is written on the row with the time of the next attempt,
and the resend job, every minute, tries what is due. No worker ever waits out a backoff, and a mail
server that does not answer costs at most EMAIL_TIMEOUT per SMTP step of an attempt.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count, F, Min, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from initiatives.models import Notification, Question, StatusChange
from unions.models import Union, User

logger = logging.getLogger(__name__)
# The longest one send may take: its task's time limit (initiatives.tasks.send_notification).
SEND_TIME_LIMIT = 120
# What a broker that is down or hung raises when publishing.
BROKER_ERRORS = (OperationalError, RedisError, OSError)
MAX_ATTEMPTS = 50  # then it stays visible in the admin with its last error
# After the n-th failed attempt the next one waits FIRST_RETRY × 2^(n-1), at most LAST_RETRY,
# ±25 % so that e-mails that failed together are not all tried again in the same second.
FIRST_RETRY = dt.timedelta(minutes=1)
LAST_RETRY = dt.timedelta(hours=1)
# A new e-mail belongs to its own task for this long; then (its message lost with a broker that
# was down) the resend job takes it.
FIRST_SEND_GRACE = dt.timedelta(minutes=2)
# The resend job: at most this many seconds of sending per run (it runs every minute), and it stops
# after this many failures in a row: the mail server is down, and trying each due e-mail would
# only spend EMAIL_TIMEOUT on every one of them.
RESEND_SECONDS = 45
RESEND_GIVE_UP_AFTER = 3


def notify(*, kind: str, object_id: int, unit_id: int | None) -> Notification:
    """Owe an e-mail to the officers of a unit: the row commits with the change; a worker sends
    it, the resend job retries."""
    from initiatives.tasks import send_notification

    notification = Notification.objects.create(
        kind=kind, object_id=object_id, unit_id=unit_id, next_attempt_at=timezone.now() + FIRST_SEND_GRACE
    )
    enqueue_on_commit(send_notification, notification.pk)
    return notification


def retry_delay(attempts: int) -> dt.timedelta:
    """How long after its `attempts`-th attempt an e-mail that failed is tried again."""
    delay = min(LAST_RETRY, FIRST_RETRY * 2 ** min(attempts - 1, 20))
    return delay * random.uniform(0.75, 1.25)


def _due(now: dt.datetime) -> Q:
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def _claim(notification_id: int, *, due_only: bool) -> bool:
    """Take one attempt at an owed e-mail: counted, and the next one scheduled, before it starts,
    so a worker killed while sending leaves the row backing off, never taken twice at once.
    A task may try its e-mail before it is due when it was never tried (its first send); the
    admin's "Send again" makes e-mails due, even those given up; the resend job takes only what is
    due and not given up."""
    now = timezone.now()
    eligible = _due(now) & Q(attempts__lt=MAX_ATTEMPTS) if due_only else _due(now) | Q(attempts=0)
    owed = Notification.objects.filter(eligible, pk=notification_id, sent_at__isnull=True)
    attempts = owed.values_list("attempts", flat=True).first()
    if attempts is None:
        return False
    # Conditional on the count read: of two workers, the second finds it changed and leaves it.
    return bool(
        Notification.objects.filter(pk=notification_id, sent_at__isnull=True, attempts=attempts).update(
            # Reserved for at least the longest a send may take (its task's time limit), so a slow
            # mail server's attempt is never overtaken by the resend job's.
            attempts=attempts + 1,
            next_attempt_at=now + max(retry_delay(attempts + 1), dt.timedelta(seconds=SEND_TIME_LIMIT)),
        )
    )


def deliver(*, notification_id: int, site_url: str, due_only: bool = False) -> int | None:
    """Try once to send an owed e-mail. Returns how many officers it went to (0 when it was sent
    already, is being sent, or waits for its next attempt), or None when sending failed: the row
    then holds the error and the time of its next attempt."""
    if not _claim(notification_id, due_only=due_only):
        return 0
    return _attempt(notification_id, site_url=site_url)


def _attempt(notification_id: int, *, site_url: str) -> int | None:
    """Send an e-mail whose attempt was claimed: the officers it went to, or None if it failed."""
    notification = Notification.objects.get(pk=notification_id)
    sender = send_status_change if notification.kind == Notification.Kind.STATUS_CHANGE else send_answer
    try:
        with transaction.atomic():  # a database error in the sender leaves the connection usable
            count = sender(notification.object_id, site_url=site_url)
    except Exception as error:
        # Its attempt over, the reservation gives way to the backoff, counted from the failure.
        Notification.objects.filter(pk=notification.pk, attempts=notification.attempts).update(
            last_error=f"{type(error).__name__}: {error}"[:2000],
            next_attempt_at=timezone.now() + retry_delay(notification.attempts),
        )
        logger.warning("Notification %s not sent yet (attempt %s): %s", notification.pk, notification.attempts, error)
        return None
    Notification.objects.filter(pk=notification.pk, sent_at__isnull=True).update(
        sent_at=timezone.now(), last_error="", next_attempt_at=None
    )
    return count


def due(*, now: dt.datetime | None = None) -> QuerySet[Notification]:
    """Owed e-mails whose next attempt has come (a failed one after its backoff, a new one whose
    task was lost after FIRST_SEND_GRACE), those waiting longest first."""
    rows = Notification.objects.filter(_due(now or timezone.now()), sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
    return rows.order_by(F("next_attempt_at").asc(nulls_first=True), "pk")


def resend_due(
    *, site_url: str, seconds: float = RESEND_SECONDS, give_up_after: int = RESEND_GIVE_UP_AFTER
) -> tuple[int, int]:
    """The resend job: send the due e-mails one at a time, for at most `seconds`, and stop after
    `give_up_after` failures in a row. Returns (sent, failed). Two runs at once share the rows:
    each attempt claims its row first."""
    deadline = time.monotonic() + seconds
    sent = failed = failures_in_a_row = 0
    while time.monotonic() < deadline and failures_in_a_row < give_up_after:
        notification_id = due().values_list("pk", flat=True).first()
        if notification_id is None:
            break
        if not _claim(notification_id, due_only=True):
            continue  # another run took it a moment ago
        if _attempt(notification_id, site_url=site_url) is None:
            failed += 1
            failures_in_a_row += 1
        else:
            sent += 1
            failures_in_a_row = 0
    return sent, failed


@dataclass(frozen=True)
class MailBacklog:
    """The outbox at a glance, for the admin and /healthz/: counts and an age, nothing personal."""

    owed: int  # not sent yet, still being tried
    failing: int  # of those, tried at least once and failed
    given_up: int  # not sent after MAX_ATTEMPTS: only the admin's "Send again" tries them
    oldest: dt.datetime | None  # when the oldest owed e-mail was written

    @property
    def oldest_seconds(self) -> int:
        return int((timezone.now() - self.oldest).total_seconds()) if self.oldest else 0

    @property
    def oldest_minutes(self) -> int:
        return self.oldest_seconds // 60

    @property
    def is_late(self) -> bool:
        return self.oldest_seconds > settings.MAIL_LATE_MINUTES * 60


def mail_backlog(rows: QuerySet[Notification] | None = None) -> MailBacklog:
    """What is owed among `rows` (all notifications by default), in one query over the owed rows."""
    rows = Notification.objects.all() if rows is None else rows
    trying = Q(attempts__lt=MAX_ATTEMPTS)
    figures = rows.filter(sent_at__isnull=True).aggregate(
        owed=Count("pk", filter=trying),
        failing=Count("pk", filter=trying & Q(attempts__gt=0)),
        given_up=Count("pk", filter=~trying),
        oldest=Min("created_at", filter=trying),
    )
    return MailBacklog(**figures)


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
        except Exception as error:  # the broker is down: what was decided stands, its row waits to be queued again
            # Only a broker that failed is left alone for a while (not an eager task's own error).
            if not task.app.conf.task_always_eager and isinstance(error, BROKER_ERRORS):
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
