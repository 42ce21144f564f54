"""Reads for the leadership dashboard: rankings, progress and trends as of a leaderboard snapshot.

Where the figures come from (see leaderboard.snapshots for how they are counted):
- the whole tree ("national"): a hot snapshot's current rows read best first from an index, each
  rank one lookup of its count in the snapshot's block scale; an older snapshot's ranked rows
  (with their stored ranks) in rank order;
- a subtree (an officer's unit, a drill-down): the snapshot rows of the subtree's units, ranked
  over the subtree by the database; a subtree is at most a tier-2 unit's few thousand units;
- grassroots units narrowed to one field: counted from the subtree's initiatives submitted up to
  the snapshot's instant (the snapshot does not store them), and cached until the next snapshot.

Frozen (`Snapshots(..., frozen=True)`, the evidence pages): the units as the snapshot saw them and
what is counted live above from what the snapshot counted (leaderboard.evidence).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Subquery, Sum, Window
from django.db.models.functions import Rank, TruncWeek
from django.utils import timezone

from initiatives import counting
from initiatives.models import Field, Phase, Program, Target
from leaderboard import evidence, history, programme
from leaderboard.models import (
    LeaderboardBlockScale,
    LeaderboardRow,
    LeaderboardSnapshot,
    LeaderboardWeek,
    LeaderboardWeekFigure,
)
from leaderboard.snapshots import WEEKLY_MAX_DEPTH, counted_initiatives, current_rows, scale_rank
from sangkien.text import vietnamese_sort_key
from unions.levels import BLOCKS, LEVEL_RANK
from unions.models import EmulationCluster, Union

TOP = 10

LIVE_CACHE_SECONDS = 3600


@dataclass(frozen=True)
class Filters:
    phase: Phase | None = None
    field: Field | None = None
    cluster: EmulationCluster | None = None

    @property
    def phase_key(self) -> int:
        return self.phase.pk if self.phase else 0

    @property
    def field_key(self) -> int:
        return self.field.pk if self.field else 0

    def cache_key(self) -> str:
        return "-".join(str(x.pk if x else 0) for x in (self.phase, self.field, self.cluster))


@dataclass(kw_only=True)
class Standing:
    """One unit's line in a ranking."""

    unit: Union
    submitted: int
    valid: int
    value_vnd: int
    participating: int
    target: int
    rank: int | None  # None: no submission in this context, not ranked
    previous_rank: int | None = None  # None: not ranked in the previous snapshot

    @property
    def completion(self) -> float | None:
        """% of the unit's target (chỉ tiêu) reached; None when it has none."""
        return 100.0 * self.submitted / self.target if self.target else None

    @property
    def movement(self) -> str:
        """'up', 'down' or 'same' since the previous snapshot; 'new' when it was not ranked then."""
        if self.rank is None:
            return ""
        if self.previous_rank is None:
            return "new"
        if self.rank < self.previous_rank:
            return "up"
        return "down" if self.rank > self.previous_rank else "same"

    @property
    def moved_by(self) -> int:
        return abs((self.previous_rank or 0) - (self.rank or 0))


@dataclass(frozen=True)
class Snapshots:
    current: LeaderboardSnapshot | None
    previous: LeaderboardSnapshot | None
    # Evidence: everything as `current` saw it, nothing read from the units or initiatives as they are now.
    frozen: bool = False


# Every dashboard page asks for the latest snapshots and the filters' choices: kept in the cache,
# forgotten when a snapshot is written or removed or a field or cluster saved (leaderboard.apps),
# and at the latest after this many seconds.
CHOICES_SECONDS = 60
SNAPSHOTS_KEY = "dashboard-snapshots:{program}"
CHOICES_KEY = "dashboard-filter-choices"


