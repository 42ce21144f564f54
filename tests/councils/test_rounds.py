"""Selection rounds (issue 20, items 1–3 and 6): a round's rubric and council, nominations up the
tree, independent scoring within the rubric's bounds and bands, conflicts of interest, the third
scorer where two totals are too far apart, closing with the quota, the pass mark and ties, the
freeze, forwarding up two levels, and the history of every step."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from councils import services
from councils.models import Frozen, Member, Nomination, ScoreSheet, SelectionRound
from initiatives.models import Initiative
from notifications.kinds import compose
from notifications.models import Notification
from tests.conftest import role_group
from tests.councils.council import RECOGNISED, Council, build_council, make_round, nominate, score, valid_initiative
from tests.factories import AuthorFactory, UnionFactory, UserFactory
from unions.models import Union
from unions.permissions import LEADERSHIP_GROUP

pytestmark = pytest.mark.django_db


def history(council: Council) -> list[str]:
    return [entry.change_message for entry in services.history_of(council.round)]


def start(council: Council, count: int | None = None) -> list[Nomination]:
    nominations = [nominate(council, initiative) for initiative in council.initiatives[:count]]
    services.round_start_scoring(user=council.secretary, selection_round=council.round)
    council.round.refresh_from_db()
    return nominations


def test_a_round_has_the_default_rubric_in_bands_and_its_settings(council) -> None:
    selection_round = council.round
    assert (selection_round.level, selection_round.unit_name, selection_round.quota) == (
        Union.Level.SUPERIOR,
        "Công đoàn Tổng Công ty Thép Việt Nam",
        2,
    )
    rubric = [(c.name, c.max_points, [(b.low, b.high) for b in c.bands.all()]) for c in council.criteria]
    assert rubric == [
        ("Tính mới, tính sáng tạo", 30, [(21, 30), (11, 20), (0, 10)]),
        ("Hiệu quả, lợi ích", 40, [(31, 40), (16, 30), (0, 15)]),
        ("Khả năng nhân rộng", 30, [(21, 30), (11, 20), (0, 10)]),
    ]
    assert [(m.full_name, m.role) for m in selection_round.members.order_by("pk")] == [
        ("Hoàng Văn Chủ", "chair"),
        ("Đỗ Thị Ký", "secretary"),
        ("Vũ Văn Viên", "member"),
        ("Bùi Thị Ba", "reserve"),
    ]


def test_a_rubric_whose_bands_overlap_or_leave_the_bounds_is_refused(unit_tree, program) -> None:
    runner = UserFactory(unit=unit_tree.thep)
    for bands, words in (
        ((services.BandSpec(0, 20, "thấp"), services.BandSpec(15, 30, "cao")), "chồng lên nhau"),
        ((services.BandSpec(0, 31, "cao"),), "từ 0 đến 30 điểm"),
    ):
        with pytest.raises(services.Refused, match=words):
            make_round(runner, program, unit_tree.thep, criteria=[services.CriterionSpec("Tính mới", 30, bands)])
    assert not SelectionRound.objects.exists()


def test_only_the_units_officers_and_the_board_over_it_set_up_its_rounds(unit_tree, program, reviewer, leader) -> None:
    make_round(reviewer, program, unit_tree.thep)  # the board of Công Thương, over Thép
    for account in (UserFactory(unit=unit_tree.gang_thep), UserFactory(unit=unit_tree.ha_noi), leader):
        with pytest.raises(services.Refused, match="không được lập đợt xét chọn"):
            make_round(account, program, unit_tree.thep)


def test_only_accounts_of_the_subtree_or_the_board_over_it_sit_on_the_council(council, unit_tree) -> None:
    with pytest.raises(services.Refused, match="không được tham gia hội đồng này"):
        services.member_appoint(
            user=council.secretary_officer,
            selection_round=council.round,
            account=UserFactory(unit=unit_tree.bia),
            role=Member.Role.MEMBER,
        )
    with pytest.raises(services.Refused, match="đã có chủ tịch"):
        services.member_appoint(
            user=council.secretary_officer,
            selection_round=council.round,
            account=UserFactory(unit=unit_tree.gang_thep),
            role=Member.Role.CHAIR,
        )


def test_an_officer_nominates_valid_initiatives_of_its_subtree_to_the_round_above(council, unit_tree, program) -> None:
    nomination = nominate(council, council.initiatives[0])
    assert (nomination.from_unit, nomination.from_unit_name, nomination.result) == (
        unit_tree.gang_thep,
        "Công đoàn Công ty CP Gang thép Thái Nguyên",
        "pending",
    )
    submitted = valid_initiative(program, unit_tree.gang_thep, "Chưa duyệt")
    Initiative.objects.filter(pk=submitted.pk).update(status=Initiative.Status.SUBMITTED)
    elsewhere = valid_initiative(program, unit_tree.bia, "Bia")
    refusals = [
        (council.nominator, submitted, "Ban đã công nhận là hợp lệ"),
        (council.nominator, council.initiatives[0], "đã được đề cử vào đợt này"),
        (UserFactory(unit=unit_tree.bia), elsewhere, "không được đề cử sáng kiến này"),
        # Công Thương is above Thép: its officers nominate to Công Thương's rounds and the TLĐ's, not Thép's.
        (UserFactory(unit=unit_tree.cong_thuong), council.initiatives[1], "không được đề cử sáng kiến này"),
    ]
    for user, initiative, words in refusals:
        with pytest.raises(services.Refused, match=words):
            nominate(council, initiative, user)
    assert council.round.nominations.count() == 1


def test_no_nomination_after_the_deadline_or_once_the_scoring_started(council) -> None:
    SelectionRound.objects.filter(pk=council.round.pk).update(deadline=timezone.localdate() - dt.timedelta(days=1))
    council.round.refresh_from_db()
    with pytest.raises(services.Refused, match="không còn nhận đề cử"):
        nominate(council, council.initiatives[0])


def test_scores_stay_within_the_rubric_bounds_and_bands(council) -> None:
    nomination = start(council, 1)[0]
    for points, words in (
        ([31, 35, 25], "từ 0 đến 30 điểm"),
        ([25, 35, None], "Cho điểm Khả năng nhân rộng"),
    ):
        with pytest.raises(services.Refused, match=words):
            score(council, council.chair, nomination, points)
    assert not ScoreSheet.objects.exists()
    sheet = score(council, council.chair, nomination, [25, 35, 25])
    assert (sheet.total, sheet.status) == (85, "submitted")


def test_bands_with_a_gap_refuse_points_in_the_gap(unit_tree, program) -> None:
    runner = UserFactory(unit=unit_tree.thep)
    gap = services.CriterionSpec("Tính mới", 30, (services.BandSpec(25, 30, "mới"), services.BandSpec(0, 10, "ít")))
    council = build_council(unit_tree, program, criteria=[gap])
    del runner
    nomination = start(council, 1)[0]
    with pytest.raises(services.Refused, match="không thuộc khoảng nào"):
        score(council, council.chair, nomination, [18])
    assert score(council, council.chair, nomination, [10]).total == 10


def test_a_draft_changes_a_submitted_sheet_never_does_and_a_second_submit_is_one(council) -> None:
    nomination = start(council, 1)[0]
    score(council, council.member, nomination, [10, 10, 10], submit=False)
    sheet = score(council, council.member, nomination, [20, 20, 20])
    again = score(council, council.member, nomination, [20, 20, 20])
    assert again.pk == sheet.pk and again.total == 60
    with pytest.raises(services.Refused, match="đã nộp"):
        score(council, council.member, nomination, [30, 40, 30])
    assert list(ScoreSheet.objects.values_list("total", "status")) == [(60, "submitted")]


def test_a_member_from_the_initiatives_unit_or_an_author_is_kept_out(council, unit_tree, program) -> None:
    insider = UserFactory(username="gangthep.uyvien", last_name="Trần", first_name="Thị Bình", unit=unit_tree.thep)
    services.member_appoint(
        user=council.secretary_officer, selection_round=council.round, account=insider, role=Member.Role.MEMBER
    )
    local = UserFactory(username="noibo", unit=unit_tree.gang_thep)
    services.member_appoint(
        user=council.secretary_officer, selection_round=council.round, account=local, role=Member.Role.MEMBER
    )
    nomination = nominate(council, council.initiatives[0])
    reasons = {c.member.user.username: c.reason for c in nomination.conflicts.select_related("member__user")}
    assert reasons == {"gangthep.uyvien": "là một trong các tác giả", "noibo": "thuộc đơn vị của sáng kiến"}
    services.round_start_scoring(user=council.secretary, selection_round=council.round)
    with pytest.raises(services.Refused, match="không chấm đề cử này"):
        score(council, local, nomination, [20, 20, 20])
    standing = services.standings(council.round)[0]
    assert {m.user.username for m in standing.owed} == {"chutich", "thuky", "uyvien"}


def test_a_declared_conflict_keeps_the_members_sheet_out_of_the_mean(council) -> None:
    nomination = start(council, 1)[0]
    member = council.member_of(council.member).pk
    score(council, council.member, nomination, [10, 15, 10], submit=False)  # a draft: dropped
    services.conflict_declare(
        user=council.member, nomination=nomination, member_id=member, reason="Tôi từng hướng dẫn nhóm tác giả"
    )
    assert not ScoreSheet.objects.filter(member_id=member).exists()
    with pytest.raises(services.Refused, match="không chấm đề cử này"):
        score(council, council.member, nomination, [10, 15, 10])
    score(council, council.chair, nomination, [25, 35, 25])  # 85
    score(council, council.secretary, nomination, [25, 35, 20])  # 80
    services.round_close(user=council.chair, selection_round=council.round)
    nomination.refresh_from_db()
    assert (nomination.mean, nomination.rank, nomination.result) == (Decimal("82.50"), 1, "selected")


def test_a_conflict_is_declared_before_scoring_not_after_seeing_the_others(council) -> None:
    nomination = start(council, 1)[0]
    for user, points in ((council.chair, [25, 35, 25]), (council.secretary, [25, 35, 25])):
        score(council, user, nomination, points)
    score(council, council.member, nomination, [10, 15, 10])  # far below: a third scorer is owed
    for declarer in (council.member, council.chair):
        with pytest.raises(services.Refused, match="đã nộp điểm cho đề cử này"):
            services.conflict_declare(
                user=declarer, nomination=nomination, member_id=council.member_of(council.member).pk, reason="x"
            )
    assert services.standings(council.round)[0].needs_third


def test_a_grassroots_council_of_the_units_own_people_scores_its_own_initiatives(unit_tree, program) -> None:
    runner = UserFactory(unit=unit_tree.gang_thep)
    own = make_round(runner, program, unit_tree.gang_thep, quota=1)
    people = [UserFactory(username=f"gt.{n}", unit=unit_tree.gang_thep) for n in range(3)]
    for account, role in zip(people, ("chair", "secretary", "member"), strict=True):
        services.member_appoint(user=runner, selection_round=own, account=account, role=role)
    initiative = valid_initiative(program, unit_tree.gang_thep, "Tiết kiệm điện lò cao")
    nomination = services.nomination_create(
        user=runner,
        selection_round=own,
        initiative=initiative,
        justification="Tốt",
        recognition_number="1/QĐ",
        recognition_date=RECOGNISED,
    )
    assert not nomination.conflicts.exists()  # the unit's own council judges the unit's own initiatives
    services.round_start_scoring(user=people[1], selection_round=own)
    for account in people:
        services.sheet_save(
            user=account, nomination=nomination, points={c.pk: 10 for c in own.criteria.all()}, submit=True
        )
    services.round_close(user=people[0], selection_round=own)
    assert Nomination.objects.get(pk=nomination.pk).result == "selected"


def test_the_chair_lifts_a_conflict_the_portal_found_with_a_reason(council, unit_tree) -> None:
    namesake = UserFactory(username="trung.ten", last_name="Trần", first_name="Thị Bình", unit=unit_tree.thep)
    services.member_appoint(
        user=council.secretary_officer, selection_round=council.round, account=namesake, role=Member.Role.MEMBER
    )
    nomination = nominate(council, council.initiatives[0])
    member = council.member_of(namesake).pk
    assert nomination.conflicts.get().reason == "là một trong các tác giả"
    with pytest.raises(services.Refused, match="Chỉ chủ tịch"):
        services.conflict_lift(user=namesake, nomination=nomination, member_id=member, reason="Trùng tên")
    services.conflict_lift(
        user=council.chair, nomination=nomination, member_id=member, reason="Trùng tên, không phải tác giả"
    )
    assert not nomination.conflicts.exists()
    assert history(council)[-1].endswith("Trùng tên, không phải tác giả")
    services.conflict_declare(user=namesake, nomination=nomination, member_id=member, reason="Tôi là đồng nghiệp")
    with pytest.raises(services.Refused, match="không được gỡ"):
        services.conflict_lift(user=council.chair, nomination=nomination, member_id=member, reason="x")


def test_once_the_scoring_starts_the_rules_of_the_round_stay_put(council) -> None:
    start(council, 1)
    current = {
        "name": "Tên mới",
        "deadline": council.round.deadline,
        "criteria": services.rubric_specs(council.round),
    }
    for change in ({"quota": 5}, {"spread_threshold": 200}, {"pass_mark": 40}):
        values = {"quota": 2, "spread_threshold": 15, "pass_mark": None, **change}
        with pytest.raises(services.Refused, match="không thay đổi được nữa"):
            services.round_update(user=council.secretary, selection_round=council.round, **current, **values)
    services.round_update(
        user=council.secretary, selection_round=council.round, **current, quota=2, spread_threshold=15, pass_mark=None
    )
    assert SelectionRound.objects.get().name == "Tên mới"


def test_a_nomination_is_withdrawn_by_its_units_officers_only_while_open(council, unit_tree) -> None:
    nomination = nominate(council, council.initiatives[0])
    leadership = UserFactory(username="ld.gangthep", unit=unit_tree.gang_thep, is_staff=True)
    leadership.groups.add(role_group(LEADERSHIP_GROUP))
    for user in (leadership, council.secretary_officer, council.chair):
        with pytest.raises(services.Refused, match="Chỉ đơn vị đã đề cử"):
            services.nomination_withdraw(user=user, nomination=nomination)
    services.nomination_withdraw(user=council.nominator, nomination=nomination)
    assert not Nomination.objects.exists()


def test_one_members_sheet_is_not_a_councils_view(council) -> None:
    nomination = start(council, 1)[0]
    score(council, council.chair, nomination, [25, 35, 25])
    for name in ("secretary", "member"):
        services.member_mark_absent(
            user=council.chair, selection_round=council.round, member_id=council.member_of(getattr(council, name)).pk
        )
    with pytest.raises(services.Refused, match="ít nhất hai thành viên"):
        services.round_close(user=council.chair, selection_round=council.round)


def test_a_member_who_stops_halfway_is_marked_absent_and_its_submitted_sheets_count(council) -> None:
    first, second = start(council, 2)
    for user in (council.chair, council.secretary, council.member):
        score(council, user, first, [25, 35, 25])
    score(council, council.chair, second, [20, 30, 20])
    score(council, council.secretary, second, [20, 30, 20])
    services.member_mark_absent(
        user=council.chair, selection_round=council.round, member_id=council.member_of(council.member).pk
    )
    services.round_close(user=council.chair, selection_round=council.round)
    assert dict(Nomination.objects.values_list("pk", "mean")) == {
        first.pk: Decimal("85.00"),
        second.pk: Decimal("70.00"),
    }


def test_a_member_declares_its_own_conflict_or_the_chair_does_no_one_else(council) -> None:
    nomination = start(council, 1)[0]
    with pytest.raises(services.Refused, match="Chỉ thành viên có liên quan hoặc chủ tịch"):
        services.conflict_declare(
            user=council.secretary,
            nomination=nomination,
            member_id=council.member_of(council.member).pk,
            reason="x",
        )
    services.conflict_declare(
        user=council.chair, nomination=nomination, member_id=council.member_of(council.member).pk, reason="Đồng tác giả"
    )
    assert nomination.conflicts.get().declared_by == council.chair


def test_a_spread_beyond_the_threshold_needs_a_third_scorer_before_closing(council) -> None:
    near, far = start(council, 2)
    for user, points in (
        (council.chair, [25, 35, 25]),
        (council.secretary, [25, 30, 25]),
        (council.member, [21, 31, 23]),
    ):
        score(council, user, near, points)  # 85, 80, 75: 10 apart, within 15
    for user, points in (
        (council.chair, [28, 38, 28]),
        (council.secretary, [15, 20, 15]),
        (council.member, [20, 30, 20]),
    ):
        score(council, user, far, points)  # 94, 50, 70: 44 apart
    standing = {row.nomination.pk: row for row in services.standings(council.round)}
    assert (standing[near.pk].spread, standing[near.pk].needs_third) == (10, False)
    assert (standing[far.pk].spread, standing[far.pk].needs_third) == (44, True)
    with pytest.raises(services.Refused, match="lệch nhau 44 điểm: hãy phân công người chấm thứ ba"):
        services.round_close(user=council.chair, selection_round=council.round)
    reserve = council.member_of(council.reserve)
    with pytest.raises(services.Refused, match="Chỉ chủ tịch"):
        services.extra_scorer_assign(user=council.secretary, nomination=far, member_id=reserve.pk)
    services.extra_scorer_assign(user=council.chair, nomination=far, member_id=reserve.pk)
    with pytest.raises(services.Refused, match="Bùi Thị Ba"):  # assigned, not yet scored
        services.round_close(user=council.chair, selection_round=council.round)
    with pytest.raises(services.Refused, match="không chấm đề cử này"):
        score(council, council.reserve, near, [20, 20, 20])  # a reserve scores what it is assigned only
    score(council, council.reserve, far, [20, 30, 22])  # 72
    services.round_close(user=council.chair, selection_round=council.round)
    far.refresh_from_db()
    assert far.mean == Decimal("71.50")  # (94 + 50 + 70 + 72) / 4


def test_a_spread_equal_to_the_threshold_needs_no_third_scorer(council) -> None:
    nomination = start(council, 1)[0]
    for user, points in (
        (council.chair, [25, 35, 25]),
        (council.secretary, [20, 30, 20]),
        (council.member, [24, 31, 20]),
    ):
        score(council, user, nomination, points)  # 85, 70, 75: exactly 15 apart
    services.round_close(user=council.chair, selection_round=council.round)
    assert Nomination.objects.get().mean == Decimal("76.67")


def test_closing_ranks_by_the_mean_and_applies_the_quota_and_the_pass_mark(unit_tree, program) -> None:
    council = build_council(unit_tree, program, initiatives=4, quota=2, pass_mark=60)
    nominations = start(council)
    totals = {0: [20, 30, 20], 1: [28, 38, 28], 2: [15, 20, 15], 3: [25, 35, 25]}  # 70, 94, 50, 85
    for index, points in totals.items():
        for user in (council.chair, council.secretary, council.member):
            score(council, user, nominations[index], points)
    with pytest.raises(services.Refused, match="Chỉ chủ tịch"):
        services.round_close(user=council.secretary, selection_round=council.round)
    services.round_close(user=council.chair, selection_round=council.round)
    ranked = [
        (n.initiative.title, n.rank, n.mean, n.result)
        for n in Nomination.objects.select_related("initiative").order_by("rank")
    ]
    assert ranked == [
        ("Băng tải tự động", 1, Decimal("94.00"), "selected"),
        ("Hệ thống lọc bụi", 2, Decimal("85.00"), "selected"),
        ("Lò cao tiết kiệm than", 3, Decimal("70.00"), "not_selected"),  # beyond the quota
        ("Sổ tay an toàn điện tử", 4, Decimal("50.00"), "not_selected"),  # below the pass mark
    ]


def test_below_the_pass_mark_nothing_is_selected_even_within_the_quota(unit_tree, program) -> None:
    council = build_council(unit_tree, program, initiatives=1, quota=3, pass_mark=90)
    nomination = start(council)[0]
    for user in (council.chair, council.secretary, council.member):
        score(council, user, nomination, [25, 35, 25])
    services.round_close(user=council.chair, selection_round=council.round)
    assert Nomination.objects.get().result == "not_selected"


def test_a_tie_on_the_mean_is_broken_by_the_criteria_in_the_rubrics_order(unit_tree, program) -> None:
    council = build_council(unit_tree, program, initiatives=3, quota=1)
    first, second, third = start(council)
    for user in (council.chair, council.secretary, council.member):
        score(council, user, first, [20, 40, 20])  # 80, novelty 20
        score(council, user, second, [25, 35, 20])  # 80, novelty 25: ahead
        score(council, user, third, [10, 20, 10])
    services.round_close(user=council.chair, selection_round=council.round)
    results = dict(Nomination.objects.values_list("pk", "result"))
    ranks = dict(Nomination.objects.values_list("pk", "rank"))
    assert results == {first.pk: "not_selected", second.pk: "selected", third.pk: "not_selected"}
    assert ranks == {second.pk: 1, first.pk: 2, third.pk: 3}


def test_a_tie_on_everything_at_the_quota_is_the_chairs_to_decide(unit_tree, program) -> None:
    council = build_council(unit_tree, program, initiatives=3, quota=2)
    top, level_a, level_b = start(council)
    for user in (council.chair, council.secretary, council.member):
        score(council, user, top, [30, 40, 30])
        score(council, user, level_a, [20, 30, 20])
        score(council, user, level_b, [20, 30, 20])
    with pytest.raises(services.TieAtQuota) as tie:
        services.round_close(user=council.chair, selection_round=council.round)
    assert ({n.pk for n in tie.value.tied}, tie.value.places) == ({level_a.pk, level_b.pk}, 1)
    assert str(tie.value) == (
        "2 đề cử bằng nhau tại giới hạn số lượng, cả về điểm trung bình lẫn từng tiêu chí, cho 1 suất còn lại: "
        "chủ tịch hội đồng chọn đề cử nào."
    )
    assert SelectionRound.objects.get().status == "scoring"  # nothing changed
    with pytest.raises(services.TieAtQuota):  # choosing both is not choosing
        services.round_close(user=council.chair, selection_round=council.round, prefer=[level_a.pk, level_b.pk])
    services.round_close(
        user=council.chair, selection_round=council.round, prefer=[level_b.pk], tie_note="Biểu quyết 2/1."
    )
    results = dict(Nomination.objects.values_list("pk", "result"))
    assert results == {top.pk: "selected", level_a.pk: "not_selected", level_b.pk: "selected"}
    assert dict(Nomination.objects.values_list("pk", "rank")) == {top.pk: 1, level_a.pk: 2, level_b.pk: 2}
    council.round.refresh_from_db()
    assert council.round.tie_break == (
        "Chủ tịch hội đồng chọn “Sổ tay an toàn điện tử” trong số “Băng tải tự động”; “Sổ tay an toàn điện tử”, "
        "bằng nhau tại giới hạn số lượng. Biểu quyết 2/1."
    )


def test_closing_waits_for_every_sheet_unless_the_chair_marks_a_member_absent(council) -> None:
    nomination = start(council, 1)[0]
    score(council, council.chair, nomination, [25, 35, 25])
    score(council, council.secretary, nomination, [25, 35, 25])
    with pytest.raises(services.Refused, match="còn chờ điểm của Vũ Văn Viên"):
        services.round_close(user=council.chair, selection_round=council.round)
    services.member_mark_absent(
        user=council.chair, selection_round=council.round, member_id=council.member_of(council.member).pk
    )
    services.round_close(user=council.chair, selection_round=council.round)
    assert Nomination.objects.get().mean == Decimal("85.00")


def test_a_closed_round_is_frozen(council) -> None:
    nomination = start(council, 1)[0]
    for user in (council.chair, council.secretary, council.member):
        score(council, user, nomination, [25, 35, 25])
    closed = services.round_close(user=council.chair, selection_round=council.round)
    again = services.round_close(user=council.chair, selection_round=council.round)  # a second click
    assert again.closed_at == closed.closed_at
    sheet = ScoreSheet.objects.first()
    for change in (closed.save, sheet.save, sheet.delete, nomination.delete, closed.criteria.first().save):
        with pytest.raises(Frozen):
            change()
    with pytest.raises(services.Refused, match="đã kết thúc"):
        services.member_appoint(
            user=council.secretary_officer,
            selection_round=closed,
            account=UserFactory(unit=closed.unit),
            role=Member.Role.RESERVE,
        )
    with pytest.raises(services.Refused, match="không trong giai đoạn chấm"):
        score(council, council.chair, nomination, [25, 35, 25])


def test_every_step_and_every_score_is_in_the_rounds_history(council) -> None:
    nomination = start(council, 1)[0]
    score(council, council.chair, nomination, [25, 35, 25], submit=False)
    for user in (council.chair, council.secretary, council.member):
        score(council, user, nomination, [25, 35, 25])
    services.round_close(user=council.chair, selection_round=council.round)
    lines = history(council)
    assert lines[0].startswith("Lập đợt xét chọn: giới hạn 2 đề cử, nhận đề cử đến")
    assert "Hoàng Văn Chủ được phân công làm chủ tịch." in lines
    assert "“Lò cao tiết kiệm than” do Công đoàn Công ty CP Gang thép Thái Nguyên đề cử." in lines
    assert (
        "Hoàng Văn Chủ lưu nháp điểm cho “Lò cao tiết kiệm than”: Tính mới, tính sáng tạo 25, "
        "Hiệu quả, lợi ích 35, Khả năng nhân rộng 25; tổng 85."
    ) in lines
    assert sum(line.startswith("Vũ Văn Viên nộp điểm") for line in lines) == 1
    assert lines[-1] == "Kết thúc đợt: chọn 1 trong số 1 đề cử (giới hạn 2)."


def test_closing_tells_the_nominating_units_through_the_outbox(council, django_capture_on_commit_callbacks) -> None:
    nomination = start(council, 1)[0]
    for user in (council.chair, council.secretary, council.member):
        score(council, user, nomination, [25, 35, 25])
    with django_capture_on_commit_callbacks():
        services.round_close(user=council.chair, selection_round=council.round)
    owed = Notification.objects.get()
    assert (owed.kind, owed.object_id, owed.unit) == ("nomination", nomination.pk, nomination.from_unit)
    mail = compose("nomination", object_id=nomination.pk, site_url="https://sangkien.example")
    assert mail is not None and mail.unit_id == nomination.from_unit_id


def test_a_selected_nomination_is_forwarded_up_two_levels_keeping_its_history(council, unit_tree, program) -> None:
    nomination = start(council, 1)[0]
    for user in (council.chair, council.secretary, council.member):
        score(council, user, nomination, [25, 35, 25])
    services.round_close(user=council.chair, selection_round=council.round)
    nomination.refresh_from_db()

    def upper_round(unit, runner_name):
        runner = UserFactory(username=runner_name, unit=unit)
        upper = make_round(runner, program, unit, name=f"Xét chọn của {unit.code}", quota=1)
        people = [UserFactory(username=f"{runner_name}.{n}", unit=unit) for n in range(3)]
        for account, role in zip(people, ("chair", "secretary", "member"), strict=True):
            services.member_appoint(user=runner, selection_round=upper, account=account, role=role)
        return upper, people

    ct_round, ct_people = upper_round(unit_tree.cong_thuong, "ct")
    assert services.forward_targets(nomination) == [ct_round]
    with pytest.raises(services.Refused, match="không được chuyển"):
        services.nomination_forward(user=council.nominator, nomination=nomination, to_round=ct_round)
    forwarded = services.nomination_forward(user=council.secretary_officer, nomination=nomination, to_round=ct_round)
    assert (forwarded.forwarded_from, forwarded.from_unit, forwarded.recognition_number) == (
        nomination,
        unit_tree.thep,
        "12/QĐ-HĐSK",
    )
    with pytest.raises(services.Refused, match="đã được chuyển"):
        services.nomination_forward(user=council.secretary_officer, nomination=nomination, to_round=ct_round)

    services.round_start_scoring(user=ct_people[1], selection_round=ct_round)
    for account in ct_people:
        services.sheet_save(
            user=account,
            nomination=forwarded,
            points={c.pk: c.max_points for c in ct_round.criteria.all()},
            submit=True,
        )
    services.round_close(user=ct_people[0], selection_round=ct_round)
    forwarded.refresh_from_db()
    tld_round, _people = upper_round(unit_tree.root, "tld")
    # Thép's round is two levels below the TLĐ: only Công Thương's selected nomination goes up.
    assert services.forward_targets(nomination) == []
    top = services.nomination_forward(user=ct_people[0], nomination=forwarded, to_round=tld_round)
    chain = []
    step: Nomination | None = top
    while step is not None:
        chain.append((step.round.unit.code, step.from_unit.code))
        step = step.forwarded_from
    assert chain == [("TLD", "CTVN"), ("CTVN", "CTVN-THEP"), ("CTVN-THEP", "THEP-TISCO")]


def test_an_authors_workplace_is_compared_without_diacritics(council, unit_tree) -> None:
    can_thep = UnionFactory(code="THEP-CAN", name="Công đoàn Công ty Cán thép", parent=unit_tree.thep)
    colleague = UserFactory(username="canthep", unit=can_thep)
    services.member_appoint(
        user=council.secretary_officer, selection_round=council.round, account=colleague, role=Member.Role.MEMBER
    )
    initiative = council.initiatives[0]
    AuthorFactory(initiative=initiative, full_name="Lê Văn Khác", workplace="CONG DOAN CONG TY CAN THEP")
    nomination = nominate(council, initiative)
    conflicts = {c.member.full_name: c.reason for c in nomination.conflicts.select_related("member")}
    # Thép's own people judge what comes from under Thép; a colleague of an author does not.
    assert conflicts == {colleague.get_full_name(): "thuộc đơn vị công tác của một tác giả"}


def test_a_nomination_needs_its_justification_and_recognition_decision(council) -> None:
    with pytest.raises(services.Refused, match="số và ngày của quyết định công nhận"):
        services.nomination_create(
            user=council.nominator,
            selection_round=council.round,
            initiative=council.initiatives[0],
            justification="Tốt",
            recognition_number="",
            recognition_date=RECOGNISED,
        )
    with pytest.raises(services.Refused, match="vì sao"):
        services.nomination_create(
            user=council.nominator,
            selection_round=council.round,
            initiative=council.initiatives[0],
            justification="   ",
            recognition_number="1/QĐ",
            recognition_date=RECOGNISED,
        )
