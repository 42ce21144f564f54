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

The marks: every write that may change what an initiative counts for marks it (`mark`), in the
writer's transaction, so that a snapshot can re-count only the marked initiatives
(docs/leaderboard-storage.md §2.3). Saves and deletes of the model mark through signals
(`mark_saved`, connected in `InitiativesConfig.ready`); the services' `.update()` and the
import's `bulk_create` mark explicitly; tests/initiatives/test_count_marks.py fails on a new
write path that is not on its list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import connection
from django.db.models import Count, Q, Sum

from initiatives.models import CountMark, Initiative, Phase
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


def roll_up(
    cursor: Any, *, table: str, keys: Sequence[str], sums: Sequence[str], deepest: int, top: int, tree: str = ""
) -> None:
    """Add the figures of every unit deeper than `top` to its parent's, one level at a time from
    `deepest` up: `table` holds rows (unit_id, depth, *keys, *sums); the rows at `depth` are
    grouped by parent and `keys` and inserted at `depth - 1`, so when a level is summed it already
    holds everything below it. A unit's subtree figures are then the sum of its rows.

    `tree` is the table of the tree to roll up along (columns id, parent_id): the units' own by
    default, or the tree as a snapshot saw it (leaderboard.history)."""
    union = tree or Union._meta.db_table
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


# Set while a service marks for itself what it saves (`marks_deferred`).
_deferred: ContextVar[bool] = ContextVar("count_marks_deferred", default=False)


def mark(ids: Iterable[int]) -> None:
    """Mark initiatives for re-counting by the next snapshot: one INSERT for all of them, in the
    caller's transaction, so a mark becomes visible exactly when the change it stands for does.
    A mark holds no values: the snapshot reads the initiative as it is then."""
    unique = sorted(set(ids))
    if not unique:
        return
    if connection.vendor == "postgresql":
        # One array parameter whatever the count: an import's 20,000 ids in 70 ms, against 250–370 ms
        # through bulk_create's row of parameters per mark and its RETURNING of ids no one reads.
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {CountMark._meta.db_table} (initiative_id) SELECT unnest(%s::bigint[])", [unique]
            )
    else:
        CountMark.objects.bulk_create([CountMark(initiative_id=pk) for pk in unique])


def mark_saved(sender: type[Initiative], instance: Initiative, **kwargs: Any) -> None:
    """post_save and post_delete of an initiative (any write through the model: the services'
    saves, the admin's edits and deletes, the factories, a queryset's delete)."""
    if not _deferred.get():
        mark([instance.pk])


@contextmanager
def marks_deferred() -> Iterator[None]:
    """Inside, saving or deleting an initiative marks nothing: the caller marks once, after its
    last write, in the same transaction. A submission saves the initiative, then claims it with an
    UPDATE; this keeps it at one mark (one INSERT), not two."""
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)
