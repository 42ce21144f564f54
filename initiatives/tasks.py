"""Celery tasks: thin, idempotent wrappers of the services. Each goes to the queue of its kind
(settings.CELERY_TASK_ROUTES): mail, exports, snapshots."""

from __future__ import annotations

import datetime as dt

from celery import Task, shared_task
from django.conf import settings

from initiatives import emulation, leaderboard, notifications, once
from initiatives.models import Program


# One attempt, never retried by Celery: a failure is written on the outbox row with the time of its
# next attempt, which the resend job honours, so no worker holds a message through a backoff. The
# hard time limit only bounds a mail server that answers each step just before EMAIL_TIMEOUT.
@shared_task(name="initiatives.send_notification", time_limit=notifications.SEND_TIME_LIMIT)
def send_notification(notification_id: int) -> int | None:
    return notifications.deliver(notification_id=notification_id, site_url=settings.SITE_URL)


@shared_task(name="initiatives.resend_pending_notifications", time_limit=notifications.RESEND_SECONDS + 120)
def resend_pending_notifications() -> int:
    """Beat, every minute: send the owed e-mails that are due (a failed send after its backoff, or
    one whose message a broker outage lost). Returns how many were sent."""
    sent, _failed = notifications.resend_due(site_url=settings.SITE_URL)
    return sent


# Every task has a hard time limit (enforced by the prefork pool that docker-compose's workers use):
# a task stuck on a hung dependency is killed and its message handed back, never holding a worker
# for ever. Each limit is many times the task's measured duration at national scale.
SNAPSHOT_TIME_LIMIT = 280  # ~8-15 s nationally; below the broker's visibility timeout (300 s)
EXPORT_TIME_LIMIT = 30 * 60  # ~80 s nationally; a longer one is taken over through its heartbeat
CLEANUP_TIME_LIMIT = 10 * 60


@shared_task(name="initiatives.snapshot_leaderboard", time_limit=SNAPSHOT_TIME_LIMIT)
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


# A worker killed mid-export gives the message back (acks_late, reject_on_worker_lost): at once when
# only its pool process died, after the broker's visibility timeout (EXPORT_STALE_SECONDS) when the
# whole worker did. A delivery that finds the job still "running" with a recent heartbeat checks
# again the moment that heartbeat goes stale, and then takes the job over (or finds it done); a
# live worker keeps its heartbeat fresh, so only a dead one is replaced.
@shared_task(
    bind=True,
    name="initiatives.build_emulation_export",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=12,
    time_limit=EXPORT_TIME_LIMIT,
)
def build_emulation_export(self: Task, job_id: int) -> str:
    outcome = emulation.run_job(job_id)
    if outcome == "busy":
        # Below the broker's visibility timeout, or the held retry would be delivered twice.
        countdown = min(emulation.seconds_until_stale(job_id) + 2, settings.EXPORT_STALE_SECONDS - 10)
        raise self.retry(countdown=max(countdown, 1))
    return outcome


@shared_task(name="initiatives.clean_emulation_exports", time_limit=CLEANUP_TIME_LIMIT)
def clean_emulation_exports() -> int:
    """Beat: delete workbooks past their retention period and temporary files left behind."""
    return emulation.clean_exports()


@shared_task(name="initiatives.prune_form_submissions", time_limit=CLEANUP_TIME_LIMIT)
def prune_form_submissions() -> int:
    """Beat: forget the one-time form tokens that can no longer be posted."""
    return once.prune()
