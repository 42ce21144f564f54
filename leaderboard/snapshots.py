"""Leaderboard snapshots: every unit's figures over its subtree, ranked per level block and cluster.

How the counts are kept (measured at 130,000 units and 2.5 million initiatives, see bench/README.md):
a snapshot counts what changed since the previous one (or, nightly, everything) into the history
(leaderboard.history) and the current rows, with a rank scale for each block, so the dashboard
reads a handful of indexed rows and never aggregates initiatives of a large subtree. The contexts
stored are the whole programme and each phase, for all fields and
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
import logging
import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from initiatives import counting
from initiatives.models import Initiative, Phase, Program
from leaderboard import history, programme
from leaderboard.history import WEEKLY_MAX_DEPTH
from leaderboard.models import (
    LeaderboardBlockScale,
    LeaderboardCurrent,
    LeaderboardRow,
    LeaderboardSnapshot,
    LeaderboardState,
    LeaderboardWeek,
)

__all__ = ["WEEKLY_MAX_DEPTH", "counted_initiatives", "leaderboard_prune", "leaderboard_snapshot", "partition_name"]

logger = logging.getLogger(__name__)

_ROW = LeaderboardRow._meta.db_table
_WEEK = LeaderboardWeek._meta.db_table
_CURRENT = LeaderboardCurrent._meta.db_table


def counted_initiatives(snapshot: LeaderboardSnapshot, *, phase: Phase | None = None) -> QuerySet[Initiative]:
    """The initiatives a snapshot counts (the rule history.counted_sql applies), for the figures counted in
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


def leaderboard_snapshot(
    *, program: Program, at: dt.datetime, full: bool = False, verify: bool = False
) -> tuple[LeaderboardSnapshot, bool]:
    """Take the snapshot of `program` as of `at`, or return the one already taken for that instant.

    Returns (snapshot, created). Idempotent: a second call for the same instant, even concurrent
    with the first, changes nothing. An instant earlier than the programme's latest snapshot raises
    SnapshotOutOfOrder. The new snapshot gets the next `seq` and the latest one as `previous`.

    On PostgreSQL a snapshot that follows the programme's previous one counts only what changed
    since (leaderboard.history); `full` counts everything again, and `verify` counts incrementally,
    then everything, compares and keeps the full recount's figures (the nightly check). SQLite (the
    demo) always counts everything.

    On PostgreSQL a programme's snapshots run one at a time, under a transaction-level advisory lock
    taken by the transaction's first statement; the unique constraints on (program, taken_at) and
    (program, seq) settle whatever slips past it.
    """
    existing = LeaderboardSnapshot.objects.filter(program=program, taken_at=at).first()
    if existing is not None:
        return existing, False
    _refuse_out_of_order(program, at)  # at once, without waiting for a snapshot under way
    started = time.perf_counter()
    # With a transaction of its own (the beat task, the command), every statement of the snapshot
    # reads the same state of the database (REPEATABLE READ): the marks it consumes, the initiatives
    # it counts. Inside a caller's transaction (a test's), it waits for the lock instead.
    own = connection.vendor == "postgresql" and connection.get_autocommit() and not connection.in_atomic_block
    while True:
        try:
            snapshot, created = _take(program, at, own=own, full=full, verify=verify)
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
        # After the commit, in a short transaction of its own: dropping a partition locks the rows
        # table against the dashboard's reads until its transaction ends.
        with transaction.atomic():
            _cool(program)
        if snapshot.differences:
            logger.error(
                "leaderboard snapshot %s of %s: the incremental count differed from the full recount in %s keys, "
                "repaired: %s",
                snapshot.seq,
                program.slug,
                snapshot.differences,
                snapshot.repair_notes,
            )
    return snapshot, created


