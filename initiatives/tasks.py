"""Celery tasks of the initiatives app. Task names are stable identifiers (settings' routes and
beat schedule, and messages already queued, name them)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings

from initiatives import counting, once

CLEANUP_TIME_LIMIT = 10 * 60


@shared_task(name="initiatives.prune_count_marks", time_limit=CLEANUP_TIME_LIMIT)
def prune_count_marks() -> int:
    """Beat: the leaderboard's count marks no snapshot will consume, once older than COUNT_MARK_KEEP_DAYS."""
    return counting.prune_marks(older_than=dt.timedelta(days=settings.COUNT_MARK_KEEP_DAYS))


@shared_task(name="initiatives.prune_form_submissions", time_limit=CLEANUP_TIME_LIMIT)
def prune_form_submissions() -> int:
    """Beat: forget the one-time form tokens that can no longer be posted."""
    return once.prune()