def snapshots(*, program: Program) -> Snapshots:
    """The latest snapshot and the one before it (one query, or none while cached)."""
    key = SNAPSHOTS_KEY.format(program=program.pk)
    cached = cache.get(key)
    if cached is None:
        latest = list(LeaderboardSnapshot.objects.filter(program=program).order_by("-taken_at")[:2])
        cached = Snapshots(latest[0] if latest else None, latest[1] if len(latest) > 1 else None)
        cache.set(key, cached, CHOICES_SECONDS)
    return cached


def forget_snapshots(*, instance: LeaderboardSnapshot, **_: object) -> None:
    cache.delete(SNAPSHOTS_KEY.format(program=instance.program_id))


def forget_filter_choices(**_: object) -> None:
    cache.delete(CHOICES_KEY)


def filter_choices() -> tuple[list[Field], list[EmulationCluster]]:
    """The active fields and the clusters, for the filters and the chart, in one query (none while
    cached)."""
    cached = cache.get(CHOICES_KEY)
    if cached is None:
        cached = programme.filter_choices_now()
        cache.set(CHOICES_KEY, cached, CHOICES_SECONDS)
    return cached


def _is_root(unit: Union) -> bool:
    return unit.parent_id is None


def _rows(snapshot: LeaderboardSnapshot, filters: Filters) -> QuerySet[Any]:
    """The snapshot's rows in the filters' context, with the units as it saw them: a hot snapshot's
    current rows, any other's ranked rows (the same columns)."""
    if snapshot.hot:
        return current_rows(snapshot).filter(phase_key=filters.phase_key, field_key=filters.field_key)
    return LeaderboardRow.objects.filter(snapshot=snapshot, phase_key=filters.phase_key, field_key=filters.field_key)


def _live_grassroots(
    snapshot: LeaderboardSnapshot, *, scope: Union, filters: Filters, parent: Union | None = None
) -> QuerySet[Any, Any]:  # one dict of figures per unit
    """Grassroots units' figures narrowed to a field, counted from the initiatives, ranked."""
    initiatives = counted_initiatives(snapshot, phase=filters.phase).filter(
        field=filters.field, unit__level=Union.Level.GRASSROOTS
    )
    if not _is_root(scope):
        initiatives = initiatives.filter(unit__path__startswith=scope.path)
    if parent is not None:
        initiatives = initiatives.filter(unit__parent=parent)
    if filters.cluster:
        initiatives = initiatives.filter(unit__cluster=filters.cluster)
    return (
        initiatives.values("unit_id")
        .annotate(**counting.figures(), position=Window(Rank(), order_by=Count("pk").desc()))
        # "submitted" is an annotation of **counting.figures(), which django-stubs' plugin cannot see.
        .order_by("-submitted", "unit_id")  # type: ignore[misc]
    )


def _ranked_rows(
    snapshot: LeaderboardSnapshot, *, scope: Union, levels: Sequence[str], filters: Filters
) -> QuerySet[Any]:  # LeaderboardRows annotated with their `position`
    """Block rows with their rank in the scope as `position`, best first: the stored rank for the
    whole tree, a rank over the subtree's rows (per level) for a subtree."""
    rows = _rows(snapshot, filters).filter(level__in=levels)
    if filters.cluster:
        rows = rows.filter(cluster=filters.cluster)
    if _is_root(scope) and snapshot.hot:
        # Best first from the block's index (read backwards), each count's few rows sorted by the
        # unit's name (an incremental sort up to the LIMIT); a cluster's rows come in the same order.
        return rows.annotate(position=scale_rank(snapshot, in_cluster=bool(filters.cluster))).order_by(
            "-submitted", "unit__name", "unit_id"
        )
    if _is_root(scope):
        # Within a block, the cluster rank follows the block rank: one index serves both orders.
        # Equal ranks by the unit's name: the index gives the rows by rank, each rank's few rows
        # are sorted by name (an incremental sort up to the LIMIT).
        return rows.annotate(position=F("cluster_rank" if filters.cluster else "rank")).order_by(
            "rank", "unit__name", "unit_id"
        )
    return (
        rows.filter(unit_id__in=_subtree_ids(scope))
        .annotate(position=Window(Rank(), partition_by=F("level"), order_by=F("submitted").desc()))
        .order_by("-submitted", "unit__name", "unit_id")
    )