def _take(
    program: Program, at: dt.datetime, *, own: bool, full: bool, verify: bool
) -> tuple[LeaderboardSnapshot, bool]:
    """leaderboard_snapshot's transaction: the lock, the checks that need it, then the snapshot."""
    with transaction.atomic():
        if own:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        # Inside a caller's transaction the view moves on with each statement: wait for the lock there.
        if not _lock(program, wait=not own):
            raise _Busy
        existing = LeaderboardSnapshot.objects.filter(program=program, taken_at=at).first()
        if existing is not None:
            return existing, False
        latest = _refuse_out_of_order(program, at)
        snapshot = LeaderboardSnapshot.objects.create(
            program=program,
            taken_at=at,
            seq=latest.seq + 1 if latest else 1,
            previous=latest,
            mode=LeaderboardSnapshot.Mode.FULL,
            programme=programme.as_it_is(program),
        )
        _write(snapshot, latest, full=full, verify=verify)
        snapshot.save(update_fields=["row_count", "mode", "changes", "versions", "differences", "repair_notes", "hot"])
        _pin_ends(snapshot)
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


def _follows(snapshot: LeaderboardSnapshot, latest: LeaderboardSnapshot | None) -> bool:
    """Whether `snapshot` can count incrementally: the history and the current rows stand for `latest`."""
    if connection.vendor != "postgresql" or latest is None or not _current_rows_stand_at(latest):
        return False
    state = LeaderboardState.objects.filter(program_id=latest.program_id).first()
    if state is None or state.seq != latest.seq:
        return False  # no history to follow (bulk writes left no marks) or it is not `latest`'s
    # Marks older than that may have been pruned (an inactive programme's).
    return latest.taken_at >= snapshot.taken_at - dt.timedelta(days=settings.COUNT_MARK_KEEP_DAYS)


def _current_rows_stand_at(latest: LeaderboardSnapshot | None) -> bool:
    """Whether the current rows' open versions are `latest`'s: it wrote them (a snapshot taken before
    the current rows did not), and no snapshot after it did (one since deleted: the programme's
    history state would name it). Without a state (bulk writes made the history untrustworthy), the
    current rows still stand where `latest` left them: a full recount diffs them."""
    if latest is None or not latest.hot:
        return False
    state = LeaderboardState.objects.filter(program_id=latest.program_id).first()
    return state is None or state.seq == latest.seq


# The temporary tables a snapshot leaves behind, dropped before its transaction ends.
_TEMPORARY = (
    "lb_fig",
    "lb_weekly",
    "lb_units",
    "lb_counted",
    "lb_dkeys",
    "lb_new_fig",
    "lb_dweeks",
    "lb_new_weeks",
)


def _write(snapshot: LeaderboardSnapshot, latest: LeaderboardSnapshot | None, *, full: bool, verify: bool) -> None:
    """Count, write the history's versions, then the current rows and the snapshot's scales."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The hashes and sorts of a full recount hold a few hundred MB; with the default 4 MB they
            # spill to disk. And no JIT: temporary tables without statistics look huge to the
            # planner, which then spends half a second compiling each statement (2-3 s a snapshot)
            # to save less than that.
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute("SET LOCAL jit = off")
        fresh = not _current_rows_stand_at(latest)
        if fresh:
            # The current rows are about to be written anew: no earlier snapshot can be read there
            # (the live pages then show the previous one's ranked rows if it has them, else no
            # movement, until the next snapshot).
            demoted = list(
                LeaderboardSnapshot.objects.filter(program_id=snapshot.program_id, hot=True).values_list(
                    "pk", flat=True
                )
            )
            LeaderboardSnapshot.objects.filter(pk__in=demoted).update(hot=False)
            LeaderboardBlockScale.objects.filter(snapshot_id__in=demoted).delete()
        written = history.write_incremental(cursor, snapshot) if not full and _follows(snapshot, latest) else None
        if written is not None and not verify:
            history.write_current(cursor, snapshot, full=False, fresh=False)
        else:
            counted = history.write_full(cursor, snapshot, notes=50 if written else 0)
            if written is not None:  # verified: the incremental count, checked and repaired by the full one
                written.mode = LeaderboardSnapshot.Mode.VERIFIED
                written.versions += counted.versions
                written.differences, written.notes = counted.differences, counted.notes
            else:
                written = counted
            history.write_current(cursor, snapshot, full=True, fresh=fresh)
        snapshot.row_count = history.write_scales(cursor, snapshot)
        snapshot.hot = True
        for table in _TEMPORARY:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
    snapshot.mode, snapshot.changes, snapshot.versions = written.mode, written.changes, written.versions
    snapshot.differences, snapshot.repair_notes = written.differences, written.notes
    if snapshot.mode == LeaderboardSnapshot.Mode.FULL:
        # A full recount finds what it finds: only a verified snapshot compares it with something.
        snapshot.differences, snapshot.repair_notes = 0, {}
    LeaderboardState.objects.update_or_create(program_id=snapshot.program_id, defaults={"seq": snapshot.seq})


def _write_rows(cursor: Any, snapshot: LeaderboardSnapshot, *, source: str, units: str) -> int:
    """The snapshot's ranked rows from `source` (unit_id, p, f, figures) and `units` (as it saw them)."""
    if connection.vendor == "postgresql":
        return _write_partition(cursor, snapshot, source=source, units=units)
    cursor.execute(
        history.INSERT_ROWS_SQL.format(table=_ROW, id_column="", id_value="", source=source, units=units),
        [snapshot.pk],
    )
    return cursor.rowcount


