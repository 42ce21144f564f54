"""The leaderboard at national scale: snapshot time, dashboard and drill-down server time, and the
raw SQL cost of the same top-10 ranking.

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
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from initiatives import counting
from initiatives.models import Field, Initiative, Program
from leaderboard.models import LeaderboardRow
from leaderboard.snapshots import leaderboard_snapshot
from unions.models import EmulationCluster, Union, User

settings.DEBUG = False
settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
REPEAT = 40


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


def client_for(username: str, **defaults: object) -> Client:
    user, _ = User.objects.get_or_create(username=username, defaults=defaults)
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

    # Two snapshots an hour apart, at instants no earlier run used, so the second has movement.
    at = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(seconds=units % 60 + 1)
    for when in (at - dt.timedelta(hours=1), at):
        snapshot, created = leaderboard_snapshot(program=program, at=when)
        print(f"snapshot as of {timezone.localtime(when):%d/%m/%Y %H:%M}: {snapshot.seconds:5.1f} s, "
              f"{snapshot.row_count:,} rows{'' if created else ' (already taken)'}")  # fmt: skip
    started = time.perf_counter()
    _, created = leaderboard_snapshot(program=program, at=at)
    print(f"the same instant again: {(time.perf_counter() - started) * 1000:.1f} ms, created={created}\n")

    tier2 = Union.objects.filter(level=Union.Level.TIER2).annotate(n=Count("children")).order_by("-n").first()
    superior = Union.objects.filter(level=Union.Level.SUPERIOR, parent=tier2).first()
    phase = program.phases.order_by("number").last()
    field = Field.objects.order_by("position").first()
    cluster = EmulationCluster.objects.order_by("name").first()
    leadership = client_for("bench-leadership", is_superuser=True, is_staff=True)
    officer = client_for(f"bench-{tier2.code}", unit=tier2)
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


if __name__ == "__main__":
    main()
