"""Leaderboard snapshots and the dashboard, on a small tree with hand-computed figures.

TLD → Công Thương (tier 2) → Thép (superior) → Gang thép (grassroots, cluster A)
                           → Rạng Đông (grassroots, cluster B)
    → Hà Nội (tier 2)      → Bia Hà Nội (grassroots, cluster A)
                           → Điện Hà Nội (grassroots, no initiative)

Gang thép: 3 in phase 1 / field K (1 valid of 10 million, 1 returned, 1 rejected), 1 in phase 2 /
field M, 1 draft. Rạng Đông: 2 valid (5 and 7 million) in phase 2 / K, 2 submitted in phase 2 / M.
Bia: 2 submitted in phase 1 / M. So grassroots: Gang thép 4 and Rạng Đông 4 share rank 1, Bia is 3rd.
"""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
import re
import threading
import time

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from initiatives.models import CountMark, Initiative
from leaderboard import dashboard as board
from leaderboard import history
from leaderboard import snapshots as leaderboard
from leaderboard.models import (
    LeaderboardBlockScale,
    LeaderboardCurrent,
    LeaderboardFigure,
    LeaderboardRow,
    LeaderboardSnapshot,
    LeaderboardState,
    LeaderboardWeekFigure,
)
from leaderboard.snapshots import leaderboard_prune, leaderboard_snapshot, partition_name, rows_of, snapshot_instant
from tests.factories import (
    EmulationClusterFactory,
    FieldFactory,
    InitiativeFactory,
    ProgramFactory,
    UnionFactory,
    UserFactory,
)
from unions.models import Union

pytestmark = pytest.mark.django_db

S = Initiative.Status
MILLION = 1_000_000


def snap(data, at=None):
    return leaderboard_snapshot(program=data["program"], at=at or data["now"])[0]


def row(snapshot, unit, phase=None, field=None):
    return rows_of(snapshot).get(unit=unit, phase_key=phase.pk if phase else 0, field_key=field.pk if field else 0)


def test_a_units_figures_roll_up_its_whole_subtree(data, unit_tree) -> None:
    snapshot = snap(data)
    ctvn = row(snapshot, unit_tree.cong_thuong)
    # Gang thép 4 + Rạng Đông 4; valid: 1 + 2; value of the valid ones only: 10 + 5 + 7 million.
    assert (ctvn.submitted, ctvn.valid, ctvn.value_vnd, ctvn.participating) == (8, 3, 22 * MILLION, 2)
    assert (ctvn.target, ctvn.rank) == (10, 1)
    hn = row(snapshot, unit_tree.ha_noi)
    assert (hn.submitted, hn.valid, hn.participating, hn.rank) == (2, 0, 1, 2)
    root = row(snapshot, unit_tree.root)
    assert (root.submitted, root.valid, root.participating) == (10, 3, 3)
    assert (row(snapshot, unit_tree.thep).submitted, row(snapshot, unit_tree.thep).rank) == (4, 1)


def test_drafts_do_not_count_and_returned_or_rejected_count_as_submitted_not_valid(data, unit_tree) -> None:
    gang_thep = row(snap(data), unit_tree.gang_thep)
    # 5 initiatives, one a draft; the returned and the rejected one were submitted, only one is valid,
    # and the 99 million claimed by the returned and the rejected one is not a benefit.
    assert (gang_thep.submitted, gang_thep.valid, gang_thep.value_vnd) == (4, 1, 10 * MILLION)


def test_equal_counts_share_a_rank_and_the_next_rank_is_skipped(data, unit_tree) -> None:
    snapshot = snap(data)
    ranks = {r.unit_id: r.rank for r in rows_of(snapshot).filter(phase_key=0, field_key=0, level="grassroots")}
    assert ranks == {unit_tree.gang_thep.pk: 1, unit_tree.rang_dong.pk: 1, unit_tree.bia.pk: 3}
    # A unit with no submission has no row: it is not ranked.
    assert data["dien"].pk not in ranks


