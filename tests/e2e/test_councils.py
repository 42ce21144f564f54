"""A council of three scores and closes a round, in Chromium (issue 20, item 6): the secretary
closes the nominations, each member scores on their own and sees the others' scores only once
their own are submitted, the chair finds two totals too far apart and assigns the reserve scorer,
who scores, then closes the round: the ranking, the result and the history are on the round's
page, and a visitor finds the selected initiative among the outstanding ones."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from councils.models import Nomination, SelectionRound
from tests.councils.council import build_council, nominate
from unions.models import User

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def as_account(page: Page, base: str, user: User) -> None:
    """The browser's session becomes `user`'s (signed in without the login form)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.clear_cookies()
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base}])


def score(page: Page, points: list[int]) -> None:
    for field, value in zip(page.locator("input[name^='points_']").all(), points, strict=True):
        field.fill(str(value))
    page.get_by_role("button", name="Nộp điểm").click()
    expect(page.get_by_text("Đã nộp điểm của bạn.")).to_be_visible()


def test_a_council_of_three_scores_and_closes_a_round(page: Page, live_server, unit_tree, program) -> None:
    council = build_council(unit_tree, program, initiatives=2, quota=1)
    close_call, far_apart = (nominate(council, initiative) for initiative in council.initiatives)
    base = live_server.url
    round_url = f"{base}{council.round.get_absolute_url()}"

    as_account(page, base, council.secretary)
    page.goto(round_url)
    page.get_by_role("button", name="Khóa nhận đề cử và bắt đầu chấm điểm").click()
    expect(page.get_by_text("Đã khóa nhận đề cử: hội đồng có thể chấm điểm.")).to_be_visible()

    sheets = {
        council.chair: {close_call: [27, 38, 27], far_apart: [28, 38, 28]},  # 92, 94
        council.secretary: {close_call: [25, 35, 25], far_apart: [15, 20, 15]},  # 85, 50
        council.member: {close_call: [26, 36, 26], far_apart: [20, 30, 20]},  # 88, 70
    }
    for user, points in sheets.items():
        as_account(page, base, user)
        for nomination, values in points.items():
            page.goto(round_url)
            page.get_by_role("link", name=nomination.initiative.title).click()
            scores = page.locator("main").get_by_text("Điểm của các thành viên được giữ kín")
            expect(scores).to_be_visible()  # nothing of the others before its own are in
            score(page, values)
            expect(page.get_by_role("rowheader", name=user.get_full_name())).to_be_visible()
            if user != council.chair:
                expect(page.get_by_role("rowheader", name=council.chair.get_full_name())).to_be_visible()

    as_account(page, base, council.chair)
    page.goto(round_url)
    expect(page.get_by_role("row").filter(has_text=far_apart.initiative.title)).to_contain_text("cần người chấm thứ ba")
    expect(page.get_by_role("row").filter(has_text=close_call.initiative.title)).to_contain_text("đã đủ điểm")
    page.get_by_role("button", name="Kết thúc đợt xét chọn").click()
    expect(page.get_by_text("lệch nhau 44 điểm: hãy phân công người chấm thứ ba")).to_be_visible()
    page.get_by_role("link", name=far_apart.initiative.title).click()
    page.get_by_label("Người chấm dự phòng").select_option(label="Bùi Thị Ba")
    page.get_by_role("button", name="Phân công chấm thứ ba").click()
    expect(page.get_by_text("Đã phân công người chấm thứ ba.")).to_be_visible()

    as_account(page, base, council.reserve)
    page.goto(round_url)
    page.get_by_role("link", name=far_apart.initiative.title).click()
    score(page, [22, 30, 20])  # 72

    as_account(page, base, council.chair)
    page.goto(round_url)
    page.get_by_label("Số tờ trình").fill("15/TTr-CĐTCT")
    page.get_by_role("button", name="Kết thúc đợt xét chọn").click()
    expect(page.get_by_text("Đợt xét chọn đã kết thúc: kết quả được công bố")).to_be_visible()
    ranking = page.locator("table").filter(has_text="Điểm trung bình")
    expect(ranking.get_by_role("row").nth(1)).to_contain_text(close_call.initiative.title)
    expect(ranking.get_by_role("row").nth(1)).to_contain_text("88,33")
    expect(ranking.get_by_role("row").nth(1)).to_contain_text("Được chọn")
    expect(ranking.get_by_role("row").nth(2)).to_contain_text("71,50")
    expect(page.get_by_text("Bùi Thị Ba nộp điểm cho")).to_be_visible()  # the history
    assert SelectionRound.objects.get().status == "closed"
    assert Nomination.objects.get(pk=close_call.pk).result == "selected"

    page.context.clear_cookies()
    page.goto(base + "/")
    page.get_by_role("navigation", name="Menu chính").get_by_role("link", name="Sáng kiến tiêu biểu").click()
    expect(page.get_by_role("link", name=close_call.initiative.title)).to_be_visible()
    expect(page.get_by_role("link", name=far_apart.initiative.title)).to_have_count(0)
