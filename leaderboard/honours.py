"""Honours proposals computed from a snapshot (issue 19, item 2).

For a period (a calendar quarter, a phase, the whole programme) and a scope (the whole tree or a
unit's subtree), a proposal lists, per level block and per emulation cluster within it, the unit(s)
with the most initiatives of the period (ties share the place), and marks which of them meet the
programme's rule (HonourRule: the count used, submitted or valid, and how far above its own target
for the period a unit must be).

Everything counted is read as the snapshot saw it: the units (level, cluster, place in the tree,
programme target) from their versions, the programme's and its phases' dates from what it kept of
them (leaderboard.programme), a quarter's figures from what it counted (history.quarter_figures), a
phase's or the programme's from its figure versions. So computing a proposal again from the same
snapshot gives the same figures. Two inputs are read as they are now: the programme's rule
(HonourRule) and the quarter targets assigned in the admin (QuarterTarget, not versioned); a
decision (the next step) freezes the rule and the targets it used.

Targets for a period: a quarter's by initiatives.quarters (assigned, or the days' share of the
programme target the snapshot saw); a phase's, the phase's share of the programme target, as the
dashboard counts it (leaderboard.dashboard.target_in); the programme's, the programme target. A unit
with no target for the period (none assigned, a programme target of 0, or a share that rounds to 0)
cannot be above it: it may lead, but does not meet the rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from initiatives.models import Phase, Program, QuarterTarget
from initiatives.quarters import Quarter, days_within, derived_target
from leaderboard import history, programme
from leaderboard.dashboard import Filters, target_in
from leaderboard.models import HonourRule, LeaderboardFigure, LeaderboardSnapshot, LeaderboardUnitVersion
from sangkien.text import vietnamese_sort_key
from unions.levels import BLOCKS, LEVEL_RANK


@dataclass(frozen=True)
class Period:
    """A quarter, a phase, or (neither) the whole programme."""

    quarter: Quarter | None = None
    phase: Phase | None = None


@dataclass(frozen=True)
class Seen:
    """A unit as the snapshot saw it."""

    unit_id: int
    code: str
    name: str
    parent_id: int | None
    level: str
    cluster_id: int | None
    target: int  # its programme target then


@dataclass(frozen=True)
class Candidate:
    unit: Seen
    count: int  # the period's initiatives, by the rule's count
    target: int | None  # its target for the period; None: it has none
    meets: bool  # it has a target and count >= target + the rule's margin


@dataclass(frozen=True)
class Group:
    """A level block (cluster_id None) or an emulation cluster within one, and its leading units."""

    level: str
    cluster_id: int | None
    leaders: list[Candidate]


@dataclass
class Proposal:
    snapshot: LeaderboardSnapshot
    period: Period
    scope_id: int | None  # None: the whole tree
    count: str
    margin: int
    groups: list[Group] = field(default_factory=list)
    scope_name: str = ""  # the scope's name as the snapshot saw it ("" for the whole tree)


def rule_of(program: Program) -> tuple[str, int]:
    """The programme's (count, margin), or the defaults of the guidance."""
    rule = HonourRule.objects.filter(program=program).first()
    if rule is None:
        return HonourRule.Count.SUBMITTED, 1
    return rule.count, rule.margin


def _units(snapshot: LeaderboardSnapshot) -> dict[int, Seen]:
    versions = LeaderboardUnitVersion.objects.filter(
        program_id=snapshot.program_id, first_seq__lte=snapshot.seq, last_seq__gte=snapshot.seq
    ).values_list("unit_id", "code", "name", "parent_id", "level", "cluster_id", "target")
    return {row[0]: Seen(*row) for row in versions}


def _in_scope(units: dict[int, Seen], scope_id: int | None) -> set[int]:
    """The ids of the scope's subtree as the snapshot saw it (every unit for the whole tree)."""
    if scope_id is None:
        return set(units)
    children: dict[int | None, list[int]] = {}
    for unit in units.values():
        children.setdefault(unit.parent_id, []).append(unit.unit_id)
    found, stack = set(), [scope_id] if scope_id in units else []
    while stack:
        unit_id = stack.pop()
        found.add(unit_id)
        stack.extend(children.get(unit_id, ()))
    return found


def _counts(snapshot: LeaderboardSnapshot, period: Period, count: str) -> dict[int, int]:
    """Each unit's count of the period over its subtree, as the snapshot counted it."""
    index = 0 if count == HonourRule.Count.SUBMITTED else 1
    if period.quarter is not None:
        figures = history.quarter_figures(snapshot, quarter_key=period.quarter.key)
        return {unit_id: values[index] for unit_id, values in figures.items()}
    column = "submitted" if index == 0 else "valid"
    versions = LeaderboardFigure.objects.filter(
        program_id=snapshot.program_id,
        phase_key=period.phase.pk if period.phase else 0,
        field_key=0,
        first_seq__lte=snapshot.seq,
        last_seq__gte=snapshot.seq,
    ).values_list("unit_id", column)
    return dict(versions)