def test_rankings_per_phase_field_and_cluster(data, unit_tree) -> None:
    snapshot = snap(data)
    phase1 = data["phase1"]
    assert row(snapshot, unit_tree.gang_thep, phase=phase1).submitted == 3
    assert row(snapshot, unit_tree.bia, phase=phase1).rank == 2
    assert not rows_of(snapshot).filter(unit=unit_tree.rang_dong, phase_key=phase1.pk)
    management = data["management"]
    # By field, above grassroots level: Công Thương 1 + 2, Hà Nội 2.
    assert row(snapshot, unit_tree.cong_thuong, field=management).submitted == 3
    assert row(snapshot, unit_tree.ha_noi, field=management).rank == 2
    assert row(snapshot, unit_tree.ha_noi, phase=phase1, field=management).rank == 1
    # In cluster A (Gang thép 4, Bia 2) and B (Rạng Đông 4).
    assert row(snapshot, unit_tree.bia).cluster_rank == 2
    assert row(snapshot, unit_tree.rang_dong).cluster_rank == 1


def test_a_snapshot_counts_what_was_submitted_up_to_its_instant(data, unit_tree) -> None:
    # 1 July 2022 is after every phase-1 submission and at the phase-2 ones.
    snapshot = snap(data, at=timezone.make_aware(dt.datetime(2022, 6, 30)))
    assert row(snapshot, unit_tree.root).submitted == 5  # Gang thép 3, Bia 2


def test_a_second_snapshot_for_the_same_instant_changes_nothing(data, unit_tree) -> None:
    first, created = leaderboard_snapshot(program=data["program"], at=data["now"])
    rows = LeaderboardCurrent.objects.count()
    InitiativeFactory(program=data["program"], unit=unit_tree.bia, submitted_at=data["now"] - dt.timedelta(days=1))
    again, created_again = leaderboard_snapshot(program=data["program"], at=data["now"])
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert LeaderboardCurrent.objects.count() == rows
    assert row(again, unit_tree.bia).submitted == 2


def test_each_snapshot_follows_the_previous_one_of_its_programme(data) -> None:
    first = snap(data)
    second = snap(data, at=data["now"] + dt.timedelta(hours=1))
    other = ProgramFactory(slug="chuong-trinh-khac")
    elsewhere, _ = leaderboard_snapshot(program=other, at=data["now"] + dt.timedelta(hours=2))
    assert [(s.seq, s.previous_id, s.mode) for s in (first, second, elsewhere)] == [
        (1, None, "full"),
        (2, first.pk, "incremental"),  # it follows the first: only what changed is counted
        (1, None, "full"),  # seq counts per programme
    ]
    third = snap(data, at=data["now"] + dt.timedelta(hours=3))
    assert (third.seq, third.previous_id) == (3, second.pk)
    second.delete()  # pruned: the one after it is kept, pointing at nothing
    third.refresh_from_db()
    assert (third.seq, third.previous_id) == (3, None)


def test_a_snapshot_earlier_than_the_latest_one_is_refused(data) -> None:
    latest = snap(data, at=data["now"])
    with pytest.raises(leaderboard.SnapshotOutOfOrder, match=r"as of 02/01/2023 08:00; .* 02/01/2023 07:00") as refused:
        snap(data, at=data["now"] - dt.timedelta(hours=1))
    assert refused.value.latest == latest
    assert list(LeaderboardSnapshot.objects.values_list("pk", flat=True)) == [latest.pk]
    # The latest instant itself is the same snapshot again, and a later one follows it.
    assert leaderboard_snapshot(program=data["program"], at=data["now"]) == (latest, False)
    assert snap(data, at=data["now"] + dt.timedelta(minutes=1)).previous == latest


def test_an_instant_between_two_snapshots_is_refused_and_an_old_one_is_found_again(data) -> None:
    older = snap(data, at=data["now"] - dt.timedelta(hours=2))
    snap(data)
    with pytest.raises(leaderboard.SnapshotOutOfOrder):
        snap(data, at=data["now"] - dt.timedelta(hours=1))
    # An instant already taken is returned as it is, however old (a retried task, a rerun seed_demo).
    assert leaderboard_snapshot(program=data["program"], at=older.taken_at) == (older, False)


def test_the_command_refuses_an_earlier_instant_in_vietnamese(data) -> None:
    call_command("snapshot_leaderboard", "--at", "02/01/2023 08:00")
    with translation.override("vi"), pytest.raises(CommandError) as refused:
        call_command("snapshot_leaderboard", "--at", "02/01/2023 07:00")
    expected = gettext_noop(
        "%(program)s: the latest snapshot is as of %(latest)s; no snapshot can be taken "
        "as of an earlier instant (%(at)s)."
    )
    with translation.override("vi"):
        vietnamese = translation.gettext(expected)
    assert str(refused.value) == vietnamese % {
        "program": data["program"].slug,
        "latest": "02/01/2023 08:00",
        "at": "02/01/2023 07:00",
    }
    assert LeaderboardSnapshot.objects.count() == 1


