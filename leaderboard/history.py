"""The leaderboard's history: what every snapshot counted, kept as versions (docs/leaderboard-storage.md §2).

A snapshot no longer keeps a ranked copy of every unit's figures for ever. It writes *versions*: a
key (a unit's figures in one context, a week's count, a unit as it was, an initiative as counted)
gets a new version only when its values change, and each version is seen by the snapshots whose
seq lies in [first_seq, last_seq]. The latest few snapshots (the hot window) are read by the pages
from the current rows (LeaderboardCurrent: the same versions, with each unit's level, cluster and
target) ranked by their block scales; any other kept snapshot is given ranked rows again, rebuilt
from the versions (`materialize`).

Two ways to reach the same versions:
- **full**: every counted initiative is read and everything is counted again (`write_full`), then
  compared with the open versions; what differs is closed and written anew;
- **incremental**: only the units touched since the previous snapshot are counted again. They are
  the units of the initiatives marked by the writers (initiatives.counting.mark), before and after
  the change, and the subtrees of the units that moved or changed level. Their figures as the
  previous snapshot counted them (from the mirror of counted initiatives, along the tree as it was)
  are taken away from every ancestor, and their figures now (from the initiatives, along the tree
  as it is) added, which is exactly what a full recount would change. Participation too: it is
  counted per grassroots unit on both sides.

A full recount checks an incremental one: `verify` runs both in the same transaction and repairs
the versions where they differ (and says where, with the initiatives behind the difference).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings
from django.db import connection
from django.utils import timezone

from initiatives import counting
from initiatives.models import CountMark, Initiative, Program, Target
from leaderboard.models import (
    OPEN,
    LeaderboardBlockScale,
    LeaderboardCounted,
    LeaderboardCurrent,
    LeaderboardFigure,
    LeaderboardScale,
    LeaderboardSnapshot,
    LeaderboardUnitVersion,
    LeaderboardWeekFigure,
)
from unions.levels import LEVEL_RANK
from unions.models import Union

_INITIATIVE = Initiative._meta.db_table
_UNION = Union._meta.db_table
_TARGET = Target._meta.db_table
_MARK = CountMark._meta.db_table
_FIGURE = LeaderboardFigure._meta.db_table
_WEEK_FIGURE = LeaderboardWeekFigure._meta.db_table
_UNIT_VERSION = LeaderboardUnitVersion._meta.db_table
_COUNTED = LeaderboardCounted._meta.db_table
_SCALE = LeaderboardScale._meta.db_table
_CURRENT = LeaderboardCurrent._meta.db_table
_BLOCK_SCALE = LeaderboardBlockScale._meta.db_table

_SUMS = ("submitted", "valid", "value_vnd", "participating")

# Each versioned table: its key columns and its value columns.
_FIGURE_KEYS = ("unit_id", "phase_key", "field_key")
_WEEK_KEYS = ("unit_id", "week", "field_key")
_UNIT_KEYS = ("unit_id",)
_UNIT_VALUES = ("code", "name", "short_name", "parent_id", "level", "cluster_id", "depth", "target")
_COUNTED_KEYS = ("initiative_id",)
_COUNTED_VALUES = ("unit_id", "phase_key", "field_key", "week", "quarter_key", "valid", "value_vnd")


@dataclass
class Written:
    """What one snapshot wrote into the history."""

    mode: str = LeaderboardSnapshot.Mode.FULL
    changes: int = 0  # initiatives re-counted (marks consumed)
    versions: int = 0  # versions written
    differences: int = 0  # verify: keys where the incremental count was wrong, repaired
    notes: dict[str, Any] = field(default_factory=dict)


def temp_table(cursor: Any, name: str, select: str, params: Any = (), *, analyze: bool = False) -> None:
    """A temporary table from a SELECT. `analyze` gives it statistics, for the tables that lead a
    join into the history: PostgreSQL never analyses temporary tables by itself, and a planner that
    thinks a 10-row table holds thousands picks hash joins over the whole history instead of index
    lookups (an ANALYZE costs 10-40 ms, so not for every table)."""
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(f"CREATE TEMP TABLE {name} AS {select}", params)
    if analyze and connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {name}")


def _drop(cursor: Any, *names: str) -> None:
    for name in names:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")


def _as_date(sql: str) -> str:
    return f"CAST(({sql}) AS DATE)" if connection.vendor == "postgresql" else f"date({sql})"


def counted_sql(*, program_id: int, at: dt.datetime, only_initiatives: str = "") -> tuple[str, list[Any]]:
    """SELECT of the programme's initiatives counted as of `at` (the rule of initiatives.counting),
    one row each, as the mirror keeps them: (initiative_id, unit_id, phase_key, field_key, week,
    quarter_key, valid, value_vnd), with 0 for no phase or field, the week's Monday and the quarter
    (YYYYQ) in the portal's time zone, and the value only when valid. `only_initiatives` names a
    table (initiative_id) to narrow it to."""
    zone = timezone.get_default_timezone_name()
    ops = connection.ops
    # (the stubs still describe the older datetime_trunc_sql, which returned the SQL alone)
    week, week_params = cast(tuple[str, tuple[Any, ...]], ops.datetime_trunc_sql("week", "i.submitted_at", (), zone))
    year, year_params = ops.datetime_extract_sql("year", "i.submitted_at", (), zone)
    quarter, quarter_params = ops.datetime_extract_sql("quarter", "i.submitted_at", (), zone)
    valid, valid_params = counting.valid_sql(alias="i")
    submitted, submitted_params = counting.submitted_sql(alias="i", by=at)
    narrow = f" AND i.id IN (SELECT initiative_id FROM {only_initiatives})" if only_initiatives else ""
    sql = f"""
        SELECT i.id AS initiative_id, i.unit_id, COALESCE(i.phase_id, 0) AS phase_key,
               COALESCE(i.field_id, 0) AS field_key, {_as_date(week)} AS week,
               CAST(({year}) * 10 + ({quarter}) AS INTEGER) AS quarter_key,
               CASE WHEN {valid} THEN 1 ELSE 0 END AS valid,
               CAST(CASE WHEN {valid} THEN COALESCE(i.value_vnd, 0) ELSE 0 END AS BIGINT) AS value_vnd
        FROM {_INITIATIVE} i
        WHERE i.program_id = %s AND {submitted}{narrow}
    """
    params = [
        *week_params,
        *year_params,
        *quarter_params,
        *valid_params,
        *valid_params,
        program_id,
        *submitted_params,
    ]
    return sql, params


# A unit's own contexts from its counted initiatives (docs/leaderboard-storage.md §1.1): (phase, all)
# and (all, all) at the unit; (phase, field) and (all, field) at the unit, or,
# for a grassroots unit, at its parent (grassroots figures narrowed to a field are not stored). Each
# unit appears once per context, so `participating` (1 for a grassroots unit) sums up the tree to
# the number of grassroots units with a submission. Sums are cast back to their column's type
# (PostgreSQL sums INTEGERs into BIGINTs and BIGINTs into NUMERICs, which are slower to add up).
_OWN_SQL = """
SELECT o.unit_id, o.p, 0 AS f, o.submitted, o.valid, o.value_vnd,
       CASE WHEN u.level = %(grassroots)s THEN 1 ELSE 0 END AS participating, u.depth
