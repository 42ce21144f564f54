"""What a leaderboard snapshot costs in storage, and how much of it an ordinary hour changes
(issue 18: step 1 of docs/leaderboard-storage.md's plan measured the full copies, step 10 the
history). Used by bench/leaderboard.py on PostgreSQL; kept apart from it (and from its set-up of
Django and of a copy of the database) so the tests can import it.

- `current_bytes`: the current rows (one table for the hot window's snapshots, whatever their
  number) and one snapshot's block scales: what the pages read, kept for the latest few snapshots.
- `snapshot_bytes`: a snapshot's ranked rows (its partition, table and indexes) and its share of the
  weekly table, as `materialize` rebuilds them for the evidence pages: a full copy, which every
  snapshot wrote before the current rows.
- `history_bytes` / `versions_written`: the history's tables (versions, mirror, rank scales), and
  the versions one snapshot wrote into them with the bytes they add.
- `retained_bytes`: the storage the old retention policy kept after a year of full copies.
- `projected_year`: the storage the history keeps after a year, from one ordinary hour's versions.
- `ordinary_hour`: an hour of activity written straight into the initiatives' counting columns
  (new submissions over random grassroots units, reviews of submitted ones), marked for the next
  snapshot as the services mark their writes. It is not undone: the bench runs on a copy.
- `changed_rows`: the rows of a snapshot whose figures or ranks differ from another's, per level
  block and kind of context.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from initiatives import counting

ROW = "initiatives_leaderboardrow"
WEEK = "initiatives_leaderboardweek"
INITIATIVE = "initiatives_initiative"
UNION = "unions_union"
# The history (docs/leaderboard-storage.md §2.2): the versioned tables, whose rows a snapshot writes
# from its seq on (first_seq), and the rank scales, written per snapshot.
FIGURE = "leaderboard_leaderboardfigure"
WEEK_FIGURE = "leaderboard_leaderboardweekfigure"
UNIT_VERSION = "leaderboard_leaderboardunitversion"
COUNTED = "leaderboard_leaderboardcounted"
SCALE = "leaderboard_leaderboardscale"
CURRENT = "leaderboard_leaderboardcurrent"
BLOCK_SCALE = "leaderboard_leaderboardblockscale"
VERSIONED = (FIGURE, WEEK_FIGURE, UNIT_VERSION, COUNTED)
HISTORY = (*VERSIONED, SCALE)
HOURS_A_DAY = 24
DAYS_A_YEAR = 365


class SnapshotBytes(NamedTuple):
    rows: int
    table: int  # the partition's table (heap, free-space and visibility maps)
    indexes: int  # the partition's primary key and two indexes
    week_rows: int
    week_table: int  # the snapshot's rows of the weekly table, with its indexes, as a table of their own
    week_indexes: int

    @property
    def total(self) -> int:
        return self.table + self.indexes + self.week_table + self.week_indexes


def snapshot_bytes(cursor: Any, snapshot_id: int) -> SnapshotBytes:
    """The bytes one snapshot takes: its partition of the rows (pg_table_size, pg_indexes_size),
    and its rows of the (unpartitioned) weekly table, copied into a fresh table with the same
    indexes and measured there: the weekly table's own size also counts the dead rows of the
    snapshots deleted since its last vacuum."""
    part = f"{ROW}_s{int(snapshot_id)}"
    cursor.execute(f"SELECT COUNT(*), pg_table_size('{part}'), pg_indexes_size('{part}') FROM {part}")
    rows, table, indexes = cursor.fetchone()
    cursor.execute("DROP TABLE IF EXISTS bench_week_size")
    cursor.execute(f"CREATE TEMP TABLE bench_week_size (LIKE {WEEK} INCLUDING ALL)")
    cursor.execute(f"INSERT INTO bench_week_size SELECT * FROM {WEEK} WHERE snapshot_id = %s", [snapshot_id])
    week_rows = cursor.rowcount
    cursor.execute("SELECT pg_table_size('bench_week_size'), pg_indexes_size('bench_week_size')")
    week_table, week_indexes = cursor.fetchone()
    cursor.execute("DROP TABLE bench_week_size")
    return SnapshotBytes(rows, table, indexes, week_rows, week_table, week_indexes)


class CurrentBytes(NamedTuple):
    rows: int  # the current rows (the versions the hot snapshots see)
    table: int
    indexes: int
    scale_rows: int  # one snapshot's block scales
    scale: int  # their bytes, at the table's bytes a row

    def hot(self, snapshots: int) -> int:
        """The hot window's bytes: the current rows and `snapshots` snapshots' block scales."""
        return self.table + self.indexes + snapshots * self.scale


def current_bytes(cursor: Any, snapshot_id: int) -> CurrentBytes:
    """The current rows' table (heap and indexes: pg_table_size, pg_indexes_size) and the block scales
    of one snapshot (its rows × the scales table's bytes a row)."""
    cursor.execute(f"SELECT COUNT(*), pg_table_size('{CURRENT}'), pg_indexes_size('{CURRENT}') FROM {CURRENT}")
    rows, table, indexes = cursor.fetchone()
    cursor.execute(
        f"SELECT COUNT(*) FILTER (WHERE snapshot_id = %s), COUNT(*), pg_total_relation_size('{BLOCK_SCALE}') "
        f"FROM {BLOCK_SCALE}",
        [snapshot_id],
    )
    scale_rows, all_rows, scale_total = cursor.fetchone()
    return CurrentBytes(rows, table, indexes, scale_rows, round(scale_rows * scale_total / all_rows) if all_rows else 0)


class Retention(NamedTuple):
    window: int  # snapshots kept whole: every hourly one of the last `keep_all_days` days
    dailies: int  # the first of each older day, after a year
    bytes_window: int
    bytes_after_a_year: int  # (24·K + 365 − K) × S
    bytes_per_further_year: int  # 365 × S


def retained_bytes(snapshot: int, *, keep_all_days: int) -> Retention:
    """Storage kept by `leaderboard_prune` after a year of hourly snapshots of `snapshot` bytes
    each when every snapshot kept its full copy (before the history, issue 18: the "before" of the
    bench): every snapshot of the last K = `keep_all_days` days (24·K), then the first of each older
    day (365 − K in the first year, 365 more each year after)."""
    window = HOURS_A_DAY * keep_all_days
    dailies = DAYS_A_YEAR - keep_all_days
    return Retention(window, dailies, window * snapshot, (window + dailies) * snapshot, DAYS_A_YEAR * snapshot)


class TableBytes(NamedTuple):
    table: str
    rows: int  # live rows
    heap: int  # pg_table_size: the rows (the dead ones too, until a vacuum frees their space), maps and TOAST
    indexes: int  # pg_indexes_size

    @property
    def total(self) -> int:  # pg_total_relation_size
        return self.heap + self.indexes

    @property
    def per_row(self) -> float:
        return self.total / self.rows if self.rows else 0.0


def history_bytes(cursor: Any) -> list[TableBytes]:
    """Rows and bytes of each of the history's tables, indexes included."""
    sizes = []
    for table in HISTORY:
        cursor.execute(f"SELECT COUNT(*), pg_table_size('{table}'), pg_indexes_size('{table}') FROM {table}")
        sizes.append(TableBytes(table, *cursor.fetchone()))
    return sizes


class Versions(NamedTuple):
    table: str
    rows: int  # versions the snapshot wrote (first_seq = its seq); its own rows of the rank scales
    bytes: int  # rows × the table's bytes a row, heap and indexes
    grown: int  # the table's growth across the snapshot (pg_total_relation_size after − before)


def versions_written(
    cursor: Any, *, program_id: int, seq: int, snapshot_id: int, clean: list[TableBytes], before: list[TableBytes]
) -> list[Versions]:
    """The rows one snapshot added to the history and what they weigh: counted (first_seq = its seq,
    or its snapshot_id in the scales), each at its table's bytes a row (heap and indexes) in `clean`,
    sizes taken with no dead rows in the tables (closing a version leaves a dead copy of the row
    until a vacuum lets later writes reuse its space); `grown` is what the table grew since `before`,
    dead copies and half-full index pages included."""
    clean_per_row = {size.table: size.per_row for size in clean}
    before_total = {size.table: size.total for size in before}
    written = []
    for size in history_bytes(cursor):
        if size.table == SCALE:
            cursor.execute(f"SELECT COUNT(*) FROM {SCALE} WHERE snapshot_id = %s", [snapshot_id])
            per_row = size.per_row  # written once, never updated: no dead rows
        else:
            cursor.execute(
                f"SELECT COUNT(*) FROM {size.table} WHERE program_id = %s AND first_seq = %s", [program_id, seq]
            )
            per_row = clean_per_row.get(size.table) or size.per_row
        rows = cursor.fetchone()[0]
        written.append(Versions(size.table, rows, round(rows * per_row), size.total - before_total.get(size.table, 0)))
    return written


def context_versions(cursor: Any, *, program_id: int, seq: int) -> int:
    """The figure versions a snapshot wrote (the contexts of the ranked rows): the keys whose figures
    are new, gone or different, which the design's day estimate counts."""
    cursor.execute(f"SELECT COUNT(*) FROM {FIGURE} WHERE program_id = %s AND first_seq = %s", [program_id, seq])
    return int(cursor.fetchone()[0])


# An average day at the national data set's pace (docs/leaderboard-storage.md §2.1, est.): 4,100
# submissions and ~3,400 reviews, touching ~31,000 (unit, context) keys. A daily snapshot keeps one
# version of each key changed since the day before (the hourly ones in between are pruned).
DAY_KEYS = 31_000
DAY_CHANGES = 4_100 + 3_400


class Year(NamedTuple):
    hot: int  # the hot window: the current rows and the latest snapshots' block scales (constant)
    base: int  # the first full snapshot's history: a version of every key and unit, the whole mirror
    daily: int  # the versions an average day leaves to its daily snapshot
    dailies: int  # DAYS_A_YEAR × daily
    window: int  # bound on the versions the hourly snapshots of the last K days add (constant)

    @property
    def total(self) -> int:
        return self.hot + self.base + self.dailies


def projected_year(
    *,
    hot: int,
    base: int,
    hour_keys: int,
    hour_mirror: int,
    scale: int,
    key_factor: float,
    change_factor: float,
    keep_all_days: int = 7,
) -> Year:
    """The history's storage after a year of hourly snapshots under the retention policy: the hot
    window (`hot` bytes), the first full snapshot's history (`base`), then one daily snapshot a day,
    each keeping the versions its day wrote. A day's versions come from an hour's: the versions of
    keys (`hour_keys` bytes: figures, weeks, units) grow like the keys changed (`key_factor` = a
    day's keys / the hour's), the mirror's (`hour_mirror`) like the initiatives changed
    (`change_factor`), and each daily keeps its rank scale (`scale`). `window` bounds what the
    hourly snapshots of the last `keep_all_days` days add, as if every hour were that hour."""
    daily = round(hour_keys * key_factor + hour_mirror * change_factor + scale)
    window = HOURS_A_DAY * keep_all_days * (hour_keys + hour_mirror + scale)
    return Year(hot, base, daily, DAYS_A_YEAR * daily, window)


@dataclass
class Hour:
    """What `ordinary_hour` wrote."""

    created: list[int] = field(default_factory=list)  # the new initiatives' ids
    reviewed: list[tuple[int, str]] = field(default_factory=list)  # (id, status before)


# The board's verdicts in an ordinary hour, with their weights (about the data set's own mix).
VERDICTS = (("valid", 6), ("returned", 2), ("rejected", 2))


def ordinary_hour(
    cursor: Any,
    hour: Hour,
    *,
    program_id: int,
    phase_id: int | None,
    field_ids: list[int],
    after: dt.datetime,
    new: int,
    reviews: int,
    seed: int = 18,
) -> Hour:
    """Write an hour of activity in the counting columns only (status, submitted_at, unit, phase,
    field, value), as `initiative_submit` and `initiative_review` leave them, without authors or
    status changes: `new` initiatives submitted in the hour after `after` by grassroots units
    drawn at random, and `reviews` initiatives submitted before `after` given a verdict. Like the
    services, it marks every initiative it wrote (`counting.mark`, on Django's connection, which
    `cursor` must belong to: in the caller's transaction): an incremental snapshot counts again only
    marked initiatives. Fills `hour` as it goes."""
    rng = random.Random(seed)
    cursor.execute(f"SELECT id FROM {UNION} WHERE level = 'grassroots' ORDER BY id")
    grassroots = [unit for (unit,) in cursor.fetchall()]
    units = rng.choices(grassroots, k=new)
    fields = [rng.choice(field_ids) if field_ids and rng.random() < 0.9 else None for _ in range(new)]
    values = [rng.randrange(1, 500) * 1_000_000 if rng.random() < 0.5 else None for _ in range(new)]
    instants = sorted(after + dt.timedelta(seconds=rng.randrange(1, 3601)) for _ in range(new))
    cursor.execute(
        f"""INSERT INTO {INITIATIVE} (program_id, phase_id, unit_id, field_id, value_vnd, status, submitted_at,
                title, kind, summary, description, scope, effectiveness, is_confidential, recognition_number,
                recognition_level, search_text, created_at, updated_at)
            SELECT %s, %s, u, f, v, 'submitted', s, 'bench ordinary hour ' || n, '', '', '', '', '', false, '', '',
                   'bench ordinary hour ' || n, s, s
            FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::timestamptz[]) WITH ORDINALITY AS x(u, f, v, s, n)
            RETURNING id""",
        [program_id, phase_id, units, fields, values, instants],
    )
    created = [pk for (pk,) in cursor.fetchall()]
    hour.created += created
    cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
    cursor.execute(
        f"SELECT id, status FROM {INITIATIVE} WHERE program_id = %s AND status = 'submitted' AND submitted_at <= %s "
        "ORDER BY random() LIMIT %s",
        [program_id, after, reviews],
    )
    picked = cursor.fetchall()
    names, weights = zip(*VERDICTS, strict=True)
    verdicts = rng.choices(names, weights=weights, k=len(picked))
    hour.reviewed += picked
    cursor.execute(
        f"UPDATE {INITIATIVE} i SET status = x.status FROM unnest(%s::bigint[], %s::varchar[]) AS x(id, status) "
        "WHERE i.id = x.id",
        [[pk for pk, _ in picked], verdicts],
    )
    counting.mark([*created, *(pk for pk, _ in picked)])
    return hour


class Changed(NamedTuple):
    level: str
    context: str  # programme or phase × all fields or a field
    rows: int  # in the later snapshot
    new: int  # rows only in the later snapshot
    gone: int  # rows only in the earlier one
    figures: int  # in both, submitted/valid/value/participating differ
    ranks: int  # in both, rank or cluster rank differ
    any: int  # new, gone, or in both with any figure, rank, level, cluster or target different


_CONTEXT = (
    "CASE WHEN COALESCE(n.phase_key, o.phase_key) = 0 THEN 'programme' ELSE 'phase' END || ' × ' || "
    "CASE WHEN COALESCE(n.field_key, o.field_key) = 0 THEN 'all fields' ELSE 'a field' END"
)
_DEPTH = (
    "CASE COALESCE(n.level, o.level) WHEN 'confederation' THEN 1 WHEN 'tier2' THEN 2 WHEN 'superior' THEN 3 ELSE 4 END"
)


def changed_rows(cursor: Any, earlier_id: int, later_id: int) -> list[Changed]:
    """Compare two snapshots' rows key by key (unit, phase, field), per level and kind of context."""
    figures = "(o.submitted, o.valid, o.value_vnd, o.participating) IS DISTINCT FROM (n.submitted, n.valid, n.value_vnd, n.participating)"  # noqa: E501
    ranks = "(o.rank, o.cluster_rank) IS DISTINCT FROM (n.rank, n.cluster_rank)"
    other = "(o.level, o.cluster_id, o.target) IS DISTINCT FROM (n.level, n.cluster_id, n.target)"
    cursor.execute(
        f"""SELECT COALESCE(n.level, o.level), {_CONTEXT}, COUNT(n.id), COUNT(*) FILTER (WHERE o.id IS NULL),
                   COUNT(*) FILTER (WHERE n.id IS NULL),
                   COUNT(*) FILTER (WHERE o.id IS NOT NULL AND n.id IS NOT NULL AND {figures}),
                   COUNT(*) FILTER (WHERE o.id IS NOT NULL AND n.id IS NOT NULL AND {ranks}),
                   COUNT(*) FILTER (WHERE o.id IS NULL OR n.id IS NULL OR {figures} OR {ranks} OR {other})
            FROM {ROW}_s{int(earlier_id)} o
            FULL JOIN {ROW}_s{int(later_id)} n
              ON n.unit_id = o.unit_id AND n.phase_key = o.phase_key AND n.field_key = o.field_key
            GROUP BY 1, 2, {_DEPTH} ORDER BY {_DEPTH}, 2 DESC"""
    )
    return [Changed(*row) for row in cursor.fetchall()]
