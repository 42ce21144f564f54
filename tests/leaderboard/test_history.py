"""The leaderboard's history (issue 18): only the latest snapshots keep their ranked rows, every kept
snapshot can be rebuilt exactly from the versions, pruning forgets what no kept snapshot sees,
evidence is pinned, the rank history reads the versions, and a nightly full recount repairs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from initiatives import counting
from initiatives.models import CountMark, Initiative
from leaderboard import dashboard as board
from leaderboard import history
from leaderboard.models import (
    OPEN,
    LeaderboardBlockScale,
    LeaderboardCounted,
    LeaderboardCurrent,
    LeaderboardFigure,
    LeaderboardRow,
    LeaderboardSnapshot,
    LeaderboardState,
    LeaderboardWeek,
    LeaderboardWeekFigure,
)
from leaderboard.snapshots import (
    HOT_SNAPSHOTS,
    leaderboard_prune,
    leaderboard_snapshot,
    materialize,
    partition_name,
    pin,
    rows_of,
)
from tests.factories import InitiativeFactory, UnionFactory
from unions.models import Union

pytestmark = pytest.mark.django_db

S = Initiative.Status
MILLION = 1_000_000
ROW_COLUMNS = (
    "unit_id",
    "phase_key",
    "field_key",
    "level",
    "cluster_id",
    "submitted",
    "valid",
    "value_vnd",
    "participating",
    "target",
    "rank",
    "cluster_rank",
)


def row_set(snapshot) -> set[tuple]:
    """The snapshot's rows with their ranks, as the pages read them: a hot snapshot's current rows,
    any other's ranked rows (rebuilt by materialize)."""
    snapshot.refresh_from_db()
    return set(rows_of(snapshot).values_list(*ROW_COLUMNS))


def weeks_of(snapshot) -> set[tuple]:
    """The snapshot's weekly counts: a hot snapshot's weekly versions, any other's weekly rows."""
    snapshot.refresh_from_db()
    if snapshot.hot:
        weeks = LeaderboardWeekFigure.objects.filter(
            program_id=snapshot.program_id, first_seq__lte=snapshot.seq, last_seq__gte=snapshot.seq
        ).values_list("unit_id", "week", "field_key", "submitted")
        return {(unit, week, field or None, submitted) for unit, week, field, submitted in weeks}
    return set(
        LeaderboardWeek.objects.filter(snapshot=snapshot).values_list("unit_id", "week", "field_id", "submitted")
    )


def has_partition(snapshot) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [partition_name(snapshot.pk)])
        return cursor.fetchone()[0]


def hours(data, count: int, unit_tree, *, start=None) -> tuple[list, dict]:
    """`count` hourly snapshots with a new initiative before each (so figures and ranks move);
    returns them and each one's rows and weeks as written."""
    taken, written = [], {}
    start = start or data["now"]
    for hour in range(count):
        at = start + dt.timedelta(hours=hour)
        unit = [unit_tree.bia, unit_tree.gang_thep, unit_tree.rang_dong][hour % 3]
        InitiativeFactory(program=data["program"], unit=unit, phase=data["phase2"], submitted_at=at)
        snapshot, _ = leaderboard_snapshot(program=data["program"], at=at)
        written[snapshot.pk] = (row_set(snapshot), weeks_of(snapshot))
        taken.append(snapshot)
    return taken, written


