"""The counting rule and the roll-up, written once for every figure the portal shows.

The rule (glossary: "submitted", "valid", "value benefit"):
- an initiative counts as submitted when it is not a draft and was submitted at or before the
  instant the figures are "as of" (submitted, valid, returned and rejected all count: a returned
  or rejected initiative was submitted; the board's verdict is in "valid");
- it counts as valid when the board accepted it; the value benefit sums the valid ones' only.

The roll-up: a unit's figures are those of its whole subtree, summed up the tree one level at a
time, deepest first, so each level adds rows already summed below it.

The dashboard and the public pages count in the ORM (the Q objects and aggregates below); the
leaderboard snapshot and the emulation workbook count millions of rows in SQL of their own (the
fragments below), and roll up in temporary tables (`roll_up`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Q, Sum

from initiatives.models import Initiative, Phase
from initiatives.querysets import InitiativeQuerySet
from unions.models import Union


def submitted(*, by: dt.datetime | None = None) -> Q:
    """Initiatives that count as submitted by the instant `by` (None: by now, which every one
    that is not a draft was)."""
    rule = ~Q(status=Initiative.Status.DRAFT)
    return rule if by is None else Q(submitted_at__lte=by) & rule


def valid() -> Q:
    """Initiatives that count as valid: the only ones whose value benefit counts."""
    return Q(status=Initiative.Status.VALID)


def figures() -> dict[str, Any]:
    """A group's submitted, valid and value-benefit figures, over initiatives already narrowed to
    those `submitted` counts (`counted_initiatives`)."""
    return {
        "submitted": Count("pk"),
        "valid": Count("pk", filter=valid()),
        "value_vnd": Sum("value_vnd", filter=valid(), default=0),
    }


def counted_initiatives(*, program_id: int, as_of: dt.datetime, phase: Phase | None = None) -> InitiativeQuerySet:
    """The programme's initiatives that count as submitted as of `as_of`, in `phase` when given."""
    initiatives = Initiative.objects.filter(program_id=program_id).filter(submitted(by=as_of))
    return initiatives.filter(phase=phase) if phase else initiatives


# The same rule for raw SQL: each fragment with its parameters, for an initiatives table aliased `alias`.


def submitted_sql(*, alias: str, by: dt.datetime) -> tuple[str, list[Any]]:
    """WHERE condition: the initiative counts as submitted by the instant `by`."""
    return f"{alias}.status <> %s AND {alias}.submitted_at <= %s", [Initiative.Status.DRAFT, by]


def valid_sql(*, alias: str) -> tuple[str, list[Any]]:
    """Condition (for a CASE): the initiative counts as valid, and so does its value benefit."""
    return f"{alias}.status = %s", [Initiative.Status.VALID]


def roll_up(cursor: Any, *, table: str, keys: Sequence[str], sums: Sequence[str], deepest: int, top: int) -> None:
    """Add the figures of every unit deeper than `top` to its parent's, one level at a time from
    `deepest` up: `table` holds rows (unit_id, depth, *keys, *sums); the rows at `depth` are
    grouped by parent and `keys` and inserted at `depth - 1`, so when a level is summed it already
    holds everything below it. A unit's subtree figures are then the sum of its rows."""
    union = Union._meta.db_table
    columns = ", ".join(f"x.{key}" for key in keys)
    totals = ", ".join(f"SUM(x.{column})" for column in sums)
    insert = ", ".join(["unit_id", *keys, *sums, "depth"])
    sql = (
        f"INSERT INTO {table} ({insert}) "
        f"SELECT u.parent_id, {columns + ', ' if keys else ''}{totals}, %s "
        f"FROM {table} x JOIN {union} u ON u.id = x.unit_id "
        f"WHERE x.depth = %s GROUP BY u.parent_id{', ' + columns if keys else ''}"
    )
    for depth in range(deepest, top, -1):
        cursor.execute(sql, [depth - 1, depth])
