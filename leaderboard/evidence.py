"""Evidence: the dashboard of a kept snapshot, re-rendered exactly as it was (issue 18, item 3;
docs/leaderboard-storage.md §2.7).

The live pages read the units as they are now, and count a few figures from the initiatives as
they are now (grassroots units narrowed to a field, a grassroots unit's fields, the weekly series
below tier 2). A snapshot a decision rests on must show what it showed then, whatever was renamed,
moved, reviewed or returned since; so with `Snapshots(..., frozen=True)` leaderboard.dashboard
reads, instead:
- the units (code, names, level, parent, cluster, depth, target) from their versions seen by the
  snapshot (LeaderboardUnitVersion); a subtree and a unit's ancestors by walking the parent ids of
  those versions, which hold no path;
- what the live pages count from the initiatives, from the mirror of what the snapshot counted
  (LeaderboardCounted versions seen by it), so no later change reaches it.
The rows are a hot snapshot's current rows (its versions, ranked by its block scales) or, once it
has cooled, its ranked rows and weekly rows, rebuilt by `materialize` (`prepare`).

As on the live pages, the movement arrows rank the previous snapshot's figures over the subtree as
the current one saw it: each function takes the snapshot whose figures it counts (`snapshot`) and
the one whose tree it follows (`tree`).

Reading the mirror scans the programme's versions (no index serves a closed version by unit): a
few hundred ms at national scale, paid once per page and filter, whose body is then cached.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from leaderboard import history
from leaderboard.models import (
    LeaderboardBlockScale,
    LeaderboardCounted,
    LeaderboardCurrent,
    LeaderboardRow,
    LeaderboardSnapshot,
    LeaderboardUnitVersion,
)
from leaderboard.snapshots import has_ranked_rows, materialize
from sangkien.collation import VIETNAMESE_DB_COLLATION
from sangkien.queueing import enqueue_on_commit
from unions.models import EmulationCluster, Union

_ROW = LeaderboardRow._meta.db_table
_CURRENT = LeaderboardCurrent._meta.db_table
_BLOCK_SCALE = LeaderboardBlockScale._meta.db_table
_UNIT_VERSION = LeaderboardUnitVersion._meta.db_table
_COUNTED = LeaderboardCounted._meta.db_table

# A unit version's columns, as history.units_at_sql selects them.
_UNIT_COLUMNS = ("unit_id", "code", "name", "short_name", "parent_id", "level", "cluster_id", "depth", "target")
_U = ", ".join(f"u.{column}" for column in _UNIT_COLUMNS)
_BY_NAME = f"u.name COLLATE {VIETNAMESE_DB_COLLATION}"  # as the live pages sort Union.name


class Filters(Protocol):
    """The dashboard's filters (leaderboard.dashboard.Filters, which imports this module), as read here."""

    @property
    def phase_key(self) -> int: ...  # 0: the whole programme

    @property
    def field_key(self) -> int: ...  # 0: all fields

    @property
    def cluster(self) -> EmulationCluster | None: ...


class Preparing(Exception):
    """The snapshot's rows are being rebuilt (in the snapshots queue): the page asks again later."""


class NotKept(Exception):
    """The snapshot's rows are gone and the user may not have them rebuilt (access policy)."""


# While a rebuild is queued or under way, another request for the snapshot queues nothing.
REBUILDING_KEY = "leaderboard:rebuilding:{pk}"


def prepare(current: LeaderboardSnapshot, previous: LeaderboardSnapshot | None, *, may_rebuild: bool) -> None:
    """Make sure both snapshots have their ranked and weekly rows, which a later snapshot dropped.

    Rebuilding them nationally takes seconds and waits for any snapshot under way, so a request
    does not: it queues the rebuild once and raises Preparing (the page says so and reloads).
    Without a broker (the demo) the rebuild runs here, on the demo's few rows. Rows rebuilt to be
    shown are kept a day from their last showing, so they are not dropped under a page."""
    from leaderboard.tasks import materialize_snapshot

    shown = [snapshot for snapshot in (current, previous) if snapshot is not None]
    # A hot snapshot is read from the current rows (as it saw them); a cold one from its ranked rows.
    cold = [snapshot for snapshot in shown if not snapshot.hot and not has_ranked_rows(snapshot)]
    if not cold:
        keep_shown([snapshot.pk for snapshot in shown if snapshot.materialized_at is not None])
        return
    if not may_rebuild:
        raise NotKept
    if materialize_snapshot.app.conf.task_always_eager:
        for snapshot in cold:
            materialize(snapshot)
        return
    if cache.add(REBUILDING_KEY.format(pk=current.pk), True, REBUILDING_SECONDS):
        enqueue_on_commit(materialize_snapshot, current.pk)
    raise Preparing


