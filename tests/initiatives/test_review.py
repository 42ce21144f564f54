from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse

from initiatives.models import Initiative, StatusChange
from initiatives.services import InitiativeStateError, initiative_review, initiatives_review
from tests.factories import InitiativeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(program, unit_tree) -> Initiative:
    return InitiativeFactory(program=program, unit=unit_tree.gang_thep, title="Cải tiến lò cao")


@pytest.mark.parametrize("decision", ["valid", "returned", "rejected"])
def test_a_review_moves_submitted_to_the_decision_and_writes_the_timeline(submitted, reviewer, decision) -> None:
    initiative_review(initiative=submitted, decision=decision, by=reviewer, reason="Lý do", note="Ghi chú riêng")
    submitted.refresh_from_db()
    assert submitted.status == decision
    change = StatusChange.objects.get()
    assert (change.from_status, change.to_status, change.by, change.reason, change.note) == (
        "submitted",
        decision,
        reviewer,
        "Lý do",
        "Ghi chú riêng",
    )


@pytest.mark.parametrize("decision", ["returned", "rejected"])
def test_returning_or_rejecting_needs_a_reason(submitted, reviewer, decision) -> None:
    with pytest.raises(ValidationError):
        initiative_review(initiative=submitted, decision=decision, by=reviewer, reason="  ")
    submitted.refresh_from_db()
    assert submitted.status == "submitted" and not StatusChange.objects.exists()


def test_only_submitted_initiatives_can_be_reviewed(program, unit_tree, reviewer) -> None:
    for status in ("draft", "valid", "returned", "rejected"):
        initiative = InitiativeFactory(program=program, unit=unit_tree.gang_thep, status=status)
        with pytest.raises(InitiativeStateError):
            initiative_review(initiative=initiative, decision="valid", by=reviewer)
    with pytest.raises(ValueError):
        initiatives_review(ids=[], decision="draft", by=reviewer)
    assert not StatusChange.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_at_once_make_exactly_one_transition(program, unit_tree, reviewer) -> None:
    initiative = InitiativeFactory(program=program, unit=unit_tree.gang_thep)
    other = UserFactory(username="bancspl2", is_staff=True)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def act(user, decision: str, reason: str) -> None:
        try:
            barrier.wait(timeout=10)
            initiative_review(initiative=Initiative.objects.get(pk=initiative.pk), decision=decision, by=user,
                              reason=reason)  # fmt: skip
            results.append("won")
        except InitiativeStateError:
            results.append("told")
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(reviewer, "valid", "")),
               threading.Thread(target=act, args=(other, "rejected", "Trùng lặp"))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["told", "won"]
    assert StatusChange.objects.filter(initiative=initiative).count() == 1
    initiative.refresh_from_db()
    assert initiative.status == StatusChange.objects.get().to_status


@pytest.fixture
def reviewer_client(client: Client, reviewer) -> Client:
    client.force_login(reviewer)
    return client


def test_bulk_return_asks_for_the_reason_then_reviews_each(reviewer_client, program, unit_tree) -> None:
    first, second = InitiativeFactory.create_batch(2, program=program, unit=unit_tree.gang_thep)
    already = InitiativeFactory(program=program, unit=unit_tree.gang_thep, status="valid")
    url = reverse("admin:initiatives_initiative_changelist")
    selected = {"action": "review_returned", "_selected_action": [first.pk, second.pk, already.pk]}
    page = reviewer_client.post(url, selected).content.decode()
    assert "Lý do đơn vị sẽ thấy" in page  # the intermediate page
    page = reviewer_client.post(url, {**selected, "apply": "1", "reason": ""}).content.decode()
    assert "Hãy nêu lý do" in page
    assert not StatusChange.objects.exists()
    response = reviewer_client.post(url, {**selected, "apply": "1", "reason": "Bổ sung số liệu"}, follow=True)
    page = response.content.decode()
    assert "2 sáng kiến" in page and "1 sáng kiến không còn chờ duyệt" in page
    assert sorted(Initiative.objects.values_list("status", flat=True)) == ["returned", "returned", "valid"]