def _subtree_ids(scope: Union) -> list[int]:
    """The ids of a subtree's units, read once per request: given as a list, the rows are found
    through the (unit, snapshot) index; joined on the path, PostgreSQL scans the whole block."""
    if not hasattr(scope, "_subtree_ids"):
        scope._subtree_ids = list(Union.objects.subtree(scope).values_list("pk", flat=True))
    return scope._subtree_ids


def _cached_live(snapshot: LeaderboardSnapshot, key: str, compute: Any) -> Any:
    """Live counts at a snapshot's instant change only with later reviews: keep them an hour."""
    full_key = f"dashboard:{snapshot.pk}:{key}"
    value = cache.get(full_key)
    if value is None:
        value = compute()
        cache.set(full_key, value, LIVE_CACHE_SECONDS)
    return value


def _live_key(scope: Union, filters: Filters, level: str, limit: int | None, suffix: str = "") -> str:
    return f"{scope.pk}:{level}:{filters.cache_key()}:{limit}:{suffix}"


def block_rankings(*, snaps: Snapshots, scope: Union, filters: Filters, limit: int = TOP) -> dict[str, list[Standing]]:
    """The top `limit` units of each level block below the scope, with their movement since the
    previous snapshot: one query per block and one for all the previous ranks."""
    result: dict[str, list[Standing]] = {}
    if snaps.current is None:
        return result
    stored_levels = []
    for level in BLOCKS:
        if LEVEL_RANK[level] <= LEVEL_RANK[scope.level]:
            continue
        if filters.field and level == Union.Level.GRASSROOTS:
            result[level] = _live_standings(snaps, scope=scope, filters=filters, limit=limit)
            continue
        if snaps.frozen:
            rows = evidence.block(snaps.current, scope=scope, level=level, filters=filters, limit=limit)
            result[level] = [_frozen_standing(unit, figures) for unit, figures in rows]
        else:
            ranked = _ranked_rows(snaps.current, scope=scope, levels=[level], filters=filters)
            result[level] = [_standing(row, row.unit, row.position) for row in ranked.select_related("unit")[:limit]]
        stored_levels.append(level)
    if snaps.previous is not None and stored_levels:
        ids = [standing.unit.pk for level in stored_levels for standing in result[level]]
        if snaps.frozen:
            previous = evidence.block_positions(
                snaps.previous, tree=snaps.current, scope=scope, levels=stored_levels, filters=filters, unit_ids=ids
            )
        else:
            earlier = _ranked_rows(snaps.previous, scope=scope, levels=stored_levels, filters=filters)
            previous = _positions(earlier, ids)
        for level in stored_levels:
            for standing in result[level]:
                standing.previous_rank = previous.get(standing.unit.pk)
    return result


def _with_units(ranked: QuerySet[Any], *, program_id: int, limit: int | None) -> list[dict[str, Any]]:
    """The first `limit` ranked rows (equal ranks by the unit's name) with their unit's code, names
    and target, joined after the ranking and only for the rows ranked within the limit (grouping by
    the unit's columns instead makes PostgreSQL sort every initiative)."""
    sql, params = ranked.order_by().query.sql_with_params()
    within = "WHERE r.position <= %s " if limit else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.unit_id, r.submitted, r.valid, r.value_vnd, r.position, u.code, u.name, u.short_name, "
            f"t.quantity FROM ({sql}) r JOIN {Union._meta.db_table} u ON u.id = r.unit_id "
            f"LEFT JOIN {Target._meta.db_table} t ON t.unit_id = r.unit_id AND t.program_id = %s "
            f"{within}ORDER BY r.submitted DESC, u.name, r.unit_id{' LIMIT %s' if limit else ''}",
            [*params, program_id, *([limit, limit] if limit else [])],
        )
        columns = ["unit_id", "submitted", "valid", "value_vnd", "position", "code", "name", "short_name", "target"]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _positions(ranked: QuerySet[Any], unit_ids: list[int]) -> dict[int, int]:
    """The ranks of some units in a ranking: filtering the queryset itself would rank only them."""
    if not unit_ids:
        return {}
    sql, params = (
        ranked.values("unit_id", "position").values_list("unit_id", "position").order_by().query.sql_with_params()
    )
    marks = ", ".join(["%s"] * len(unit_ids))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({sql}) ranked WHERE ranked.unit_id IN ({marks})", [*params, *unit_ids])
        return dict(cursor.fetchall())


