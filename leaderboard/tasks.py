"""The leaderboard's Celery task (queue "snapshots"). Its name is kept from when it lived in the
initiatives app: the beat schedule and messages already queued name it so."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings

from initiatives.models import Program
from leaderboard import history, snapshots
from leaderboard.models import LeaderboardSnapshot

# A hard time limit (enforced by the prefork pool that docker-compose's workers use): a task stuck
# on a hung dependency is killed and its message handed back, never holding a worker for ever.
SNAPSHOT_TIME_LIMIT = 280  # ~8-15 s nationally; below the broker's visibility timeout (300 s)


@shared_task(name="initiatives.snapshot_leaderboard", time_limit=SNAPSHOT_TIME_LIMIT)
def snapshot_leaderboard(prune: bool = False, at: str | None = None, verify: bool = False) -> list[int]:
    """Beat: the leaderboard of every active programme as of the current hour, or of the ISO
    instant `at` (a rerun for the same instant is a no-op); with `verify` (midnight), checked
    against a full recount and repaired where they differ."""
    instant = dt.datetime.fromisoformat(at) if at else snapshots.snapshot_instant(hourly=True)
    taken = []
    for program in Program.objects.filter(is_active=True):
        snapshot, _ = snapshots.leaderboard_snapshot(program=program, at=instant, verify=verify)
        taken.append(snapshot.pk)
        if prune:
            snapshots.leaderboard_prune(program=program)
    return taken


CLEANUP_TIME_LIMIT = 10 * 60


# Named in the initiatives app, where the marks are written; the beat schedule names it so.
@shared_task(name="initiatives.prune_count_marks", time_limit=CLEANUP_TIME_LIMIT)
def prune_count_marks() -> int:
    """Beat: the count marks no snapshot will consume, once older than COUNT_MARK_KEEP_DAYS."""
    return history.prune_marks(older_than=dt.timedelta(days=settings.COUNT_MARK_KEEP_DAYS))


@shared_task(name="leaderboard.materialize", time_limit=SNAPSHOT_TIME_LIMIT)
def materialize_snapshot(snapshot_id: int) -> int:
    """Give a kept snapshot, and the one before it, their ranked rows again to be shown (an
    evidence page asked), unless they are hot (the pages read those from the current rows); a
    second run finds them there. Returns how many it rebuilt."""
    snapshot = LeaderboardSnapshot.objects.filter(pk=snapshot_id).first()
    if snapshot is None:
        return 0
    rebuilt = 0
    for shown in (snapshot, snapshot.previous):
        if shown is not None and not shown.hot:
            rebuilt += snapshots.materialize(shown)
    return rebuilt