def test_only_the_latest_snapshots_stay_in_the_current_rows_and_any_other_is_rebuilt_exactly(data, unit_tree) -> None:
    taken, written = hours(data, 6, unit_tree)
    for snapshot in taken:
        snapshot.refresh_from_db()
    hot = taken[-HOT_SNAPSHOTS:]
    assert [s.hot for s in taken] == [False] * (6 - HOT_SNAPSHOTS) + [True] * HOT_SNAPSHOTS
    # The current rows keep only the versions the hot snapshots see, and the one that left the
    # window last (a page that loaded it before reads it whole); only they have block scales. No
    # snapshot wrote ranked rows or weekly rows.
    just_cooled = taken[-HOT_SNAPSHOTS - 1]
    assert min(LeaderboardCurrent.objects.values_list("last_seq", flat=True)) == just_cooled.seq
    assert set(LeaderboardBlockScale.objects.values_list("snapshot_id", flat=True)) == {
        s.pk for s in [just_cooled, *hot]
    }
    stale = LeaderboardSnapshot.objects.get(pk=just_cooled.pk)
    stale.hot = True  # as a page loaded it just before it cooled
    assert set(rows_of(stale).values_list(*ROW_COLUMNS)) == written[just_cooled.pk][0]
    assert not any(has_partition(s) for s in taken) and not LeaderboardWeek.objects.exists()
    for snapshot in [*taken[: 6 - HOT_SNAPSHOTS], taken[-1]]:  # a cold one, or a hot one for the evidence pages
        assert materialize(snapshot)
        ranked = set(LeaderboardRow.objects.filter(snapshot=snapshot).values_list(*ROW_COLUMNS))
        weekly = LeaderboardWeek.objects.filter(snapshot=snapshot).values_list(
            "unit_id", "week", "field_id", "submitted"
        )
        assert (ranked, set(weekly)) == written[snapshot.pk]
    assert not materialize(taken[-1])  # already there
    # Rebuilt to be shown, they stay a day (with the snapshot before each), then cool again.
    later, _ = leaderboard_snapshot(program=data["program"], at=data["now"] + dt.timedelta(hours=7))
    assert [has_partition(s) for s in [*taken, later]] == [True] * 3 + [False] * 2 + [True, False]
    LeaderboardSnapshot.objects.update(materialized_at=timezone.now() - dt.timedelta(days=1, minutes=1))
    last, _ = leaderboard_snapshot(program=data["program"], at=data["now"] + dt.timedelta(hours=8))
    assert [has_partition(s) for s in [*taken, later, last]] == [False] * 5 + [True, False, False]
    assert list(LeaderboardSnapshot.objects.filter(hot=True).order_by("seq")) == [taken[-1], later, last]


def test_the_rank_history_reads_the_versions_of_twelve_snapshots(data, unit_tree, django_assert_num_queries) -> None:
    taken, written = hours(data, 14, unit_tree)
    expected = []
    for snapshot in taken[-12:]:
        (mine,) = [r for r in written[snapshot.pk][0] if r[0] == unit_tree.bia.pk and r[1] == r[2] == 0]
        expected.append((snapshot.pk, mine[10], mine[5]))  # rank, submitted as the rows had them
    with django_assert_num_queries(1):
        history = board.rank_history(program=data["program"], unit=unit_tree.bia)
    assert [(s.pk, rank, submitted) for s, rank, submitted in history] == expected[::-1]
    assert {rank for _, rank, _ in history} != {1}  # ranks moved: the test would see a stale one


def test_pruning_keeps_the_first_of_each_day_readable_and_forgets_the_rest(data, unit_tree, settings) -> None:
    settings.LEADERBOARD_KEEP_ALL_DAYS = 1
    day_one = timezone.make_aware(dt.datetime(2023, 1, 2, 0))
    taken, written = hours(data, 5, unit_tree, start=day_one)  # 00:00 … 04:00 on 2 January
    today, _ = hours(data, 4, unit_tree, start=day_one + dt.timedelta(days=3))
    closed_before = LeaderboardFigure.objects.exclude(last_seq=OPEN).count()
    assert leaderboard_prune(program=data["program"], now=day_one + dt.timedelta(days=3, hours=5)) == 4
    kept = taken[0]
    assert list(LeaderboardSnapshot.objects.filter(taken_at__lt=today[0].taken_at)) == [kept]
    assert LeaderboardFigure.objects.exclude(last_seq=OPEN).count() < closed_before  # forgotten
    # Nothing the kept snapshot sees was forgotten: it rebuilds exactly.
    assert materialize(kept)
    assert row_set(kept) == written[kept.pk][0] and weeks_of(kept) == written[kept.pk][1]
    # Every remaining version is seen by some remaining snapshot.
    seqs = set(LeaderboardSnapshot.objects.values_list("seq", flat=True))
    for first, last in LeaderboardFigure.objects.values_list("first_seq", "last_seq"):
        assert any(first <= seq <= last for seq in seqs)