def _standing(row: LeaderboardRow | None, unit: Union, rank: int | None) -> Standing:
    if row is None:
        return Standing(
            unit=unit, submitted=0, valid=0, value_vnd=0, participating=0, target=_target_of(unit), rank=None
        )
    return Standing(
        unit=unit,
        submitted=row.submitted,
        valid=row.valid,
        value_vnd=row.value_vnd,
        participating=row.participating,
        target=row.target,
        rank=rank,
    )


def _target_of(unit: Union) -> int:
    return getattr(unit, "target_quantity", None) or 0


def _frozen_standing(unit: Union, figures: tuple[int, int, int, int, int, int]) -> Standing:
    submitted, valid, value_vnd, participating, target, position = figures
    return Standing(
        unit=unit,
        submitted=submitted,
        valid=valid,
        value_vnd=value_vnd,
        participating=participating,
        target=target,
        rank=position,
    )


def _live_standings(
    snaps: Snapshots, *, scope: Union, filters: Filters, limit: int | None, parent: Union | None = None
) -> list[Standing]:
    current = snaps.current
    assert current is not None
    key = _live_key(scope, filters, Union.Level.GRASSROOTS, limit, f"p{parent.pk if parent else ''}")

    def compute() -> list[dict[str, Any]]:
        if snaps.frozen:
            return _frozen_grassroots(snaps, scope=scope, filters=filters, limit=limit, parent=parent)
        ranked = _live_grassroots(current, scope=scope, filters=filters, parent=parent)
        rows = _with_units(ranked, program_id=current.program_id, limit=limit)
        if snaps.previous is not None and rows:
            earlier = _live_grassroots(snaps.previous, scope=scope, filters=filters, parent=parent)
            previous = _positions(earlier, [row["unit_id"] for row in rows])
            for row in rows:
                row["previous"] = previous.get(row["unit_id"])
        return rows

    return [
        Standing(
            unit=Union(
                pk=row["unit_id"],
                code=row["code"],
                name=row["name"],
                short_name=row["short_name"],
                level=Union.Level.GRASSROOTS,
            ),
            submitted=row["submitted"],
            valid=row["valid"],
            value_vnd=row["value_vnd"],
            participating=1,
            target=row["target"] or 0,
            rank=row["position"],
            previous_rank=row.get("previous"),
        )
        # Evidence is not cached here: its page body is, under keys of its own.
        for row in (compute() if snaps.frozen else _cached_live(current, key, compute))
    ]


def _frozen_grassroots(
    snaps: Snapshots, *, scope: Union, filters: Filters, limit: int | None, parent: Union | None
) -> list[dict[str, Any]]:
    """_live_standings' rows at a frozen snapshot: counted from what it (and the previous one) counted."""
    assert snaps.current is not None
    rows = evidence.grassroots(snaps.current, scope=scope, filters=filters, parent=parent, limit=limit)
    if snaps.previous is not None and rows:
        earlier = evidence.grassroots_positions(
            snaps.previous,
            tree=snaps.current,
            scope=scope,
            filters=filters,
            parent=parent,
            unit_ids=[row["unit_id"] for row in rows],
        )
        previous = {unit_id: position for unit_id, *_figures, position in earlier}
        for row in rows:
            row["previous"] = previous.get(row["unit_id"])
    return rows


