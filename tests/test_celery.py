from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from django.utils import timezone

from initiatives.models import LeaderboardRow, LeaderboardSnapshot
from initiatives.tasks import snapshot_leaderboard
from sangkien.celery import ping
from tests.factories import InitiativeFactory, ProgramFactory, UnionFactory
from unions.models import Union


def test_a_task_round_trips_through_redis_and_a_real_worker(celery_worker_process: subprocess.Popen) -> None:
    result = ping.delay("xin chào")
    reply = result.get(timeout=60)
    assert reply["payload"] == "xin chào"
    # Run by the worker process, not eagerly in this one.
    assert reply["worker"].startswith("test-")
    assert celery_worker_process.poll() is None


@pytest.mark.django_db(transaction=True)
def test_the_beat_task_takes_the_leaderboard_snapshot_in_a_real_worker(celery_worker_process: subprocess.Popen) -> None:
    program = ProgramFactory(slug="01-trieu-sang-kien", target=1000)
    unit = UnionFactory(code="G1", name="Công đoàn cơ sở G1", level=Union.Level.GRASSROOTS)
    # Before this hour: the hourly snapshot counts what was submitted up to the hour.
    InitiativeFactory.create_batch(3, program=program, unit=unit, submitted_at=timezone.now() - dt.timedelta(hours=1))
    taken = snapshot_leaderboard.delay().get(timeout=60)
    snapshot = LeaderboardSnapshot.objects.get(pk=taken[0])
    assert snapshot.taken_at.minute == snapshot.taken_at.second == 0  # the hour it ran in
    row = LeaderboardRow.objects.get(snapshot=snapshot, unit=unit, phase_key=0, field_key=0)
    assert (row.submitted, row.rank) == (3, 1)
    # The same hour again, as a retried or duplicated beat task would: nothing changes.
    assert snapshot_leaderboard.delay(at=snapshot.taken_at.isoformat()).get(timeout=60) == taken
    assert LeaderboardSnapshot.objects.count() == 1
