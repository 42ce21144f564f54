"""Celery tasks: thin, idempotent wrappers of the services (retried when the mail server fails)."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from django.conf import settings

from initiatives import notifications

# A mail server that is down is retried with backoff for about a day; each attempt is logged.
RETRY = {
    "autoretry_for": (SMTPException, OSError),
    "retry_backoff": 60,
    "retry_backoff_max": 3600,
    "retry_jitter": True,
    "max_retries": 24,
}


@shared_task(name="initiatives.notify_status_change", **RETRY)
def notify_status_change(change_id: int) -> int:
    return notifications.send_status_change(change_id=change_id, site_url=settings.SITE_URL)


@shared_task(name="initiatives.notify_answer", **RETRY)
def notify_answer(question_id: int) -> int:
    return notifications.send_answer(question_id=question_id, site_url=settings.SITE_URL)