def children_ranking(*, program: Program, snaps: Snapshots, unit: Union, filters: Filters) -> list[Standing]:
    """A unit's direct children, ranked among themselves (ties share a rank), then the ones with
    no submission; bounded queries whatever the number of children."""
    if snaps.frozen:
        assert snaps.current is not None
        children = evidence.children(snaps.current, unit)
    else:
        children = list(
            Union.objects.filter(parent=unit)
            .annotate(target_quantity=Sum("targets__quantity", filter=Q(targets__program=program)))
            .order_by("name", "code")
        )
    if snaps.current is None or not children:
        return [_standing(None, child, None) for child in children]
    by_id = {child.pk: child for child in children}
    figures: dict[int, Standing] = {}
    for snapshot, is_current in ((snaps.current, True), (snaps.previous, False)):
        if snapshot is None:
            continue
        counts = _children_counts(snapshot, unit=unit, filters=filters, snaps=snaps, children=by_id)
        ranks = _competition_ranks(counts)
        for unit_id, (submitted, valid, value_vnd, participating) in counts.items():
            if unit_id not in by_id:
                continue
            if is_current:
                figures[unit_id] = Standing(
                    unit=by_id[unit_id],
                    submitted=submitted,
                    valid=valid,
                    value_vnd=value_vnd,
                    participating=participating,
                    target=_target_of(by_id[unit_id]),
                    rank=ranks[unit_id],
                )
            elif unit_id in figures:
                figures[unit_id].previous_rank = ranks[unit_id]
    # Equal ranks by valid initiatives, then by name; the units with no submission (all equal) by name.
    ranked = sorted(figures.values(), key=lambda s: (s.rank, -s.valid, vietnamese_sort_key(s.unit.name)))
    unranked = [_standing(None, child, None) for child in children if child.pk not in figures]
    return ranked + unranked


def _children_counts(
    snapshot: LeaderboardSnapshot, *, unit: Union, filters: Filters, snaps: Snapshots, children: Mapping[int, Union]
) -> dict[int, tuple[int, int, int, int]]:
    if snaps.frozen:  # the children as the current snapshot saw them, in this one or the previous
        return _frozen_children_counts(snapshot, unit=unit, filters=filters, snaps=snaps, children=children)
    rows = _rows(snapshot, filters).filter(unit__parent=unit)
    if filters.cluster:
        rows = rows.filter(cluster=filters.cluster)
    counts = {
        row[0]: row[1:] for row in rows.values_list("unit_id", "submitted", "valid", "value_vnd", "participating")
    }
    if filters.field:  # grassroots children narrowed to a field are not in the snapshot
        key = _live_key(unit, filters, "children", None)
        for row in _cached_live(
            snapshot, key, lambda: list(_live_grassroots(snapshot, scope=unit, filters=filters, parent=unit))
        ):
            counts[row["unit_id"]] = (row["submitted"], row["valid"], row["value_vnd"], 1)
    return counts


def _frozen_children_counts(
    snapshot: LeaderboardSnapshot, *, unit: Union, filters: Filters, snaps: Snapshots, children: Mapping[int, Union]
) -> dict[int, tuple[int, int, int, int]]:
    assert snaps.current is not None
    rows = _rows(snapshot, filters).filter(unit_id__in=list(children))
    if filters.cluster:
        rows = rows.filter(cluster=filters.cluster)
    counts = {
        row[0]: row[1:] for row in rows.values_list("unit_id", "submitted", "valid", "value_vnd", "participating")
    }
    if filters.field:
        grassroots = evidence.grassroots_positions(
            snapshot, tree=snaps.current, scope=unit, filters=filters, parent=unit
        )
        for unit_id, submitted, valid, value_vnd, _position in grassroots:
            counts[unit_id] = (submitted, valid, value_vnd, 1)
    return counts


