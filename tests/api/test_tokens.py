"""Integration through a unit's API token (issue 21, item 1): issued and revoked in the admin by the
board over the unit, shown once, stored as a digest; acting exactly as an officer of its unit (its
subtree, drafts included, never another branch); refused once revoked; the initiatives with their
authors and status history, in a fixed number of queries."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from api import services
from api.models import ApiToken, digest_of
from initiatives.models import StatusChange
from tests.factories import AuthorFactory, InitiativeFactory, UserFactory
from unions.permissions import REVIEWERS_GROUP

pytestmark = pytest.mark.django_db


def issue(user, unit, name="Phần mềm quản lý sáng kiến") -> str:
    return services.token_issue(user=user, unit=unit, name=name)[1]


def auth(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {token}"}


@pytest.fixture
def initiatives(program, unit_tree):
    draft = {"status": "draft", "submitted_at": None}
    mine = [
        InitiativeFactory(program=program, unit=unit_tree.thep, title="Của Thép", status="submitted"),
        InitiativeFactory(program=program, unit=unit_tree.gang_thep, title="Của Gang thép", **draft),
    ]
    AuthorFactory(initiative=mine[0], full_name="Nguyễn Văn An")
    StatusChange.objects.create(
        initiative=mine[0], from_status="submitted", to_status="returned", at=timezone.now(),
        reason="Bổ sung số liệu", note="Ghi chú riêng của Ban",
    )  # fmt: skip
    others = [
        InitiativeFactory(program=program, unit=unit_tree.rang_dong, title="Của Rạng Đông"),
        InitiativeFactory(program=program, unit=unit_tree.bia, title="Của Bia Hà Nội"),
    ]
    return mine, others


def test_the_board_issues_a_token_shown_once_and_stored_as_a_digest(client, reviewer, unit_tree) -> None:
    client.force_login(reviewer)  # Công Thương's board, over Thép
    response = client.post(
        reverse("admin:api_apitoken_add"), {"unit": unit_tree.thep.pk, "name": "Phần mềm của Thép"}, follow=True
    )
    shown = [str(m) for m in response.context["messages"]]
    token = shown[0].split(": ", 1)[1].split(". ", 1)[0]
    row = ApiToken.objects.get()
    assert (row.unit, row.name, row.created_by, row.prefix) == (
        unit_tree.thep,
        "Phần mềm của Thép",
        reviewer,
        token[:8],
    )
    assert row.digest == digest_of(token) and token not in str(ApiToken.objects.values_list())
    assert "không bao giờ hiện lại" in shown[0]
    assert token not in client.get(reverse("admin:api_apitoken_change", args=[row.pk])).content.decode()


def test_a_board_issues_tokens_for_its_subtree_only(unit_tree, roles) -> None:
    hanoi_board = UserFactory(username="ban.hn", unit=unit_tree.ha_noi, is_staff=True)
    from tests.conftest import role_group

    hanoi_board.groups.add(role_group(REVIEWERS_GROUP))
    with pytest.raises(services.Refused):
        services.token_issue(user=hanoi_board, unit=unit_tree.thep, name="x")
    with pytest.raises(services.Refused):
        services.token_issue(user=roles["officer"], unit=unit_tree.thep, name="x")  # officers do not issue
    assert not ApiToken.objects.exists()


def test_a_token_sees_its_units_subtree_as_its_officers_do(client, reviewer, unit_tree, initiatives) -> None:
    mine, others = initiatives
    token = issue(reviewer, unit_tree.thep)
    body = client.get(reverse("api:unit_initiatives"), **auth(token)).json()
    assert [row["title"] for row in body["results"]] == ["Của Gang thép", "Của Thép"]
    thep = body["results"][1]
    assert thep["authors"] == [
        {"full_name": "Nguyễn Văn An", "position": "", "workplace": "", "share_percent": "100.00"}
    ]
    assert thep["history"][0]["reason"] == "Bổ sung số liệu" and "Ghi chú riêng" not in str(body)
    assert body["results"][0]["status"] == "draft"
    for other in others:
        assert client.get(reverse("api:unit_initiative", args=[other.pk]), **auth(token)).status_code == 404
    assert (
        client.get(reverse("api:unit_initiative", args=[mine[1].pk]), **auth(token)).json()["title"] == "Của Gang thép"
    )
    only = client.get(reverse("api:unit_initiatives"), {"status": "draft"}, **auth(token)).json()["results"]
    assert [row["title"] for row in only] == ["Của Gang thép"]
    assert ApiToken.objects.get().last_used_at is not None


def test_without_a_valid_token_nothing_is_answered(client, reviewer, unit_tree, initiatives) -> None:
    token = issue(reviewer, unit_tree.thep)
    for headers in ({}, auth("sai"), {"HTTP_AUTHORIZATION": "Token"}, {"HTTP_AUTHORIZATION": "Bearer " + token}):
        response = client.get(reverse("api:unit_initiatives"), **headers)
        assert response.status_code == 401, headers
        assert response["WWW-Authenticate"] == "Token"
    services.token_revoke(user=reviewer, token=ApiToken.objects.get())
    revoked = client.get(reverse("api:unit_initiatives"), **auth(token))
    assert (revoked.status_code, revoked.json()["detail"]) == (401, "Mã truy cập không hợp lệ hoặc đã bị thu hồi.")


def test_the_admin_revokes_tokens_for_good(client, reviewer, unit_tree) -> None:
    issue(reviewer, unit_tree.thep)
    row = ApiToken.objects.get()
    client.force_login(reviewer)
    client.post(reverse("admin:api_apitoken_changelist"), {"action": "revoke", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.revoked_at is not None


def test_a_page_of_a_units_initiatives_runs_the_same_queries_for_one_or_five(
    client, reviewer, unit_tree, program, django_assert_num_queries
) -> None:
    token = issue(reviewer, unit_tree.thep)
    client.get(reverse("api:unit_initiatives"), **auth(token))  # the token's first use is written once
    for count in (1, 5):
        made = InitiativeFactory.create_batch(count, program=program, unit=unit_tree.gang_thep)
        for initiative in made:
            AuthorFactory(initiative=initiative)
        # the token, the page's rows, their authors, their history
        with django_assert_num_queries(4):
            response = client.get(reverse("api:unit_initiatives"), {"page_size": 50}, **auth(token))
        assert response.status_code == 200