# How long a queued rebuild keeps others from queuing another (the task's own time limit).
REBUILDING_SECONDS = 280


def keep_shown(snapshot_ids: list[int]) -> None:
    """Rows rebuilt to be shown stay a day from their last showing (at most one write an hour)."""
    if snapshot_ids:
        now = timezone.now()
        LeaderboardSnapshot.objects.filter(pk__in=snapshot_ids, materialized_at__lt=now - dt.timedelta(hours=1)).update(
            materialized_at=now
        )


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return list(cursor.fetchall())


def _unit(row: Sequence[Any]) -> Union:
    """A unit as a snapshot saw it: an unsaved Union that the templates and the dashboard read like
    a live one, with its target then as `target_quantity` (what children_ranking annotates). It
    has no path: nothing of the tree as it is now may be asked of it."""
    unit_id, code, name, short_name, parent_id, level, cluster_id, depth, target = row
    unit = Union(
        pk=unit_id,
        code=code,
        name=name,
        short_name=short_name,
        parent_id=parent_id,
        level=level,
        cluster_id=cluster_id,
        depth=depth,
        path=None,  # type: ignore[misc]  # not the tree as it was: fails loudly if used
    )
    unit._state.adding = False
    unit.target_quantity = target  # type: ignore[attr-defined]
    return unit


def _seen(alias: str, snapshot: LeaderboardSnapshot) -> str:
    """SQL condition: the version aliased `alias` (with a program_id) is the one `snapshot` saw."""
    return f"{alias}.program_id = {int(snapshot.program_id)} AND {history.visible(alias, snapshot.seq)}"


def unit(snapshot: LeaderboardSnapshot, *, pk: int | None = None, code: str | None = None) -> Union | None:
    """The unit of that id or code as the snapshot saw it; None when it saw none."""
    column, value = ("unit_id", pk) if pk is not None else ("code", code)
    rows = _fetch(f"SELECT {_U} FROM {_UNIT_VERSION} u WHERE {_seen('u', snapshot)} AND u.{column} = %s", [value])
    return _unit(rows[0]) if rows else None


def ancestors(snapshot: LeaderboardSnapshot, unit: Union) -> list[Union]:
    """The units above `unit` as the snapshot saw them, root first (one query)."""
    rows = _fetch(
        f"""
        WITH RECURSIVE up(id, n) AS (
            SELECT CAST(%s AS BIGINT), 1
            UNION ALL SELECT u.parent_id, up.n + 1 FROM up
                JOIN {_UNIT_VERSION} u ON u.unit_id = up.id AND {_seen("u", snapshot)}
            WHERE u.parent_id IS NOT NULL
        )
        SELECT {_U} FROM up JOIN {_UNIT_VERSION} u ON u.unit_id = up.id AND {_seen("u", snapshot)}
        WHERE up.n > 1 ORDER BY up.n DESC
        """,
        [unit.pk],
    )
    return [_unit(row) for row in rows]


def children(snapshot: LeaderboardSnapshot, parent: Union) -> list[Union]:
    """The units directly under `parent` as the snapshot saw them, by name then code."""
    rows = _fetch(
        f"SELECT {_U} FROM {_UNIT_VERSION} u WHERE {_seen('u', snapshot)} AND u.parent_id = %s "
        f"ORDER BY {_BY_NAME}, u.code",
        [parent.pk],
    )
    return [_unit(row) for row in rows]