FROM (
    SELECT unit_id, p, CAST(SUM(submitted) AS INTEGER) AS submitted, CAST(SUM(valid) AS INTEGER) AS valid,
           CAST(SUM(value_vnd) AS BIGINT) AS value_vnd
    FROM {leaf} WHERE p > 0 GROUP BY unit_id, p
    UNION ALL
    SELECT unit_id, 0, CAST(SUM(submitted) AS INTEGER), CAST(SUM(valid) AS INTEGER), CAST(SUM(value_vnd) AS BIGINT)
    FROM {leaf} GROUP BY unit_id
) o
JOIN {tree} u ON u.id = o.unit_id
UNION ALL
SELECT CASE WHEN u.level = %(grassroots)s THEN u.parent_id ELSE o.unit_id END, o.p, o.f,
       CAST(SUM(o.submitted) AS INTEGER), CAST(SUM(o.valid) AS INTEGER), CAST(SUM(o.value_vnd) AS BIGINT),
       CAST(SUM(CASE WHEN u.level = %(grassroots)s THEN 1 ELSE 0 END) AS INTEGER),
       CASE WHEN u.level = %(grassroots)s THEN u.depth - 1 ELSE u.depth END
FROM (
    SELECT unit_id, p, f, submitted, valid, value_vnd FROM {leaf} WHERE p > 0 AND f > 0
    UNION ALL
    SELECT unit_id, 0, f, CAST(SUM(submitted) AS INTEGER), CAST(SUM(valid) AS INTEGER), CAST(SUM(value_vnd) AS BIGINT)
    FROM {leaf} WHERE f > 0 GROUP BY unit_id, f
) o
JOIN {tree} u ON u.id = o.unit_id
WHERE u.level <> %(grassroots)s OR u.parent_id IS NOT NULL
GROUP BY 1, o.p, o.f, 8
"""


def _figures(cursor: Any, *, counted: str, tree: str, out: str, deepest: int) -> None:
    """`out` (unit_id, p, f, submitted, valid, value_vnd, participating): the figures of every unit
    above the `counted` rows (a table shaped like counted_sql's), over its subtree, along `tree`
    (id, parent_id, depth, level)."""
    money = "CAST(SUM(CASE WHEN valid = 1 THEN value_vnd ELSE 0 END) AS BIGINT)"
    leaf, up = f"{out}_leaf", f"{out}_up"
    temp_table(
        cursor,
        leaf,
        f"SELECT unit_id, phase_key AS p, field_key AS f, CAST(COUNT(*) AS INTEGER) AS submitted, "
        f"CAST(SUM(valid) AS INTEGER) AS valid, {money} AS value_vnd "
        f"FROM {counted} GROUP BY unit_id, phase_key, field_key",
        analyze=True,
    )
    temp_table(
        cursor,
        up,
        _OWN_SQL.format(leaf=leaf, tree=tree),
        {"grassroots": Union.Level.GRASSROOTS},
    )
    counting.roll_up(cursor, table=up, keys=["p", "f"], sums=list(_SUMS), deepest=deepest, top=1, tree=tree)
    temp_table(
        cursor,
        out,
        f"SELECT unit_id, p, f, CAST(SUM(submitted) AS INTEGER) AS submitted, CAST(SUM(valid) AS INTEGER) AS valid, "
        f"CAST(SUM(value_vnd) AS BIGINT) AS value_vnd, CAST(SUM(participating) AS INTEGER) AS participating "
        f"FROM {up} GROUP BY unit_id, p, f",
    )
    _drop(cursor, leaf, up)


# Units at these depths (the Confederation and the tier-2 units) get their weekly series stored;
# below them a subtree's initiatives are few enough to count on the page.
WEEKLY_MAX_DEPTH = 2


def _weeks(cursor: Any, *, counted: str, tree: str, out: str, deepest: int, root: int | None, units: str = "") -> None:
    """`out` (unit_id, week, field_key, submitted): each tier-2 unit's submissions per week and
    field (0: none) over its subtree, along `tree`, and the root's (every counted row). `units`
    (a table of unit_id holding every unit of the counted rows) limits the walk up the tree to them."""
    tier2 = f"{out}_tier2"
    if units:
        # From each unit up to its tier-2 ancestor, one level a step (a few thousand units).
        temp_table(
            cursor,
            tier2,
            f"SELECT s.unit_id AS id, u.id AS t2, u.parent_id, u.depth "
            f"FROM {units} s JOIN {tree} u ON u.id = s.unit_id",
        )
        for _ in range(deepest - 2):
            cursor.execute(
                f"UPDATE {tier2} SET t2 = p.id, parent_id = p.parent_id, depth = p.depth "
                f"FROM {tree} p WHERE p.id = {tier2}.parent_id AND {tier2}.depth > 2"
            )
        cursor.execute(f"DELETE FROM {tier2} WHERE depth <> 2")
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {tier2}")  # joined to every counted row below
    else:
        temp_table(cursor, tier2, f"SELECT id, id AS t2 FROM {tree} WHERE depth = 2")
        for depth in range(3, deepest + 1):
            cursor.execute(
                f"INSERT INTO {tier2} SELECT u.id, t.t2 FROM {tree} u "
                f"JOIN {tier2} t ON t.id = u.parent_id WHERE u.depth = %s",
                [depth],
            )
    rows = (
        f"SELECT t.t2 AS unit_id, c.week, c.field_key, CAST(COUNT(*) AS INTEGER) AS submitted "
        f"FROM {counted} c JOIN {tier2} t ON t.id = c.unit_id GROUP BY t.t2, c.week, c.field_key"
    )
    params: list[Any] = []
    if root is not None:
        rows += (
            f" UNION ALL SELECT %s, week, field_key, CAST(COUNT(*) AS INTEGER) FROM {counted} GROUP BY week, field_key"
        )
        params.append(root)
    temp_table(cursor, out, rows, params)
    _drop(cursor, tier2)


def _with_ancestors(cursor: Any, *, tree: str, out: str) -> None:
    """`out` (id, parent_id, depth, level): the units of lb_scope_units and all their ancestors,
    along `tree` (the units' own table, or the tree as the previous snapshot saw it)."""
    temp_table(
        cursor,
        out,
        f"""
        WITH RECURSIVE up(id) AS (
            SELECT unit_id FROM lb_scope_units
            UNION SELECT t.parent_id FROM {tree} t JOIN up ON t.id = up.id WHERE t.parent_id IS NOT NULL
        )
        SELECT t.id, t.parent_id, t.depth, t.level FROM {tree} t WHERE t.id IN (SELECT id FROM up)
        """,
        analyze=True,
    )


def _root() -> int | None:
    return Union.objects.filter(depth=1).order_by("pk").values_list("pk", flat=True).first()


def _units_now(cursor: Any, *, program_id: int) -> None:
    """lb_units: every unit as it is now, with its target in the programme (a unit version's values)."""
    temp_table(
        cursor,
        "lb_units",
        f"SELECT u.id AS unit_id, u.code, u.name, u.short_name, u.parent_id, u.level, u.cluster_id, "
        f"CAST(u.depth AS INTEGER) AS depth, CAST(COALESCE(t.quantity, 0) AS INTEGER) AS target "
        f"FROM {_UNION} u LEFT JOIN {_TARGET} t ON t.unit_id = u.id AND t.program_id = %s",
        [program_id],
    )


def _deepest(cursor: Any, *trees: str) -> int:
    deepest = 1
    for tree in trees:
        cursor.execute(f"SELECT MAX(depth) FROM {tree}")
        deepest = max(deepest, cursor.fetchone()[0] or 1)
    return deepest


# ---------------------------------------------------------------------------------------------------
# Versions


@dataclass
class _Versioned:
    table: str
    keys: tuple[str, ...]
    values: tuple[str, ...]
    nullable: tuple[str, ...] = ()


FIGURES = _Versioned(_FIGURE, _FIGURE_KEYS, _SUMS)
WEEKS = _Versioned(_WEEK_FIGURE, _WEEK_KEYS, ("submitted",))
UNITS = _Versioned(_UNIT_VERSION, _UNIT_KEYS, _UNIT_VALUES, ("parent_id", "cluster_id"))
COUNTED = _Versioned(_COUNTED, _COUNTED_KEYS, _COUNTED_VALUES)
# The current rows (the hot window's): the figures' keys, with the unit's level, cluster and target.
_CURRENT_UNIT = ("level", "cluster_id", "target")
CURRENT = _Versioned(_CURRENT, _FIGURE_KEYS, (*_SUMS, *_CURRENT_UNIT), ("cluster_id",))


@contextmanager
def _lookups(cursor: Any) -> Iterator[None]:
    """Inside, PostgreSQL finds the rows of a few thousand keys through the primary key rather
    than hashing the whole history table: its estimates favour the hash, which reads every
    version there is (0.8 s now, growing with the history) to change a few thousand."""
    if connection.vendor != "postgresql":
        yield
        return
    cursor.execute("SET LOCAL enable_hashjoin = off")
    cursor.execute("SET LOCAL enable_mergejoin = off")
    try:
        yield
    finally:
        cursor.execute("SET LOCAL enable_hashjoin = on")
        cursor.execute("SET LOCAL enable_mergejoin = on")


def _apply(
    cursor: Any, kind: _Versioned, *, new: str, program_id: int, seq: int, scope: str = "", notes: int = 0
) -> tuple[int, list[Any]]:
    """Make the open versions of `kind` equal `new` (a table of keys and values: the keys that exist
    at snapshot `seq`). A version that differs or is gone is closed at seq - 1 (or deleted when it
    was written at seq itself: a repair), and the new values get a version from seq. With `scope` (a
    table of keys), only the open versions of those keys are compared; the keys of `new` must lie
    within it. Returns the number of keys changed and the first `notes` of them."""
    keys, values = kind.keys, kind.values

    def differs(column: str) -> str:
        # Both sides are there (a missing one is caught above); only these columns may be NULL.
        if column in kind.nullable:
            return f"COALESCE(o.{column}, -1) <> COALESCE(n.{column}, -1)"
        return f"o.{column} <> n.{column}"

    columns = ", ".join(f"t.{column}" for column in (*keys, *values, "first_seq"))
    if scope:
        # The scope's open versions first, found by key (the full join below can only hash).
        joined = " AND ".join(f"s.{key} = t.{key}" for key in keys)
        with _lookups(cursor):
            temp_table(
                cursor,
                "lb_opened",
                f"SELECT {columns} FROM {scope} s JOIN {kind.table} t "
                f"ON t.program_id = %s AND {joined} AND t.last_seq = {OPEN}",
                [program_id],
            )
        opened = "SELECT * FROM lb_opened WHERE %s IS NOT NULL"  # (the same parameter as below)
    else:
        opened = f"SELECT {columns} FROM {kind.table} t WHERE t.program_id = %s AND t.last_seq = {OPEN}"
    on = " AND ".join(f"n.{key} = o.{key}" for key in keys)
    either = ", ".join(f"COALESCE(n.{key}, o.{key}) AS {key}" for key in keys)
    news = ", ".join(f"n.{value}" for value in values)
    changed = " OR ".join(differs(value) for value in values)
    temp_table(
        cursor,
        "lb_changed",
        f"SELECT {either}, o.first_seq AS old_first, n.present_, {news} "
        f"FROM (SELECT 1 AS present_, x.* FROM {new} x) n FULL OUTER JOIN ({opened}) o ON {on} "
        f"WHERE o.first_seq IS NULL OR n.present_ IS NULL OR {changed}",
        [program_id],
        analyze=True,
    )
    cursor.execute("SELECT COUNT(*) FROM lb_changed")
    count = cursor.fetchone()[0]
    noted: list[Any] = []
    if notes and count:
        cursor.execute(f"SELECT {', '.join(keys)} FROM lb_changed ORDER BY {', '.join(keys)} LIMIT %s", [notes])
        # JSON-ready: a key of one column as its value, of several as a list.
        found = [[str(v) if isinstance(v, dt.date) else v for v in row] for row in cursor.fetchall()]
        noted = [key[0] if len(keys) == 1 else key for key in found]
    if count:
        with _lookups(cursor) if scope else nullcontext():
            _close(cursor, kind, program_id=program_id, seq=seq)
    _drop(cursor, "lb_changed", "lb_opened")
    return count, noted


def _close(cursor: Any, kind: _Versioned, *, program_id: int, seq: int) -> None:
    """Close (or, written at `seq` itself, delete) the open versions of the keys in lb_changed, and
    write their new versions from `seq`."""
    keys, values = kind.keys, kind.values
    match = " AND ".join(f"c.{key} = {kind.table}.{key}" for key in keys)
    cursor.execute(
        f"DELETE FROM {kind.table} WHERE program_id = %s AND first_seq = %s AND last_seq = {OPEN} "
        f"AND EXISTS (SELECT 1 FROM lb_changed c WHERE {match})",
        [program_id, seq],
    )
    if connection.vendor == "postgresql":
        # Driven by the changed keys (a join, not a semi-join over every version there is).
        joined = " AND ".join(f"t.{key} = c.{key}" for key in keys)
        cursor.execute(
            f"UPDATE {kind.table} t SET last_seq = %s FROM lb_changed c "
            f"WHERE t.program_id = %s AND t.last_seq = {OPEN} AND {joined}",
            [seq - 1, program_id],
        )
    else:
        cursor.execute(
            f"UPDATE {kind.table} SET last_seq = %s WHERE program_id = %s AND last_seq = {OPEN} "
            f"AND EXISTS (SELECT 1 FROM lb_changed c WHERE {match})",
            [seq - 1, program_id],
        )
    inserted = ", ".join((*keys, *values))
    cursor.execute(
        f"INSERT INTO {kind.table} (program_id, first_seq, last_seq, {inserted}) "
        f"SELECT %s, %s, {OPEN}, {inserted} FROM lb_changed WHERE present_ IS NOT NULL",
        [program_id, seq],
    )


# ---------------------------------------------------------------------------------------------------
# A snapshot's history


def write_full(cursor: Any, snapshot: LeaderboardSnapshot, *, notes: int = 0) -> Written:
    """Count everything as of the snapshot's instant and bring every version up to it. Leaves
    lb_fig (unit_id, p, f, figures), lb_weekly and lb_units for the snapshot's own rows."""
    program_id, seq, at = snapshot.program_id, snapshot.seq, snapshot.taken_at
    written = Written()
    _marks(cursor, program_id=program_id)
    sql, params = counted_sql(program_id=program_id, at=at)
    temp_table(cursor, "lb_counted", sql, params)
    _units_now(cursor, program_id=program_id)
    deepest = _deepest(cursor, _UNION)
    _figures(cursor, counted="lb_counted", tree=_UNION, out="lb_fig", deepest=deepest)
    _weeks(cursor, counted="lb_counted", tree=_UNION, out="lb_weekly", deepest=deepest, root=_root())
    noted: dict[str, Any] = {}
    for kind, new, name in (
        (FIGURES, "lb_fig_keyed", "figures"),
        (WEEKS, "lb_weekly", "weeks"),
        (COUNTED, "lb_counted", "initiatives"),
        (UNITS, "lb_units", "units"),
    ):
        if kind is FIGURES:
            temp_table(
                cursor,
                new,
                "SELECT unit_id, p AS phase_key, f AS field_key, submitted, valid, value_vnd, "
                "participating FROM lb_fig",
            )
        count, keys = _apply(cursor, kind, new=new, program_id=program_id, seq=seq, notes=notes)
        written.versions += count
        if keys:
            noted[name] = keys
        if kind is not UNITS:
            written.differences += count
    _drop(cursor, "lb_fig_keyed")
    written.changes = _consume_marks(cursor, program_id=program_id, at=at, full=True)
    written.notes = noted
    return written


# Counting again this many units costs little whatever the tree's size (a few hundred ms nationally).
INCREMENTAL_MIN_UNITS = 1000


def write_incremental(cursor: Any, snapshot: LeaderboardSnapshot) -> Written | None:
    """Bring the versions from the previous snapshot to this one by counting again only the units
    touched since (see the module's docstring). Returns None, having written nothing, when more
    units than LEADERBOARD_INCREMENTAL_MAX_SHARE of the tree (and more than INCREMENTAL_MIN_UNITS)
    would be counted again (a large restructuring): a full recount is then cheaper. Leaves
    lb_dkeys (the figures' keys that changed) and lb_units for the current rows (write_current)."""
    program_id, seq, at = snapshot.program_id, snapshot.seq, snapshot.taken_at
    _marks(cursor, program_id=program_id)
    # The tree as the previous snapshot saw it, and as it is now.
    temp_table(
        cursor,
        "lb_tree_old",
        f"SELECT unit_id AS id, parent_id, depth, level FROM {_UNIT_VERSION} "
        f"WHERE program_id = %s AND last_seq = {OPEN}",
        [program_id],
    )
    if connection.vendor == "postgresql":  # looked up by id and by parent, as the units' own table is
        cursor.execute("ALTER TABLE lb_tree_old ADD PRIMARY KEY (id)")
        cursor.execute("CREATE INDEX ON lb_tree_old (parent_id)")
        cursor.execute("ANALYZE lb_tree_old")
    _units_now(cursor, program_id=program_id)
    temp_table(
        cursor,
        "lb_moved",
        f"SELECT n.id FROM {_UNION} n JOIN lb_tree_old o ON o.id = n.id "
        f"WHERE COALESCE(n.parent_id, 0) <> COALESCE(o.parent_id, 0) OR n.level <> o.level",
        analyze=True,
    )
    cursor.execute(f"SELECT COUNT(*) FROM {_UNION}")
    most = max(settings.LEADERBOARD_INCREMENTAL_MAX_SHARE * cursor.fetchone()[0], INCREMENTAL_MIN_UNITS)
    cursor.execute("SELECT COUNT(*) FROM lb_moved")
    if cursor.fetchone()[0] > most:  # a restructuring: counting everything is cheaper
        _drop(cursor, "lb_tree_old", "lb_moved")
        return None
    # The units to count again: those of the marked initiatives, where the previous snapshot counted
    # them and where they are now (found by key), and every unit of a moved subtree, in the new tree
    # (by path) and the old (by parent).
    with _lookups(cursor):
        temp_table(
            cursor,
            "lb_scope_units",
            f"""
            SELECT c.unit_id FROM lb_marked m JOIN {_COUNTED} c
                ON c.program_id = %s AND c.initiative_id = m.initiative_id AND c.last_seq = {OPEN}
            UNION SELECT i.unit_id FROM lb_marked m JOIN {_INITIATIVE} i ON i.id = m.initiative_id
                  WHERE i.program_id = %s
            """,
            [program_id, program_id],
        )
    cursor.execute(
        f"""
        INSERT INTO lb_scope_units
        SELECT below.id FROM lb_moved x JOIN {_UNION} moved ON moved.id = x.id
            JOIN {_UNION} below ON below.path LIKE moved.path || '%%'
        UNION SELECT id FROM (
            WITH RECURSIVE below(id) AS (
                SELECT id FROM lb_moved
                UNION SELECT o.id FROM lb_tree_old o JOIN below b ON o.parent_id = b.id
            ) SELECT id FROM below
        ) old_below
        """
    )
    temp_table(cursor, "lb_scope", "SELECT DISTINCT unit_id FROM lb_scope_units", analyze=True)
    _drop(cursor, "lb_scope_units")
    cursor.execute("ALTER TABLE lb_scope RENAME TO lb_scope_units")
    cursor.execute("SELECT COUNT(*) FROM lb_scope_units")
    if cursor.fetchone()[0] > most:
        _drop(cursor, "lb_tree_old", "lb_moved", "lb_scope_units")
        return None
    written = Written(mode=LeaderboardSnapshot.Mode.INCREMENTAL)
    # Before: every initiative of those units as the previous snapshot counted it (the open mirror).
    # After: the same, but the marked initiatives as they count now (only a marked initiative has
    # changed: an unmarked write is the nightly check's to find). Both sides hold every initiative
    # of the units, so that participation (a grassroots unit with at least one) is counted whole.
    with _lookups(cursor):
        temp_table(
            cursor,
            "lb_before",
            f"SELECT c.initiative_id, c.unit_id, c.phase_key, c.field_key, c.week, c.quarter_key, c.valid, c.value_vnd "
            f"FROM lb_scope_units s JOIN {_COUNTED} c "
            f"ON c.program_id = %s AND c.unit_id = s.unit_id AND c.last_seq = {OPEN}",
            [program_id],
        )
    temp_table(cursor, "lb_marked_ids", "SELECT DISTINCT initiative_id FROM lb_marked", analyze=True)
    sql, params = counted_sql(program_id=program_id, at=at, only_initiatives="lb_marked_ids")
    temp_table(cursor, "lb_now", sql, params)
    temp_table(
        cursor,
        "lb_after",
        "SELECT * FROM lb_before b "
        "WHERE NOT EXISTS (SELECT 1 FROM lb_marked_ids m WHERE m.initiative_id = b.initiative_id) "
        "UNION ALL SELECT * FROM lb_now",
    )
    deepest = _deepest(cursor, _UNION, "lb_tree_old")
    root = _root()
    # Each side is counted and rolled up along only the scope's units and their ancestors (a few
    # thousand), not the whole tree: every statement below joins its tree.
    _with_ancestors(cursor, tree=_UNION, out="lb_tree_a")
    _with_ancestors(cursor, tree="lb_tree_old", out="lb_tree_b")
    _figures(cursor, counted="lb_after", tree="lb_tree_a", out="lb_fa", deepest=deepest)
    _figures(cursor, counted="lb_before", tree="lb_tree_b", out="lb_fb", deepest=deepest)
    _weeks(
        cursor, counted="lb_after", tree="lb_tree_a", out="lb_wa", deepest=deepest, root=root, units="lb_scope_units"
    )
    _weeks(
        cursor, counted="lb_before", tree="lb_tree_b", out="lb_wb", deepest=deepest, root=root, units="lb_scope_units"
    )

    # Figures: the change of every key above the counted units, added to its open version.
    sums = ", ".join(f"CAST(SUM({s}) AS {'BIGINT' if s == 'value_vnd' else 'INTEGER'}) AS {s}" for s in _SUMS)
    negated = ", ".join(f"-{s}" for s in _SUMS)
    nonzero = " OR ".join(f"SUM({s}) <> 0" for s in _SUMS)
    temp_table(
        cursor,
        "lb_delta",
        f"SELECT unit_id AS unit_id, p AS phase_key, f AS field_key, {sums} FROM ("
        f"SELECT unit_id, p, f, {', '.join(_SUMS)} FROM lb_fa UNION ALL "
        f"SELECT unit_id, p, f, {negated} FROM lb_fb) d GROUP BY unit_id, p, f HAVING {nonzero}",
        analyze=True,
    )
    temp_table(cursor, "lb_dkeys", f"SELECT {', '.join(_FIGURE_KEYS)} FROM lb_delta", analyze=True)
    added = ", ".join(f"COALESCE(o.{s}, 0) + d.{s} AS {s}" for s in _SUMS)
    on = " AND ".join(f"o.{key} = d.{key}" for key in _FIGURE_KEYS)
    with _lookups(cursor):
        temp_table(
            cursor,
            "lb_new_fig",
            f"SELECT * FROM (SELECT {', '.join(f'd.{key}' for key in _FIGURE_KEYS)}, {added} FROM lb_delta d "
            f"LEFT JOIN {_FIGURE} o ON o.program_id = %s AND {on} AND o.last_seq = {OPEN}) x WHERE submitted > 0",
            [program_id],
        )
    count, _ = _apply(cursor, FIGURES, new="lb_new_fig", program_id=program_id, seq=seq, scope="lb_dkeys")
    written.versions += count

    # Weeks: the same.
    temp_table(
        cursor,
        "lb_wdelta",
        "SELECT unit_id, week, field_key, CAST(SUM(submitted) AS INTEGER) AS submitted FROM ("
        "SELECT unit_id, week, field_key, submitted FROM lb_wa UNION ALL "
        "SELECT unit_id, week, field_key, -submitted FROM lb_wb) d "
        "GROUP BY unit_id, week, field_key HAVING SUM(submitted) <> 0",
        analyze=True,
    )
    temp_table(cursor, "lb_dweeks", "SELECT unit_id, week, field_key FROM lb_wdelta", analyze=True)
    with _lookups(cursor):
        temp_table(
            cursor,
            "lb_new_weeks",
            f"SELECT * FROM (SELECT d.unit_id, d.week, d.field_key, "
            f"COALESCE(o.submitted, 0) + d.submitted AS submitted "
            f"FROM lb_wdelta d LEFT JOIN {_WEEK_FIGURE} o ON o.program_id = %s AND o.unit_id = d.unit_id "
            f"AND o.week = d.week AND o.field_key = d.field_key AND o.last_seq = {OPEN}) x WHERE submitted > 0",
            [program_id],
        )
    count, _ = _apply(cursor, WEEKS, new="lb_new_weeks", program_id=program_id, seq=seq, scope="lb_dweeks")
    written.versions += count

    # The mirror of the initiatives counted again, and the units.
    count, _ = _apply(cursor, COUNTED, new="lb_now", program_id=program_id, seq=seq, scope="lb_marked_ids")
    written.versions += count
    count, _ = _apply(cursor, UNITS, new="lb_units", program_id=program_id, seq=seq)
    written.versions += count
    written.changes = _consume_marks(cursor, program_id=program_id, at=at, full=False)
    _drop(
        cursor,
        "lb_tree_old",
        "lb_tree_a",
        "lb_tree_b",
        "lb_moved",
        "lb_scope_units",
        "lb_after",
        "lb_before",
        "lb_fa",
        "lb_fb",
        "lb_wa",
        "lb_wb",
        "lb_delta",
        "lb_wdelta",
        "lb_now",
        "lb_marked_ids",
    )
    return written


# ---------------------------------------------------------------------------------------------------
# Marks


def _marks(cursor: Any, *, program_id: int) -> None:
    """lb_marked (id, initiative_id): the marks of the programme's initiatives visible now (those of
    an initiative counted by the programme's snapshots and since deleted included). Read first, so
    that exactly these are consumed: a mark written meanwhile stays for the next snapshot."""
    temp_table(
        cursor,
        "lb_marked",
        f"SELECT m.id, m.initiative_id FROM {_MARK} m WHERE "
        f"EXISTS (SELECT 1 FROM {_INITIATIVE} i WHERE i.id = m.initiative_id AND i.program_id = %s) OR "
        f"EXISTS (SELECT 1 FROM {_COUNTED} c WHERE c.program_id = %s AND c.initiative_id = m.initiative_id "
        f"AND c.last_seq = {OPEN})",
        [program_id, program_id],
        analyze=True,
    )


def _consume_marks(cursor: Any, *, program_id: int, at: dt.datetime, full: bool) -> int:
    """Delete the marks read (lb_marked) that every programme has now counted: not those of an
    initiative now in another programme, nor of one another programme still counts (moved between
    programmes, both must count the move: the mark stays until the last of them has), nor of one
    submitted after the snapshot's instant (not counted yet: a later snapshot must, when a snapshot
    runs late or a submission lands in the minute it runs).
    A full recount marks every such initiative. Returns the number of initiatives re-counted."""
    later = f"SELECT i.id FROM {_INITIATIVE} i WHERE i.program_id = %s AND i.status <> %s AND i.submitted_at > %s"
    later_params = [program_id, Initiative.Status.DRAFT, at]
    temp_table(
        cursor,
        "lb_consumed",
        f"SELECT m.id, m.initiative_id FROM lb_marked m LEFT JOIN {_INITIATIVE} i ON i.id = m.initiative_id "
        f"WHERE (i.id IS NULL OR (i.program_id = %s AND NOT (i.status <> %s AND i.submitted_at > %s))) "
        f"AND NOT EXISTS (SELECT 1 FROM {_COUNTED} c WHERE c.initiative_id = m.initiative_id "
        f"AND c.program_id <> %s AND c.last_seq = {OPEN})",
        [*later_params, program_id],
    )
    cursor.execute("SELECT COUNT(DISTINCT initiative_id) FROM lb_consumed")
    consumed = cursor.fetchone()[0]
    cursor.execute(f"DELETE FROM {_MARK} WHERE id IN (SELECT id FROM lb_consumed)")
    if full:
        cursor.execute(
            f"INSERT INTO {_MARK} (initiative_id) SELECT l.id FROM ({later}) l "
            f"WHERE NOT EXISTS (SELECT 1 FROM lb_marked m WHERE m.initiative_id = l.id)",
            later_params,
        )
    _drop(cursor, "lb_marked", "lb_consumed")
    return consumed


# ---------------------------------------------------------------------------------------------------
# The current rows and their scales (the hot window's), and ranked rows rebuilt from the versions


# A level as a number, for the ranking's sorts: sorting 360,000 rows on the level's text (compared
# by the database's collation) took a third longer than on this (3.8 s against 2.8 s here).
_LEVEL_NUMBER = (
    "CASE u.level " + " ".join(f"WHEN '{level}' THEN {rank}" for level, rank in LEVEL_RANK.items()) + " ELSE 0 END"
)

# The ranked rows (materialize), into {table} (a snapshot's partition on PostgreSQL), from {source} (unit_id, p, f,
# figures) and {units} (unit_id, level, cluster_id, target: the units as the snapshot saw them).
# (Counting each block's distinct counts and joining them back instead of RANK() took as long.)
INSERT_ROWS_SQL = f"""
INSERT INTO {{table}} ({{id_column}}snapshot_id, unit_id, phase_key, field_key, level, cluster_id, submitted, valid,
                    value_vnd, participating, target, rank, cluster_rank)
SELECT {{id_value}}%s, r.unit_id, r.p, r.f, r.level, r.cluster_id,
       r.submitted, r.valid, r.value_vnd, r.participating, r.target,
       RANK() OVER (PARTITION BY r.p, r.f, r.lv ORDER BY r.submitted DESC),
       CASE WHEN r.cluster_id IS NOT NULL
            THEN RANK() OVER (PARTITION BY r.p, r.f, r.lv, r.cluster_id ORDER BY r.submitted DESC) END
FROM (
    SELECT r.unit_id, r.p, r.f, u.level, {_LEVEL_NUMBER} AS lv, u.cluster_id, r.submitted, r.valid, r.value_vnd,
           r.participating, u.target
    FROM {{source}} r JOIN {{units}} u ON u.unit_id = r.unit_id
) r
"""


def write_current(cursor: Any, snapshot: LeaderboardSnapshot, *, full: bool, fresh: bool) -> None:
    """Bring the current rows (LeaderboardCurrent) from the previous snapshot to this one, after the
    history: a full recount compares every key (from lb_fig and lb_units, which it leaves), an
    incremental one only the keys whose figures changed (lb_dkeys) and those of the units whose
    versions changed (a move, a new cluster or target). `fresh`: the current rows do not stand at
    the previous snapshot (none yet, or a gap): they are written anew from this one."""
    program_id, seq = int(snapshot.program_id), snapshot.seq
    unit = ", ".join(f"u.{column}" for column in _CURRENT_UNIT)
    if fresh:
        cursor.execute(f"DELETE FROM {_CURRENT} WHERE program_id = %s", [program_id])
    if full:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE lb_fig")  # joined to the units: a hash join in memory, not two sorts
        temp_table(
            cursor,
            "lb_cur_new",
            f"SELECT f.unit_id, f.p AS phase_key, f.f AS field_key, {', '.join(f'f.{s}' for s in _SUMS)}, {unit} "
            f"FROM lb_fig f JOIN lb_units u ON u.unit_id = f.unit_id",
        )
        _apply(cursor, CURRENT, new="lb_cur_new", program_id=program_id, seq=seq)
        _drop(cursor, "lb_cur_new")
        return
    # The keys to compare: the figures' that changed, and every open key of a unit given a new
    # version (or whose version closed: a deleted unit) by this snapshot.
    keys = ", ".join(_FIGURE_KEYS)
    with _lookups(cursor):
        temp_table(
            cursor,
            "lb_cur_keys",
            f"SELECT {keys} FROM lb_dkeys UNION SELECT c.unit_id, c.phase_key, c.field_key "
            f"FROM {_UNIT_VERSION} v JOIN {_CURRENT} c ON c.program_id = v.program_id AND c.unit_id = v.unit_id "
            f"AND c.last_seq = {OPEN} WHERE v.program_id = %s AND (v.first_seq = %s OR v.last_seq = %s)",
            [program_id, seq, seq - 1],
            analyze=True,
        )
        on = " AND ".join(f"f.{key} = k.{key}" for key in _FIGURE_KEYS)
        temp_table(
            cursor,
            "lb_cur_new",
            f"SELECT f.unit_id, f.phase_key, f.field_key, {', '.join(f'f.{s}' for s in _SUMS)}, {unit} "
            f"FROM lb_cur_keys k JOIN {_FIGURE} f ON f.program_id = %s AND {on} AND f.last_seq = {OPEN} "
            f"JOIN {_UNIT_VERSION} u ON u.program_id = f.program_id AND u.unit_id = f.unit_id "
            f"AND u.last_seq = {OPEN}",  # the units as this snapshot sees them, found by key
            [program_id],
        )
    _apply(cursor, CURRENT, new="lb_cur_new", program_id=program_id, seq=seq, scope="lb_cur_keys")
    _drop(cursor, "lb_cur_keys", "lb_cur_new")


def write_scales(cursor: Any, snapshot: LeaderboardSnapshot) -> int:
    """The snapshot's block scales, from its current rows: for each (phase, field, level) block,
    nationally and within each cluster, every count's rank (one more than the units with more);
    then the whole programme's (LeaderboardScale, kept as long as the snapshot: rank history).
    One scan of the rows, counted per cluster and count; the national counts add those up.
    Returns the snapshot's number of rows."""
    where = f"program_id = {int(snapshot.program_id)} AND {visible(_CURRENT, snapshot.seq)}"
    block = "phase_key, field_key, level"
    temp_table(
        cursor,
        "lb_scale_counts",
        f"SELECT {block}, cluster_id, submitted, COUNT(*) AS n FROM {_CURRENT} WHERE {where} "
        f"GROUP BY {block}, cluster_id, submitted",
    )
    cursor.execute(
        f"INSERT INTO {_BLOCK_SCALE} (snapshot_id, phase_key, field_key, level, cluster_key, submitted, rank) "
        f"SELECT %s, {block}, cluster_key, submitted, "
        f"CAST(SUM(n) OVER (PARTITION BY {block}, cluster_key ORDER BY submitted DESC) - n + 1 AS INTEGER) "
        f"FROM (SELECT {block}, 0 AS cluster_key, submitted, SUM(n) AS n FROM lb_scale_counts "
        f"GROUP BY {block}, submitted "
        f"UNION ALL SELECT {block}, cluster_id, submitted, n FROM lb_scale_counts WHERE cluster_id IS NOT NULL) c",
        [snapshot.pk],
    )
    cursor.execute(
        f"INSERT INTO {_SCALE} (snapshot_id, level, submitted, rank) SELECT snapshot_id, level, submitted, rank "
        f"FROM {_BLOCK_SCALE} WHERE snapshot_id = %s AND phase_key = 0 AND field_key = 0 AND cluster_key = 0",
        [snapshot.pk],
    )
    cursor.execute("SELECT COALESCE(SUM(n), 0) FROM lb_scale_counts")
    rows = int(cursor.fetchone()[0])
    _drop(cursor, "lb_scale_counts")
    return rows


def visible(alias: str, seq: int) -> str:
    """SQL condition: the version aliased `alias` is seen by the snapshot numbered `seq`."""
    return f"{alias}.first_seq <= {int(seq)} AND {alias}.last_seq >= {int(seq)}"


def figures_at_sql(snapshot: LeaderboardSnapshot) -> str:
    """SELECT of a snapshot's stored contexts (unit_id, p, f, figures) from the versions."""
    return (
        f"SELECT unit_id, phase_key AS p, field_key AS f, {', '.join(_SUMS)} FROM {_FIGURE} v "
        f"WHERE v.program_id = {int(snapshot.program_id)} AND {visible('v', snapshot.seq)}"
    )


def units_at_sql(snapshot: LeaderboardSnapshot) -> str:
    """SELECT of the units as a snapshot saw them (LeaderboardUnitVersion's columns)."""
    return (
        f"SELECT unit_id, {', '.join(_UNIT_VALUES)} FROM {_UNIT_VERSION} v "
        f"WHERE v.program_id = {int(snapshot.program_id)} AND {visible('v', snapshot.seq)}"
    )


def weeks_at_sql(snapshot: LeaderboardSnapshot) -> str:
    return (
        f"SELECT unit_id, week, field_key, submitted FROM {_WEEK_FIGURE} v "
        f"WHERE v.program_id = {int(snapshot.program_id)} AND {visible('v', snapshot.seq)}"
    )


class NoMirror(ValueError):
    """A snapshot taken before the history kept what each snapshot counted (migration 0004 gave the
    older ones their figures, but no mirror): what it counted per initiative is not known."""


def quarter_figures(snapshot: LeaderboardSnapshot, *, quarter_key: int) -> dict[int, tuple[int, int, int]]:
    """Each unit's (submitted, valid, value_vnd) over its subtree among the initiatives submitted in a
    calendar quarter (`quarter_key` YYYYQ, 20263 for Q3/2026, local time), exactly as `snapshot`
    counted them and along its tree (the honours' figures: issue 19). Read from the mirror and the
    unit versions the snapshot sees, so the answer never changes, and kept as long as the snapshot is
    (a pinned one for good). Units with no such initiative are left out. NoMirror for a snapshot that
    counted something but has no mirror (one older than the history)."""
    program_id = int(snapshot.program_id)
    with connection.cursor() as cursor:
        if snapshot.row_count:
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {_COUNTED} c WHERE c.program_id = %s AND c.first_seq <= %s)",
                [program_id, snapshot.seq],
            )
            if not cursor.fetchone()[0]:
                raise NoMirror(f"snapshot {snapshot.seq} of programme {program_id} has no mirror")
        temp_table(
            cursor,
            "lb_q_tree",
            f"SELECT unit_id AS id, parent_id, depth FROM {_UNIT_VERSION} v "
            f"WHERE v.program_id = {program_id} AND {visible('v', snapshot.seq)}",
            analyze=True,
        )
        temp_table(
            cursor,
            "lb_q_up",
            f"SELECT c.unit_id, t.depth, CAST(COUNT(*) AS INTEGER) AS submitted, "
            f"CAST(SUM(c.valid) AS INTEGER) AS valid, CAST(SUM(c.value_vnd) AS BIGINT) AS value_vnd "
            f"FROM {_COUNTED} c JOIN lb_q_tree t ON t.id = c.unit_id "
            f"WHERE c.program_id = {program_id} AND c.quarter_key = %s AND {visible('c', snapshot.seq)} "
            f"GROUP BY c.unit_id, t.depth",
            [quarter_key],
        )
        counting.roll_up(
            cursor,
            table="lb_q_up",
            keys=[],
            sums=["submitted", "valid", "value_vnd"],
            deepest=_deepest(cursor, "lb_q_tree"),
            top=1,
            tree="lb_q_tree",
        )
        cursor.execute("SELECT unit_id, SUM(submitted), SUM(valid), SUM(value_vnd) FROM lb_q_up GROUP BY unit_id")
        figures = {unit_id: (int(s), int(v), int(m)) for unit_id, s, v, m in cursor.fetchall()}
        _drop(cursor, "lb_q_tree", "lb_q_up")
    return figures


