"""Leaderboard snapshots: every unit's figures over its subtree, ranked per level block and cluster.

How the counts are kept (measured at 130,000 units and 2.5 million initiatives, see bench/README.md):
a snapshot recomputes everything from the initiatives in a few SQL statements and stores the
ranked rows, so the dashboard reads a handful of indexed rows and never aggregates initiatives of
a large subtree. The contexts stored are the whole programme and each phase, for all fields and
for each field; grassroots units are stored for all fields only (1.6 million more rows per
snapshot otherwise), and their field-narrowed figures are counted from the initiatives of the
subtree being looked at (see leaderboard.dashboard).

Counting rules (initiatives.counting has the rule and the roll-up, for every figure):
- "submitted" counts every initiative that is not a draft: submitted, valid, returned and
  rejected (a returned or rejected initiative was submitted; the board's verdict is in "valid").
- "valid" counts the initiatives accepted as valid; the value benefit sums their value only.
- a unit's figures include its whole subtree; "participating" counts the grassroots units of the
  subtree with at least one submitted initiative.
- only initiatives submitted at or before the snapshot's instant count; the status is the one at
  the time the snapshot is taken.
- ranks are by submitted count, highest first; equal counts share a rank (1, 2, 2, 4).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, F, IntegerField, QuerySet, When
from django.db.models.functions import TruncWeek
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone

from initiatives import counting
from initiatives.models import Initiative, Phase, Program, Target
from leaderboard.models import LeaderboardRow, LeaderboardSnapshot, LeaderboardWeek
from unions.models import Union

_INITIATIVE = Initiative._meta.db_table
_UNION = Union._meta.db_table
_TARGET = Target._meta.db_table
_ROW = LeaderboardRow._meta.db_table
_WEEK = LeaderboardWeek._meta.db_table
_TEMP_TABLES = ("lb_leaf", "lb_up")

# Each unit's own submitted initiatives by phase and field (-1: none set). Every sum, here and in
# the steps below, is cast back to its column's type, counts INTEGER and the value benefit BIGINT
# (the roll-up's INSERT casts into lb_up's columns): PostgreSQL sums INTEGERs into BIGINTs and
# BIGINTs into NUMERICs, and adding up NUMERICs took the contexts and the roll-up half as long again.
_LEAF_SQL = f"""
CREATE TEMP TABLE lb_leaf AS
SELECT i.unit_id, COALESCE(i.phase_id, -1) AS p, COALESCE(i.field_id, -1) AS f, CAST(COUNT(*) AS INTEGER) AS submitted,
       CAST(SUM(CASE WHEN {{valid}} THEN 1 ELSE 0 END) AS INTEGER) AS valid,
       CAST(SUM(CASE WHEN {{valid}} THEN COALESCE(i.value_vnd, 0) ELSE 0 END) AS BIGINT) AS value_vnd
FROM {_INITIATIVE} i
WHERE i.program_id = %s AND {{submitted}}
GROUP BY i.unit_id, i.phase_id, i.field_id
"""

# The contexts of each unit's own initiatives: (phase, field), (phase, all), (all, field), (all, all),
# where 0 stands for "all"; each unit appears once per context, so summing `participating` up the
# tree counts distinct grassroots units. A grassroots unit's figures narrowed to a field are not
# stored (the dashboard counts them from the initiatives): they go straight into its parent's, so
# the 1.6 million rows they would be never reach a table.
_OWN_SQL = f"""
CREATE TEMP TABLE lb_up AS
SELECT o.unit_id, o.p, 0 AS f, o.submitted, o.valid, o.value_vnd,
       CASE WHEN u.level = %(grassroots)s THEN 1 ELSE 0 END AS participating, u.depth
FROM (
    SELECT unit_id, p, CAST(SUM(submitted) AS INTEGER) AS submitted, CAST(SUM(valid) AS INTEGER) AS valid,
           CAST(SUM(value_vnd) AS BIGINT) AS value_vnd
    FROM lb_leaf WHERE p > 0 GROUP BY unit_id, p
    UNION ALL
    SELECT unit_id, 0, CAST(SUM(submitted) AS INTEGER), CAST(SUM(valid) AS INTEGER), CAST(SUM(value_vnd) AS BIGINT)
    FROM lb_leaf GROUP BY unit_id
) o
JOIN {_UNION} u ON u.id = o.unit_id
UNION ALL
SELECT CASE WHEN u.level = %(grassroots)s THEN u.parent_id ELSE o.unit_id END, o.p, o.f,
       CAST(SUM(o.submitted) AS INTEGER), CAST(SUM(o.valid) AS INTEGER), CAST(SUM(o.value_vnd) AS BIGINT),
       CAST(SUM(CASE WHEN u.level = %(grassroots)s THEN 1 ELSE 0 END) AS INTEGER),
       CASE WHEN u.level = %(grassroots)s THEN u.depth - 1 ELSE u.depth END
