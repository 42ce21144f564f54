"""The outbox's Celery tasks (queue "mail"). Their names are kept from when they lived in the
initiatives app: messages already queued, and the beat schedule, name them so."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from notifications import outbox


# One attempt, never retried by Celery: a failure is written on the outbox row with the time of its
# next attempt, which the resend job honours, so no worker holds a message through a backoff. The
# hard time limit only bounds a mail server that answers each step just before EMAIL_TIMEOUT.
@shared_task(name="initiatives.send_notification", time_limit=outbox.SEND_TIME_LIMIT)
def send_notification(notification_id: int) -> int | None:
    return outbox.deliver(notification_id=notification_id, site_url=settings.SITE_URL)


@shared_task(name="initiatives.resend_pending_notifications", time_limit=outbox.RESEND_SECONDS + 120)
def resend_pending_notifications() -> int:
    """Beat, every minute: send the owed e-mails that are due (a failed send after its backoff, or
    one whose message a broker outage lost). Returns how many were sent."""
    sent, _failed = outbox.resend_due(site_url=settings.SITE_URL)
    return sent