def has_history(snapshot: LeaderboardSnapshot) -> bool:
    """Whether the versions can show the snapshot (it was taken, or migrated, with its history)."""
    return LeaderboardUnitVersion.objects.filter(
        program_id=snapshot.program_id, first_seq__lte=snapshot.seq, last_seq__gte=snapshot.seq
    ).exists()


def forget(cursor: Any, *, program_id: int, seqs: tuple[int, int]) -> None:
    """Delete the versions no remaining snapshot of the programme sees, after snapshots numbered
    within `seqs` (lowest, highest) were deleted: only a version whose range met theirs can have
    lost its last reader. Open versions always stay (the next snapshot reads them)."""
    low, high = seqs
    snapshot = LeaderboardSnapshot._meta.db_table
    for table in (_FIGURE, _WEEK_FIGURE, _UNIT_VERSION, _COUNTED):
        cursor.execute(
            f"DELETE FROM {table} WHERE program_id = %s AND last_seq < {OPEN} AND last_seq >= %s AND first_seq <= %s "
            f"AND NOT EXISTS (SELECT 1 FROM {snapshot} s WHERE s.program_id = {table}.program_id "
            f"AND s.seq >= {table}.first_seq AND s.seq <= {table}.last_seq)",
            [program_id, low, high],
        )


