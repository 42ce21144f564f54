"""The councils' pages (issue 20, items 2, 3, 5 and 6): who sees which round (a member of one round
sees nothing of another), the scores hidden from a member until it has submitted its own and from
everyone else until the round closes, nominating from an initiative's page and its timeline, the
public "Sáng kiến tiêu biểu" with confidential initiatives masked, and the pages' query budgets."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from councils import documents, services
from councils.models import Nomination, SelectionRound
from initiatives.models import Initiative
from initiatives.selectors import current_program
from tests.councils.council import RECOGNISED, Council, build_council, nominate, score, valid_initiative
from tests.factories import UnionFactory, UserFactory

pytestmark = pytest.mark.django_db


def scored(council: Council, points: dict[str, list[int]]) -> Nomination:
    nomination = nominate(council, council.initiatives[0])
    services.round_start_scoring(user=council.secretary, selection_round=council.round)
    for name, values in points.items():
        score(council, getattr(council, name), nomination, values)
    return nomination


def page_of(client, user, url: str) -> tuple[int, str]:
    client.force_login(user)
    response = client.get(url)
    return response.status_code, response.content.decode()


def test_who_sees_a_round(client, council, unit_tree, program, leader) -> None:
    other = build_council_elsewhere(unit_tree, program)
    url = council.round.get_absolute_url()
    seen = {
        "its chair": council.chair,
        "an officer of its unit": council.secretary_officer,
        "the level above (Công Thương's leadership)": leader,
        "an officer of the level above": UserFactory(unit=unit_tree.cong_thuong),
    }
    unseen = {
        "the nominating unit below it": council.nominator,
        "another branch": UserFactory(unit=unit_tree.bia),
        "a member of another round": other.round.members.get(role="chair").user,
    }
    for who, user in seen.items():
        assert page_of(client, user, url)[0] == 200, who
    for who, user in unseen.items():
        assert page_of(client, user, url)[0] == 404, who
        assert f'href="{url}"' not in page_of(client, user, reverse("councils:rounds"))[1], who
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def build_council_elsewhere(unit_tree, program) -> Council:
    """A round of Hà Nội with its own council, for the tests of what one council sees of another."""
    runner = UserFactory(username="hn.thuky", unit=unit_tree.ha_noi)
    selection_round = services.round_create(
        user=runner,
        program=program,
        unit=unit_tree.ha_noi,
        name="Xét chọn của Hà Nội",
        quota=1,
        deadline=timezone.localdate() + dt.timedelta(days=5),
        spread_threshold=15,
    )
    for n, role in enumerate(("chair", "secretary", "member")):
        services.member_appoint(
            user=runner,
            selection_round=selection_round,
            account=UserFactory(username=f"hn.{n}", unit=unit_tree.bia),
            role=role,
        )
    return Council(selection_round, runner, runner, runner, runner, runner, runner, [])


def test_a_member_sees_the_others_scores_only_after_submitting_its_own(client, council) -> None:
    nomination = scored(council, {"chair": [27, 38, 26]})
    url = reverse("councils:nomination", args=[council.round.pk, nomination.pk])
    status, page = page_of(client, council.secretary, url)
    assert status == 200 and "Hoàng Văn Chủ" not in page.split("Điểm của hội đồng")[1]
    assert ">91<" not in page and ">38<" not in page
    assert "Điểm của các thành viên được giữ kín cho đến khi bạn nộp điểm" in page
    response = client.post(
        url,
        {"action": "submit", **{f"points_{c.pk}": v for c, v in zip(council.criteria, [25, 35, 25], strict=True)}},
    )
    assert response.status_code == 302
    page = client.get(url).content.decode()
    scores = page.split("Điểm của hội đồng")[1]
    assert "Hoàng Văn Chủ" in scores and ">91<" in scores and ">85<" in scores
    # Not a member: nothing until the round closes, even for the unit's own officer.
    status, page = page_of(client, council.secretary_officer, url)
    assert status == 200 and ">91<" not in page


def test_everyone_who_sees_the_round_sees_the_scores_once_it_is_closed(client, council, leader) -> None:
    nomination = scored(council, {"chair": [27, 38, 26], "secretary": [25, 35, 25], "member": [24, 34, 24]})
    services.round_close(user=council.chair, selection_round=council.round)
    url = reverse("councils:nomination", args=[council.round.pk, nomination.pk])
    status, page = page_of(client, leader, url)
    assert status == 200 and all(f">{total}<" in page for total in (91, 85, 82))
    round_page = page_of(client, leader, council.round.get_absolute_url())[1]
    assert "86,00" in round_page or "86.00" in round_page
    assert "Hoàng Văn Chủ nộp điểm cho “Lò cao tiết kiệm than”" in round_page  # its history


def test_a_member_scores_through_the_page_and_a_wrong_value_keeps_what_was_typed(client, council) -> None:
    nomination = scored(council, {})
    url = reverse("councils:nomination", args=[council.round.pk, nomination.pk])
    client.force_login(council.member)
    criteria = council.criteria
    response = client.post(
        url,
        {
            "action": "submit",
            f"points_{criteria[0].pk}": "25",
            f"points_{criteria[1].pk}": "45",
            f"points_{criteria[2].pk}": "",
            "comment": "Giải pháp hay",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200 and "Giải pháp hay" in page and 'value="25"' in page
    assert not nomination.sheets.exists()
    client.post(url, {"action": "save", **{f"points_{c.pk}": "20" for c in criteria}})
    assert nomination.sheets.get().status == "draft"


def test_an_officer_nominates_from_the_initiatives_page_and_sees_it_in_the_timeline(client, council) -> None:
    initiative = council.initiatives[0]
    client.force_login(council.nominator)
    detail = client.get(reverse("initiatives:detail", args=[initiative.pk])).content.decode()
    link = reverse("councils:nominate", args=[council.round.pk]) + f"?initiative={initiative.pk}"
    assert link.replace("?", "?") in detail.replace("&amp;", "&")
    form = client.get(link)
    assert form.status_code == 200
    data = {
        "initiative": initiative.pk,
        "justification": "Tiết kiệm 500 triệu đồng mỗi năm.",
        "recognition_number": "12/QĐ-HĐSK",
        "recognition_date": "01/12/2022",
    }
    assert client.post(link, data).status_code == 302
    assert client.post(link, data).status_code == 302  # a second click: one nomination
    assert Nomination.objects.count() == 1
    detail = client.get(reverse("initiatives:detail", args=[initiative.pk])).content.decode()
    assert "Xét chọn sáng kiến tiêu biểu năm 2023" in detail and "Đang nhận đề cử" in detail


def test_the_nominate_page_refuses_an_initiative_outside_the_officers_subtree(client, council, unit_tree, program):
    elsewhere = valid_initiative(program, unit_tree.bia, "Bia")
    client.force_login(council.nominator)
    url = reverse("councils:nominate", args=[council.round.pk]) + f"?initiative={elsewhere.pk}"
    assert client.get(url).status_code == 404
    client.force_login(UserFactory(unit=unit_tree.bia))  # Hà Nội's branch may not nominate to Thép's round
    assert client.get(url).status_code == 404


def test_the_public_page_lists_the_selected_and_masks_the_confidential(client, council, unit_tree) -> None:
    Initiative.objects.filter(pk=council.initiatives[1].pk).update(is_confidential=True, summary="Bí mật công nghệ")
    nominations = [nominate(council, initiative) for initiative in council.initiatives]
    services.round_start_scoring(user=council.secretary, selection_round=council.round)
    for nomination, points in zip(nominations, ([30, 40, 30], [28, 38, 28], [10, 10, 10]), strict=True):
        for user in (council.chair, council.secretary, council.member):
            score(council, user, nomination, points)
    services.round_close(user=council.chair, selection_round=council.round)
    client.logout()
    page = client.get(reverse("councils:public")).content.decode()
    assert "Lò cao tiết kiệm than" in page and "Băng tải tự động" in page
    assert "Sổ tay an toàn điện tử" not in page  # not selected (quota 2)
    confidential = page.split("Băng tải tự động")[1].split("</div>")[0]
    # Neither its unit nor the round's (a grassroots round would name it): the level only.
    assert "Gang thép" not in confidential and "Thép" not in confidential and "Bí mật" not in page
    badge = client.get(reverse("public_detail", args=[council.initiatives[1].pk])).content.decode()
    assert "Sáng kiến tiêu biểu" in badge and "Thép" not in badge
    assert "Cấp trên trực tiếp cơ sở" in page or "Công đoàn cấp trên trực tiếp cơ sở" in page
    detail = client.get(reverse("public_detail", args=[council.initiatives[0].pk])).content.decode()
    assert "Sáng kiến tiêu biểu" in detail and council.round.name in detail


def test_the_public_page_runs_a_fixed_number_of_queries(client, unit_tree, program, django_assert_num_queries) -> None:
    council = build_council(unit_tree, program, initiatives=4, quota=4)
    nominations = [nominate(council, initiative) for initiative in council.initiatives]
    services.round_start_scoring(user=council.secretary, selection_round=council.round)
    for nomination in nominations:
        for user in (council.chair, council.secretary, council.member):
            score(council, user, nomination, [25, 35, 25])
    services.round_close(user=council.chair, selection_round=council.round)
    client.logout()
    current_program()  # cached for every public page
    with django_assert_num_queries(2):  # the count (capped) and the page
        response = client.get(reverse("councils:public"), {"level": "superior"})
    assert response.content.decode().count("card-title") == 4
    assert SelectionRound.objects.get().status == "closed"


def test_the_round_page_runs_a_bounded_number_of_queries(client, unit_tree, program, django_assert_max_num_queries):
    council = build_council(unit_tree, program, initiatives=4)
    for initiative in council.initiatives:
        nominate(council, initiative)
    services.round_start_scoring(user=council.secretary, selection_round=council.round)
    client.force_login(council.chair)
    with django_assert_max_num_queries(20):
        response = client.get(council.round.get_absolute_url())
    assert response.content.decode().count(f"councils/{council.round.pk}/nominations/") == 4


def round_form_data(once: str, **extra: str) -> dict[str, str]:
    data = {
        "once": once,
        "name": "Xét chọn sáng kiến tiêu biểu năm 2024",
        "unit": "",
        "quota": "3",
        "deadline": (timezone.localdate() + dt.timedelta(days=20)).strftime("%d/%m/%Y"),
        "spread_threshold": "10",
        "pass_mark": "",
        "criteria-TOTAL_FORMS": "3",
        "criteria-INITIAL_FORMS": "0",
        "criteria-MIN_NUM_FORMS": "0",
        "criteria-MAX_NUM_FORMS": "10",
        "criteria-0-name": "Tính mới",
        "criteria-0-max_points": "50",
        "criteria-0-bands": "41-50 Mới hoàn toàn\n0 – 40: Cải tiến",
        "criteria-1-name": "Hiệu quả",
        "criteria-1-max_points": "50",
        "criteria-1-bands": "",
        "criteria-2-name": "",
        "criteria-2-max_points": "",
        "criteria-2-bands": "",
    }
    data.update(extra)
    return data


def test_a_round_is_set_up_through_its_page_with_its_own_rubric_once(client, unit_tree, program) -> None:
    officer = UserFactory(unit=unit_tree.thep)
    client.force_login(officer)
    page = client.get(reverse("councils:new")).content.decode()
    assert "Tính mới, tính sáng tạo" in page  # the default rubric offered
    once = page.split('name="once" value="')[1].split('"')[0]
    wrong = client.post(reverse("councils:new"), round_form_data(once, **{"criteria-0-bands": "41 đến 50 mới"}))
    assert wrong.status_code == 200 and "Dòng 1 không phải một khoảng điểm" in wrong.content.decode()
    assert "41 đến 50 mới" in wrong.content.decode() and not SelectionRound.objects.exists()
    first = client.post(reverse("councils:new"), round_form_data(once))
    again = client.post(reverse("councils:new"), round_form_data(once))  # a double click
    made = SelectionRound.objects.get()
    assert first["Location"] == again["Location"] == made.get_absolute_url()
    assert (made.unit, made.quota, made.spread_threshold) == (unit_tree.thep, 3, 10)
    rubric = [(c.name, c.max_points, [(b.low, b.high, b.label) for b in c.bands.all()]) for c in made.criteria.all()]
    assert rubric == [("Tính mới", 50, [(41, 50, "Mới hoàn toàn"), (0, 40, "Cải tiến")]), ("Hiệu quả", 50, [])]


def test_an_officer_below_the_unit_may_not_set_up_its_rounds_through_the_page(client, unit_tree, program) -> None:
    client.force_login(UserFactory(unit=unit_tree.gang_thep))
    page = client.get(reverse("councils:new")).content.decode()
    once = page.split('name="once" value="')[1].split('"')[0]
    response = client.post(reverse("councils:new"), round_form_data(once, unit="CTVN-THEP"))
    assert "Bạn không được lập đợt xét chọn cho đơn vị này." in response.content.decode()
    assert not SelectionRound.objects.exists()


def test_the_admin_opens_a_rounds_history_only_once_it_is_closed(client, council, reviewer) -> None:
    nomination = scored(council, {"chair": [25, 35, 25], "secretary": [25, 35, 25], "member": [25, 35, 25]})
    history = reverse("admin:councils_selectionround_history", args=[council.round.pk])
    client.force_login(reviewer)  # Công Thương's board, over Thép
    assert client.get(history).status_code == 403
    services.round_close(user=council.chair, selection_round=council.round)
    page = client.get(history).content.decode()
    assert "Hoàng Văn Chủ nộp điểm cho" in page and nomination.initiative.title in page


def test_the_documents_are_for_the_council_and_the_levels_above_once_the_round_is_closed(
    client, council, leader, unit_tree, django_capture_on_commit_callbacks
) -> None:
    scored(council, {"chair": [25, 35, 25], "secretary": [25, 35, 25], "member": [25, 35, 25]})
    minutes = reverse("councils:document", args=[council.round.pk, "minutes.pdf"])
    client.force_login(council.chair)
    assert client.get(minutes).status_code == 404  # not closed yet: no documents
    with django_capture_on_commit_callbacks() as queued:
        services.round_close(user=council.chair, selection_round=council.round)
    assert len(queued) >= 4  # the four documents are queued for the worker when the round closes
    waiting = client.get(minutes)
    assert waiting.status_code == 202 and "đang được tạo" in waiting.content.decode()
    documents.build_all(SelectionRound.objects.get(pk=council.round.pk))
    for user in (council.chair, council.member, leader, UserFactory(unit=unit_tree.cong_thuong)):
        client.force_login(user)
        response = client.get(minutes)
        assert response.status_code == 200 and b"".join(response.streaming_content)[:5] == b"%PDF-"
        assert "Bi%C3%AAn%20b%E1%BA%A3n" in response["Content-Disposition"] or "Bien" in response["Content-Disposition"]
    for user in (council.nominator, UserFactory(unit=unit_tree.bia)):
        client.force_login(user)
        assert client.get(minutes).status_code == 404
    client.force_login(council.chair)
    assert client.get(reverse("councils:document", args=[council.round.pk, "minutes.exe"])).status_code == 404


def test_a_nominations_page_runs_the_same_queries_whatever_the_council_has_scored(
    client, council, django_assert_num_queries
) -> None:
    nomination = scored(council, {"chair": [25, 35, 25]})
    url = reverse("councils:nomination", args=[council.round.pk, nomination.pk])
    client.force_login(council.chair)
    client.get(url)  # the session and the account's groups, once
    with django_assert_num_queries(QUERIES_NOMINATION_PAGE):
        response = client.get(url)
    assert response.content.decode().count('scope="row"') == 1
    for name in ("secretary", "member"):
        score(council, getattr(council, name), nomination, [20, 30, 20])
    with django_assert_num_queries(QUERIES_NOMINATION_PAGE):
        response = client.get(url)
    assert response.content.decode().count('scope="row"') == 3


QUERIES_NOMINATION_PAGE = 21


def test_the_chair_learns_a_third_scorer_is_needed_not_how_far_apart_before_scoring(client, council) -> None:
    nomination = scored(council, {"secretary": [28, 38, 28], "member": [10, 10, 10]})  # 94 and 30
    url = reverse("councils:nomination", args=[council.round.pk, nomination.pk])
    page = page_of(client, council.chair, url)[1]
    assert "lệch nhau quá mức cho phép: hãy phân công người chấm thứ ba" in page
    assert "64 điểm" not in page and ">94<" not in page
    score(council, council.chair, nomination, [20, 30, 20])
    page = client.get(url).content.decode()
    assert "lệch nhau 64 điểm" in page and ">94<" in page


def test_a_members_of_another_branch_sees_neither_the_content_nor_the_reasons_of_a_confidential_one(
    client, council, unit_tree, program
) -> None:
    can_thep = UnionFactory(code="THEP-CAN", name="Công đoàn Công ty Cán thép", parent=unit_tree.thep)
    outsider = UserFactory(username="canthep", unit=can_thep)
    services.member_appoint(
        user=council.secretary_officer, selection_round=council.round, account=outsider, role="member"
    )
    secret = valid_initiative(program, unit_tree.gang_thep, "Quy trình luyện gang đặc biệt")
    Initiative.objects.filter(pk=secret.pk).update(is_confidential=True, summary="Tỷ lệ phối liệu bí mật")
    nomination = services.nomination_create(
        user=council.nominator,
        selection_round=council.round,
        initiative=secret,
        justification="Công thức phối liệu giúp giảm 8% than",
        recognition_number="9/QĐ",
        recognition_date=RECOGNISED,
    )
    url = reverse("councils:nomination", args=[council.round.pk, nomination.pk])
    page = page_of(client, outsider, url)[1]
    assert "Quy trình luyện gang đặc biệt" in page
    assert "phối liệu" not in page and "Trần Thị Bình" not in page and "thông tin cần bảo mật" in page
    page = page_of(client, council.chair, url)[1]  # Thép's own: its subtree holds the initiative
    assert "Tỷ lệ phối liệu bí mật" in page and "Công thức phối liệu" in page


def test_a_closed_rounds_page_runs_a_bounded_number_of_queries(
    client, unit_tree, program, django_assert_max_num_queries
) -> None:
    council = build_council(unit_tree, program, initiatives=4, quota=4)
    nominations = [nominate(council, initiative) for initiative in council.initiatives]
    services.round_start_scoring(user=council.secretary, selection_round=council.round)
    for nomination in nominations:
        for user in (council.chair, council.secretary, council.member):
            score(council, user, nomination, [25, 35, 25])
    services.round_close(user=council.chair, selection_round=council.round)
    client.force_login(council.secretary_officer)  # who may forward: the targets are looked up
    with django_assert_max_num_queries(18):
        response = client.get(council.round.get_absolute_url())
    assert response.content.decode().count("Được chọn") == 4


def test_the_ranking_shows_the_criterion_means_that_broke_a_tie_on_the_mean(client, unit_tree, program) -> None:
    council = build_council(unit_tree, program, initiatives=2, quota=1)
    first, second = (nominate(council, initiative) for initiative in council.initiatives)
    services.round_start_scoring(user=council.secretary, selection_round=council.round)
    for user in (council.chair, council.secretary, council.member):
        score(council, user, first, [20, 40, 20])  # 80, novelty 20
        score(council, user, second, [25, 35, 20])  # 80, novelty 25: ahead
    services.round_close(user=council.chair, selection_round=council.round)
    page = page_of(client, council.chair, council.round.get_absolute_url())[1]
    ranking = page.split("Điểm trung bình")[1]
    assert ranking.index(council.initiatives[1].title) < ranking.index(council.initiatives[0].title)
    assert "Tính mới, tính sáng tạo 25,00" in ranking and "Tính mới, tính sáng tạo 20,00" in ranking
