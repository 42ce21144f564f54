"""The leaderboard at national scale: snapshot time and size, what an ordinary hour changes in a
snapshot, dashboard and drill-down server time, and the raw SQL cost of the same top-10 ranking.

Everything it writes into the database is undone at the end, also on failure or Ctrl-C: the
snapshots it takes (their partitions dropped), the initiatives of its ordinary hour, the statuses
it changed, the accounts it created.

Run against the database built by `manage.py seed_scale` (see bench/README.md):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sangkien_scale .venv/bin/python bench/leaderboard.py
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import sys
import time
from collections.abc import Callable

import _django  # noqa: F401  (the project on the path, Django set up)

# isort: split

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.utils import timezone
from snapshot_storage import Hour, changed_rows, ordinary_hour, retained_bytes, snapshot_bytes, undo_hour

from initiatives import counting
from initiatives.models import Field, Initiative, Program
from leaderboard.models import LeaderboardRow, LeaderboardSnapshot, LeaderboardWeek
from leaderboard.snapshots import leaderboard_snapshot, partition_name
from unions.models import EmulationCluster, Union, User

settings.DEBUG = False
settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
REPEAT = 40
# An ordinary hour (issue 18: "a few thousand new or reviewed initiatives").
HOUR_NEW = 3_000
HOUR_REVIEWS = 2_000
MB = 1_000_000
MIB = 1_048_576


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def client_for(username: str, created: list[int], **defaults: object) -> Client:
    user, new = User.objects.get_or_create(username=username, defaults=defaults)
    if new:
        created.append(user.pk)
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, url: str) -> tuple[float, int, float, float, int]:
    """The first request after a snapshot (in ms, and its SQL queries), which renders the page and
    fills the cache, then the median and p95 (ms) of the repeated requests and their queries."""
    cache.clear()

    def first() -> tuple[float, int]:
        queries: list[str] = []

        def count(execute: Callable[..., object], sql: str, *args: object) -> object:
            queries.append(sql)
            return execute(sql, *args)

        with connection.execute_wrapper(count):
            started = time.perf_counter()
            assert client.get(url).status_code == 200, url
            return (time.perf_counter() - started) * 1000, len(queries)

    cold, cold_queries = first()
    _, warm_queries = first()
    samples = timed(lambda: client.get(url), REPEAT)
    return cold, cold_queries, statistics.median(samples), p95(samples), warm_queries


def raw(sql: str, params: list[object], repeat: int = 7) -> float:
    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    return statistics.median(timed(run, repeat))


def machine_speed() -> float:
    """Seconds for 20 million additions in pure Python: machines of the same kind differ by 2× or
    more, so the figures are printed beside this yardstick."""
    started = time.perf_counter()
    total = 0
    for i in range(20_000_000):
        total += i
    return time.perf_counter() - started


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to the PostgreSQL database built by seed_scale.")
    print(f"machine yardstick: 20 million Python additions in {machine_speed():.2f} s")
    program = Program.objects.get(is_active=True)
    units, initiatives = Union.objects.count(), Initiative.objects.filter(program=program).count()
    print(f"{units:,} units, {initiatives:,} initiatives\n")
    before = _state(program)
    snapshots: list[LeaderboardSnapshot] = []
    hour = Hour()
    accounts: list[int] = []
    try:
        _measure(program, units, snapshots, hour, accounts)
    finally:
        _restore(program, before, snapshots, hour, accounts)


def _state(program: Program) -> tuple[object, ...]:
    """What the bench must leave as it found it: the initiatives per status, the snapshots, the
    partitions, the weekly rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT status, COUNT(*), SUM(id) FROM {Initiative._meta.db_table} "
            "WHERE program_id = %s GROUP BY status ORDER BY status",
            [program.pk],
        )
        statuses = tuple(cursor.fetchall())
        cursor.execute(
            f"SELECT COUNT(*) FROM pg_inherits WHERE inhparent = '{LeaderboardRow._meta.db_table}'::regclass"
        )
        partitions = cursor.fetchone()[0]
    return statuses, LeaderboardSnapshot.objects.count(), partitions, LeaderboardWeek.objects.count()


def _restore(
    program: Program, before: tuple[object, ...], snapshots: list[LeaderboardSnapshot], hour: Hour, accounts: list[int]
) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        deleted, restored = undo_hour(cursor, hour)
    taken = [snapshot.pk for snapshot in snapshots]
    for snapshot in snapshots:
        with transaction.atomic():
            snapshot.delete()  # drop_partition drops its partition first, the weeks cascade
    left = [pk for pk in taken if _partition_exists(pk)]
    User.objects.filter(pk__in=accounts).delete()
    after = _state(program)
    print(
        f"\nrestored: {deleted:,} initiatives of the hour deleted, {restored:,} statuses set back, "
        f"{len(snapshots)} snapshots deleted (partitions left: {left or 'none'}), {len(accounts)} accounts deleted; "
        f"database as before: {after == before}"
    )
    if after != before or left:
        sys.exit(f"NOT RESTORED: before {before}, after {after}")