def partition_name(snapshot_id: int) -> str:
    """The table holding a snapshot's rows on PostgreSQL (migration 0016 partitions the rows)."""
    return f"{_ROW}_s{int(snapshot_id)}"


def _write_partition(cursor: Any, snapshot: LeaderboardSnapshot, *, source: str, units: str) -> int:
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
        history.INSERT_ROWS_SQL.format(table=part, id_column="id, ", id_value=ids, source=source, units=units),
        [snapshot.pk],
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


def leaderboard_prune(*, program: Program, now: dt.datetime | None = None) -> int:
    """Keep every snapshot of the last LEADERBOARD_KEEP_ALL_DAYS days and, before that, the first
    of each day (the midnight one), every pinned snapshot (evidence) and the one before it (its
    arrows), then delete the versions no kept snapshot can see. Returns the snapshots deleted."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.LEADERBOARD_KEEP_ALL_DAYS)
    snapshots = LeaderboardSnapshot.objects.filter(program=program)
    pinned = set(snapshots.exclude(pinned_reason="").values_list("pk", flat=True))
    pinned |= set(snapshots.filter(pk__in=pinned).exclude(previous=None).values_list("previous_id", flat=True))
    kept_days: set[dt.date] = set()
    doomed: list[int] = []
    seqs: list[int] = []
    old = snapshots.filter(taken_at__lt=cutoff).order_by("taken_at")
    for pk, taken_at, seq in old.values_list("pk", "taken_at", "seq"):
        day = timezone.localtime(taken_at).date()
        if day in kept_days and pk not in pinned:
            doomed.append(pk)
            seqs.append(seq)
        else:
            kept_days.add(day)
    for snapshot in LeaderboardSnapshot.objects.filter(pk__in=doomed):
        # One short transaction each: dropping a partition locks the rows table against the
        # dashboard's reads until the transaction ends.
        with transaction.atomic():
            snapshot.delete()  # drop_partition goes first
    if seqs:
        with transaction.atomic(), connection.cursor() as cursor:
            history.forget(cursor, program_id=program.pk, seqs=(min(seqs), max(seqs)))
    return len(doomed)


def pin(snapshot: LeaderboardSnapshot, reason: str) -> None:
    """Keep `snapshot` for good as evidence (a quarter's or a phase's end, a decision citing it),
    with the snapshot before it (its movement arrows): pruning passes them by, and their figures
    can always be rebuilt exactly (materialize)."""
    LeaderboardSnapshot.objects.filter(pk=snapshot.pk).update(pinned_reason=reason[:200])
    snapshot.pinned_reason = reason[:200]


def ends_marked_by(snapshot: LeaderboardSnapshot) -> list[str]:
    """What ends at the local midnight the snapshot is taken at: a calendar quarter, a phase, the
    programme (their last day was the day before). Empty for any other instant."""
    local = timezone.localtime(snapshot.taken_at)
    if (local.hour, local.minute) != (0, 0):
        return []
    last_day = local.date() - dt.timedelta(days=1)
    ends = []
    if local.day == 1 and local.month in (1, 4, 7, 10):
        ends.append(
            _("end of Q%(quarter)s/%(year)s") % {"quarter": (last_day.month - 1) // 3 + 1, "year": last_day.year}
        )
    for phase in Phase.objects.filter(program_id=snapshot.program_id, ends_on=last_day).order_by("number"):
        ends.append(_("end of %(phase)s") % {"phase": phase.name})
    if snapshot.program.ends_on == last_day:
        ends.append(_("end of the programme"))
    return ends


def _pin_ends(snapshot: LeaderboardSnapshot) -> None:
    """Pin the snapshot when it closes a quarter, a phase or the programme."""
    with translation.override(settings.LANGUAGE_CODE):  # stored, so in the portal's language
        ends = ends_marked_by(snapshot)
        if ends:
            pin(snapshot, ", ".join(ends))


HOT_SNAPSHOTS = 3  # a programme's latest snapshots stay in the current rows (the pages read the latest two)
MATERIALIZED_HOURS = 24  # a kept snapshot rebuilt to be shown keeps its rows this long (and its previous)


def _hot_floor(program: Program) -> int:
    """The highest seq outside the hot window (0 when every snapshot is in it)."""
    seqs = list(
        LeaderboardSnapshot.objects.filter(program=program)
        .order_by("-seq")
        .values_list("seq", flat=True)[HOT_SNAPSHOTS : HOT_SNAPSHOTS + 1]
    )
    return seqs[0] if seqs else 0


def _cool(program: Program) -> None:
    """Take the programme's snapshots older than the HOT_SNAPSHOTS latest out of the current rows,
    and drop their ranked rows (and weekly rows): their history keeps them (materialize rebuilds
    them exactly). One spare beyond the two the pages read, for pages still rendering from the
    cached pair. A snapshot leaves in two steps: the pages stop reading it from the current rows
    (`hot`), and only at the next snapshot (an hour later) are the versions only it saw and its
    block scales deleted, so a page that loaded it just before still reads all of it. A snapshot
    rebuilt to be shown (and the one before it) keeps its ranked rows MATERIALIZED_HOURS."""
    floor = _hot_floor(program)
    if not floor:
        return
    with connection.cursor() as cursor:
        LeaderboardSnapshot.objects.filter(program=program, hot=True, seq__lte=floor).update(hot=False)
        # The snapshots that left the hot window at an earlier cooling: below the next seq down.
        gone = LeaderboardSnapshot.objects.filter(program=program, seq__lt=floor).order_by("-seq").first()
        if gone is not None:
            earlier = LeaderboardSnapshot.objects.filter(program=program, seq__lte=gone.seq).values("pk")
            LeaderboardBlockScale.objects.filter(snapshot_id__in=earlier).delete()
            cursor.execute(f"DELETE FROM {_CURRENT} WHERE program_id = %s AND last_seq <= %s", [program.pk, gone.seq])
        with_rows = _snapshots_with_rows(cursor)
        shown = timezone.now() - dt.timedelta(hours=MATERIALIZED_HOURS)
        recent = LeaderboardSnapshot.objects.filter(program=program, materialized_at__gt=shown)
        spared = {pk for pair in recent.values_list("pk", "previous_id") for pk in pair}
        if connection.vendor == "postgresql":
            # Dropping a partition waits for the reads of the rows table, and every read after it
            # waits for the drop: give up after a moment, the next snapshot cools it.
            cursor.execute("SET LOCAL lock_timeout = '2s'")
        for snapshot in LeaderboardSnapshot.objects.filter(program=program, pk__in=with_rows - spared, seq__lte=floor):
            if not history.has_history(snapshot):
                continue  # taken before the history: kept whole
            if connection.vendor == "postgresql":
                try:
                    with transaction.atomic():
                        cursor.execute(f"DROP TABLE IF EXISTS {partition_name(snapshot.pk)}")
                except OperationalError:
                    logger.warning(
                        "leaderboard snapshot %s: its rows were busy, left for the next snapshot", snapshot.pk
                    )
                    continue
            else:
                cursor.execute(f"DELETE FROM {_ROW} WHERE snapshot_id = %s", [snapshot.pk])
            cursor.execute(f"DELETE FROM {_WEEK} WHERE snapshot_id = %s", [snapshot.pk])


def _snapshots_with_rows(cursor: Any) -> set[int]:
    """The ids of the snapshots that have their ranked rows (a handful: the hot ones)."""
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [_ROW],
        )
        prefix = f"{_ROW}_s"
        return {int(name[len(prefix) :]) for (name,) in cursor.fetchall() if name.startswith(prefix)}
    cursor.execute(f"SELECT DISTINCT snapshot_id FROM {_ROW}")
    return {pk for (pk,) in cursor.fetchall()}


def _has_rows(cursor: Any, snapshot: LeaderboardSnapshot) -> bool:
    if connection.vendor == "postgresql":
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [partition_name(snapshot.pk)])
    else:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {_ROW} WHERE snapshot_id = %s)", [snapshot.pk])
    return bool(cursor.fetchone()[0])


def materialize(snapshot: LeaderboardSnapshot) -> bool:
    """Give a kept snapshot its ranked rows and weekly rows again, rebuilt from the versions it
    sees, exactly as they were written (the same ranking SQL, the units as it saw them). Returns
    False when there was nothing to do (its rows are there). A later snapshot cools it again."""
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(snapshot.program, wait=True)  # not while a snapshot of the programme writes
        if _has_rows(cursor, snapshot) or not history.has_history(snapshot):
            return False
        history.temp_table(cursor, "lb_fig_at", history.figures_at_sql(snapshot))
        history.temp_table(cursor, "lb_units_at", history.units_at_sql(snapshot))
        _write_rows(cursor, snapshot, source="lb_fig_at", units="lb_units_at")
        cursor.execute(
            f"INSERT INTO {_WEEK} (snapshot_id, unit_id, week, field_id, submitted) "
            f"SELECT %s, unit_id, week, NULLIF(field_key, 0), submitted FROM ({history.weeks_at_sql(snapshot)}) w",
            [snapshot.pk],
        )
        cursor.execute("DROP TABLE lb_fig_at")
        cursor.execute("DROP TABLE lb_units_at")
        LeaderboardSnapshot.objects.filter(pk=snapshot.pk).update(materialized_at=timezone.now())
    return True


def scale_rank(snapshot: LeaderboardSnapshot, *, in_cluster: bool) -> Subquery:
    """A current row's rank in its block (or in its block within its cluster: None without one):
    its count's in the snapshot's block scale, one lookup by the scale's primary key."""
    return Subquery(
        LeaderboardBlockScale.objects.filter(
            snapshot_id=snapshot.pk,
            phase_key=OuterRef("phase_key"),
            field_key=OuterRef("field_key"),
            level=OuterRef("level"),
            cluster_key=OuterRef("cluster_id") if in_cluster else 0,
            submitted=OuterRef("submitted"),
        ).values("rank")[:1]
    )