def _subtree_cte(tree: LeaderboardSnapshot, scope: Union) -> tuple[str, list[Any]]:
    """A recursive common table expression `sub(id)`: the scope's subtree as `tree` saw it."""
    return (
        f"sub(id) AS (SELECT CAST(%s AS BIGINT) UNION ALL "
        f"SELECT u.unit_id FROM {_UNIT_VERSION} u JOIN sub ON u.parent_id = sub.id WHERE {_seen('u', tree)})",
        [scope.pk],
    )


def _with(ctes: Sequence[tuple[str, list[Any]]]) -> tuple[str, list[Any]]:
    """A WITH RECURSIVE clause of these common table expressions (none: nothing)."""
    if not ctes:
        return "", []
    return "WITH RECURSIVE " + ", ".join(sql for sql, _ in ctes) + " ", [p for _, params in ctes for p in params]


def _block_sql(
    snapshot: LeaderboardSnapshot,
    *,
    tree: LeaderboardSnapshot,
    scope: Union,
    levels: Sequence[str],
    filters: Filters,
    within: int | None = None,
) -> tuple[str, str, list[Any]]:
    """(WITH clause, SELECT, params): the snapshot's rows of the blocks in the scope with their rank
    there as `position`, as dashboard._ranked_rows ranks them: the rank (or cluster rank) of the
    whole tree, stored in its ranked rows or, for a hot snapshot's current rows, read from its block
    scale; a rank per level over the subtree's rows for a subtree. `within` (one level): only the
    rows ranked within it over the whole tree are needed."""
    marks = ", ".join(["%s"] * len(levels))
    block = f"r.phase_key = %s AND r.field_key = %s AND r.level IN ({marks})"
    if snapshot.hot:
        where = [f"r.program_id = %s AND {history.visible('r', snapshot.seq)} AND {block}"]
        params: list[Any] = [snapshot.program_id, filters.phase_key, filters.field_key, *levels]
    else:
        where = [f"r.snapshot_id = %s AND {block}"]
        params = [snapshot.pk, filters.phase_key, filters.field_key, *levels]
    if filters.cluster:
        where.append("r.cluster_id = %s")
        params.append(filters.cluster.pk)
    cte, cte_params = "", list[Any]()
    if scope.parent_id is None and snapshot.hot:
        cluster = "r.cluster_id" if filters.cluster else "0"
        position = (
            f"(SELECT s.rank FROM {_BLOCK_SCALE} s WHERE s.snapshot_id = %s AND s.phase_key = r.phase_key "
            f"AND s.field_key = r.field_key AND s.level = r.level AND s.cluster_key = {cluster} "
            f"AND s.submitted = r.submitted)"
        )
        params.insert(0, snapshot.pk)  # the position comes first in the SELECT
        if within is not None and len(levels) == 1:
            # Only the counts ranked within it: their few rows, read from the block's index.
            where.append(
                f"r.submitted >= (SELECT MIN(s.submitted) FROM {_BLOCK_SCALE} s WHERE s.snapshot_id = %s "
                f"AND s.phase_key = %s AND s.field_key = %s AND s.level = %s AND s.cluster_key = %s AND s.rank <= %s)"
            )
            cluster_key = filters.cluster.pk if filters.cluster else 0
            params += [snapshot.pk, filters.phase_key, filters.field_key, levels[0], cluster_key, within]
    elif scope.parent_id is None:
        position = "r.cluster_rank" if filters.cluster else "r.rank"
    else:
        position = "RANK() OVER (PARTITION BY r.level ORDER BY r.submitted DESC)"
        where.append("r.unit_id IN (SELECT id FROM sub)")
        cte, cte_params = _with([_subtree_cte(tree, scope)])
    select = (
        f"SELECT r.unit_id, r.submitted, r.valid, r.value_vnd, r.participating, r.target, {position} AS position "
        f"FROM {_CURRENT if snapshot.hot else _ROW} r WHERE {' AND '.join(where)}"
    )
    return cte, select, [*cte_params, *params]


