"""bench/snapshot_storage.py, which bench/leaderboard.py uses to measure what a snapshot writes and
keeps (issue 18): the yearly projections (the full copies of before, the history of now) on hand
numbers, and on a small tree an ordinary hour marked like the services' writes, counted by the
next (incremental) snapshot, and the versions that snapshot wrote, weighed."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path

import pytest
from django.db import connection

from initiatives.models import CountMark, Initiative
from leaderboard.models import (
    LeaderboardBlockScale,
    LeaderboardCurrent,
    LeaderboardScale,
    LeaderboardSnapshot,
    LeaderboardWeek,
)
from leaderboard.snapshots import leaderboard_snapshot, materialize
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


def test_the_history_keeps_the_hot_window_the_base_and_a_day_of_versions_per_daily_snapshot() -> None:
    year = storage.projected_year(
        hot=270, base=1_000, hour_keys=20, hour_mirror=10, scale=1, key_factor=1.5, change_factor=2.0
    )
    assert year.hot == 270
    assert year.daily == 20 * 1.5 + 10 * 2.0 + 1 == 51
    assert year.dailies == 365 * 51
    assert year.total == 270 + 1_000 + 365 * 51
    assert year.window == 24 * 7 * (20 + 10 + 1)
    assert (
        storage.projected_year(hot=90, base=0, hour_keys=0, hour_mirror=0, scale=0, key_factor=1, change_factor=1).total
        == 90
    )
    assert storage.CurrentBytes(rows=5, table=700, indexes=300, scale_rows=4, scale=40).hot(3) == 1_120


@pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions, marks and sizes are PostgreSQL's")
def test_an_ordinary_hour_is_marked_and_counted_by_the_next_incremental_snapshot(program, unit_tree, field) -> None:
    before = dt.datetime(2023, 3, 1, 8, tzinfo=dt.UTC)
    phase = program.phases.get(number=2)
    for unit in (unit_tree.gang_thep, unit_tree.rang_dong, unit_tree.bia):
        for _ in range(3):
            InitiativeFactory(program=program, phase=phase, unit=unit, field=field, submitted_at=before)
    at = before + dt.timedelta(hours=2)
    earlier, _ = leaderboard_snapshot(program=program, at=at)
    assert earlier.mode == LeaderboardSnapshot.Mode.FULL
    assert not CountMark.objects.exists()  # the full snapshot consumed the factories' marks
    with connection.cursor() as cursor:
        clean = storage.history_bytes(cursor)
    assert [size.table for size in clean] == list(storage.HISTORY)
    assert all(size.rows > 0 and size.total == size.heap + size.indexes > 0 for size in clean)

    hour = storage.Hour()
    with connection.cursor() as cursor:
        storage.ordinary_hour(
            cursor, hour, program_id=program.pk, phase_id=phase.pk, field_ids=[field.pk], after=at, new=12, reviews=4
        )
    assert len(hour.created) == 12 and len(hour.reviewed) == 4
    new = Initiative.objects.filter(pk__in=hour.created)
    assert {i.unit.level for i in new} == {"grassroots"}
    assert all(at < i.submitted_at <= at + dt.timedelta(hours=1) and i.status == "submitted" for i in new)
    reviewed = [pk for pk, _ in hour.reviewed]
    assert Initiative.objects.filter(pk__in=reviewed).exclude(status="submitted").count() == 4
    # Marked as the services mark: one mark per initiative written, in the same transaction.
    assert sorted(CountMark.objects.values_list("initiative_id", flat=True)) == sorted([*hour.created, *reviewed])

    later, _ = leaderboard_snapshot(program=program, at=at + dt.timedelta(hours=1))
    assert later.mode == LeaderboardSnapshot.Mode.INCREMENTAL
    assert later.changes == 16 and not CountMark.objects.exists()
    with connection.cursor() as cursor:
        current = storage.current_bytes(cursor, later.pk)
    # The current rows hold both snapshots' rows (a version of each key, one more for each key changed).
    assert current.rows == LeaderboardCurrent.objects.count() > later.row_count > 0 and current.table > 0
    assert current.scale_rows == LeaderboardBlockScale.objects.filter(snapshot=later).count() > 0 < current.scale
    # Their ranked rows, rebuilt for the evidence pages, are the full copies snapshots used to write.
    assert materialize(earlier) and materialize(later)
    with connection.cursor() as cursor:
        size = storage.snapshot_bytes(cursor, later.pk)
        changes = storage.changed_rows(cursor, earlier.pk, later.pk)
        written = storage.versions_written(
            cursor, program_id=program.pk, seq=later.seq, snapshot_id=later.pk, clean=clean, before=clean
        )
        keys = storage.context_versions(cursor, program_id=program.pk, seq=later.seq)
    assert size.rows == later.row_count and size.table > 0 and size.indexes > 0
    assert size.week_rows == LeaderboardWeek.objects.filter(snapshot=later).count() > 0
    root = {c.context: c for c in changes if c.level == "confederation"}
    # 9 initiatives before, 21 after: the root's figures changed in every context it has.
    assert root["programme × all fields"].rows == 1 and root["programme × all fields"].figures == 1
    assert sum(c.rows for c in changes) == later.row_count
    # The figure versions of the ranked rows' contexts are exactly the keys whose figures changed.
    assert keys == sum(c.new + c.gone + c.figures for c in changes) > 0
    rows = {versions.table: versions.rows for versions in written}
    assert sum(rows[table] for table in storage.VERSIONED) == later.versions
    assert rows[storage.SCALE] == LeaderboardScale.objects.filter(snapshot=later).count() > 0
    assert rows[storage.FIGURE] == keys  # no other figure version (a quarter's is counted from the mirror)
    # The mirror holds whether an initiative is valid, not its status: a return or a rejection of a
    # submitted initiative counts the same, and writes no version.
    validated = Initiative.objects.filter(pk__in=reviewed, status="valid").count()
    assert rows[storage.COUNTED] == 12 + validated and rows[storage.UNIT_VERSION] == 0
    clean_per_row = {s.table: s.per_row for s in clean}
    for versions in written:
        if versions.table != storage.SCALE:
            assert versions.bytes == round(versions.rows * clean_per_row[versions.table])
        assert versions.grown >= 0
