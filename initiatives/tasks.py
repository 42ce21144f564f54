"""Celery tasks: thin, idempotent wrappers of the services (retried when the mail server fails)."""

from __future__ import annotations

import datetime as dt
from smtplib import SMTPException

from celery import Task, shared_task
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


# A worker killed mid-export gives the message back (acks_late, reject_on_worker_lost), at once or
# when Redis's visibility timeout expires. A delivery that finds the job still "running" with a
# recent heartbeat checks again once the heartbeat would be stale, and then takes the job over
# (or finds it done); a live worker keeps its heartbeat fresh, so only a dead one is replaced.
@shared_task(
    bind=True,
    name="initiatives.build_emulation_export",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=12,
)
def build_emulation_export(self: Task, job_id: int) -> str:
    outcome = emulation.run_job(job_id)
    if outcome == "busy":
        raise self.retry(countdown=settings.EXPORT_STALE_SECONDS + 30)
    return outcome


@shared_task(name="initiatives.clean_emulation_exports")
def clean_emulation_exports() -> int:
    """Beat: delete workbooks past their retention period and temporary files left behind."""
    return emulation.clean_exports()
