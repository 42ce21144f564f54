"""The outbox's delivery: e-mail owed to the officers of a unit (a decision on an initiative, an
answer to a question: each kind's message is composed by the app that owns it, notifications.kinds).

Sent by Celery tasks enqueued after commit (notifications.tasks): a mail server or a broker that is
down never undoes or blocks the change itself. Each owed e-mail is a `Notification` row (the
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
from django.utils import timezone, translation

from notifications.kinds import Mail, compose
from notifications.models import Notification
from unions.models import User

logger = logging.getLogger(__name__)
# The longest one send may take: its task's time limit (notifications.tasks.send_notification).
SEND_TIME_LIMIT = 120
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
    try:
        with transaction.atomic():  # a database error in composing leaves the connection usable
            count = _send(compose(notification.kind, object_id=notification.object_id, site_url=site_url))
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


@dataclass(frozen=True, kw_only=True)
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


def _officers(mail: Mail) -> list[str]:
    """The active officers of the mail's unit with an address, and whoever else it names."""
    emails = set(
        User.objects.filter(unit_id=mail.unit_id, is_active=True).exclude(email="").values_list("email", flat=True)
    )
    emails.update(user.email for user in mail.also if user is not None and user.is_active and user.email)
    return sorted(emails)


def _send(mail: Mail | None) -> int:
    """Send a composed mail to its unit's officers (in Bcc: they don't see each other); how many."""
    recipients = _officers(mail) if mail is not None else []
    if mail is None or not recipients:
        return 0  # nothing to tell any more (rolled back, deleted), or nobody to tell
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"emails/{mail.template}_subject.txt", mail.context).strip()
        text = render_to_string(f"emails/{mail.template}.txt", mail.context)
        html = render_to_string(f"emails/{mail.template}.html", mail.context)
    message = EmailMultiAlternatives(subject, text, to=[], bcc=recipients)
    message.attach_alternative(html, "text/html")
    message.send()
    return len(recipients)