def _partition_exists(snapshot_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [partition_name(snapshot_id)])
        return bool(cursor.fetchone()[0])


def _take(program: Program, when: dt.datetime, snapshots: list[LeaderboardSnapshot]) -> LeaderboardSnapshot:
    snapshot, created = leaderboard_snapshot(program=program, at=when)
    if created:
        snapshots.append(snapshot)
    print(f"snapshot as of {timezone.localtime(when):%d/%m/%Y %H:%M}: {snapshot.seconds:5.1f} s, "
          f"{snapshot.row_count:,} rows{'' if created else ' (already taken)'}")  # fmt: skip
    return snapshot


def _measure(
    program: Program, units: int, snapshots: list[LeaderboardSnapshot], hour: Hour, accounts: list[int]
) -> None:
    # Two snapshots an hour apart, at instants no earlier run used, with an ordinary hour between
    # them: new initiatives submitted within the hour, reviews of older ones. Both come after the
    # programme's latest snapshot (a programme's snapshots only go forward), so after one taken
    # this hour the pair lies ahead of the clock.
    latest = LeaderboardSnapshot.objects.filter(program=program).order_by("-seq").first()
    now = timezone.now().replace(second=0, microsecond=0)
    if latest is not None:
        now = max(now, latest.taken_at.replace(second=0, microsecond=0) + dt.timedelta(hours=1, minutes=1))
    at = now + dt.timedelta(seconds=units % 60 + 1)
    earlier = _take(program, at - dt.timedelta(hours=1), snapshots)
    phase = program.phases.order_by("number").last()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        ordinary_hour(
            cursor, hour, program_id=program.pk, phase_id=phase.pk if phase else None,
            field_ids=list(Field.objects.values_list("pk", flat=True)), after=at - dt.timedelta(hours=1),
            new=HOUR_NEW, reviews=HOUR_REVIEWS,
        )  # fmt: skip
    print(f"an ordinary hour: {len(hour.created):,} initiatives submitted by random grassroots units, "
          f"{len(hour.reviewed):,} submitted ones reviewed ({time.perf_counter() - started:.1f} s)")  # fmt: skip
    snapshot = _take(program, at, snapshots)
    started = time.perf_counter()
    _, created = leaderboard_snapshot(program=program, at=at)
    print(f"the same instant again: {(time.perf_counter() - started) * 1000:.1f} ms, created={created}\n")
    _storage(earlier, snapshot)

    tier2 = Union.objects.filter(level=Union.Level.TIER2).annotate(n=Count("children")).order_by("-n").first()
    superior = Union.objects.filter(level=Union.Level.SUPERIOR, parent=tier2).first()
    phase = program.phases.order_by("number").last()
    field = Field.objects.order_by("position").first()
    cluster = EmulationCluster.objects.order_by("name").first()
    leadership = client_for("bench-leadership", accounts, is_superuser=True, is_staff=True)
    officer = client_for(f"bench-{tier2.code}", accounts, unit=tier2)
    pages = [
        ("leadership", leadership, "/dashboard/"),
        ("leadership", leadership, f"/dashboard/?phase={phase.pk}"),
        ("leadership", leadership, f"/dashboard/?field={field.pk}"),
        ("leadership", leadership, f"/dashboard/?cluster={cluster.pk}"),
        ("leadership", leadership, f"/dashboard/?phase={phase.pk}&field={field.pk}&cluster={cluster.pk}"),
        ("tier-2 officer", officer, "/dashboard/"),
        ("tier-2 officer", officer, f"/dashboard/?field={field.pk}"),
        ("leadership", leadership, "/dashboard/unit/TLD/"),
        ("leadership", leadership, f"/dashboard/unit/{tier2.code}/"),
        ("leadership", leadership, f"/dashboard/unit/{tier2.code}/?field={field.pk}"),
        ("leadership", leadership, f"/dashboard/unit/{superior.code}/"),
    ]
    print(f"{'':74} {'first request':>16}   {'then, ' + str(REPEAT) + ' requests':>27}")
    print(f"{'who':15} {'page':58} {'time':>8} {'queries':>7}   {'median':>8} {'p95':>8} {'queries':>7}")
    medians = {}
    for who, client, url in pages:
        cold, cold_queries, median, high, queries = page(client, url)
        medians[url] = median
        print(f"{who:15} {url:58} {cold:6.1f}ms {cold_queries:7}   {median:6.1f}ms {high:6.1f}ms {queries:7}")

    # The same top 10 (grassroots, whole programme) in raw SQL: read from the snapshot's index,
    # and counted from the initiatives as a page without snapshots would have to.
    stored = raw(
        f"SELECT unit_id, submitted, rank FROM {LeaderboardRow._meta.db_table} "
        "WHERE snapshot_id = %s AND phase_key = 0 AND field_key = 0 AND level = %s ORDER BY rank, unit_id LIMIT 10",
        [snapshot.pk, Union.Level.GRASSROOTS],
    )
    submitted, submitted_params = counting.submitted_sql(alias="i", by=at)
    scratch = raw(
        f"SELECT i.unit_id, COUNT(*) AS n, RANK() OVER (ORDER BY COUNT(*) DESC) "
        f"FROM {Initiative._meta.db_table} i JOIN {Union._meta.db_table} u ON u.id = i.unit_id "
        f"WHERE i.program_id = %s AND {submitted} AND u.level = %s "
        "GROUP BY i.unit_id ORDER BY n DESC LIMIT 10",
        [program.pk, *submitted_params, Union.Level.GRASSROOTS],
        repeat=3,
    )
    dashboard = medians["/dashboard/"]
    print(f"\nraw top-10 SQL, read from the snapshot:      {stored:8.2f} ms")
    print(f"raw top-10 SQL, counted from the initiatives: {scratch:8.1f} ms")
    print(f"dashboard median / raw ranking from the initiatives: {dashboard / scratch:.3f}")
    print(f"dashboard median / raw read from the snapshot:       {dashboard / stored:.0f}")


