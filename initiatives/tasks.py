"""Celery tasks of the initiatives app. Task names are stable identifiers (settings' routes and
beat schedule, and messages already queued, name them)."""

from __future__ import annotations

from celery import shared_task

from initiatives import likeness, once

CLEANUP_TIME_LIMIT = 10 * 60


@shared_task(name="initiatives.prune_form_submissions", time_limit=CLEANUP_TIME_LIMIT)
def prune_form_submissions() -> int:
    """Beat: forget the one-time form tokens that can no longer be posted."""
    return once.prune()


# Defined beside the grouping it runs (initiatives.likeness queues it after each fingerprint); named here
# so that the worker's autodiscovery of this module registers it.
group_similar = likeness.group_similar