def _competition_ranks(counts: Mapping[int, tuple[int, ...]]) -> dict[int, int]:
    """1, 2, 2, 4: a unit's rank is one more than the number of units with more submissions."""
    ordered = sorted(counts, key=lambda unit_id: -counts[unit_id][0])
    ranks: dict[int, int] = {}
    for position, unit_id in enumerate(ordered, start=1):
        previous = ordered[position - 2] if position > 1 else None
        if previous is not None and counts[previous][0] == counts[unit_id][0]:
            ranks[unit_id] = ranks[previous]
        else:
            ranks[unit_id] = position
    return ranks


@dataclass(frozen=True, kw_only=True)
class UnitFigures:
    """The scope unit's own line (whole programme unless narrowed) and its breakdown by field."""

    standing: Standing
    by_field: list[tuple[Field, int, int]]  # (field, submitted, valid)
    overall: Standing  # the whole programme, all fields: its target is the unit's chỉ tiêu


def unit_figures(*, snaps: Snapshots, unit: Union, filters: Filters, fields: list[Field]) -> UnitFigures:
    """The unit's line (in the filters' context), its breakdown by field and its whole-programme
    line from its snapshot rows (one query); a grassroots unit's figures by field, which the
    snapshot does not store, from its own initiatives (one more)."""
    snapshot = snaps.current
    if snapshot is None:
        empty = Standing(unit=unit, submitted=0, valid=0, value_vnd=0, participating=0, target=0, rank=None)
        return UnitFigures(standing=empty, by_field=[(field, 0, 0) for field in fields], overall=empty)
    lines: dict[int, Standing] = {}  # by field id, 0: all fields
    overall = None
    contexts = Q(phase_key=filters.phase_key) | Q(phase_key=0, field_key=0)
    if snapshot.hot:
        rows: QuerySet[Any] = (
            current_rows(snapshot).filter(contexts, unit=unit).annotate(position=scale_rank(snapshot, in_cluster=False))
        )
    else:
        rows = LeaderboardRow.objects.filter(contexts, snapshot=snapshot, unit=unit).annotate(position=F("rank"))
    for row in rows:
        if row.phase_key == 0 and row.field_key == 0:
            overall = _standing(row, unit, row.position)
        if row.phase_key == filters.phase_key:
            lines[row.field_key] = _standing(row, unit, row.position)
    if unit.level == Union.Level.GRASSROOTS and snaps.frozen:
        for field_id, submitted, n_valid, value_vnd in evidence.fields_of(snapshot, unit=unit, filters=filters):
            lines[field_id] = Standing(
                unit=unit, submitted=submitted, valid=n_valid, value_vnd=value_vnd, participating=1, target=0, rank=None
            )
    elif unit.level == Union.Level.GRASSROOTS:
        initiatives = counted_initiatives(snapshot, phase=filters.phase).filter(unit=unit, field__isnull=False)
        for field_id, submitted, n_valid, value_vnd in (
            initiatives.values("field_id")
            .annotate(**counting.figures())
            # Annotations of **counting.figures(), which django-stubs' plugin cannot see.
            .values_list("field_id", "submitted", "valid", "value_vnd")  # type: ignore[misc]
        ):
            lines[field_id] = Standing(
                unit=unit, submitted=submitted, valid=n_valid, value_vnd=value_vnd, participating=1, target=0, rank=None
            )
    if overall is None and snaps.frozen:
        overall = Standing(
            unit=unit, submitted=0, valid=0, value_vnd=0, participating=0, target=_target_of(unit), rank=None
        )
    if overall is None:
        target = Target.objects.filter(program_id=snapshot.program_id, unit=unit).values_list("quantity", flat=True)
        overall = Standing(
            unit=unit, submitted=0, valid=0, value_vnd=0, participating=0, target=next(iter(target), 0), rank=None
        )
    standing = lines.get(filters.field_key)
    if standing is None:
        standing = Standing(
            unit=unit, submitted=0, valid=0, value_vnd=0, participating=0, target=overall.target, rank=None
        )
    standing.target = overall.target
    by_field = [
        (field, lines[field.pk].submitted, lines[field.pk].valid) if field.pk in lines else (field, 0, 0)
        for field in fields
    ]
    return UnitFigures(standing=standing, by_field=by_field, overall=overall)


