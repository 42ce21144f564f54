"""Saving and submitting an initiative through a unit's API token (issue 21, item 1): only with a
token issued to write; checked by the site's own form, whose Vietnamese messages come back field by
field; written by the site's services, recorded as by the token's own account; once per
`Idempotency-Key`, whatever the client retries or sends at the same time."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext

from api import idempotency, services, submissions
from api.models import ApiToken, IdempotentRequest
from api.tasks import prune_idempotency_keys
from initiatives import likeness
from initiatives.models import Initiative, StatusChange
from tests.factories import InitiativeFactory
from unions.permissions import may_review

pytestmark = pytest.mark.django_db

URL = "/api/v1/unit/initiatives/"


@pytest.fixture
def writer(reviewer, unit_tree) -> tuple[ApiToken, str]:
    """Thép's token that may submit, issued by Công Thương's board."""
    return services.token_issue(user=reviewer, unit=unit_tree.thep, name="Phần mềm của Thép", may_write=True)


def post(client: Client, token: str, body: Any, *, key: str | None = "khoa-1", raw: str | None = None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    data = raw if raw is not None else json.dumps(body)
    return client.post(URL, data, content_type="application/json", **headers)


def submission(field, **changes: Any) -> dict[str, Any]:
    """Everything "Gửi" needs, as an integration sends it."""
    return {
        "title": "Cải tiến lò cao số 3",
        "unit": "THEP-TISCO",
        "field": field.pk,
        "kind": "technical",
        "summary": "Giảm tiêu hao than cốc.",
        "description": "Hiện trạng và giải pháp.",
        "first_applied_on": "2022-06-01",
        "value_vnd": "10.000.000",
        "authors": [
            {"full_name": "Nguyễn Văn An", "position": "Kỹ sư", "workplace": "Luyện gang", "share_percent": 66.67},
            {"full_name": "Trần Thị Bình", "share_percent": "33,33"},
        ],
        "submit": True,
        **changes,
    }  # fmt: skip


def test_a_writing_token_saves_a_draft_as_lưu_nháp_does(client, writer, program, unit_tree) -> None:
    row, token = writer
    response = post(client, token, {"title": "Sáng kiến còn nháp", "authors": [{"full_name": "Lê Văn Cường"}]})
    assert response.status_code == 400  # an author without a share, as on the site
    assert response.json() == {"authors": [{"share_percent": ["Nhập tỷ lệ đóng góp của tác giả."]}]}

    response = post(client, token, {"title": "Sáng kiến còn nháp", "submit": False})
    assert response.status_code == 201, response.content
    created = Initiative.objects.get()
    assert (created.status, created.unit, created.program, created.created_by) == (
        "draft",
        unit_tree.thep,  # the token's unit when the body names none
        program,
        row.account,
    )
    assert not StatusChange.objects.exists()
    detail = reverse("api:unit_initiative", args=[created.pk])
    assert response["Location"] == f"http://testserver{detail}"
    assert "Idempotent-Replayed" not in response
    shown = client.get(detail, HTTP_AUTHORIZATION=f"Token {token}")
    assert response.content == shown.content  # the same answer as GET …/{id}/


def test_a_writing_token_submits_with_its_authors_as_gửi_does(
    client, writer, reviewer, field, unit_tree, program
) -> None:
    row, token = writer
    response = post(client, token, submission(field))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["unit"]["code"], body["field"], body["value_vnd"]) == (
        "submitted",
        "THEP-TISCO",
        "Kỹ thuật – sản xuất",
        10_000_000,
    )
    assert [(a["full_name"], a["share_percent"]) for a in body["authors"]] == [
        ("Nguyễn Văn An", "66.67"),
        ("Trần Thị Bình", "33.33"),
    ]
    assert [(h["from_status"], h["to_status"]) for h in body["history"]] == [("draft", "submitted")]
    created = Initiative.objects.get()
    assert created.submitted_at is not None
    change = StatusChange.objects.get()
    # Recorded as by the token's own account, which signs in nowhere; its issuer did not write it,
    # and so may review it.
    assert change.by == created.created_by == row.account
    assert row.account.unit == unit_tree.thep and not row.account.is_active
    assert not row.account.has_usable_password() and not row.account.groups.exists()
    assert may_review(reviewer, created)


def test_the_forms_vietnamese_errors_come_back_field_by_field(client, writer, field, program) -> None:
    _, token = writer
    body = submission(field, title="  ", unit="HN-BIA", kind="", first_applied_on="2021-12-31")
    body["authors"][1]["share_percent"] = 30
    response = post(client, token, body)
    assert response.status_code == 400
    assert response.json() == {
        "title": ["Trường này là bắt buộc."],
        "unit": ["Không có đơn vị nào có mã này trong phạm vi đơn vị của bạn."],  # another branch
        "kind": ["Cần nhập thông tin này để gửi sáng kiến."],
        "first_applied_on": ["Chương trình chỉ nhận sáng kiến áp dụng lần đầu từ ngày 08/01/2022 đến ngày 01/09/2023."],
        "non_field_errors": ["Tổng tỷ lệ đóng góp của các tác giả phải bằng 100%; hiện đang là 96,67%."],
    }  # fmt: skip
    # A unit above the token's is not among its units either.
    response = post(client, token, submission(field, unit="CTVN"))
    assert response.json() == {"unit": ["Không có đơn vị nào có mã này trong phạm vi đơn vị của bạn."]}
    assert not Initiative.objects.exists()
    # Refusals kept nothing: the corrected request goes through with the same key.
    response = post(client, token, submission(field))
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Initiative.objects.count() == 1


def test_submitting_needs_authors_whose_shares_add_up_to_100(client, writer, field, program) -> None:
    _, token = writer
    response = post(client, token, submission(field, authors=[]))
    assert response.json() == {"non_field_errors": ["Nhập ít nhất một tác giả."]}
    many = [{"full_name": f"Tác giả {n}", "share_percent": 4} for n in range(25)]
    response = post(client, token, submission(field, authors=many))
    assert response.status_code == 400
    assert response.json()["non_field_errors"] == ["Vui lòng gửi tối đa 20 dòng."]


def test_values_of_the_wrong_json_type_are_refused_before_the_form(client, writer, program) -> None:
    _, token = writer
    wrong = {
        "title": 5,
        "field": "abc",
        "value_vnd": 1.5,
        "is_confidential": "yes",
        "authors": ["An", {"share_percent": True}],
    }
    response = post(client, token, wrong)
    assert response.status_code == 400
    expected = {kind: submissions.wrong_type(kind) for kind in ("string", "integer", "boolean", "object", "number")}
    assert response.json() == {
        "title": [expected["string"]],
        "value_vnd": [expected["integer"]],
        "is_confidential": [expected["boolean"]],
        "authors": [{"non_field_errors": [expected["object"]]}, {"share_percent": [expected["number"]]}],
    }  # fmt: skip  ("abc" is no type error: the form says it is no field)
    assert post(client, token, ["không phải đối tượng"]).json() == {"non_field_errors": [expected["object"]]}
    response = post(client, token, None, raw="{không phải JSON")
    assert (response.status_code, response.json()) == (
        400,
        {"detail": gettext("The request's body is not valid JSON.")},
    )


def test_a_second_submission_of_the_same_title_is_asked_about_first(client, writer, field, program, unit_tree) -> None:
    _, token = writer
    earlier = InitiativeFactory(program=program, unit=unit_tree.gang_thep, title="Cải tiến lò cao số 3")
    response = post(client, token, submission(field))
    assert response.status_code == 400
    assert response.json()["title"][0].startswith("Đơn vị đã gửi một sáng kiến cùng tên trong chương trình này:")
    assert f"#{earlier.pk}" in response.json()["title"][0]
    response = post(client, token, submission(field, confirm_duplicate=True))  # the same key: nothing was kept
    assert response.status_code == 201
    assert Initiative.objects.count() == 2


def test_submitting_a_copy_of_an_initiative_anywhere_is_asked_about_first_and_hides_a_secret_one(
    client, writer, field, program, unit_tree
) -> None:
    _, token = writer
    text = "Lắp bộ trao đổi nhiệt dạng tấm và van điều tiết tự động cho mạch nước làm mát khuôn đúc phôi thép"
    public = InitiativeFactory(program=program, unit=unit_tree.rang_dong, title="Làm mát khuôn đúc", summary=text)
    secret = InitiativeFactory(
        program=program, unit=unit_tree.bia, title="Làm mát khuôn đúc", summary=text, is_confidential=True
    )
    likeness.remember([public, secret])
    body = submission(field, title="Làm mát khuôn đúc", summary=text)

    response = post(client, token, body)

    assert response.status_code == 400
    (asked,) = response.json()["title"]
    assert asked.startswith("Kiểm tra trùng lặp toàn quốc:")
    assert f"Giống 100%: Làm mát khuôn đúc – {unit_tree.rang_dong.name} (#{public.pk}, Đã gửi" in asked
    assert f"Giống 100%: một sáng kiến mật của nhánh khác (không hiển thị nội dung và đơn vị) (#{secret.pk}" in asked
    assert unit_tree.bia.name not in asked
    assert Initiative.objects.count() == 2

    assert post(client, token, {**body, "confirm_duplicate": True}).status_code == 201  # the same key
    assert Initiative.objects.count() == 3


def test_a_read_only_token_may_not_write(client, reviewer, program, unit_tree) -> None:
    _, token = services.token_issue(user=reviewer, unit=unit_tree.thep, name="Chỉ đọc")
    response = post(client, token, {"title": "Không được ghi"})
    assert response.status_code == 403
    assert response.json() == {
        "detail": gettext("This token may only read: the board over your unit issues tokens that may submit.")
    }
    assert not Initiative.objects.exists() and not IdempotentRequest.objects.exists()


def test_a_revoked_or_missing_token_is_refused(client, writer, reviewer, program) -> None:
    row, token = writer
    services.token_revoke(user=reviewer, token=row)
    response = post(client, token, {"title": "Sau khi thu hồi"})
    assert (response.status_code, response.json()) == (401, {"detail": "Mã truy cập không hợp lệ hoặc đã bị thu hồi."})
    response = client.post(URL, {"title": "Không có mã"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Hãy gửi mã truy cập dạng “Authorization: Token <mã>”."}
    assert not Initiative.objects.exists()


@pytest.mark.parametrize("key", [None, "", "có dấu", "hai từ", "x" * 201])
def test_the_idempotency_key_is_required_and_visible_ascii(client, writer, program, key) -> None:
    _, token = writer
    response = client.post(
        URL,
        {"title": "Không có khoá"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
        **({"HTTP_IDEMPOTENCY_KEY": key.encode().decode("latin-1")} if key is not None else {}),
    )
    assert response.status_code == 400
    assert list(response.json()) == ["detail"] and "Idempotency-Key" in response.json()["detail"]
    assert not Initiative.objects.exists()


def test_a_retry_with_the_same_key_gets_the_same_answer_and_creates_nothing(client, writer, field, program) -> None:
    _, token = writer
    key = "3f6c1a52-8d0e-4b7a-9b1e-2c5d7e9f0a14"
    first = post(client, token, submission(field), key=key)
    assert first.status_code == 201
    # The same request, its keys ordered and spaced otherwise by another client library.
    again = post(client, token, None, key=key, raw=json.dumps(submission(field), indent=2, sort_keys=True))
    assert (again.status_code, again.content, again["Location"]) == (201, first.content, first["Location"])
    assert again["Idempotent-Replayed"] == "true"
    assert Initiative.objects.count() == 1 and StatusChange.objects.count() == 1
    # Another key is another request: the title is then asked about.
    assert post(client, token, submission(field), key=key + "-2").status_code == 400


def test_the_same_key_with_another_body_is_refused(client, writer, field, program) -> None:
    _, token = writer
    assert post(client, token, submission(field)).status_code == 201
    response = post(client, token, submission(field, title="Một sáng kiến khác"))
    assert response.status_code == 422
    assert response.json() == {"detail": gettext(idempotency.KeyReused.default_detail)}
    assert Initiative.objects.count() == 1


def test_keys_are_per_token(client, writer, reviewer, field, unit_tree, program) -> None:
    _, token = writer
    _, other = services.token_issue(user=reviewer, unit=unit_tree.thep, name="Phần mềm thứ hai", may_write=True)
    assert post(client, token, submission(field, title="Của phần mềm thứ nhất")).status_code == 201
    # The same key, another token: a new request (alike to the first: confirmed past the check for copies).
    assert (
        post(client, other, submission(field, title="Của phần mềm thứ hai", confirm_duplicate=True)).status_code == 201
    )
    assert Initiative.objects.count() == 2


@pytest.mark.django_db(transaction=True)  # as in production: no test transaction adds savepoints
def test_a_successful_post_runs_a_fixed_number_of_queries(writer, field, program, django_assert_num_queries) -> None:
    _, token = writer
    client = Client()
    post(client, token, {"title": "Lượt đầu"}, key="khoa-0")  # the token's first use and the programme are kept
    body = {"title": "Bản nháp", "field": field.pk, "authors": [{"full_name": "An", "share_percent": 50}] * 2}
    # The token; the key; the form: the unit by its code, the field, the model's checks that both
    # exist and of its constraints (as on the site); BEGIN, the claim with its lock_timeout set and
    # reset; the service: SAVEPOINT, the initiative, its count mark, its authors, RELEASE; the answer:
    # the initiative, its authors, its history; the answer kept; COMMIT.
    with django_assert_num_queries(21):
        response = post(client, token, body)
    assert response.status_code == 201
    assert [a["full_name"] for a in response.json()["authors"]] == ["An", "An"]
    assert Initiative.objects.get(pk=response.json()["id"]).title == "Bản nháp"


def test_keys_older_than_a_day_are_pruned(writer, program, settings) -> None:
    row, _ = writer
    old = IdempotentRequest.objects.create(token=row, key="cu", digest="0" * 64)
    IdempotentRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(hours=25))
    IdempotentRequest.objects.create(token=row, key="moi", digest="0" * 64)
    assert prune_idempotency_keys() == 1
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["moi"]
    assert settings.CELERY_BEAT_SCHEDULE["prune-idempotency-keys"]["task"] == "api.prune_idempotency_keys"


def test_the_board_issues_a_token_that_may_submit_in_the_admin(client, reviewer, unit_tree) -> None:
    client.force_login(reviewer)
    response = client.post(
        reverse("admin:api_apitoken_add"),
        {"unit": unit_tree.thep.pk, "name": "Phần mềm của Thép", "may_write": "on"},
        follow=True,
    )
    assert response.status_code == 200
    row = ApiToken.objects.get()
    assert row.may_write and row.account is not None and row.account.get_full_name() == "API: Phần mềm của Thép"
    listed = client.get(reverse("admin:api_apitoken_changelist")).content.decode()
    assert capfirst(gettext("may submit initiatives")) in listed  # the list's column


# -- Two requests at once, on two connections ----------------------------------------------------


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads started together (each on its own database connection)."""
    results: list[Any] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            start.wait()
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def slow_draft(monkeypatch, seconds: float) -> None:
    """The draft's service holds its transaction (and the key's claim) a while after writing."""
    save = submissions.initiative_save_draft

    def slowly(**kwargs: Any) -> Initiative:
        saved = save(**kwargs)
        time.sleep(seconds)
        return saved

    monkeypatch.setattr(submissions, "initiative_save_draft", slowly)