def _snapshot_on_another_connection(data, at, results: dict) -> threading.Thread:
    """A snapshot taken in a thread of its own, in a transaction of its own (as the beat's)."""

    def run() -> None:
        try:
            results[at] = leaderboard_snapshot(program=data["program"], at=at)
        except Exception as error:  # the test reads it
            results[at] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _waiting_for_an_advisory_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0]


def _hold_the_first_snapshot(data, monkeypatch) -> tuple[threading.Event, threading.Event]:
    """The snapshot as of data["now"] stops in the middle of its transaction until released."""
    writing, release = threading.Event(), threading.Event()
    write = leaderboard._write

    def held(snapshot, latest, **options):
        if snapshot.taken_at == data["now"]:
            writing.set()
            assert release.wait(timeout=30)
        return write(snapshot, latest, **options)

    monkeypatch.setattr(leaderboard, "_write", held)
    return writing, release


def _until(condition) -> bool:
    for _ in range(100):
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_later_snapshot_waits_for_the_one_under_way_and_follows_it(data, monkeypatch) -> None:
    writing, release = _hold_the_first_snapshot(data, monkeypatch)
    results: dict = {}
    first = _snapshot_on_another_connection(data, data["now"], results)
    try:
        assert writing.wait(timeout=30)
        later = data["now"] + dt.timedelta(hours=1)
        second = _snapshot_on_another_connection(data, later, results)
        assert _until(lambda: _waiting_for_an_advisory_lock() == 1)  # it waits for the programme's lock
        assert second.is_alive()
    finally:
        release.set()
        first.join(timeout=60)
    second.join(timeout=60)
    (before, created_before), (after, created_after) = results[data["now"]], results[later]
    assert created_before and created_after
    assert (before.seq, after.seq, after.previous_id) == (1, 2, before.pk)


@pytest.mark.django_db(transaction=True)
def test_two_snapshots_of_the_same_instant_at_once_take_it_once(data, monkeypatch) -> None:
    writing, release = _hold_the_first_snapshot(data, monkeypatch)
    results: dict = {}
    first = _snapshot_on_another_connection(data, data["now"], results)
    try:
        assert writing.wait(timeout=30)
        again: dict = {}
        second = _snapshot_on_another_connection(data, data["now"], again)
        assert _until(lambda: _waiting_for_an_advisory_lock() == 1)
    finally:
        release.set()
        first.join(timeout=60)
    second.join(timeout=60)
    (taken, created), (found, created_again) = results[data["now"]], again[data["now"]]
    assert (created, created_again) == (True, False)
    assert found.pk == taken.pk and LeaderboardSnapshot.objects.get().seq == 1


def test_the_migration_numbers_existing_snapshots_in_the_order_of_their_instants(data) -> None:
    numbering = importlib.import_module("leaderboard.migrations.0002_snapshot_seq")
    other = ProgramFactory(slug="chuong-trinh-khac")
    # Created out of order (as ids go), the way no service would: as if from before the numbering.
    made = [
        LeaderboardSnapshot.objects.create(program=program, taken_at=data["now"] + dt.timedelta(hours=h), seq=100 + i)
        for i, (program, h) in enumerate(
            [(data["program"], 2), (other, 5), (data["program"], 0), (data["program"], 1), (other, 3)]
        )
    ]
    with connection.schema_editor() as editor:
        numbering.number_snapshots(django_apps, editor)
    late, other_late, early, middle, other_early = (
        LeaderboardSnapshot.objects.get(pk=snapshot.pk) for snapshot in made
    )
    assert [(s.seq, s.previous_id) for s in (early, middle, late)] == [(1, None), (2, early.pk), (3, middle.pk)]
    assert [(s.seq, s.previous_id) for s in (other_early, other_late)] == [(1, None), (2, other_early.pk)]


def test_the_hourly_instant_is_the_hour_so_a_rerun_lands_on_the_same_snapshot() -> None:
    moment = timezone.make_aware(dt.datetime(2026, 11, 24, 10, 37, 12))
    assert snapshot_instant(moment, hourly=True) == timezone.make_aware(dt.datetime(2026, 11, 24, 10))
    assert snapshot_instant(moment) == timezone.make_aware(dt.datetime(2026, 11, 24, 10, 37))