@dataclass(frozen=True, kw_only=True)
class Progress:
    """Progress to target over a period (the programme, or the phase filtered on) with the
    schedule: how many days ahead (+) or behind (-) a steady pace from its first day to its last."""

    submitted: int
    target: int  # 0: nothing to measure against (no target, or a field filter: see `target_in`)
    as_of: dt.date
    starts_on: dt.date
    ends_on: dt.date
    valid: int = 0

    @property
    def percent(self) -> float:
        """For the bar: the share of the target, at most 100."""
        return min(100.0, self.share)

    @property
    def share(self) -> float:
        """% of the target reached, beyond 100 when it was exceeded."""
        return 100.0 * self.submitted / self.target if self.target else 0.0

    @property
    def ended(self) -> bool:
        """The period is over: what it reached is its final result, not a pace."""
        return self.as_of > self.ends_on

    @property
    def not_started(self) -> bool:
        return self.as_of < self.starts_on

    @property
    def elapsed_days(self) -> int:
        total = (self.ends_on - self.starts_on).days + 1
        return max(0, min(total, (self.as_of - self.starts_on).days + 1))

    @property
    def expected(self) -> int:
        """Where a steady pace from the first day to the last would be by now."""
        total = (self.ends_on - self.starts_on).days + 1
        return round(self.target * self.elapsed_days / total) if total > 0 else self.target

    @property
    def days_ahead(self) -> int | None:
        """Days of steady pace the submissions are ahead (+) or behind (-) the calendar."""
        total = (self.ends_on - self.starts_on).days + 1
        if not self.target or total <= 0:
            return None
        return round(self.submitted * total / self.target) - self.elapsed_days

    @property
    def days_behind(self) -> int:
        return -(self.days_ahead or 0)


def target_in(target: int, *, program: Program, filters: Filters) -> int:
    """What a target (the programme's, or a unit's chỉ tiêu for the whole programme) is under the
    filters (README, "The leadership dashboard"): the data model sets targets for the whole
    programme only, so
    - under a phase, its share of the programme's days: a steady pace over the programme reaches
      this much within the phase (rounded half up);
    - under a field, none (0): nothing says how a target splits between fields, and a share of the
      whole target would call a unit strong in one field behind;
    - the emulation cluster only narrows the rankings: a unit's target is its own either way."""
    if filters.field is not None:
        return 0
    if filters.phase is None:
        return target
    programme_days = (program.ends_on - program.starts_on).days + 1
    phase_days = (filters.phase.ends_on - filters.phase.starts_on).days + 1
    return (2 * target * phase_days + programme_days) // (2 * programme_days)


def with_targets_in(standings: list[Standing], *, program: Program, filters: Filters) -> list[Standing]:
    """The standings with their targets as the filters make them (`target_in`)."""
    for standing in standings:
        standing.target = target_in(standing.target, program=program, filters=filters)
    return standings


def progress(
    *, program: Program, snapshot: LeaderboardSnapshot | None, scope: Union, figures: UnitFigures, filters: Filters
) -> Progress:
    """The scope's progress under the phase and field filters (the cluster narrows only the
    rankings), against its target there (`target_in`) and over the phase's dates when one is
    chosen; the whole tree's target is the programme's."""
    target = program.target if _is_root(scope) else figures.overall.target
    period: Program | Phase = filters.phase or program
    as_of = timezone.localtime(snapshot.taken_at).date() if snapshot else timezone.localdate()
    return Progress(
        submitted=figures.standing.submitted,
        valid=figures.standing.valid,
        target=target_in(target, program=program, filters=filters),
        as_of=as_of,
        starts_on=period.starts_on,
        ends_on=period.ends_on,
    )


