"""The honours pages (issue 19, items 2–4): the proposal a snapshot gives, the draft and its steps
on the site, the public honour roll and decision pages (all they should show, nothing confidential),
the latest decision on the home page, a unit's honours on its dashboard page; who may open and do
what (roles × URLs); bounded queries."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from honours import services
from honours.models import HonourDecision
from initiatives.models import FormSubmission
from notifications.models import Notification
from tests.conftest import ROLES

pytestmark = pytest.mark.django_db

HEADERS = "Đơn vị Sáng kiến Chỉ tiêu của kỳ"  # a table's column headers, as text


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def login(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def proposal_url(tree, unit="") -> str:
    return reverse("honours:proposal") + f"?snapshot={tree['snapshot'].pk}&period=2022-3&unit={unit}"


def test_the_proposal_page_names_its_snapshot_and_shows_each_group_s_leaders(tree, roles) -> None:
    client = login(roles["national_leadership"])
    page = client.get(proposal_url(tree))
    assert page.status_code == 200
    shown = text(page)
    assert (
        "Kỳ: Quý 3/2022 · phạm vi Tổng Liên đoàn Lao động Việt Nam · số liệu theo ảnh chụp lúc 02/01/2023 09:00"
        in shown
    )
    assert "Quy định: nhiều sáng kiến đã gửi nhất trong kỳ, và vượt chỉ tiêu của chính đơn vị ít nhất 1." in shown
    for heading in ("Khối công đoàn cơ sở – Cụm A", "Khối công đoàn cơ sở – Cụm B"):
        assert heading in shown
    assert "Công đoàn Công ty CP Gang thép Thái Nguyên (THEP-TISCO) 4 1 Đạt quy định" in shown
    assert "Công đoàn Công ty CP Bia Hà Nội (HN-BIA) 4 4 Không vượt chỉ tiêu" in shown
    assert "Lập dự thảo quyết định từ đề xuất này" in shown
    # Without a choice: the last quarter ended before the snapshot (Q4/2022), from the first snapshot offered.
    assert "Kỳ: Quý 4/2022" in text(client.get(reverse("honours:proposal")))


def test_a_province_sees_its_subtree_and_its_board_sees_without_deciding(tree, roles) -> None:
    leadership = login(roles["province_leadership"])
    shown = text(leadership.get(proposal_url(tree)))
    assert "phạm vi Công đoàn Công Thương Việt Nam" in shown and "HN-BIA" not in shown
    assert "Lập dự thảo quyết định" in shown
    outside = text(leadership.get(proposal_url(tree, unit="HN")))
    assert "Không có đơn vị nào có mã này trong phạm vi của bạn." in outside and "HN-BIA" not in outside
    assert "Hãy chọn ảnh chụp, kỳ và đơn vị trong các danh sách ở trên." in outside
    forged = text(leadership.get(reverse("honours:proposal") + "?period=1999-9"))
    assert "Hãy chọn ảnh chụp, kỳ và đơn vị trong các danh sách ở trên." in forged and "THEP-TISCO" not in forged
    board = text(login(roles["own_reviewer"]).get(proposal_url(tree)))
    assert "THEP-TISCO" in board and "Lập dự thảo quyết định" not in board


def prepare(client: Client, tree, unit="TLD"):
    page = client.get(proposal_url(tree, unit=unit))
    once = re.search(r'name="once" value="([^"]+)"', page.content.decode())[1]
    data = {"once": once, "snapshot": tree["snapshot"].pk, "period": "2022-3", "unit": unit}
    return client.post(reverse("honours:prepare"), data), data


def test_preparing_twice_from_one_page_makes_one_draft(tree, roles) -> None:
    client = login(roles["national_leadership"])
    first, data = prepare(client, tree)
    again = client.post(reverse("honours:prepare"), data)
    decision = HonourDecision.objects.get()
    assert first["Location"] == again["Location"] == reverse("honours:decision", args=[decision.pk])
    assert FormSubmission.objects.filter(purpose="honours").count() == 1


def test_from_draft_to_the_published_pages(
    tree, roles, django_assert_num_queries, django_capture_on_commit_callbacks
) -> None:
    client = login(roles["national_leadership"])
    prepare(client, tree)
    decision = HonourDecision.objects.get()
    page = reverse("honours:decision", args=[decision.pk])
    cluster_a = decision.entries.get(cluster_name="Cụm A", unit_code="THEP-TISCO")
    draft_page = text(client.get(page))
    assert "Công đoàn Công Thương Việt Nam (CTVN) Sáng kiến: 7 · Chỉ tiêu của kỳ: – Không vượt chỉ tiêu" in draft_page
    assert "None" not in draft_page
    refused = client.post(page, {"action": "exclude", "entry": cluster_a.pk, "reason": ""}, follow=True)
    assert "Cho biết lý do loại đơn vị này." in text(refused)
    client.post(page, {"action": "exclude", "entry": cluster_a.pk, "reason": "Vi phạm chế độ báo cáo <b>"})
    wrong = client.post(page, {"action": "issue", "number": "12/QĐ-TLĐ", "signed_on": "31/02/2022", "signer": "A"})
    assert wrong.status_code == 200 and "Nhập một ngày hợp lệ." in text(wrong)
    assert 'value="12/QĐ-TLĐ"' in wrong.content.decode()  # what was typed is kept
    done = client.post(
        page, {"action": "issue", "number": "12/QĐ-TLĐ", "signed_on": "10/01/2023", "signer": "Nguyễn Đình Khang"}
    )
    assert done.status_code == 302
    decision.refresh_from_db()
    assert decision.status == "issued" and decision.signed_on.isoformat() == "2023-01-10"
    assert Notification.objects.filter(kind="honour", unit=tree["units"].gang_thep).count() == 1
    shown = text(client.get(page))
    assert "Quyết định này đã được ban hành và công bố" in shown and "Loại" not in shown

    public = login(None)
    with django_assert_num_queries(5):  # the programme, the periods, the decisions, the clusters, the units
        roll = public.get(reverse("honours:public"))
    shown = text(roll)
    assert (
        "Quyết định 12/QĐ-TLĐ ngày 10/01/2023, người ký Nguyễn Đình Khang; số liệu tính đến 02/01/2023 09:00." in shown
    )
    assert (
        f"Khối công đoàn cơ sở Khối công đoàn cơ sở {HEADERS} Công đoàn Công ty CP Gang thép Thái Nguyên 4 1" in shown
    )
    # Nothing confidential: not the units left out or why, not those below their target.
    for hidden in ("Vi phạm", "Cụm A", "Bia Hà Nội", "Rạng Đông", "Dự thảo"):
        assert hidden not in shown
    detail = text(public.get(reverse("honours:public_decision", args=[decision.pk])))
    assert "Người ký Nguyễn Đình Khang" in detail and "Gang thép" in detail and "Vi phạm" not in detail
    home = text(public.get("/"))
    assert (
        "Đơn vị được vinh danh" in home
        and "Công đoàn Công ty CP Gang thép Thái Nguyên – Khối công đoàn cơ sở (4)" in home
    )
    unit_page = text(client.get(reverse("dashboard_unit", args=["THEP-TISCO"])))
    assert (
        "Quý 3/2022: đơn vị dẫn đầu Khối công đoàn cơ sở (4 sáng kiến) – Quyết định 12/QĐ-TLĐ ngày 10/01/2023"
        in unit_page
    )

    # A draft is never public; a correction replaces the decision on the roll and says so on its page.
    assert (
        public.get(
            reverse(
                "honours:public_decision",
                args=[services.decision_correct(user=roles["national_leadership"], decision=decision).pk],
            )
        ).status_code
        == 404
    )
    correction = HonourDecision.objects.get(status="draft")
    # The correction honours Gang thép in Cụm A instead of in the whole block.
    leader = roles["national_leadership"]
    services.decision_include(user=leader, decision=correction, entry_id=correction.entries.get(excluded=True).pk)
    block = correction.entries.get(cluster_name="", unit_code="THEP-TISCO")
    services.decision_exclude(user=leader, decision=correction, entry_id=block.pk, reason="Khen theo cụm")
    with django_capture_on_commit_callbacks(execute=True):  # the cached public pages are forgotten
        client.post(
            reverse("honours:decision", args=[correction.pk]),
            {"action": "issue", "number": "13/QĐ-TLĐ", "signed_on": "20/01/2023", "signer": "Nguyễn Đình Khang"},
        )
    assert "Quyết định này đã được đính chính bởi Quyết định 13/QĐ-TLĐ ngày 20/01/2023." in text(
        public.get(reverse("honours:public_decision", args=[decision.pk]))
    )
    roll = text(public.get(reverse("honours:public")))
    assert "(đính chính Quyết định 12/QĐ-TLĐ)" in roll and "đã đính chính" in roll  # both decisions, named
    # Only the standing decision's units: Cụm A's leader, no longer the block's.
    assert f"Khối công đoàn cơ sở – Cụm A Khối công đoàn cơ sở – Cụm A {HEADERS} Công đoàn Công ty CP Gang thép" in roll
    assert f"Khối công đoàn cơ sở Khối công đoàn cơ sở {HEADERS}" not in roll
    assert "Quyết định 13/QĐ-TLĐ" in text(public.get("/"))


def test_the_public_roll_by_period_and_cluster(tree, roles) -> None:
    user = roles["national_leadership"]
    q3 = services.period_of(tree["snapshot"].program, "2022-3", tree["snapshot"])
    q4 = services.period_of(tree["snapshot"].program, "2022-4", tree["snapshot"])
    for choice, number in ((q3, "1/QĐ"), (q4, "2/QĐ")):
        draft = services.decision_prepare(user=user, snapshot=tree["snapshot"], choice=choice, scope=tree["units"].root)
        services.decision_issue(
            user=user, decision=draft, number=number, signed_on=timezone.localdate(draft.taken_at), signer="B"
        )
    public = login(None)
    latest = text(public.get(reverse("honours:public")))
    assert "Quyết định 1/QĐ" in text(public.get(reverse("honours:public") + "?period=2022-3"))
    assert "Quyết định 2/QĐ" in latest and "Quyết định 1/QĐ" not in latest  # the latest decided first
    assert "Không vinh danh" not in latest
    cluster_a = tree["a"].pk
    in_a = text(public.get(reverse("honours:public") + f"?period=2022-3&cluster={cluster_a}"))
    assert f"Khối công đoàn cơ sở – Cụm A Khối công đoàn cơ sở – Cụm A {HEADERS} Công đoàn Công ty CP Gang thép" in in_a
    assert f"Khối công đoàn cơ sở {HEADERS}" not in in_a
    assert public.get(reverse("honours:public") + "?period=2021-1").status_code == 404


HONOURS_SEERS = {
    "other_reviewer",
    "own_reviewer",
    "national_reviewer",
    "province_leadership",
    "national_leadership",
    "superuser",
}
DECIDERS_FOR_ROOT = {"national_reviewer", "national_leadership", "superuser"}


def test_who_may_open_and_do_what(tree, roles) -> None:
    """Roles × URLs: the proposal and the decisions' pages for leadership and the board (the root's
    decision for national accounts only), the steps for those who decide, the public pages for all."""
    user = roles["national_leadership"]
    choice = services.period_of(tree["snapshot"].program, "2022-3", tree["snapshot"])
    draft = services.decision_prepare(user=user, snapshot=tree["snapshot"], choice=choice, scope=tree["units"].root)
    issued = services.decision_issue(
        user=user,
        decision=services.decision_prepare(
            user=user, snapshot=tree["snapshot"], choice=choice, scope=tree["units"].root
        ),
        number="9/QĐ",
        signed_on=timezone.localdate(tree["snapshot"].taken_at),
        signer="C",
    )
    national = {"national_reviewer", "national_leadership", "superuser"}
    pages = {
        reverse("honours:proposal"): HONOURS_SEERS,
        reverse("honours:decisions"): HONOURS_SEERS,
        reverse("honours:decision", args=[draft.pk]): national,  # the root's: outside every province
        reverse("honours:public"): set(ROLES),
        reverse("honours:public_decision", args=[issued.pk]): set(ROLES),
    }
    wrong = []
    for role in ROLES:
        client = login(roles[role])
        for address, allowed in pages.items():
            status = client.get(address).status_code
            expected = 200 if role in allowed else 302 if role == "anonymous" else 403
            if status != expected:
                wrong.append(f"{role} GET {address}: {status}, expected {expected}")
        entry = draft.entries.first()
        response = client.post(
            reverse("honours:decision", args=[draft.pk]), {"action": "exclude", "entry": entry.pk, "reason": "x"}
        )
        entry.refresh_from_db()
        did = entry.excluded
        if did != (role in DECIDERS_FOR_ROOT):
            wrong.append(f"{role} POST exclude: {response.status_code}, excluded={did}")
        if did:
            services.decision_include(user=user, decision=draft, entry_id=entry.pk)
    assert not wrong, "\n".join(wrong)
    assert not HonourDecision.objects.filter(status="draft", scope__code="CTVN").exists()


def test_the_public_decision_page_runs_few_queries(tree, roles, django_assert_num_queries) -> None:
    user = roles["national_leadership"]
    choice = services.period_of(tree["snapshot"].program, "2022-3", tree["snapshot"])
    decision = services.decision_issue(
        user=user,
        decision=services.decision_prepare(
            user=user, snapshot=tree["snapshot"], choice=choice, scope=tree["units"].root
        ),
        number="3/QĐ",
        signed_on=timezone.localdate(tree["snapshot"].taken_at),
        signer="D",
    )
    with django_assert_num_queries(3):  # the decision, its units honoured, a correction of it
        assert login(None).get(reverse("honours:public_decision", args=[decision.pk])).status_code == 200


def test_the_leadership_s_pages_run_a_fixed_number_of_queries(tree, roles, django_assert_num_queries) -> None:
    """Whatever the tree's size: the proposal reads the account, its scope, the snapshots offered,
    the decision standing for the period, the rule, the units as the snapshot saw them, the quarter's
    figures (temporary tables of the tree and the counted initiatives, the roll-up level by level,
    the sums) and the leaders' targets; the list and a decision their rows (paginated, or one
    decision's entries)."""
    client = login(roles["national_leadership"])
    prepare(client, tree)
    decision = HonourDecision.objects.get()
    for url, queries in (
        (proposal_url(tree), 22),
        (reverse("honours:decisions"), 4),  # the account, the scope, the count, the page
        (reverse("honours:decision", args=[decision.pk]), 5),  # … the decision, its entries, its corrections
    ):
        client.get(url)  # the account's groups and the programme cached
        with django_assert_num_queries(queries):
            assert client.get(url).status_code == 200