def weeks_seen(snapshot, unit=None) -> list[tuple]:
    """The weekly counts the snapshot sees (its weekly versions): (unit id, Monday, field id or None, submitted)."""
    versions = LeaderboardWeekFigure.objects.filter(
        program_id=snapshot.program_id, first_seq__lte=snapshot.seq, last_seq__gte=snapshot.seq
    )
    if unit is not None:
        versions = versions.filter(unit_id=unit.pk)
    rows = versions.values_list("unit_id", "week", "field_key", "submitted")
    return [(unit_id, week, field or None, submitted) for unit_id, week, field, submitted in rows]


def test_weekly_series_is_stored_for_the_confederation_and_tier2_units(data, unit_tree) -> None:
    snapshot = snap(data)
    ctvn = weeks_seen(snapshot, unit_tree.cong_thuong)
    assert sum(submitted for *_, submitted in ctvn) == 8
    assert {week.weekday() for _, week, *_ in ctvn} == {0}  # Mondays
    assert not weeks_seen(snapshot, unit_tree.thep)
    series = board.weekly_series(snaps=board.Snapshots(snapshot, None), unit=unit_tree.root, filters=board.Filters())
    assert sum(n for _, n in series) == 10
    assert series[0][0] == dt.date(2022, 2, 28)  # the Monday of 1 March 2022
    # Consecutive weeks, the empty ones included, for the line chart.
    assert all(b[0] - a[0] == dt.timedelta(days=7) for a, b in itertools.pairwise(series))
    small = board.weekly_series(snaps=board.Snapshots(snapshot, None), unit=unit_tree.thep, filters=board.Filters())
    assert sum(n for _, n in small) == 4


def _on_another_connection(work) -> threading.Thread:
    """Start running `work` in a thread, on that thread's own connection, in a transaction that
    commits; the connection is closed at the end. Returns the thread, to join."""

    def run() -> None:
        try:
            with transaction.atomic():
                work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _connections_to_this_database() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def _back_to(count: int) -> bool:
    """Whether the connections to the database come back to `count` (a closed connection's server
    process takes a moment to go)."""
    for _ in range(50):
        if _connections_to_this_database() == count:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_snapshot_counts_one_state_of_the_database_and_leaves_later_writes_to_the_next(
    data, unit_tree, monkeypatch
) -> None:
    """An initiative committed while the snapshot counts (REPEATABLE READ, from its first
    statement) is in neither its rows, its weeks nor its history, and its mark is left for the
    next snapshot, which counts it."""
    figures = history._figures

    def after_a_commit(cursor, **options):
        if options["out"] in {"lb_fig", "lb_fa"} and not committed:
            _on_another_connection(
                lambda: committed.append(
                    InitiativeFactory(
                        program=data["program"], unit=unit_tree.bia, submitted_at=data["now"] - dt.timedelta(days=1)
                    )
                )
            ).join()
        return figures(cursor, **options)

    committed: list = []
    monkeypatch.setattr(history, "_figures", after_a_commit)
    snapshot = snap(data)
    assert committed
    assert row(snapshot, unit_tree.root).submitted == sum(n for *_, n in weeks_seen(snapshot, unit_tree.root)) == 10
    assert Initiative.objects.exclude(status=S.DRAFT).count() == 11
    assert CountMark.objects.filter(initiative_id=committed[0].pk).exists()  # left for the next one
    monkeypatch.undo()
    following = snap(data, at=data["now"] + dt.timedelta(hours=1))
    assert following.mode == "incremental" and following.changes == 1
    assert row(following, unit_tree.root).submitted == 11
    assert not CountMark.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_failed_snapshot_leaves_nothing_and_the_rerun_takes_it(data, monkeypatch) -> None:
    weeks = history._weeks

    def lost_connection(*args, **options):
        raise OperationalError("server closed the connection unexpectedly")

    marks = CountMark.objects.count()
    monkeypatch.setattr(history, "_weeks", lost_connection)
    with pytest.raises(OperationalError):
        snap(data)
    assert not LeaderboardSnapshot.objects.exists()
    assert not LeaderboardCurrent.objects.exists()
    assert not LeaderboardFigure.objects.exists() and not LeaderboardState.objects.exists()
    assert CountMark.objects.count() == marks > 0  # nothing consumed
    monkeypatch.setattr(history, "_weeks", weeks)
    snapshot, created = leaderboard_snapshot(program=data["program"], at=data["now"])
    assert created and snapshot.row_count == rows_of(snapshot).count() > 0
    assert weeks_seen(snapshot)
    assert not CountMark.objects.exists()