FROM (
    SELECT unit_id, p, f, submitted, valid, value_vnd FROM lb_leaf WHERE p > 0 AND f > 0
    UNION ALL
    SELECT unit_id, 0, f, CAST(SUM(submitted) AS INTEGER), CAST(SUM(valid) AS INTEGER), CAST(SUM(value_vnd) AS BIGINT)
    FROM lb_leaf WHERE f > 0 GROUP BY unit_id, f
) o
JOIN {_UNION} u ON u.id = o.unit_id
GROUP BY 1, o.p, o.f, 8
"""

# The ranked rows, into the snapshot's table: {table} and {id_…} are the partition and ids made by
# _write_partition on PostgreSQL, the table itself and its own ids elsewhere.
_INSERT_ROWS_SQL = f"""
INSERT INTO {{table}} ({{id_column}}snapshot_id, unit_id, phase_key, field_key, level, cluster_id, submitted, valid,
                    value_vnd, participating, target, rank, cluster_rank)
SELECT {{id_value}}%s, r.unit_id, r.p, r.f, u.level, u.cluster_id,
       r.submitted, r.valid, r.value_vnd, r.participating, COALESCE(t.quantity, 0),
       RANK() OVER (PARTITION BY r.p, r.f, u.level ORDER BY r.submitted DESC),
       CASE WHEN u.cluster_id IS NOT NULL
            THEN RANK() OVER (PARTITION BY r.p, r.f, u.level, u.cluster_id ORDER BY r.submitted DESC) END
FROM (
    SELECT unit_id, p, f, CAST(SUM(submitted) AS INTEGER) AS submitted, CAST(SUM(valid) AS INTEGER) AS valid,
           CAST(SUM(value_vnd) AS BIGINT) AS value_vnd, CAST(SUM(participating) AS INTEGER) AS participating
    FROM lb_up GROUP BY unit_id, p, f
) r
JOIN {_UNION} u ON u.id = r.unit_id
LEFT JOIN {_TARGET} t ON t.unit_id = r.unit_id AND t.program_id = %s
"""


def counted_initiatives(snapshot: LeaderboardSnapshot, *, phase: Phase | None = None) -> QuerySet[Initiative]:
    """The initiatives a snapshot counts (the rule _LEAF_SQL applies), for the figures counted in
    the ORM: not drafts, submitted up to the snapshot's instant, in `phase` when one is given."""
    return counting.counted_initiatives(program_id=snapshot.program_id, as_of=snapshot.taken_at, phase=phase)


def snapshot_instant(now: dt.datetime | None = None, *, hourly: bool = False) -> dt.datetime:
    """The instant a snapshot is taken "as of": the minute (or, for the beat, the hour) it runs in,
    so a rerun or a retried task lands on the same instant and finds the snapshot already there."""
    now = now or timezone.now()
    now = now.replace(second=0, microsecond=0)
    return now.replace(minute=0) if hourly else now


class SnapshotOutOfOrder(ValueError):
    """A snapshot asked for an instant earlier than the programme's latest one: a programme's
    history only goes forward (each snapshot follows the one before it, docs/leaderboard-storage.md §1.5.6)."""

    def __init__(self, *, program: Program, at: dt.datetime, latest: LeaderboardSnapshot) -> None:
        self.program, self.at, self.latest = program, at, latest
        super().__init__(
            f"{program.slug}: the latest snapshot is as of {_local(latest.taken_at)}; "
            f"one as of the earlier {_local(at)} cannot follow it."
        )


def _local(instant: dt.datetime) -> str:
    return timezone.localtime(instant).strftime("%d/%m/%Y %H:%M")


# The advisory lock that serialises a programme's snapshots on PostgreSQL: (this space, programme id).
_LOCK_SPACE = "leaderboard.snapshot"


class _Busy(Exception):
    """Another snapshot of the programme holds its lock."""


