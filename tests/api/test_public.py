"""The public API, version 1 (issue 21, items 1 and 2, the part without an account): the programme
and its progress, the published initiatives (never a draft, a submitted, a rejected or a
confidential one), searchable without diacritics and paged by cursor, the public FAQ, rate limits
per client address, answers from the cache, and the pages' query counts."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from initiatives.models import Field, Initiative
from initiatives.selectors import current_program
from questions.models import Question
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(program, unit_tree, field) -> list[Initiative]:
    """Five valid initiatives of Gang thép, and one each of what is never published."""
    rows = [
        InitiativeFactory(
            program=program, unit=unit_tree.gang_thep, field=field, status="valid", title=f"Cải tiến lò cao số {n}",
            search_text=f"cai tien lo cao so {n}", value_vnd=1_000_000 * n,
        )
        for n in range(1, 6)
    ]  # fmt: skip
    for status in ("submitted", "rejected", "returned"):
        InitiativeFactory(program=program, unit=unit_tree.gang_thep, status=status, title=f"Chưa công bố {status}")
    InitiativeFactory(program=program, unit=unit_tree.gang_thep, status="draft", submitted_at=None, title="Nháp")
    InitiativeFactory(
        program=program, unit=unit_tree.gang_thep, status="valid", is_confidential=True, title="Bí mật",
        search_text="bi mat cai tien",
    )  # fmt: skip
    return rows


def test_the_programme_and_its_progress(client, program, published) -> None:
    retired = Field.objects.create(name="Lĩnh vực cũ", is_active=False)
    body = client.get(reverse("api:programme")).json()
    assert (body["name"], body["target"], body["submitted"], body["valid"]) == ("01 triệu sáng kiến", 1_000_000, 9, 6)
    assert body["percent"] == 0.0 and [p["name"] for p in body["phases"]] == ["Giai đoạn 1", "Giai đoạn 2"]
    assert body["starts_on"] == program.starts_on.isoformat()
    # The fields an integration submits under (by id), inactive ones left out.
    fields = body["fields"]
    assert {"id": Field.objects.get(name="Kỹ thuật – sản xuất").pk, "name": "Kỹ thuật – sản xuất"} in fields
    assert len(fields) == Field.objects.filter(is_active=True).count() and retired.pk not in [f["id"] for f in fields]


def test_only_published_initiatives_newest_first_with_what_their_page_shows(client, published, unit_tree) -> None:
    body = client.get(reverse("api:initiatives")).json()
    assert [row["title"] for row in body["results"]] == [f"Cải tiến lò cao số {n}" for n in range(5, 0, -1)]
    first = body["results"][0]
    assert first["unit"] == {"code": "THEP-TISCO", "name": unit_tree.gang_thep.name}
    assert (first["field"], first["kind"], first["value_vnd"]) == (
        "Kỹ thuật – sản xuất",
        "Giải pháp kỹ thuật",
        5_000_000,
    )
    assert first["url"] == f"http://testserver/sang-kien/{published[4].pk}/"
    hidden = Initiative.objects.exclude(pk__in=[row.pk for row in published])
    for row in hidden:
        assert client.get(reverse("api:initiative", args=[row.pk])).status_code == 404
    assert client.get(reverse("api:initiative", args=[published[0].pk])).json()["title"] == "Cải tiến lò cao số 1"


def test_search_folds_diacritics_and_never_finds_a_confidential_one(client, published) -> None:
    for term in ("cai tien lo cao so 3", "Cải tiến lò cao số 3", "CẢI TIẾN LÒ CAO SỐ 3"):
        body = client.get(reverse("api:initiatives"), {"q": term}).json()
        assert [row["title"] for row in body["results"]] == ["Cải tiến lò cao số 3"], term
    assert "Bí mật" not in client.get(reverse("api:initiatives"), {"q": "cai tien"}).content.decode()


def test_the_cursor_pages_through_everything_once(client, published) -> None:
    seen, url, params = [], reverse("api:initiatives"), {"page_size": 2}
    while url:
        body = client.get(url, params).json()
        seen += [row["id"] for row in body["results"]]
        url, params = body["next"], {}
        assert len(seen) <= 5
    assert seen == sorted((row.pk for row in published), reverse=True)
    InitiativeFactory(program=published[0].program, unit=published[0].unit, status="valid", title="Mới")
    again = client.get(reverse("api:initiatives"), {"page_size": 2, "cursor": "không-hợp-lệ"})
    assert (again.status_code, again.json()) == (404, {"detail": "Con trỏ này không phải do danh sách này trả về."})


def test_the_faq_lists_public_answers_only(client, unit_tree, officer) -> None:
    now = timezone.now()
    Question.objects.create(
        unit=unit_tree.thep, asked_by=officer, subject="Hạn nộp", body="Khi nào?", answer="Trước 01/09/2023.",
        answered_at=now, is_public=True,
    )  # fmt: skip
    Question.objects.create(
        unit=unit_tree.thep, asked_by=officer, subject="Riêng", body="?", answer="Chỉ đơn vị biết.", answered_at=now
    )
    Question.objects.create(unit=unit_tree.thep, asked_by=officer, subject="Chưa trả lời", body="?")
    body = client.get(reverse("api:faq")).json()
    assert [(row["subject"], row["answer"]) for row in body["results"]] == [("Hạn nộp", "Trước 01/09/2023.")]
    assert "asked_by" not in body["results"][0] and "unit" not in body["results"][0]


def test_each_client_address_is_limited_and_told_when_to_come_back(client, monkeypatch, published) -> None:
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"public": "3/min"})
    answers = [client.get(reverse("api:programme"), REMOTE_ADDR="10.1.1.1") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[-1]["Retry-After"]) > 0
    assert answers[-1].json()["detail"].startswith("Quá nhiều yêu cầu từ địa chỉ này: hãy thử lại sau ")
    assert client.get(reverse("api:programme"), REMOTE_ADDR="10.1.1.2").status_code == 200  # another client
    # A header a client sets itself names no other address (only the portal's proxies are believed).
    forged = client.get(reverse("api:programme"), REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert forged.status_code == 429


def test_answers_come_from_the_cache_and_a_new_programme_setting_shows_at_once(
    client, program, published, django_assert_num_queries
) -> None:
    cache.clear()
    client.get(reverse("api:programme"))
    with django_assert_num_queries(0):
        assert client.get(reverse("api:programme")).json()["name"] == "01 triệu sáng kiến"
    program.name = "Chương trình mới"
    program.save()  # forgets the public pages and the API's answers
    assert client.get(reverse("api:programme")).json()["name"] == "Chương trình mới"


@pytest.mark.parametrize("url", ["api:initiatives", "api:faq"])
def test_a_list_runs_one_query_for_a_page_of_any_size(client, program, published, url, django_assert_num_queries):
    current_program()  # cached for every page
    for size in (1, 5):
        with django_assert_num_queries(1):  # the page's rows (a cursor counts nothing)
            response = client.get(reverse(url), {"page_size": size})
        assert response.status_code == 200


def test_errors_are_json_in_vietnamese_never_the_sites_html_page(client, published) -> None:
    for address, status in (
        ("/api/v1/khong-co/", 404),
        ("/api/v1/initiatives/abc/", 404),
        ("/api/v1/initiatives/99999999999999999999999/", 404),
        ("/api/v1/initiatives/?q=%00", 400),
    ):
        response = client.get(address)
        assert (response.status_code, response["Content-Type"]) == (status, "application/json"), address
        assert response.json()["detail"] in ("Không tìm thấy.", "Yêu cầu chứa ký tự NUL: không được chấp nhận.")
    assert client.get("/sang-kien/?q=%00").status_code == 400  # the site's own pages keep their HTML page


def test_without_an_open_programme_the_public_operations_say_so(client, program) -> None:
    program.is_active = False
    program.save()
    for name in ("api:programme", "api:initiatives", "api:honours"):
        response = client.get(reverse(name))
        assert (response.status_code, response.json()) == (
            404,
            {"detail": "Hiện chưa có chương trình nào đang diễn ra."},
        ), name


def test_a_query_with_a_parameter_no_operation_reads_is_not_kept(client, published) -> None:
    cache.clear()
    client.get(reverse("api:initiatives"), {"la": "1"})
    client.get(reverse("api:initiatives"), {"q": "lo cao"})
    kept = [key for key in cache._cache if ":api:" in key]  # locmem's own keys
    assert len(kept) == 1


def test_a_kept_answer_is_served_before_the_framework_and_still_counts_against_the_limit(
    client, monkeypatch, published, django_assert_num_queries
) -> None:
    current_program()
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"public": "2/min"})
    first = client.get(reverse("api:initiatives"), REMOTE_ADDR="10.2.2.2")
    with django_assert_num_queries(0):
        second = client.get(reverse("api:initiatives"), REMOTE_ADDR="10.2.2.2")
    assert second.content == first.content and second["Content-Type"] == "application/json"
    third = client.get(reverse("api:initiatives"), REMOTE_ADDR="10.2.2.2")
    assert third.status_code == 429 and third.json()["detail"].startswith("Quá nhiều yêu cầu")
    assert int(third["Retry-After"]) > 0