def test_a_pinned_snapshot_and_the_one_before_it_are_never_pruned(data, unit_tree, settings) -> None:
    settings.LEADERBOARD_KEEP_ALL_DAYS = 1
    day_one = timezone.make_aware(dt.datetime(2023, 1, 2, 0))
    taken, written = hours(data, 5, unit_tree, start=day_one)
    pin(taken[3], "Quyết định khen thưởng số 12/QĐ-CĐCT")
    leaderboard_prune(program=data["program"], now=day_one + dt.timedelta(days=3))
    assert set(LeaderboardSnapshot.objects.values_list("pk", flat=True)) == {taken[0].pk, taken[2].pk, taken[3].pk}
    for snapshot in (taken[2], taken[3]):
        materialize(snapshot)
        assert row_set(snapshot) == written[snapshot.pk][0]


def test_the_midnight_closing_a_quarter_or_a_phase_is_pinned_in_vietnamese(data) -> None:
    # Phase 1 ends on 31/05/2022; the quarter on 30/06/2022.
    ordinary, _ = leaderboard_snapshot(program=data["program"], at=timezone.make_aware(dt.datetime(2022, 5, 31, 23)))
    phase_end, _ = leaderboard_snapshot(program=data["program"], at=timezone.make_aware(dt.datetime(2022, 6, 1, 0)))
    quarter_end, _ = leaderboard_snapshot(program=data["program"], at=timezone.make_aware(dt.datetime(2022, 7, 1, 0)))
    hour_after, _ = leaderboard_snapshot(program=data["program"], at=timezone.make_aware(dt.datetime(2022, 7, 1, 1)))
    assert [s.pinned_reason for s in (ordinary, phase_end, quarter_end, hour_after)] == [
        "",
        "hết Giai đoạn 1",
        "hết quý 2/2022",
        "",
    ]


def test_the_nightly_full_recount_finds_and_repairs_a_change_that_left_no_mark(data, unit_tree) -> None:
    leaderboard_snapshot(program=data["program"], at=data["now"])
    valid = Initiative.objects.filter(unit=unit_tree.rang_dong, status=S.VALID).first()
    # A write path that forgot its mark (raw SQL): the incremental snapshot cannot know.
    Initiative.objects.filter(pk=valid.pk).update(status=S.REJECTED)
    assert not CountMark.objects.exists()
    hourly, _ = leaderboard_snapshot(program=data["program"], at=data["now"] + dt.timedelta(hours=1))
    assert hourly.mode == "incremental"
    assert rows_of(hourly).get(unit=unit_tree.rang_dong, phase_key=0, field_key=0).valid == 2
    nightly, _ = leaderboard_snapshot(program=data["program"], at=data["now"] + dt.timedelta(hours=2), verify=True)
    assert nightly.mode == "verified" and nightly.differences > 0
    assert nightly.repair_notes["initiatives"] == [valid.pk]  # the initiative behind the difference
    assert [unit_tree.rang_dong.pk, 0, 0] in nightly.repair_notes["figures"]
    assert rows_of(nightly).get(unit=unit_tree.rang_dong, phase_key=0, field_key=0).valid == 1
    assert LeaderboardCounted.objects.get(initiative_id=valid.pk, last_seq=OPEN).valid == 0
    after, _ = leaderboard_snapshot(program=data["program"], at=data["now"] + dt.timedelta(hours=3), verify=True)
    assert (after.mode, after.differences, after.repair_notes) == ("verified", 0, {})
    assert rows_of(after).get(unit=unit_tree.rang_dong, phase_key=0, field_key=0).valid == 1


def test_the_command_takes_a_full_or_a_verified_snapshot(data, capsys) -> None:
    call_command("snapshot_leaderboard", "--at", "02/01/2023 08:00")
    call_command("snapshot_leaderboard", "--at", "02/01/2023 09:00", "--full")
    call_command("snapshot_leaderboard", "--at", "02/01/2023 10:00", "--verify")
    call_command("snapshot_leaderboard", "--at", "02/01/2023 11:00")
    modes = list(LeaderboardSnapshot.objects.order_by("seq").values_list("mode", "differences"))
    assert modes == [("full", 0), ("full", 0), ("verified", 0), ("incremental", 0)]
    out = capsys.readouterr().out
    assert "verified by a full recount: no difference" in out


