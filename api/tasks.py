"""Celery tasks of the API. Task names are stable identifiers (the beat schedule, and messages
already queued, name them)."""

from __future__ import annotations

from celery import shared_task

from api import idempotency

CLEANUP_TIME_LIMIT = 10 * 60


@shared_task(name="api.prune_idempotency_keys", time_limit=CLEANUP_TIME_LIMIT)
def prune_idempotency_keys() -> int:
    """Beat: forget the Idempotency-Keys older than a day (api.idempotency.KEEP)."""
    return idempotency.prune()
