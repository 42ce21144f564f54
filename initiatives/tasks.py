"""Celery tasks: thin, idempotent wrappers of the services (retried when the mail server fails)."""

from __future__ import annotations

import datetime as dt
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings

from initiatives import emulation, leaderboard, notifications
from initiatives.models import Program

# A mail server that is down is retried with backoff for about a day; each attempt is logged and
# counted on the Notification row, which the resend job picks up again if the task is lost.
RETRY = {
    "autoretry_for": (SMTPException, OSError),
    "retry_backoff": 60,
    "retry_backoff_max": 3600,
    "retry_jitter": True,
    "max_retries": 24,
}


@shared_task(name="initiatives.send_notification", **RETRY)
def send_notification(notification_id: int) -> int:
    return notifications.deliver(notification_id=notification_id, site_url=settings.SITE_URL)


@shared_task(name="initiatives.resend_pending_notifications")
def resend_pending_notifications(older_than_minutes: int = 10) -> int:
    """Beat: queue again what a broker outage or an exhausted retry left unsent."""
    ids = notifications.pending(older_than=dt.timedelta(minutes=older_than_minutes))
    for notification_id in ids:
        send_notification.apply_async(args=[notification_id], retry=False)
    return len(ids)


@shared_task(name="initiatives.snapshot_leaderboard")
def snapshot_leaderboard(prune: bool = False, at: str | None = None) -> list[int]:
    """Beat: the leaderboard of every active programme as of the current hour, or of the ISO
    instant `at` (a rerun for the same instant is a no-op)."""
    instant = dt.datetime.fromisoformat(at) if at else leaderboard.snapshot_instant(hourly=True)
    taken = []
    for program in Program.objects.filter(is_active=True):
        snapshot, _ = leaderboard.leaderboard_snapshot(program=program, at=instant)
        taken.append(snapshot.pk)
        if prune:
            leaderboard.leaderboard_prune(program=program)
    return taken


# A worker killed mid-export gives the message back (acks_late, reject_on_worker_lost): the next
# delivery finds the job running with a stale heartbeat, claims it and builds it again.
@shared_task(name="initiatives.build_emulation_export", acks_late=True, reject_on_worker_lost=True)
def build_emulation_export(job_id: int) -> str:
    return emulation.run_job(job_id)


@shared_task(name="initiatives.clean_emulation_exports")
def clean_emulation_exports() -> int:
    """Beat: delete workbooks past their retention period and temporary files left behind."""
    return emulation.clean_exports()