def test_a_moved_subtree_counts_for_its_new_ancestors_from_the_next_snapshot(data, unit_tree) -> None:
    from unions.services import union_save

    first, _ = leaderboard_snapshot(program=data["program"], at=data["now"])
    thep = Union.objects.get(pk=unit_tree.thep.pk)
    thep.parent = Union.objects.get(pk=unit_tree.ha_noi.pk)
    union_save(unit=thep)
    UnionFactory(parent=thep)  # and a new unit under it, with nothing yet
    moved, _ = leaderboard_snapshot(program=data["program"], at=data["now"] + dt.timedelta(hours=1))
    assert moved.mode == "incremental"

    def submitted(snapshot, unit):
        return rows_of(snapshot).get(unit=unit, phase_key=0, field_key=0).submitted

    assert (submitted(first, unit_tree.cong_thuong), submitted(first, unit_tree.ha_noi)) == (8, 2)
    assert (submitted(moved, unit_tree.cong_thuong), submitted(moved, unit_tree.ha_noi)) == (4, 6)


def test_a_quarter_s_figures_are_counted_from_what_the_snapshot_counted_and_stay_as_it_saw_them(
    data, unit_tree
) -> None:
    """The honours' figures (issue 19): each unit's submissions in a calendar quarter over its
    subtree, at a snapshot, from its mirror and its tree; later reviews and moves change only the
    later snapshots' figures."""
    from unions.services import union_save

    t = unit_tree
    first, _ = leaderboard_snapshot(program=data["program"], at=timezone.make_aware(dt.datetime(2022, 7, 1, 10)))
    q1 = {
        t.gang_thep.pk: (3, 1, 10 * MILLION),
        t.thep.pk: (3, 1, 10 * MILLION),
        t.cong_thuong.pk: (3, 1, 10 * MILLION),
        t.bia.pk: (2, 0, 0),
        t.ha_noi.pk: (2, 0, 0),
        t.root.pk: (5, 1, 10 * MILLION),
    }
    q3 = {
        t.gang_thep.pk: (1, 0, 0),
        t.thep.pk: (1, 0, 0),
        t.rang_dong.pk: (4, 2, 12 * MILLION),
        t.cong_thuong.pk: (5, 2, 12 * MILLION),
        t.root.pk: (5, 2, 12 * MILLION),
    }
    assert history.quarter_figures(first, quarter_key=20221) == q1
    assert history.quarter_figures(first, quarter_key=20222) == {}
    assert history.quarter_figures(first, quarter_key=20223) == q3

    bia = Union.objects.get(pk=t.bia.pk)
    bia.parent = Union.objects.get(pk=t.cong_thuong.pk)
    union_save(unit=bia)
    reviewed = Initiative.objects.get(unit=t.gang_thep, status=S.SUBMITTED)
    Initiative.objects.filter(pk=reviewed.pk).update(status=S.VALID, value_vnd=3 * MILLION)
    counting.mark([reviewed.pk])
    later, _ = leaderboard_snapshot(program=data["program"], at=timezone.make_aware(dt.datetime(2022, 7, 1, 11)))
    assert later.mode == "incremental"

    assert history.quarter_figures(first, quarter_key=20221) == q1  # as the first snapshot saw it
    assert history.quarter_figures(first, quarter_key=20223) == q3
    assert history.quarter_figures(later, quarter_key=20221) == {
        **{k: v for k, v in q1.items() if k != t.ha_noi.pk},
        t.cong_thuong.pk: (5, 1, 10 * MILLION),
    }
    assert history.quarter_figures(later, quarter_key=20223) == {
        **q3,
        t.gang_thep.pk: (1, 1, 3 * MILLION),
        t.thep.pk: (1, 1, 3 * MILLION),
        t.cong_thuong.pk: (5, 3, 15 * MILLION),
        t.root.pk: (5, 3, 15 * MILLION),
    }