def block(
    snapshot: LeaderboardSnapshot, *, scope: Union, level: str, filters: Filters, limit: int
) -> list[tuple[Union, tuple[int, int, int, int, int, int]]]:
    """The first `limit` rows of a level block in the scope, best first (equal ranks by the unit's
    name then): (unit as seen, (submitted, valid, value_vnd, participating, target, position))."""
    cte, select, params = _block_sql(
        snapshot, tree=snapshot, scope=scope, levels=[level], filters=filters, within=limit
    )
    # The k-th row has a rank of k at most: only rows ranked within the limit can be listed.
    rows = _fetch(
        f"{cte}SELECT {_U}, b.submitted, b.valid, b.value_vnd, b.participating, b.target, b.position "
        f"FROM ({select}) b JOIN {_UNIT_VERSION} u ON u.unit_id = b.unit_id AND {_seen('u', snapshot)} "
        f"WHERE b.position <= %s ORDER BY b.position, {_BY_NAME}, b.unit_id LIMIT %s",
        [*params, limit, limit],
    )
    width = len(_UNIT_COLUMNS)
    return [(_unit(row[:width]), tuple(row[width:])) for row in rows]


def block_positions(
    snapshot: LeaderboardSnapshot,
    *,
    tree: LeaderboardSnapshot,
    scope: Union,
    levels: Sequence[str],
    filters: Filters,
    unit_ids: Sequence[int],
) -> dict[int, int]:
    """The ranks of some units in the blocks of `snapshot` (the previous one), over the scope as `tree` saw it."""
    if not unit_ids:
        return {}
    cte, select, params = _block_sql(snapshot, tree=tree, scope=scope, levels=levels, filters=filters)
    marks = ", ".join(["%s"] * len(unit_ids))
    return dict(
        _fetch(f"{cte}SELECT unit_id, position FROM ({select}) b WHERE b.unit_id IN ({marks})", [*params, *unit_ids])
    )


def _grassroots_sql(
    snapshot: LeaderboardSnapshot,
    *,
    tree: LeaderboardSnapshot,
    scope: Union,
    filters: Filters,
    parent: Union | None,
) -> tuple[str, str, list[Any]]:
    """(WITH clause, SELECT, params): grassroots units' figures under a field filter as the snapshot
    counted them (the mirror), ranked by submissions as `position`, like dashboard._live_grassroots;
    the units' level, parent, cluster and subtree as `tree` saw them.

    The mirror is tallied per unit first, once (MATERIALIZED): joined to the units before, a plan
    from misjudged row counts (fresh tables not yet analysed) scanned the mirror once per unit."""
    tally = [_seen("c", snapshot), "c.field_key = %s"]
    tally_params: list[Any] = [filters.field_key]
    if filters.phase_key:
        tally.append("c.phase_key = %s")
        tally_params.append(filters.phase_key)
    ctes = [
        (
            "tallied AS MATERIALIZED (SELECT c.unit_id, COUNT(*) AS submitted, "
            "CAST(SUM(c.valid) AS INTEGER) AS valid, CAST(SUM(c.value_vnd) AS BIGINT) AS value_vnd "
            f"FROM {_COUNTED} c WHERE {' AND '.join(tally)} GROUP BY c.unit_id)",
            tally_params,
        )
    ]
    where = ["g.level = %s"]
    params: list[Any] = [Union.Level.GRASSROOTS]
    if parent is not None:
        where.append("g.parent_id = %s")
        params.append(parent.pk)
    elif scope.parent_id is not None:
        where.append("t.unit_id IN (SELECT id FROM sub)")
        ctes.insert(0, _subtree_cte(tree, scope))
    if filters.cluster:
        where.append("g.cluster_id = %s")
        params.append(filters.cluster.pk)
    select = (
        "SELECT t.unit_id, t.submitted, t.valid, t.value_vnd, RANK() OVER (ORDER BY t.submitted DESC) AS position "
        f"FROM tallied t JOIN {_UNIT_VERSION} g ON g.unit_id = t.unit_id AND {_seen('g', tree)} "
        f"WHERE {' AND '.join(where)}"
    )
    cte, cte_params = _with(ctes)
    return cte, select, [*cte_params, *params]


