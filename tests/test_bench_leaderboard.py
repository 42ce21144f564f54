"""bench/snapshot_storage.py, which bench/leaderboard.py uses to measure a snapshot's storage and
what an ordinary hour changes in it (issue 18, step 1): the retention projection on hand numbers,
and on a small tree the hour written, seen by the next snapshot, and undone without a trace."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path

import pytest
from django.db import connection

from initiatives.models import Initiative
from leaderboard.models import LeaderboardSnapshot, LeaderboardWeek
from leaderboard.snapshots import leaderboard_snapshot, partition_name
from tests.factories import InitiativeFactory

_spec = importlib.util.spec_from_file_location(
    "snapshot_storage", Path(__file__).resolve().parent.parent / "bench" / "snapshot_storage.py"
)
assert _spec and _spec.loader
storage = sys.modules.setdefault("snapshot_storage", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(storage)


def test_the_yearly_projection_keeps_a_week_of_hourly_snapshots_then_one_a_day() -> None:
    kept = storage.retained_bytes(100, keep_all_days=7)
    assert (kept.window, kept.dailies) == (168, 358)
    assert (kept.bytes_window, kept.bytes_after_a_year, kept.bytes_per_further_year) == (16_800, 52_600, 36_500)
    one_day = storage.retained_bytes(85_000_000, keep_all_days=1)
    assert one_day.bytes_after_a_year == (24 + 364) * 85_000_000


@pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions and their sizes are PostgreSQL's")
def test_an_ordinary_hour_shows_in_the_next_snapshot_and_is_undone(program, unit_tree, field) -> None:
    before = dt.datetime(2023, 3, 1, 8, tzinfo=dt.UTC)
    phase = program.phases.get(number=2)
    for unit in (unit_tree.gang_thep, unit_tree.rang_dong, unit_tree.bia):
        for _ in range(3):
            InitiativeFactory(program=program, phase=phase, unit=unit, field=field, submitted_at=before)
    original = sorted(Initiative.objects.values_list("pk", "status", "submitted_at", "unit_id"))
    at = before + dt.timedelta(hours=2)
    earlier, _ = leaderboard_snapshot(program=program, at=at)

    hour = storage.Hour()
    with connection.cursor() as cursor:
        storage.ordinary_hour(
            cursor, hour, program_id=program.pk, phase_id=phase.pk, field_ids=[field.pk], after=at, new=12, reviews=4
        )
    assert len(hour.created) == 12 and len(hour.reviewed) == 4
    new = Initiative.objects.filter(pk__in=hour.created)
    assert {i.unit.level for i in new} == {"grassroots"}
    assert all(at < i.submitted_at <= at + dt.timedelta(hours=1) and i.status == "submitted" for i in new)
    assert Initiative.objects.filter(pk__in=[pk for pk, _ in hour.reviewed]).exclude(status="submitted").count() == 4
    later, _ = leaderboard_snapshot(program=program, at=at + dt.timedelta(hours=1))

    with connection.cursor() as cursor:
        size = storage.snapshot_bytes(cursor, later.pk)
        changes = storage.changed_rows(cursor, earlier.pk, later.pk)
    assert size.rows == later.row_count and size.table > 0 and size.indexes > 0
    assert size.week_rows == LeaderboardWeek.objects.filter(snapshot=later).count() > 0
    assert size.total == size.table + size.indexes + size.week_table + size.week_indexes
    root = {c.context: c for c in changes if c.level == "confederation"}
    # 9 initiatives before, 21 after: the root's figures changed in every context it has.
    assert root["programme × all fields"].rows == 1 and root["programme × all fields"].figures == 1
    assert sum(c.rows for c in changes) == later.row_count
    assert all(c.any >= c.new + c.gone + c.figures for c in changes)

    with connection.cursor() as cursor:
        assert storage.undo_hour(cursor, hour) == (12, 4)
    assert sorted(Initiative.objects.values_list("pk", "status", "submitted_at", "unit_id")) == original
    for snapshot in (earlier, later):
        pk = snapshot.pk
        snapshot.delete()
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [partition_name(pk)])
            assert cursor.fetchone()[0] is None
    assert not LeaderboardSnapshot.objects.exists() and not LeaderboardWeek.objects.exists()