def weekly_series(*, snaps: Snapshots, unit: Union, filters: Filters) -> list[tuple[dt.date, int]]:
    """Submissions per week of the unit's subtree, every week from the first to the last shown."""
    snapshot = snaps.current
    if snapshot is None:
        return []
    if unit.depth <= WEEKLY_MAX_DEPTH:
        weeks: QuerySet[Any]
        if snapshot.hot:  # the weekly versions it sees, by the primary key
            weeks = LeaderboardWeekFigure.objects.filter(
                program_id=snapshot.program_id, unit_id=unit.pk, first_seq__lte=snapshot.seq, last_seq__gte=snapshot.seq
            )
            if filters.field:
                weeks = weeks.filter(field_key=filters.field.pk)
        else:
            weeks = LeaderboardWeek.objects.filter(snapshot=snapshot, unit=unit)
            if filters.field:
                weeks = weeks.filter(field=filters.field)
        if filters.phase:
            weeks = weeks.filter(week__gte=_monday(filters.phase.starts_on), week__lte=filters.phase.ends_on)
        counts = dict(weeks.values("week").annotate(n=Sum("submitted")).order_by("week").values_list("week", "n"))
    elif snaps.frozen:
        counts = evidence.weekly_counts(snapshot, unit=unit, filters=filters)
    else:
        initiatives = counted_initiatives(snapshot, phase=filters.phase).filter(unit__path__startswith=unit.path)
        if filters.field:
            initiatives = initiatives.filter(field=filters.field)
        counts = {}
        for week, n in (
            initiatives.annotate(week=TruncWeek("submitted_at"))
            .values("week")
            .annotate(n=Count("pk"))
            .values_list("week", "n")
        ):
            day = timezone.localtime(week).date()
            counts[day] = counts.get(day, 0) + n
    if not counts:
        return []
    first, last = min(counts), max(counts)
    series = []
    week = first
    while week <= last:
        series.append((week, counts.get(week, 0)))
        week += dt.timedelta(days=7)
    return series


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def rank_history(
    *, program: Program, unit: Union, limit: int = 12, until: LeaderboardSnapshot | None = None
) -> list[tuple[LeaderboardSnapshot, int, int]]:
    """The unit's rank in its block and its submitted count in the latest snapshots, or in those up
    to `until` (one query): from the history, as only the latest snapshots keep their ranked rows."""
    sql, params = history.rank_history_sql(
        program_id=program.pk, unit_id=unit.pk, limit=limit, until_seq=until.seq if until else None
    )
    # The raw query's two extra columns become attributes of each snapshot.
    snapshots = LeaderboardSnapshot.objects.raw(sql, params)
    return [(snapshot, snapshot.unit_rank, snapshot.unit_submitted) for snapshot in snapshots]  # type: ignore[attr-defined]


def public_leaders(*, program: Program) -> tuple[LeaderboardSnapshot | None, dict[str, list[Any]]]:
    """The leading units of each block as of the last snapshot, for the public home page (two
    queries): their current rows (or ranked rows) with their unit."""
    snapshot = LeaderboardSnapshot.objects.filter(program=program).order_by("-taken_at").first()
    leaders: dict[str, list[Any]] = {level: [] for level in BLOCKS}
    if snapshot is not None:
        whole = Filters(phase=None, field=None, cluster=None)
        rows = _rows(snapshot, whole)
        if snapshot.hot:
            # Each block's first count from its scale, its rows from the block's index.
            scale = LeaderboardBlockScale.objects.filter(
                snapshot_id=snapshot.pk, phase_key=0, field_key=0, cluster_key=0
            )
            firsts = Q()
            for level in BLOCKS:
                firsts |= Q(level=level, submitted=Subquery(scale.filter(level=level, rank=1).values("submitted")[:1]))
            rows = rows.filter(firsts)
        else:
            rows = rows.filter(level__in=BLOCKS, rank=1)
        rows = rows.select_related("unit")
        for row in rows.order_by("unit__name", "unit__code"):  # the units that tie for first, by name
            leaders[row.level].append(row)
    return snapshot, leaders