def rows_of(snapshot: LeaderboardSnapshot) -> QuerySet[Any]:
    """Every row of a snapshot with its `rank` and `cluster_rank`, as the live pages read them: a hot
    snapshot's current rows, ranked by its block scales; any other's ranked rows, with the ranks
    they hold (none once it has cooled, until materialize rebuilds them)."""
    if snapshot.hot:
        return current_rows(snapshot).annotate(
            rank=scale_rank(snapshot, in_cluster=False), cluster_rank=scale_rank(snapshot, in_cluster=True)
        )
    return LeaderboardRow.objects.filter(snapshot=snapshot)


def current_rows(snapshot: LeaderboardSnapshot) -> QuerySet[LeaderboardCurrent]:
    """The current rows a (hot) snapshot sees: the versions of its programme open at its seq."""
    return LeaderboardCurrent.objects.filter(
        program_id=snapshot.program_id, first_seq__lte=snapshot.seq, last_seq__gte=snapshot.seq
    )


def has_ranked_rows(snapshot: LeaderboardSnapshot) -> bool:
    """Whether the snapshot has its ranked rows (the evidence pages read them)."""
    with connection.cursor() as cursor:
        return _has_rows(cursor, snapshot)


@receiver(pre_delete, sender=LeaderboardSnapshot)
def drop_partition(sender: type, instance: LeaderboardSnapshot, **kwargs: Any) -> None:
    """A deleted snapshot's rows go with their partition, at once, before Django's cascade would
    delete them one by one (it then finds none)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {partition_name(instance.pk)}")