def grassroots(
    snapshot: LeaderboardSnapshot,
    *,
    scope: Union,
    filters: Filters,
    parent: Union | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The grassroots units narrowed to a field, best first (equal counts by name), the first
    `limit` of them: dicts with the keys of dashboard._with_units, the units as the snapshot saw them."""
    cte, select, params = _grassroots_sql(snapshot, tree=snapshot, scope=scope, filters=filters, parent=parent)
    within = "WHERE g.position <= %s " if limit else ""
    rows = _fetch(
        f"{cte}SELECT g.unit_id, g.submitted, g.valid, g.value_vnd, g.position, u.code, u.name, u.short_name, u.target "
        f"FROM ({select}) g JOIN {_UNIT_VERSION} u ON u.unit_id = g.unit_id AND {_seen('u', snapshot)} "
        f"{within}ORDER BY g.submitted DESC, {_BY_NAME}, g.unit_id{' LIMIT %s' if limit else ''}",
        [*params, *([limit, limit] if limit else [])],
    )
    columns = ["unit_id", "submitted", "valid", "value_vnd", "position", "code", "name", "short_name", "target"]
    return [dict(zip(columns, row, strict=True)) for row in rows]


def grassroots_positions(
    snapshot: LeaderboardSnapshot,
    *,
    tree: LeaderboardSnapshot,
    scope: Union,
    filters: Filters,
    parent: Union | None = None,
    unit_ids: Sequence[int] | None = None,
) -> list[tuple[int, int, int, int, int]]:
    """(unit_id, submitted, valid, value_vnd, position) of the grassroots units narrowed to a field
    in `snapshot` over the tree `tree` saw, all of them or those of `unit_ids`."""
    cte, select, params = _grassroots_sql(snapshot, tree=tree, scope=scope, filters=filters, parent=parent)
    sql = f"{cte}SELECT unit_id, submitted, valid, value_vnd, position FROM ({select}) g"
    if unit_ids is not None:
        if not unit_ids:
            return []
        sql += f" WHERE g.unit_id IN ({', '.join(['%s'] * len(unit_ids))})"
        params = [*params, *unit_ids]
    return [tuple(row) for row in _fetch(sql, params)]


def fields_of(snapshot: LeaderboardSnapshot, *, unit: Union, filters: Filters) -> list[tuple[int, int, int, int]]:
    """(field id, submitted, valid, value_vnd) of a grassroots unit's own initiatives per field, as
    the snapshot counted them."""
    phase = " AND c.phase_key = %s" if filters.phase_key else ""
    return [
        tuple(row)
        for row in _fetch(
            "SELECT c.field_key, COUNT(*), CAST(SUM(c.valid) AS INTEGER), CAST(SUM(c.value_vnd) AS BIGINT) "
            f"FROM {_COUNTED} c WHERE {_seen('c', snapshot)} AND c.unit_id = %s AND c.field_key <> 0{phase} "
            "GROUP BY c.field_key",
            [unit.pk, *([filters.phase_key] if filters.phase_key else [])],
        )
    ]


def weekly_counts(snapshot: LeaderboardSnapshot, *, unit: Union, filters: Filters) -> dict[dt.date, int]:
    """Submissions per week (its Monday, local time) of the unit's subtree, as the snapshot counted them."""
    cte, params = _with([_subtree_cte(snapshot, unit)])
    where = [_seen("c", snapshot), "c.unit_id IN (SELECT id FROM sub)"]
    if filters.field_key:
        where.append("c.field_key = %s")
        params.append(filters.field_key)
    if filters.phase_key:
        where.append("c.phase_key = %s")
        params.append(filters.phase_key)
    rows = _fetch(f"{cte}SELECT c.week, COUNT(*) FROM {_COUNTED} c WHERE {' AND '.join(where)} GROUP BY c.week", params)
    # SQLite (the demo) gives a date column back as text.
    return {week if isinstance(week, dt.date) else dt.date.fromisoformat(week): n for week, n in rows}


def pinned(program_id: int) -> list[LeaderboardSnapshot]:
    """The programme's snapshots kept as evidence, latest first."""
    return list(
        LeaderboardSnapshot.objects.filter(program_id=program_id).exclude(pinned_reason="").order_by("-taken_at")
    )