def test_movement_since_the_previous_snapshot(data, unit_tree) -> None:
    before = snap(data)
    InitiativeFactory.create_batch(
        3, program=data["program"], unit=unit_tree.bia, submitted_at=data["now"] + dt.timedelta(minutes=5)
    )
    after = snap(data, at=data["now"] + dt.timedelta(hours=1))
    snaps = board.Snapshots(after, before)
    grassroots = board.block_rankings(snaps=snaps, scope=unit_tree.root, filters=board.Filters())["grassroots"]
    lines = {s.unit.code: (s.rank, s.previous_rank, s.movement) for s in grassroots}
    # Bia: 2 → 5 initiatives, 3rd → 1st; the two others: 1st → 2nd.
    assert lines == {"HN-BIA": (1, 3, "up"), "THEP-TISCO": (2, 1, "down"), "CTVN-RANGDONG": (2, 1, "down")}
    tier2 = board.block_rankings(snaps=snaps, scope=unit_tree.root, filters=board.Filters())["tier2"]
    assert [(s.unit.code, s.movement) for s in tier2] == [("CTVN", "same"), ("HN", "same")]
    # Within Hà Nội's subtree the ranks and movement are over its own units.
    hanoi = board.block_rankings(snaps=snaps, scope=unit_tree.ha_noi, filters=board.Filters())
    assert [(s.unit.code, s.rank, s.movement) for s in hanoi["grassroots"]] == [("HN-BIA", 1, "same")]
    assert "tier2" not in hanoi


def test_grassroots_narrowed_to_a_field_are_counted_from_their_initiatives(data, unit_tree) -> None:
    snapshot = snap(data)
    filters = board.Filters(field=data["management"])
    grassroots = board.block_rankings(snaps=board.Snapshots(snapshot, None), scope=unit_tree.root, filters=filters)[
        "grassroots"
    ]
    # Management: Bia 2, Rạng Đông 2 ("Bia" before "Bóng đèn"), Gang thép 1 (its draft does not count).
    assert [(s.unit.code, s.submitted, s.rank) for s in grassroots] == [
        ("HN-BIA", 2, 1),
        ("CTVN-RANGDONG", 2, 1),
        ("THEP-TISCO", 1, 3),
    ]
    assert (grassroots[0].target, grassroots[1].target) == (0, 8)
    cluster_a = board.Filters(field=data["management"], cluster=data["cluster_a"])
    ranked = board.block_rankings(snaps=board.Snapshots(snapshot, None), scope=unit_tree.root, filters=cluster_a)
    assert [s.unit.code for s in ranked["grassroots"]] == ["HN-BIA", "THEP-TISCO"]


def test_children_are_ranked_among_themselves_with_the_ones_without_submissions_last(data, unit_tree) -> None:
    snapshot = snap(data)
    children = board.children_ranking(
        program=data["program"], snaps=board.Snapshots(snapshot, None), unit=unit_tree.ha_noi, filters=board.Filters()
    )
    assert [(s.unit.code, s.rank) for s in children] == [("HN-BIA", 1), ("HN-DIEN", None)]
    by_field = board.children_ranking(
        program=data["program"],
        snaps=board.Snapshots(snapshot, None),
        unit=unit_tree.cong_thuong,
        filters=board.Filters(field=data["management"]),
    )
    assert [(s.unit.code, s.submitted, s.rank) for s in by_field] == [("CTVN-RANGDONG", 2, 1), ("CTVN-THEP", 1, 2)]


def test_progress_says_how_many_days_ahead_or_behind_a_steady_pace() -> None:
    start, end = dt.date(2022, 1, 1), dt.date(2022, 12, 31)  # 365 days
    on_day_100 = board.Progress(submitted=500, target=3650, as_of=dt.date(2022, 4, 10), starts_on=start, ends_on=end)
    assert on_day_100.elapsed_days == 100
    assert on_day_100.expected == 1000
    assert on_day_100.days_ahead == -50  # 500 is 50 days' worth at 10 a day
    ahead = board.Progress(submitted=1200, target=3650, as_of=dt.date(2022, 4, 10), starts_on=start, ends_on=end)
    assert ahead.days_ahead == 20