@pytest.mark.django_db(transaction=True)
def test_two_identical_requests_at_once_create_one_initiative(writer, program, monkeypatch) -> None:
    _, token = writer
    slow_draft(monkeypatch, 0.5)
    waited = []  # the second waited on the first's claim, then found its answer
    retried = idempotency.retried
    monkeypatch.setattr(idempotency, "retried", lambda **kwargs: waited.append(1) or retried(**kwargs))
    body = {"title": "Gửi hai lần cùng lúc"}
    first, second = at_once(lambda: post(Client(), token, body), lambda: post(Client(), token, body))
    assert Initiative.objects.count() == 1 and waited == [1]
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.content == second.content
    assert sorted(r.get("Idempotent-Replayed", "") for r in (first, second)) == ["", "true"]


@pytest.mark.django_db(transaction=True)
def test_a_request_whose_twin_is_still_running_is_told_to_retry(writer, program, monkeypatch) -> None:
    _, token = writer
    monkeypatch.setattr(idempotency, "CLAIM_WAIT", dt.timedelta(milliseconds=200))
    slow_draft(monkeypatch, 2)
    body = {"title": "Gửi lại quá sớm"}

    def late() -> Any:
        time.sleep(0.5)  # after the first has claimed the key
        return post(Client(), token, body)

    first, second = at_once(lambda: post(Client(), token, body), late)
    assert (first.status_code, second.status_code) == (201, 409)
    assert second.json() == {"detail": gettext(idempotency.StillRunning.default_detail)}
    again = post(Client(), token, body)
    assert (again.status_code, again.content, again["Idempotent-Replayed"]) == (201, first.content, "true")
    assert Initiative.objects.count() == 1
