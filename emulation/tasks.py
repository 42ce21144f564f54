"""The emulation workbook's Celery tasks (queue "exports"). Their names are kept from when they
lived in the initiatives app: the beat schedule and messages already queued name them so."""

from __future__ import annotations

from celery import Task, shared_task
from django.conf import settings

from emulation import workbook

# Hard time limits (enforced by the prefork pool that docker-compose's workers use), many times the
# task's measured duration at national scale.
EXPORT_TIME_LIMIT = 30 * 60  # ~80 s nationally; a longer one is taken over through its heartbeat
CLEANUP_TIME_LIMIT = 10 * 60


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
    outcome = workbook.run_job(job_id)
    if outcome == "busy":
        # Below the broker's visibility timeout, or the held retry would be delivered twice.
        countdown = min(workbook.seconds_until_stale(job_id) + 2, settings.EXPORT_STALE_SECONDS - 10)
        raise self.retry(countdown=max(countdown, 1))
    return outcome


@shared_task(name="initiatives.clean_emulation_exports", time_limit=CLEANUP_TIME_LIMIT)
def clean_emulation_exports() -> int:
    """Beat: delete workbooks past their retention period and temporary files left behind."""
    return workbook.clean_exports()