def leaderboard_snapshot(*, program: Program, at: dt.datetime) -> tuple[LeaderboardSnapshot, bool]:
    """Take the snapshot of `program` as of `at`, or return the one already taken for that instant.

    Returns (snapshot, created). Idempotent: a second call for the same instant, even concurrent
    with the first, changes nothing. An instant earlier than the programme's latest snapshot raises
    SnapshotOutOfOrder. The new snapshot gets the next `seq` and the latest one as `previous`.

    On PostgreSQL a programme's snapshots run one at a time, under a transaction-level advisory lock
    taken by the transaction's first statement; the unique constraints on (program, taken_at) and
    (program, seq) settle whatever slips past it.
    """
    existing = LeaderboardSnapshot.objects.filter(program=program, taken_at=at).first()
    if existing is not None:
        return existing, False
    _refuse_out_of_order(program, at)  # at once, without waiting for a snapshot under way
    started = time.perf_counter()
    # On PostgreSQL, when the snapshot has its own transaction (the beat task, the command), the
    # weekly series is counted on a second connection while this one counts the rows: the two
    # scans of the initiatives run on both cores. Inside a caller's transaction (a test's), the
    # second connection could not see what it has not committed, so everything runs here.
    beside = connection.vendor == "postgresql" and connection.get_autocommit() and not connection.in_atomic_block
    while True:
        try:
            snapshot, created = _take(program, at, beside=beside)
            break
        except _Busy:
            # The transaction's view (REPEATABLE READ) began with its first statement, before the
            # other snapshot commits: start over once it has, in a new transaction that sees it.
            _wait_for_lock(program)
        except IntegrityError:
            # Another worker took the same instant first (the unique constraint waited for it), or,
            # in a race the lock leaves, a later instant.
            existing = LeaderboardSnapshot.objects.filter(program=program, taken_at=at).first()
            if existing is not None:
                return existing, False
            _refuse_out_of_order(program, at)
            raise
    if created:
        # The time taken includes the commit, where PostgreSQL flushes the rows to the log.
        snapshot.seconds = time.perf_counter() - started
        snapshot.save(update_fields=["seconds"])
    return snapshot, created


def _take(program: Program, at: dt.datetime, *, beside: bool) -> tuple[LeaderboardSnapshot, bool]:
    """leaderboard_snapshot's transaction: the lock, the checks that need it, then the snapshot."""
    with transaction.atomic(), ThreadPoolExecutor(max_workers=1) as helper:
        if beside:
            # Before any query: the second connection shares this transaction's view (_share_reading).
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        # Inside a caller's transaction the view moves on with each statement: wait for the lock there.
        if not _lock(program, wait=not beside):
            raise _Busy
        existing = LeaderboardSnapshot.objects.filter(program=program, taken_at=at).first()
        if existing is not None:
            return existing, False
        latest = _refuse_out_of_order(program, at)
        weeks = helper.submit(_weekly_counts_beside, program, at, _share_reading()) if beside else None
        snapshot = LeaderboardSnapshot.objects.create(
            program=program,
            taken_at=at,
            seq=latest.seq + 1 if latest else 1,
            previous=latest,
            mode=LeaderboardSnapshot.Mode.FULL,
        )
        snapshot.row_count = _write_rows(snapshot)
        _write_weeks(snapshot, weeks.result() if weeks else _weekly_counts(program, at))
        snapshot.save(update_fields=["row_count"])
    return snapshot, True


def _refuse_out_of_order(program: Program, at: dt.datetime) -> LeaderboardSnapshot | None:
    """The programme's latest snapshot (None when it has none); SnapshotOutOfOrder when it is later than `at`."""
    latest = LeaderboardSnapshot.objects.filter(program=program).order_by("-seq").first()
    if latest is not None and latest.taken_at > at:
        raise SnapshotOutOfOrder(program=program, at=at, latest=latest)
    return latest


def _lock(program: Program, *, wait: bool) -> bool:
    """Take the programme's snapshot lock until the end of the transaction (PostgreSQL only):
    waiting for it, or, with wait=False, only if it is free. Returns whether it is held."""
    if connection.vendor != "postgresql":
        return True  # SQLite (the demo) writes one transaction at a time anyway
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(hashtext(%s), CAST(%s AS integer))", [_LOCK_SPACE, program.pk])
        got = cursor.fetchone()[0]
    return got is not False  # pg_advisory_xact_lock returns nothing (NULL), once it has the lock


def _wait_for_lock(program: Program) -> None:
    """Wait until the snapshot holding the programme's lock ends (in a transaction of its own,
    which takes the lock and lets it go at once)."""
    with transaction.atomic():
        _lock(program, wait=True)


