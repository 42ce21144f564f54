"""Honours decisions (issue 19, item 3): a draft prepared from a snapshot's proposal, exclusions with
a reason, the decision issued and frozen with the figures, targets and rule it was made with, a
correction as a new decision, every step in the admin's history, the units honoured told through
the outbox; and who may decide for which units (the one access policy)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from honours import services
from honours.models import Frozen, HonourDecision, HonourEntry
from initiatives.models import QuarterTarget
from leaderboard.models import HonourRule, LeaderboardSnapshot
from leaderboard.snapshots import leaderboard_prune, leaderboard_snapshot
from notifications.kinds import compose
from notifications.models import Notification
from unions.models import Union
from unions.permissions import may_decide_honours

pytestmark = pytest.mark.django_db

SIGNED = dt.date(2023, 1, 10)  # after the figures of 02/01/2023


def entries(decision: HonourDecision) -> list[tuple[str, str, str, int, int | None, bool, bool]]:
    return [
        (e.level, e.cluster_name, e.unit_code, e.count, e.target, e.meets, e.excluded)
        for e in decision.entries.order_by("position")
    ]


def q3(program, tree):
    return services.period_of(program, "2022-3", tree["snapshot"])


def prepared(program, tree, user, scope=None) -> HonourDecision:
    return services.decision_prepare(
        user=user, snapshot=tree["snapshot"], choice=q3(program, tree), scope=scope or tree["units"].root
    )


def history(decision: HonourDecision) -> list[str]:
    kind = ContentType.objects.get_for_model(HonourDecision)
    rows = LogEntry.objects.filter(content_type=kind, object_id=str(decision.pk)).order_by("pk")
    return [row.change_message for row in rows]


def test_a_draft_holds_the_proposal_the_rule_and_names_its_snapshot(tree, program, roles) -> None:
    decision = prepared(program, tree, roles["national_leadership"])
    assert decision.status == "draft" and decision.snapshot == tree["snapshot"]
    assert decision.taken_at == tree["snapshot"].taken_at
    assert (decision.period_kind, decision.quarter_key, decision.period_label) == ("quarter", 20223, "Quý 3/2022")
    assert (decision.count, decision.margin, decision.scope_name) == (
        "submitted",
        1,
        "Tổng Liên đoàn Lao động Việt Nam",
    )
    assert entries(decision) == [
        ("tier2", "", "CTVN", 7, None, False, False),
        ("superior", "", "CTVN-THEP", 4, None, False, False),
        ("grassroots", "", "HN-BIA", 4, 4, False, False),
        ("grassroots", "", "THEP-TISCO", 4, 1, True, False),
        ("grassroots", "Cụm A", "HN-BIA", 4, 4, False, False),
        ("grassroots", "Cụm A", "THEP-TISCO", 4, 1, True, False),
        ("grassroots", "Cụm B", "CTVN-RANGDONG", 3, None, False, False),
    ]
    assert history(decision) == [
        "Đã lập dự thảo từ ảnh chụp lúc 02/01/2023 09:00: 7 đơn vị dẫn đầu, 2 đơn vị đạt quy định."
    ]


def test_an_exclusion_needs_a_reason_and_can_be_taken_back_while_a_draft(tree, program, roles) -> None:
    user = roles["national_leadership"]
    decision = prepared(program, tree, user)
    block = decision.entries.get(cluster_name="", unit_code="THEP-TISCO")
    with pytest.raises(services.Refused, match="Cho biết lý do"):
        services.decision_exclude(user=user, decision=decision, entry_id=block.pk, reason="   ")
    services.decision_exclude(user=user, decision=decision, entry_id=block.pk, reason="Đã khen ở đợt trước")
    assert [e.unit_code for e in decision.entries.all() if e.honoured] == ["THEP-TISCO"]  # still Cụm A's
    services.decision_include(user=user, decision=decision, entry_id=block.pk)
    assert [e.unit_code for e in decision.entries.all() if e.honoured] == ["THEP-TISCO", "THEP-TISCO"]
    other = prepared(program, tree, user)
    with pytest.raises(services.Refused, match="không có trong quyết định"):
        services.decision_exclude(user=user, decision=decision, entry_id=other.entries.first().pk, reason="x")
    assert history(decision)[1:] == [
        "Đã loại Công đoàn Công ty CP Gang thép Thái Nguyên (Khối công đoàn cơ sở): Đã khen ở đợt trước",
        "Đã đưa Công đoàn Công ty CP Gang thép Thái Nguyên (Khối công đoàn cơ sở) trở lại",
    ]


def issued(program, tree, user, number="15/QĐ-TLĐ") -> HonourDecision:
    decision = prepared(program, tree, user)
    cluster = decision.entries.get(cluster_name="Cụm A", unit_code="THEP-TISCO")
    services.decision_exclude(user=user, decision=decision, entry_id=cluster.pk, reason="Vi phạm quy định báo cáo")
    return services.decision_issue(
        user=user, decision=decision, number=number, signed_on=SIGNED, signer="Nguyễn Đình Khang", note="Quý 3"
    )


def test_issuing_freezes_the_list_keeps_the_snapshot_and_tells_the_units_honoured(tree, program, roles) -> None:
    user = roles["national_leadership"]
    decision = issued(program, tree, user)
    assert (decision.status, decision.number, decision.signed_on, decision.issued_by) == (
        "issued",
        "15/QĐ-TLĐ",
        SIGNED,
        user,
    )
    tree["snapshot"].refresh_from_db()
    assert tree["snapshot"].pinned_reason == "Quyết định vinh danh 15/QĐ-TLĐ"
    # Gang thép is honoured once (the block; left out of Cụm A), and told once.
    honoured = [e for e in decision.entries.all() if e.honoured]
    assert [(e.cluster_name, e.unit_code) for e in honoured] == [("", "THEP-TISCO")]
    mails = Notification.objects.filter(kind="honour")
    assert [(n.unit_id, n.object_id) for n in mails] == [(tree["units"].gang_thep.pk, honoured[0].pk)]
    mail = compose("honour", object_id=honoured[0].pk, site_url="https://sangkien.example")
    assert mail is not None and mail.unit_id == tree["units"].gang_thep.pk
    assert mail.context["url"] == f"https://sangkien.example/vinh-danh/{decision.pk}/"
    assert history(decision)[-1] == "Đã ban hành Quyết định 15/QĐ-TLĐ ngày 10/01/2023, người ký Nguyễn Đình Khang."
    assert (decision.issuer, decision.issuer_name) == (tree["units"].root, "Tổng Liên đoàn Lao động Việt Nam")

    # Frozen: the rule, the targets and the units' names change later; the decision does not.
    HonourRule.objects.create(program=program, margin=10)
    QuarterTarget.objects.filter(unit=tree["units"].bia).update(quantity=1)
    Union.objects.filter(pk=tree["units"].gang_thep.pk).update(name="Tên mới")
    decision.refresh_from_db()
    assert (decision.count, decision.margin) == ("submitted", 1)
    assert ("grassroots", "", "THEP-TISCO", 4, 1, True, False) in entries(decision)
    assert ("grassroots", "", "HN-BIA", 4, 4, False, False) in entries(decision)
    entry = decision.entries.first()
    for change in (decision.save, decision.delete, entry.save, entry.delete):
        with pytest.raises(Frozen):
            change()
    with pytest.raises(services.Refused, match="đã được ban hành"):
        services.decision_exclude(user=user, decision=decision, entry_id=entry.pk, reason="x")
    with pytest.raises(services.Refused, match="đã được ban hành"):
        services.decision_issue(user=user, decision=decision, number="16", signed_on=SIGNED, signer="A")
    with pytest.raises(services.Refused, match="đã được ban hành"):
        services.decision_discard(user=user, decision=decision)
    assert HonourDecision.objects.get(pk=decision.pk).number == "15/QĐ-TLĐ"


def test_a_decision_needs_a_number_a_signer_a_date_after_its_figures_and_a_new_number(tree, program, roles) -> None:
    user = roles["national_leadership"]
    issued(program, tree, user)
    q4 = services.period_of(program, "2022-4", tree["snapshot"])
    draft = services.decision_prepare(user=user, snapshot=tree["snapshot"], choice=q4, scope=tree["units"].root)
    with pytest.raises(services.Refused, match="số, ngày và người ký"):
        services.decision_issue(user=user, decision=draft, number=" ", signed_on=SIGNED, signer="A")
    for day in (dt.date(2022, 12, 31), timezone.localdate() + dt.timedelta(days=1)):
        with pytest.raises(services.Refused, match="từ ngày của số liệu \\(02/01/2023\\) đến hôm nay"):
            services.decision_issue(user=user, decision=draft, number="16/QĐ-TLĐ", signed_on=day, signer="A")
    # The same body, number and year: refused; the same number the next year is a new one.
    with pytest.raises(
        services.Refused, match="Tổng Liên đoàn Lao động Việt Nam đã ban hành quyết định số 15/QĐ-TLĐ năm 2023"
    ):
        services.decision_issue(user=user, decision=draft, number="15/QĐ-TLĐ", signed_on=SIGNED, signer="A")
    assert HonourDecision.objects.get(pk=draft.pk).status == "draft"
    services.decision_issue(user=user, decision=draft, number="15/QĐ-TLĐ", signed_on=dt.date(2024, 1, 5), signer="A")


def test_a_period_is_decided_once_for_the_same_units_then_corrected(tree, program, roles) -> None:
    user = roles["national_leadership"]
    first = prepared(program, tree, user)
    second = prepared(program, tree, user)  # two drafts may wait side by side
    services.decision_issue(user=user, decision=first, number="20/QĐ", signed_on=SIGNED, signer="A")
    with pytest.raises(services.Refused, match="Quyết định 20/QĐ đã quyết định Quý 3/2022 cho các đơn vị này"):
        services.decision_issue(user=user, decision=second, number="21/QĐ", signed_on=SIGNED, signer="A")
    with pytest.raises(services.Refused, match="Quyết định 20/QĐ đã quyết định Quý 3/2022"):
        prepared(program, tree, user)
    # Another subtree's decision for the same quarter is its own.
    province = roles["province_leadership"]
    services.decision_issue(
        user=province,
        decision=prepared(program, tree, province, scope=tree["units"].cong_thuong),
        number="20/QĐ",  # Công Thương's own numbering
        signed_on=SIGNED,
        signer="B",
    )


def test_a_period_not_over_when_the_snapshot_was_taken_is_not_decided_from_it(tree, program, roles) -> None:
    user = roles["national_leadership"]
    q1 = services.period_of(program, "2023-1", tree["snapshot"])  # the snapshot is of 02/01/2023
    with pytest.raises(services.Refused, match="Quý 1/2023 chưa kết thúc khi chụp số liệu này"):
        services.decision_prepare(user=user, snapshot=tree["snapshot"], choice=q1, scope=tree["units"].root)
    # The quarter's end: the snapshot of the midnight after its last day is the first that may.
    end, _ = leaderboard_snapshot(program=program, at=timezone.make_aware(dt.datetime(2023, 4, 1, 0, 0)))
    assert (
        services.decision_prepare(user=user, snapshot=end, choice=q1, scope=tree["units"].root).period_token == "2023-1"
    )


def test_an_issued_decision_is_frozen_in_the_database_too(tree, program, roles) -> None:
    decision = issued(program, tree, roles["national_leadership"])
    attempts = (
        lambda: HonourDecision.objects.filter(pk=decision.pk).update(number="99"),
        lambda: HonourEntry.objects.filter(decision=decision).update(count=999),
        lambda: HonourEntry.objects.filter(decision=decision).delete(),
    )
    for attempt in attempts:
        with pytest.raises(IntegrityError), transaction.atomic():
            attempt()
    # A unit deleted since (a restructuring) loses its link only: the entry keeps its code and name.
    entry = decision.entries.get(cluster_name="", unit_code="THEP-TISCO")
    HonourEntry.objects.filter(pk=entry.pk).update(unit=None)
    entry.refresh_from_db()
    assert (entry.unit_id, entry.unit_name, entry.count) == (None, "Công đoàn Công ty CP Gang thép Thái Nguyên", 4)
    # An account that prepared or issued a decision is not deleted (its history would go with it).
    with pytest.raises(ProtectedError):
        roles["national_leadership"].delete()


def test_a_correction_is_a_new_decision_that_replaces_the_one_it_names(tree, program, roles) -> None:
    user = roles["national_leadership"]
    original = issued(program, tree, user)
    q4 = services.period_of(program, "2022-4", tree["snapshot"])
    draft = services.decision_prepare(user=user, snapshot=tree["snapshot"], choice=q4, scope=tree["units"].root)
    with pytest.raises(services.Refused, match="Chỉ có thể đính chính"):
        services.decision_correct(user=user, decision=draft)
    correction = services.decision_correct(user=user, decision=original)
    assert correction.corrects == original and correction.status == "draft"
    assert entries(correction) == entries(original)  # the same figures, with the exclusion
    excluded = correction.entries.get(excluded=True)
    assert excluded.reason == "Vi phạm quy định báo cáo"
    services.decision_include(user=user, decision=correction, entry_id=excluded.pk)
    services.decision_exclude(
        user=user,
        decision=correction,
        entry_id=correction.entries.get(cluster_name="", unit_code="THEP-TISCO").pk,
        reason="Trùng với khen thưởng cụm",
    )
    Notification.objects.all().delete()
    services.decision_issue(
        user=user, decision=correction, number="16/QĐ-TLĐ", signed_on=SIGNED, signer="Nguyễn Đình Khang"
    )
    # Gang thép was already honoured by the decision corrected: nobody is told again.
    assert not Notification.objects.exists()
    with pytest.raises(services.Refused, match="đã được đính chính"):
        services.decision_correct(user=user, decision=original)
    another = services.decision_correct(user=user, decision=correction)  # the correction can be corrected in turn
    assert another.corrects == correction
    assert history(original)[-1] == f"Đã lập dự thảo đính chính (dự thảo #{correction.pk})."


def test_the_snapshot_a_draft_cites_is_kept_as_evidence_from_the_start(tree, program, roles) -> None:
    """Pruning passes pinned snapshots by; a draft's snapshot left unpinned would be pruned under it
    (or, protected by the draft, stop the pruning job)."""
    snapshot = tree["snapshot"]
    draft = prepared(program, tree, roles["national_leadership"])
    snapshot.refresh_from_db()
    assert snapshot.pinned_reason == "Dự thảo vinh danh dẫn chiếu"
    later = timezone.make_aware(dt.datetime(2024, 6, 1))
    leaderboard_snapshot(program=program, at=later - dt.timedelta(days=1))
    leaderboard_snapshot(program=program, at=later)
    leaderboard_prune(program=program, now=later + dt.timedelta(days=400))
    assert LeaderboardSnapshot.objects.filter(pk=snapshot.pk).exists()
    services.decision_issue(
        user=roles["national_leadership"], decision=draft, number="8/QĐ", signed_on=SIGNED, signer="A"
    )
    snapshot.refresh_from_db()
    assert snapshot.pinned_reason == "Quyết định vinh danh 8/QĐ"


def test_a_draft_can_be_discarded_and_the_history_keeps_it(tree, program, roles) -> None:
    user = roles["national_leadership"]
    draft = prepared(program, tree, user)
    pk = draft.pk
    services.decision_discard(user=user, decision=draft)
    tree["snapshot"].refresh_from_db()
    assert tree["snapshot"].pinned_reason == ""  # nothing cites it any more
    with pytest.raises(services.Refused, match="Dự thảo này không còn"):
        services.decision_exclude(user=user, decision=draft, entry_id=1, reason="x")
    assert not HonourDecision.objects.filter(pk=pk).exists() and not HonourEntry.objects.filter(decision_id=pk).exists()
    assert history(HonourDecision(pk=pk))[-1] == "Đã huỷ dự thảo."


@pytest.mark.parametrize(
    ("role", "scope", "may"),
    [
        ("national_leadership", "root", True),
        ("national_reviewer", "root", True),
        ("superuser", "root", True),
        ("province_leadership", "cong_thuong", True),  # its own subtree
        ("province_leadership", "thep", True),
        ("province_leadership", "root", False),
        ("province_leadership", "ha_noi", False),
        ("own_reviewer", "cong_thuong", False),  # a province's board sees, its leadership decides
        ("officer", "thep", False),
        ("ancestor_officer", "cong_thuong", False),
    ],
)
def test_who_decides_for_which_units(tree, program, roles, role, scope, may) -> None:
    unit = getattr(tree["units"], scope)
    user = roles[role]
    assert may_decide_honours(user, unit) is may
    if may:
        assert prepared(program, tree, user, scope=unit).scope == unit
    else:
        with pytest.raises(services.Refused, match="không được quyết định"):
            prepared(program, tree, user, scope=unit)