def test_old_hourly_snapshots_are_pruned_and_the_first_of_each_day_is_kept(data, unit_tree) -> None:
    now = timezone.make_aware(dt.datetime(2023, 2, 1, 12))
    old_day = now - dt.timedelta(days=settings.LEADERBOARD_KEEP_ALL_DAYS + 3)
    midnight = timezone.localtime(old_day).replace(hour=0, minute=0, second=0, microsecond=0)
    kept = snap(data, at=midnight)
    pruned = [snap(data, at=midnight + dt.timedelta(hours=h)) for h in (1, 2)]
    recent = snap(data, at=now - dt.timedelta(hours=5))
    assert leaderboard_prune(program=data["program"], now=now) == 2
    assert set(LeaderboardSnapshot.objects.values_list("pk", flat=True)) == {kept.pk, recent.pk}
    assert not LeaderboardBlockScale.objects.filter(snapshot__in=pruned).exists()


def test_the_beat_schedule_takes_a_snapshot_hourly_and_at_midnight() -> None:
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "initiatives.snapshot_leaderboard"]
    hours = sorted(hour for e in entries for hour in e["schedule"].hour)
    assert hours == list(range(24))
    assert all(e["schedule"].minute == {0} for e in entries)
    midnight = [e for e in entries if e["schedule"].hour == {0}]
    assert [e.get("kwargs") for e in midnight] == [{"prune": True, "verify": True}]  # checked by a full recount


def test_the_command_takes_the_snapshot_once(data, capsys) -> None:
    call_command("snapshot_leaderboard", "--at", "02/01/2023 08:00")
    call_command("snapshot_leaderboard", "--at", "02/01/2023 08:00")
    out = capsys.readouterr().out
    assert "snapshot as of 02/01/2023 08:00" in out
    assert "was already taken; nothing changed" in out
    assert LeaderboardSnapshot.objects.count() == 1


# The pages


def test_the_dashboard_needs_a_login(client: Client) -> None:
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_an_officer_sees_only_its_subtree(client: Client, data, unit_tree, officer) -> None:
    snap(data)
    client.force_login(officer)  # Thép: itself and Gang thép
    page = client.get(reverse("dashboard")).content.decode()
    assert "Công đoàn Công ty CP Gang thép Thái Nguyên" in page
    assert "Rạng Đông" not in page
    assert "Bia Hà Nội" not in page
    assert client.get(reverse("dashboard_unit", args=["HN"])).status_code == 403
    assert client.get(reverse("dashboard_unit", args=["THEP-TISCO"])).status_code == 200


def test_leadership_sees_the_leading_units_sentence_and_both_charts(client: Client, data, unit_tree) -> None:
    before = snap(data, at=data["now"] - dt.timedelta(hours=1))
    assert before
    snap(data)
    client.force_login(UserFactory(username="admin", is_superuser=True, is_staff=True))
    page = client.get(reverse("dashboard")).content.decode()
    assert "Tính đến ngày 02/01/2023, đơn vị dẫn đầu khối liên đoàn lao động tỉnh" in page
    assert "<strong>Công đoàn Công Thương Việt Nam</strong> (8 sáng kiến)" in page
    assert (
        "khối công đoàn cơ sở là <strong>Công đoàn Công ty CP Bóng đèn - Phích nước Rạng Đông</strong> và "
        "<strong>Công đoàn Công ty CP Gang thép Thái Nguyên</strong> (4 sáng kiến)"
    ) in page
    assert 'data-chart="weekly"' in page
    assert 'data-chart="fields"' in page
    assert 'data-table="weekly"' in page  # the table alternative


def test_a_snapshot_s_rows_are_the_current_rows_it_sees_and_a_rebuilt_partition_goes_with_it(data) -> None:
    snapshot = snap(data)
    assert snapshot.hot and snapshot.row_count == rows_of(snapshot).count() == LeaderboardCurrent.objects.count() > 0
    assert leaderboard.materialize(snapshot)  # for the evidence pages: its own partition
    partition = partition_name(snapshot.pk)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {partition}")
        assert cursor.fetchone()[0] == snapshot.row_count == LeaderboardRow.objects.filter(snapshot=snapshot).count()
        snapshot.delete()
        cursor.execute("SELECT to_regclass(%s)", [partition])
        assert cursor.fetchone()[0] is None
    assert not LeaderboardRow.objects.exists() and not LeaderboardBlockScale.objects.exists()