def _share_reading() -> str:
    """The name of this transaction's view of the database (REPEATABLE READ, set by _take), so
    that a second connection reads the very same state (PostgreSQL's exported snapshots): the rows
    and the weekly series then count exactly the same initiatives."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_export_snapshot()")
        return cursor.fetchone()[0]


def _write_rows(snapshot: LeaderboardSnapshot) -> int:
    valid, valid_params = counting.valid_sql(alias="i")
    submitted, submitted_params = counting.submitted_sql(alias="i", by=snapshot.taken_at)
    leaf_params = [*valid_params, *valid_params, snapshot.program_id, *submitted_params]
    with connection.cursor() as cursor:
        for table in _TEMP_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        if connection.vendor == "postgresql":
            # The hashes and sorts below hold a few hundred MB; with the default 4 MB they spill to disk.
            cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(_LEAF_SQL.format(valid=valid, submitted=submitted), leaf_params)
        cursor.execute(_OWN_SQL, {"grassroots": Union.Level.GRASSROOTS})
        cursor.execute(f"SELECT MAX(depth) FROM {_UNION}")
        deepest = cursor.fetchone()[0] or 1
        # One level up at a time: the units at a depth add their (already rolled-up) figures to their parents.
        sums = ["submitted", "valid", "value_vnd", "participating"]
        counting.roll_up(cursor, table="lb_up", keys=["p", "f"], sums=sums, deepest=deepest, top=1)
        if connection.vendor == "postgresql":
            row_count = _write_partition(cursor, snapshot)
        else:
            cursor.execute(
                _INSERT_ROWS_SQL.format(table=_ROW, id_column="", id_value=""), [snapshot.pk, snapshot.program_id]
            )
            row_count = cursor.rowcount
        for table in _TEMP_TABLES:
            cursor.execute(f"DROP TABLE {table}")
    return row_count


def partition_name(snapshot_id: int) -> str:
    """The table holding a snapshot's rows on PostgreSQL (migration 0016 partitions the rows)."""
    return f"{_ROW}_s{int(snapshot_id)}"