def rank_history_sql(
    *, program_id: int, unit_id: int, limit: int, until_seq: int | None = None
) -> tuple[str, list[Any]]:
    """SELECT of the programme's `limit` latest snapshots (up to the one numbered `until_seq` when
    given: evidence shows the history as it stood) (their columns) with the unit's national
    rank in its block and its submitted count at each (whole programme, all fields), from its
    figure versions, its level as each snapshot saw it and the snapshot's rank scale; snapshots
    where it had no submission are left out."""
    snapshot = LeaderboardSnapshot._meta.db_table
    until = " AND seq <= %s" if until_seq is not None else ""
    return (
        f"""
        SELECT s.*, c.rank AS unit_rank, f.submitted AS unit_submitted
        FROM (SELECT * FROM {snapshot} WHERE program_id = %s{until} ORDER BY taken_at DESC LIMIT %s) s
        JOIN {_FIGURE} f ON f.program_id = s.program_id AND f.unit_id = %s AND f.phase_key = 0 AND f.field_key = 0
             AND f.first_seq <= s.seq AND f.last_seq >= s.seq
        JOIN {_UNIT_VERSION} u ON u.program_id = s.program_id AND u.unit_id = %s
             AND u.first_seq <= s.seq AND u.last_seq >= s.seq
        JOIN {_SCALE} c ON c.snapshot_id = s.id AND c.level = u.level AND c.submitted = f.submitted
        ORDER BY s.taken_at DESC
        """,
        [program_id, *([until_seq] if until_seq is not None else []), limit, unit_id, unit_id],
    )


def prune_marks(*, older_than: dt.timedelta) -> int:
    """Delete the marks older than `older_than` that no snapshot will consume: those of initiatives
    outside every active programme (the beat snapshots active programmes only), deleted ones
    included unless an active programme counted them. Snapshots consume the rest within the hour."""
    active = Program.objects.filter(is_active=True)
    awaited = Initiative.objects.filter(program__in=active).values("pk")
    counted = LeaderboardCounted.objects.filter(program_id__in=active.values("pk"), last_seq=OPEN).values(
        "initiative_id"
    )
    stale = CountMark.objects.filter(marked_at__lt=timezone.now() - older_than)
    deleted, _ = stale.exclude(initiative_id__in=awaited).exclude(initiative_id__in=counted).delete()
    return deleted