def test_the_filters_keep_their_state_in_the_url(client: Client, data, unit_tree) -> None:
    snap(data)
    client.force_login(UserFactory(username="admin", is_superuser=True, is_staff=True))
    url = f"{reverse('dashboard')}?phase={data['phase1'].pk}&field=&cluster={data['cluster_a'].pk}"
    page = client.get(url).content.decode()
    assert f'<option value="{data["phase1"].pk}" selected>Giai đoạn 1</option>' in page
    # The links to a unit's page carry the filters, and nothing else.
    kept = f"?phase={data['phase1'].pk}&amp;cluster={data['cluster_a'].pk}"
    links = re.findall(r'href="/dashboard/unit/[^"]*"', page)
    assert links and all(link.endswith(f'{kept}"') for link in links)
    stray = client.get(f"{url}&utm=x%22%3E").content.decode()
    assert re.findall(r'href="/dashboard/unit/[^"]*"', stray) == links
    assert "utm" not in stray
    bad = client.get(f"{reverse('dashboard')}?phase=999999").content.decode()
    assert "Hãy chọn một lựa chọn hợp lệ" in bad


def test_the_home_page_shows_the_leading_units_as_of_the_last_snapshot(client: Client, data, unit_tree) -> None:
    snap(data)
    page = client.get(reverse("home")).content.decode()
    assert "Đơn vị dẫn đầu" in page
    assert "Tính đến 08:00 ngày 02/01/2023" in page
    assert "Công đoàn Công Thương Việt Nam" in page


def test_dashboard_and_drill_down_run_a_bounded_number_of_queries(
    client: Client, data, unit_tree, django_assert_num_queries
) -> None:
    for i in range(30):  # many more units and rows than the budget
        unit = UnionFactory(code=f"HN-X{i}", name=f"Công đoàn số {i}", parent=unit_tree.ha_noi)
        InitiativeFactory.create_batch(i % 4 + 1, program=data["program"], unit=unit, submitted_at=data["now"])
    snap(data, at=data["now"] - dt.timedelta(hours=1))
    snap(data)
    client.force_login(UserFactory(username="admin", is_superuser=True, is_staff=True))
    # Exact counts. Progress under the phase and field filters reads the unit's snapshot rows the
    # page reads already, so the filters cost what they cost before (issue 15, item 5). A field adds
    # the grassroots counted from the initiatives: one query on the dashboard (its grassroots block),
    # two on a unit's page (its grassroots children in this snapshot and in the previous one).
    dashboard, unit_page = reverse("dashboard"), reverse("dashboard_unit", args=["HN"])
    field, cluster, phase = data["management"].pk, data["cluster_a"].pk, data["phase1"].pk
    # The programme, the latest snapshots and the filters' choices are cached for every page (issue 17):
    # one visit with other filters caches them (and the session and the account's groups come from
    # the cache too), so what is counted below is each page's own and the account's.
    client.get(dashboard + f"?cluster={cluster}&phase={phase}")
    # A unit's page also reads the unit's honours (issue 19): one query, cached page or not.
    budgets = [
        ("", 8, 11),
        (f"?field={field}", 9, 13),
        (f"?cluster={cluster}", 8, 11),
        (f"?phase={phase}", 8, 11),
        (f"?phase={phase}&field={field}", 9, 13),
    ]
    for query, on_dashboard, on_unit_page in budgets:
        with django_assert_num_queries(on_dashboard):
            assert client.get(dashboard + query).status_code == 200
        with django_assert_num_queries(on_unit_page):
            assert client.get(unit_page + query).status_code == 200
        # Until the next snapshot the page below the filters comes from the cache.
        with django_assert_num_queries(2):
            assert client.get(dashboard + query).status_code == 200
        with django_assert_num_queries(5):
            assert client.get(unit_page + query).status_code == 200


def test_the_next_snapshot_replaces_the_cached_page(client: Client, data, unit_tree) -> None:
    snap(data, at=data["now"] - dt.timedelta(hours=1))
    client.force_login(UserFactory(username="admin", is_superuser=True, is_staff=True))
    url = reverse("dashboard_unit", args=["HN"])
    before = client.get(url).content.decode()
    InitiativeFactory.create_batch(
        5,
        program=data["program"],
        unit=Union.objects.get(code="HN-DIEN"),
        field=data["management"],
        submitted_at=data["now"],
    )
    # The same snapshot: the same page (below the menu and its CSRF token), from the cache.
    assert client.get(url).content.decode().split("data-as-of")[1] == before.split("data-as-of")[1]
    snap(data)
    after = client.get(url).content.decode()

    def row(page: str, code: str) -> str:
        return re.search(rf"<tr>(?:(?!</tr>).)*>{code}</span>(?:(?!</tr>).)*</tr>", page, re.S).group(0)

    # Hà Nội's units: Điện lực now leads with its five new initiatives, Bia went down one place.
    assert "mới" not in row(before, "HN-DIEN") and "mới" in row(after, "HN-DIEN")
    assert "↓<span" in row(after, "HN-BIA")