def _write_partition(cursor: Any, snapshot: LeaderboardSnapshot) -> int:
    """Write the snapshot's rows into a table of their own, index it, attach it as the snapshot's
    partition: building the indexes once the rows are in costs a third of keeping them up to date
    row by row. Attaching takes a lock that lets the dashboard go on reading."""
    part = partition_name(snapshot.pk)
    cursor.execute(f"DROP TABLE IF EXISTS {part}")  # left over by a test database's flush
    cursor.execute(f"CREATE TABLE {part} (LIKE {_ROW} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    # Ids unique across snapshots without a sequence (nextval() per row cost 2.5 s): the snapshot's
    # id in the high 32 bits, the row's number in the low ones.
    ids = f"{int(snapshot.pk)} * 4294967296 + ROW_NUMBER() OVER (), "
    cursor.execute(
        _INSERT_ROWS_SQL.format(table=part, id_column="id, ", id_value=ids), [snapshot.pk, snapshot.program_id]
    )
    row_count = cursor.rowcount
    # The same primary key and indexes as the partitioned table's, so attaching adopts them.
    cursor.execute(f"ALTER TABLE {part} ADD PRIMARY KEY (id, snapshot_id)")
    for index in LeaderboardRow._meta.indexes:
        # An index names concrete fields, each with its column (the stubs allow a relation, or None).
        columns = ", ".join(LeaderboardRow._meta.get_field(name).column for name in index.fields)  # type: ignore[union-attr, misc]
        cursor.execute(f"CREATE INDEX ON {part} ({columns})")
    # With this constraint in place, attaching does not scan the rows to check them.
    cursor.execute(f"ALTER TABLE {part} ADD CHECK (snapshot_id = {int(snapshot.pk)})")
    cursor.execute(f"ALTER TABLE {_ROW} ATTACH PARTITION {part} FOR VALUES IN ({int(snapshot.pk)})")
    # Fresh statistics, or the planner may not trust the indexes until autovacuum gets round to them.
    cursor.execute(f"ANALYZE {part}")
    return row_count


# Units at these depths (the Confederation and the tier-2 units) get their weekly series stored;
# below them a subtree's initiatives are few enough to count on the page.
WEEKLY_MAX_DEPTH = 2

# How long the second connection waits for a table lock (seconds) before the snapshot gives up.
WEEKLY_LOCK_TIMEOUT = 10

WeekCount = tuple[int, dt.date, int | None, int]  # unit, Monday, field (None: none set), submitted


def _weekly_counts(program: Program, at: dt.datetime) -> list[WeekCount]:
    """Each tier-2 unit's submissions per week and field, and the whole tree's (their sum, with
    the initiatives of the root itself): one scan of the initiatives, two hops up the tree."""
    tier2 = Case(
        When(unit__depth=2, then=F("unit_id")),
        When(unit__depth=3, then=F("unit__parent_id")),
        When(unit__depth=4, then=F("unit__parent__parent_id")),
        output_field=IntegerField(),
    )
    zone = timezone.get_default_timezone()  # the portal's weeks, whoever asks and in whichever thread
    counts = (
        counted_initiatives(LeaderboardSnapshot(program=program, taken_at=at))
        .annotate(week=TruncWeek("submitted_at", tzinfo=zone), tier2=tier2)
        .values("week", "field_id", "tier2")
        .annotate(n=Count("pk"))
        .values_list("tier2", "week", "field_id", "n")
        .order_by()
    )
    weeks: list[WeekCount] = []
    whole_tree: Counter[tuple[dt.date, int | None]] = Counter()
    for unit, week, field, n in counts:
        monday = week.astimezone(zone).date()
        whole_tree[monday, field] += n
        if unit is not None:
            weeks.append((unit, monday, field, n))
    root = Union.objects.filter(depth=1).values_list("pk", flat=True).first()
    if root is not None:
        weeks += [(root, monday, field, n) for (monday, field), n in whole_tree.items()]
    return weeks


def _weekly_counts_beside(program: Program, at: dt.datetime, reading: str) -> list[WeekCount]:
    """_weekly_counts in a thread of its own, on its own connection, reading the state of the
    database that the snapshot's transaction shared as `reading`.

    The snapshot's transaction holds its locks while it waits for this thread, which PostgreSQL
    cannot see: if a migration's exclusive lock queued between the two, each would wait for the
    other. The lock timeout turns that into an error (the snapshot fails, the next one is taken)."""
    if not re.fullmatch(r"[0-9A-F]+-[0-9A-F]+-[0-9]+", reading):
        raise ValueError(f"not a PostgreSQL snapshot name: {reading!r}")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute(f"SET TRANSACTION SNAPSHOT '{reading}'")
            cursor.execute(f"SET LOCAL lock_timeout = '{int(WEEKLY_LOCK_TIMEOUT * 1000)}ms'")
            return _weekly_counts(program, at)
    finally:
        connection.close()


def _write_weeks(snapshot: LeaderboardSnapshot, weeks: list[WeekCount]) -> None:
    columns = f"INSERT INTO {_WEEK} (snapshot_id, unit_id, week, field_id, submitted)"
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.executemany(f"{columns} VALUES (%s, %s, %s, %s, %s)", [(snapshot.pk, *week) for week in weeks])
            return
        # One statement for the 66,000 rows of the national series: each column as one array,
        # written out as text (psycopg2 quotes a list's items one by one, at twice the cost).
        arrays = [
            "{" + ",".join("NULL" if v is None else str(v) for v in column) + "}" for column in zip(*weeks, strict=True)
        ]
        if arrays:
            cursor.execute(
                f"{columns} SELECT %s, * FROM unnest(%s::bigint[], %s::date[], %s::bigint[], %s::integer[])",
                [snapshot.pk, *arrays],
            )


def leaderboard_prune(*, program: Program, now: dt.datetime | None = None) -> int:
    """Keep every snapshot of the last LEADERBOARD_KEEP_ALL_DAYS days and, before that, the first
    of each day (the midnight one): hourly snapshots are ~96 MB each at national scale."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.LEADERBOARD_KEEP_ALL_DAYS)
    kept_days: set[dt.date] = set()
    doomed: list[int] = []
    old = LeaderboardSnapshot.objects.filter(program=program, taken_at__lt=cutoff).order_by("taken_at")
    for pk, taken_at in old.values_list("pk", "taken_at"):
        day = timezone.localtime(taken_at).date()
        if day in kept_days:
            doomed.append(pk)
        else:
            kept_days.add(day)
    for snapshot in LeaderboardSnapshot.objects.filter(pk__in=doomed):
        # One short transaction each: dropping a partition locks the rows table against the
        # dashboard's reads until the transaction ends.
        with transaction.atomic():
            snapshot.delete()  # drop_partition goes first
    return len(doomed)


@receiver(pre_delete, sender=LeaderboardSnapshot)
def drop_partition(sender: type, instance: LeaderboardSnapshot, **kwargs: Any) -> None:
    """A deleted snapshot's rows go with their partition, at once, before Django's cascade would
    delete them one by one (it then finds none)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {partition_name(instance.pk)}")