def _storage(earlier: LeaderboardSnapshot, later: LeaderboardSnapshot) -> None:
    """The snapshot's bytes, the yearly projection under the retention policy, and the rows the
    ordinary hour changed between the two snapshots."""
    with connection.cursor() as cursor:
        size = snapshot_bytes(cursor, later.pk)
        changes = changed_rows(cursor, earlier.pk, later.pk)
    print(f"one snapshot: {size.rows:,} rows, table {size.table / MB:.1f} MB + indexes {size.indexes / MB:.1f} MB; "
          f"weekly series {size.week_rows:,} rows, {size.week_table / MB:.1f} + {size.week_indexes / MB:.1f} MB; "
          f"in all {size.total / MB:.1f} MB ({size.total / size.rows:.0f} B a row); "
          f"the partition alone {(size.table + size.indexes) / MIB:.1f} MiB (pg_size_pretty's MB)")  # fmt: skip
    keep = settings.LEADERBOARD_KEEP_ALL_DAYS
    kept = retained_bytes(size.total, keep_all_days=keep)
    print(f"retention (LEADERBOARD_KEEP_ALL_DAYS = {keep}): 24 × {keep} = {kept.window} hourly snapshots "
          f"= {kept.bytes_window / 1e9:.1f} GB; after a year (24·K + 365 − K) × S = {kept.window + kept.dailies} "
          f"× {size.total / MB:.1f} MB = {kept.bytes_after_a_year / 1e9:.1f} GB, "
          f"then 365 × S = {kept.bytes_per_further_year / 1e9:.1f} GB more a year\n")  # fmt: skip
    print("rows of the second snapshot against the first, after the ordinary hour")
    print(f"{'level':14} {'context':24} {'rows':>9} {'new':>6} {'gone':>6} {'figures':>8} {'rank':>8} {'any':>8}")
    totals = [0] * 6
    for c in changes:
        print(f"{c.level:14} {c.context:24} {c.rows:9,} {c.new:6,} {c.gone:6,} {c.figures:8,} {c.ranks:8,} {c.any:8,}")
        totals = [t + v for t, v in zip(totals, c[2:], strict=True)]
    rows, new, gone, figures, ranks, changed = totals
    print(f"{'all':14} {'':24} {rows:9,} {new:6,} {gone:6,} {figures:8,} {ranks:8,} {changed:8,}")
    keys = new + gone + figures
    print(f"keys whose figures changed (new, gone or different): {keys:,} of {rows:,} ({100 * keys / rows:.1f} %); "
          f"rows with anything different, ranks included: {changed:,} ({100 * changed / rows:.1f} %)")  # fmt: skip
    row = (size.table + size.indexes) / size.rows
    print(f"at the partition's {row:.0f} B a row: the changed keys {keys * row / MB:.1f} MB, "
          f"the rows with anything different {changed * row / MB:.1f} MB\n")  # fmt: skip


if __name__ == "__main__":
    main()