def test_the_object_page_buttons_use_the_same_service(reviewer_client, submitted) -> None:
    change = reverse("admin:initiatives_initiative_change", args=[submitted.pk])
    page = reviewer_client.get(change).content.decode()
    assert "Yêu cầu bổ sung" in page and "Không hợp lệ" in page
    review = reverse("admin:initiatives_initiative_review", args=[submitted.pk])
    reviewer_client.post(review, {"decision": "rejected", "reason": ""})
    submitted.refresh_from_db()
    assert submitted.status == "submitted"
    reviewer_client.post(review, {"decision": "valid"})
    submitted.refresh_from_db()
    assert submitted.status == "valid"
    response = reviewer_client.post(review, {"decision": "valid"}, follow=True)
    assert "không còn chờ duyệt" in response.content.decode()
    assert StatusChange.objects.count() == 1


def test_a_reviewer_scoped_to_a_subtree_sees_only_its_units(client: Client, program, unit_tree) -> None:
    from tests.conftest import role_group
    from unions.permissions import REVIEWERS_GROUP

    province_board = UserFactory(username="ban.hanoi", unit=unit_tree.ha_noi, is_staff=True)
    province_board.groups.add(role_group(REVIEWERS_GROUP))
    mine = InitiativeFactory(program=program, unit=unit_tree.bia)
    theirs = InitiativeFactory(program=program, unit=unit_tree.gang_thep)
    client.force_login(province_board)
    listed = client.get(reverse("admin:initiatives_initiative_changelist")).context["cl"].result_list
    assert list(listed) == [mine]
    assert client.get(reverse("admin:initiatives_initiative_change", args=[theirs.pk])).status_code == 302
    client.post(reverse("admin:initiatives_initiative_review", args=[theirs.pk]), {"decision": "valid"})
    theirs.refresh_from_db()
    assert theirs.status == "submitted"


def test_the_queue_lists_submitted_initiatives_oldest_first(reviewer_client, program, unit_tree) -> None:
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    newer = InitiativeFactory(program=program, unit=unit_tree.gang_thep, submitted_at=now)
    older = InitiativeFactory(program=program, unit=unit_tree.gang_thep, submitted_at=now - timedelta(days=3))
    InitiativeFactory(program=program, unit=unit_tree.gang_thep, status="valid")
    listed = reviewer_client.get(reverse("admin:initiatives_reviewqueue_changelist")).context["cl"].result_list
    assert [i.pk for i in listed] == [older.pk, newer.pk]


def test_the_private_note_never_reaches_the_officer(client: Client, submitted, reviewer, officer) -> None:
    initiative_review(initiative=submitted, decision="returned", by=reviewer, reason="Bổ sung số liệu",
                      note="Đơn vị này hay nộp trùng")  # fmt: skip
    client.force_login(officer)
    page = client.get(reverse("initiatives:detail", args=[submitted.pk])).content.decode()
    assert "Bổ sung số liệu" in page
    assert "Đơn vị này hay nộp trùng" not in page


def test_admin_changelists_run_a_bounded_number_of_queries(
    reviewer_client, program, unit_tree, django_assert_max_num_queries
) -> None:
    InitiativeFactory.create_batch(3, program=program, unit=unit_tree.gang_thep)
    for name in ("initiative", "reviewqueue"):
        url = reverse(f"admin:initiatives_{name}_changelist")
        reviewer_client.get(url)
        with django_assert_max_num_queries(16):
            reviewer_client.get(url)
    InitiativeFactory.create_batch(40, program=program, unit=unit_tree.gang_thep)
    for name in ("initiative", "reviewqueue"):
        with django_assert_max_num_queries(16):
            reviewer_client.get(reverse(f"admin:initiatives_{name}_changelist"))