def _targets(program: Program, period: Period, units: dict[int, Seen], ids: set[int]) -> dict[int, int]:
    if period.quarter is not None:
        quarter = period.quarter
        assigned = dict(
            QuarterTarget.objects.filter(program=program, year=quarter.year, quarter=quarter.number).values_list(
                "unit_id", "quantity"
            )
        )
        return {
            unit_id: assigned.get(unit_id, derived_target(units[unit_id].target, program=program, quarter=quarter))
            for unit_id in ids
        }
    filters = Filters(phase=period.phase)
    return {unit_id: target_in(units[unit_id].target, program=program, filters=filters) for unit_id in ids}


class NoSuchPeriod(ValueError):
    """The period or the scope is not one the snapshot can answer for."""


def _programme_seen(snapshot: LeaderboardSnapshot, period: Period) -> tuple[Program, Period]:
    """The programme (dates, target) and the period's phase as the snapshot saw them (as they are
    now for a snapshot taken before it kept them)."""
    program = snapshot.program
    seen = programme.as_seen(snapshot.programme, program_id=program.pk)
    phase = period.phase
    if phase is not None and phase.program_id != program.pk:
        raise NoSuchPeriod(f"phase {phase.pk} is not one of programme {program.pk}'s")
    if seen is not None:
        program = seen.program
        if phase is not None:
            phase = next((kept for kept in seen.phases if kept.pk == phase.pk), phase)
    if period.quarter is not None and not days_within(program, period.quarter):
        raise NoSuchPeriod(f"{period.quarter.key} is outside programme {program.pk}")
    return program, Period(quarter=period.quarter, phase=phase)


def propose(snapshot: LeaderboardSnapshot, *, period: Period, scope_id: int | None = None) -> Proposal:
    """The leading units of each level block and emulation cluster below the scope in the period,
    as the snapshot counted them, with whether each meets the programme's rule. NoSuchPeriod for a
    phase of another programme, a quarter outside the programme or a scope the snapshot did not
    see; history.NoMirror for a snapshot older than the history, for a quarter."""
    count, margin = rule_of(snapshot.program)
    program, period = _programme_seen(snapshot, period)
    units = _units(snapshot)
    if scope_id is not None and scope_id not in units:
        raise NoSuchPeriod(f"unit {scope_id} was not in snapshot {snapshot.pk}")
    ids = _in_scope(units, scope_id)
    counts = _counts(snapshot, period, count)
    floor = LEVEL_RANK[units[scope_id].level] if scope_id is not None else 0
    proposal = Proposal(
        snapshot=snapshot,
        period=period,
        scope_id=scope_id,
        count=count,
        margin=margin,
        scope_name=units[scope_id].name if scope_id is not None else "",
    )
    groups: dict[tuple[str, int | None], list[int]] = {}
    for unit_id in ids:
        unit = units[unit_id]
        if unit.level not in BLOCKS or LEVEL_RANK[unit.level] <= floor or not counts.get(unit_id):
            continue
        groups.setdefault((unit.level, None), []).append(unit_id)
        if unit.cluster_id is not None:
            groups.setdefault((unit.level, unit.cluster_id), []).append(unit_id)
    leading = {key: _leaders(members, counts) for key, members in groups.items()}
    targets = _targets(program, period, units, {unit_id for members in leading.values() for unit_id in members})
    for (level, cluster_id), members in sorted(leading.items(), key=_group_order):
        leaders = [
            Candidate(
                unit=units[unit_id],
                count=counts[unit_id],
                target=targets[unit_id] or None,
                meets=bool(targets[unit_id]) and counts[unit_id] >= targets[unit_id] + margin,
            )
            for unit_id in members
        ]
        leaders.sort(key=lambda candidate: (vietnamese_sort_key(candidate.unit.name), candidate.unit.code))
        proposal.groups.append(Group(level=level, cluster_id=cluster_id, leaders=leaders))
    return proposal


def _leaders(members: list[int], counts: dict[int, int]) -> list[int]:
    """The members with the highest count (ties share the place)."""
    best = max(counts[unit_id] for unit_id in members)
    return [unit_id for unit_id in members if counts[unit_id] == best]


def _group_order(item: tuple[tuple[str, int | None], Any]) -> tuple[int, int, int]:
    """Blocks from the highest level; in each, the whole block first, then its clusters by id."""
    (level, cluster_id), _members = item
    return (LEVEL_RANK[level], 0 if cluster_id is None else 1, cluster_id or 0)