def test_the_national_board_reads_the_snapshots_log_and_keeps_one_as_evidence(data, roles) -> None:
    from django.test import Client
    from django.urls import reverse

    first, _ = leaderboard_snapshot(program=data["program"], at=data["now"])
    checked, _ = leaderboard_snapshot(program=data["program"], at=data["now"] + dt.timedelta(hours=1), verify=True)
    client = Client()
    client.force_login(roles["national_reviewer"])
    listing = client.get(reverse("admin:leaderboard_leaderboardsnapshot_changelist"))
    assert listing.status_code == 200
    assert "đã đối chiếu với lần đếm lại toàn bộ" in listing.content.decode()  # the midnight check's mode
    response = client.post(
        reverse("admin:leaderboard_leaderboardsnapshot_changelist"),
        {"action": "keep_as_evidence", "_selected_action": [first.pk]},
        follow=True,
    )
    assert "1 lần chốt số liệu đã được lưu làm căn cứ." in response.content.decode()
    first.refresh_from_db()
    today = timezone.localdate().strftime("%d/%m/%Y")
    assert first.pinned_reason == f"lưu bởi {roles['national_reviewer'].username} ngày {today}"
    checked.refresh_from_db()
    assert checked.pinned_reason == ""


def test_an_initiative_moved_to_another_programme_is_counted_out_of_one_and_into_the_other(data, unit_tree) -> None:
    """Seqs are numbered per programme: both reach the same seq, both mirror the initiative, and
    its mark stays until both have counted the move."""
    from tests.factories import ProgramFactory

    other = ProgramFactory(slug="chuong-trinh-khac")
    moved = InitiativeFactory(program=other, unit=unit_tree.bia, submitted_at=data["now"] - dt.timedelta(days=1))
    for program in (data["program"], other):
        leaderboard_snapshot(program=program, at=data["now"])

    def root_count(program, at):
        snapshot = LeaderboardSnapshot.objects.get(program=program, taken_at=at)
        return rows_of(snapshot).get(unit=unit_tree.root, phase_key=0, field_key=0).submitted

    assert (root_count(data["program"], data["now"]), root_count(other, data["now"])) == (10, 1)
    Initiative.objects.filter(pk=moved.pk).update(program=data["program"])  # as the admin's edit would
    from initiatives import counting

    counting.mark([moved.pk])
    hour = data["now"] + dt.timedelta(hours=1)
    first, _ = leaderboard_snapshot(program=data["program"], at=hour)  # counts it in, keeps the mark
    assert CountMark.objects.filter(initiative_id=moved.pk).exists()
    second, _ = leaderboard_snapshot(program=other, at=hour)  # counts it out
    assert (first.mode, second.mode) == ("incremental", "incremental")
    assert (root_count(data["program"], hour), rows_of(second).count()) == (11, 0)
    later = hour + dt.timedelta(hours=1)
    for program in (data["program"], other):
        leaderboard_snapshot(program=program, at=later)
    assert not CountMark.objects.filter(initiative_id=moved.pk).exists()
    assert list(
        LeaderboardCounted.objects.filter(initiative_id=moved.pk, last_seq=OPEN).values_list("program_id", flat=True)
    ) == [data["program"].pk]


def test_after_writes_that_left_no_mark_a_full_recount_keeps_the_snapshot_before_it_readable(data, unit_tree) -> None:
    """seed_demo and seed_scale write initiatives in bulk, without marks, and drop the programme's
    history state: the next snapshot counts everything, and the one before it stays in the current
    rows as it was (the movement arrows read it)."""
    before, _ = leaderboard_snapshot(program=data["program"], at=data["now"])
    rows_before = row_set(before)
    InitiativeFactory.create_batch(2, program=data["program"], unit=unit_tree.bia, submitted_at=data["now"])
    CountMark.objects.all().delete()
    LeaderboardState.objects.all().delete()
    after, _ = leaderboard_snapshot(program=data["program"], at=data["now"] + dt.timedelta(hours=1))
    assert after.mode == "full"
    assert row_set(before) == rows_before  # still hot, still as it was
    root = rows_of(after).get(unit=unit_tree.root, phase_key=0, field_key=0)
    assert root.submitted == rows_of(before).get(unit=unit_tree.root, phase_key=0, field_key=0).submitted + 2
    # A snapshot deleted after it wrote the current rows: the next one writes them anew from itself.
    after.delete()
    again, _ = leaderboard_snapshot(program=data["program"], at=data["now"] + dt.timedelta(hours=2))
    before.refresh_from_db()
    assert again.mode == "full" and again.hot and not before.hot
    assert set(LeaderboardCurrent.objects.values_list("first_seq", flat=True)) == {again.seq}
    assert row_set(again) != rows_before and again.row_count == rows_of(again).count()