CITIES_IN_ORDER = ["Cần Thơ", "Đà Nẵng", "Hà Nội", "Hải Phòng", "Huế"]


@pytest.fixture
def ties(data, unit_tree) -> list[Union]:
    """Five grassroots unions of Hà Nội with 3 submissions each, created (codes and ids) out of
    Vietnamese order; and one with none, whose name sorts before Điện lực's."""
    cities = [
        UnionFactory(code=f"HN-C{number}", name=name, parent=unit_tree.ha_noi)
        for number, name in enumerate(["Huế", "Đà Nẵng", "Hải Phòng", "Cần Thơ", "Hà Nội"])
    ]
    for city in cities:
        InitiativeFactory.create_batch(
            3, program=data["program"], unit=city, phase=data["phase1"], field=data["technical"],
            submitted_at=timezone.make_aware(dt.datetime(2022, 3, 1, 9)),
        )  # fmt: skip
    UnionFactory(code="HN-Z", name="An Giang", parent=unit_tree.ha_noi)
    return cities


def names(standings) -> list[str]:
    return [standing.unit.name for standing in standings]


def test_units_with_equal_ranks_are_listed_in_vietnamese_order(data, unit_tree, ties) -> None:
    snaps = board.Snapshots(snap(data), None)
    whole = board.block_rankings(snaps=snaps, scope=unit_tree.root, filters=board.Filters())["grassroots"]
    # Rạng Đông and Gang thép tie at 4 ("Bóng đèn" before "Gang thép"), the cities at 3, Bia has 2.
    assert names(whole) == [unit_tree.rang_dong.name, unit_tree.gang_thep.name, *CITIES_IN_ORDER, unit_tree.bia.name]
    hanoi = board.block_rankings(snaps=snaps, scope=unit_tree.ha_noi, filters=board.Filters())["grassroots"]
    assert names(hanoi) == [*CITIES_IN_ORDER, unit_tree.bia.name]
    technical = board.Filters(field=data["technical"])  # counted live from the initiatives
    by_field = board.block_rankings(snaps=snaps, scope=unit_tree.root, filters=technical)["grassroots"]
    # Gang thép has 3 in this field too: "Cần" < "Công" < "Đà".
    assert names(by_field)[:6] == ["Cần Thơ", unit_tree.gang_thep.name, *CITIES_IN_ORDER[1:]]
    top3 = board.block_rankings(snaps=snaps, scope=unit_tree.root, filters=technical, limit=3)["grassroots"]
    assert names(top3) == ["Cần Thơ", unit_tree.gang_thep.name, "Đà Nẵng"]  # the cut follows the names too
    children = board.children_ranking(
        program=data["program"], snaps=snaps, unit=unit_tree.ha_noi, filters=board.Filters()
    )
    ranked = [*((name, 1) for name in CITIES_IN_ORDER), (unit_tree.bia.name, 6)]
    assert [(s.unit.name, s.rank) for s in children] == [*ranked, ("An Giang", None), (data["dien"].name, None)]


def test_the_filters_list_fields_and_clusters_in_vietnamese_order(db) -> None:
    for name in ["Huế", "Đà Nẵng", "Hải Phòng", "Cần Thơ", "Hà Nội"]:
        FieldFactory(name=f"Lĩnh vực {name}", position=5)
        EmulationClusterFactory(name=f"Cụm {name}")
    FieldFactory(name="Yên Bái", position=1)  # the position comes first
    fields, clusters = board.filter_choices()
    assert [field.name for field in fields] == ["Yên Bái", *(f"Lĩnh vực {name}" for name in CITIES_IN_ORDER)]
    assert [cluster.name for cluster in clusters] == [f"Cụm {name}" for name in CITIES_IN_ORDER]


def test_the_home_pages_leading_units_that_tie_are_listed_in_vietnamese_order(client: Client, data, ties) -> None:
    hue, _da_nang, _hai_phong, can_tho, _ha_noi = ties  # created in that order: Huế's code and id come first
    for city in (hue, can_tho):
        InitiativeFactory.create_batch(2, program=data["program"], unit=city, submitted_at=data["now"])
    snap(data, at=data["now"] + dt.timedelta(hours=1))
    _snapshot, leaders = board.public_leaders(program=data["program"])
    assert [row.unit.name for row in leaders["grassroots"]] == ["Cần Thơ", "Huế"]
    page = client.get(reverse("home")).content.decode()
    assert page.index("Cần Thơ") < page.index("Huế")
