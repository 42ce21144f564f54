"""The board's review loop in the admin: decide, land on the next initiative of the same filtered
queue, and find every decision and answer in "Hoạt động của tôi"."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from initiatives.models import Initiative
from questions.models import Question
from questions.services import question_ask
from tests.factories import FieldFactory, InitiativeFactory

pytestmark = pytest.mark.django_db

QUEUE = "admin:initiatives_reviewqueue_changelist"


def queue_change(pk: int, filters: str = "") -> str:
    url = reverse("admin:initiatives_reviewqueue_change", args=[pk])
    return f"{url}?{urlencode({'_changelist_filters': filters})}" if filters else url


def queue_review(pk: int, filters: str = "") -> str:
    url = reverse("admin:initiatives_reviewqueue_review", args=[pk])
    return f"{url}?{urlencode({'_changelist_filters': filters})}" if filters else url


def preserved(location: str) -> dict[str, list[str]]:
    """The changelist filters a redirect carries (in `_changelist_filters` of a change page)."""
    query = parse_qs(urlsplit(location).query)
    return parse_qs(query["_changelist_filters"][0]) if "_changelist_filters" in query else query


@dataclass
class Queue:
    filters: str
    waiting: list[Initiative]  # in the filtered queue, oldest first, reviewable by the reviewer
    own: Initiative  # in the filtered queue, but written by the reviewer
    elsewhere: list[Initiative]  # outside the filter


@pytest.fixture
def reviewer_client(client: Client, reviewer) -> Client:
    client.force_login(reviewer)
    return client


@pytest.fixture
def queue(program, unit_tree, reviewer) -> Queue:
    """Five initiatives of Thép's subtree in one field, submitted a day apart, the third written by
    the reviewer; and older ones outside the filter (another field, another subtree)."""
    field = FieldFactory(name="An toàn vệ sinh lao động")
    start = timezone.now() - dt.timedelta(days=30)

    def submitted(day: int, **kwargs: object) -> Initiative:
        kwargs = {"unit": unit_tree.gang_thep, "field": field, **kwargs}
        return InitiativeFactory(program=program, submitted_at=start + dt.timedelta(days=day), **kwargs)

    elsewhere = [submitted(0, field=FieldFactory(name="Y tế")), submitted(0, unit=unit_tree.rang_dong)]
    first, second = submitted(1, title="Lò cao 1"), submitted(2, title="Lò cao 2")
    own = submitted(3, title="Lò cao của Ban", created_by=reviewer)
    fourth, fifth = submitted(4, title="Lò cao 4"), submitted(5, title="Lò cao 5")
    filters = urlencode({"subtree": unit_tree.thep.pk, "field__id__exact": field.pk})
    return Queue(filters=filters, waiting=[first, second, fourth, fifth], own=own, elsewhere=elsewhere)


def messages_of(response) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]


def test_a_decision_lands_on_the_next_initiative_of_the_same_filtered_queue(reviewer_client, queue) -> None:
    _first, second, fourth, _fifth = queue.waiting
    page = reviewer_client.get(queue_change(second.pk, queue.filters)).content.decode()
    # The buttons post to the review view with the queue's filters.
    assert queue_review(second.pk, queue.filters).replace("&", "&amp;") in page

    response = reviewer_client.post(queue_review(second.pk, queue.filters), {"decision": "valid"})

    # Not the oldest of the queue (first: before this one), nor the reviewer's own: the next after it.
    assert urlsplit(response["Location"]).path == reverse("admin:initiatives_reviewqueue_change", args=[fourth.pk])
    assert preserved(response["Location"]) == parse_qs(queue.filters)
    landed = reviewer_client.get(response["Location"])
    assert landed.status_code == 200
    text = landed.content.decode()
    assert "“Lò cao 2”: Hợp lệ." in text
    assert 'class="success"' in text and 'class="warning"' not in text and "không tồn tại" not in text
    assert landed.context["original"].pk == fourth.pk
    # Its own buttons keep the filters for the next decision.
    assert queue_review(fourth.pk, queue.filters).replace("&", "&amp;") in text
    second.refresh_from_db()
    assert second.status == "valid"


def test_a_return_from_the_queue_keeps_its_search_and_ordering(reviewer_client, queue) -> None:
    _first, second, fourth, _fifth = queue.waiting
    # Newest first (the "submitted at" column, descending), searching "lò cao".
    filters = f"{queue.filters}&{urlencode({'o': '-4', 'q': 'lò cao'})}"
    response = reviewer_client.post(
        queue_review(fourth.pk, filters), {"decision": "returned", "reason": "Bổ sung số liệu"}
    )
    assert urlsplit(response["Location"]).path == reverse("admin:initiatives_reviewqueue_change", args=[second.pk])
    assert preserved(response["Location"]) == parse_qs(filters)
    landed = reviewer_client.get(response["Location"])
    assert "“Lò cao 4”: Yêu cầu bổ sung." in landed.content.decode()


def test_the_last_decision_of_the_queue_goes_back_to_the_filtered_queue(reviewer_client, queue) -> None:
    *_, fifth = queue.waiting
    response = reviewer_client.post(queue_review(fifth.pk, queue.filters), {"decision": "rejected", "reason": "Trùng"})
    assert urlsplit(response["Location"]).path == reverse(QUEUE)
    assert parse_qs(urlsplit(response["Location"]).query) == parse_qs(queue.filters)
    landed = reviewer_client.get(response["Location"])
    assert landed.status_code == 200
    assert messages_of(landed) == [("success", "“Lò cao 5”: Không hợp lệ.")]
    first, second, fourth, _fifth = queue.waiting
    listed = [initiative.pk for initiative in landed.context["cl"].result_list]
    assert listed == [first.pk, second.pk, queue.own.pk, fourth.pk]


def test_a_refused_decision_stays_on_the_initiative_with_the_filters(reviewer_client, queue) -> None:
    second = queue.waiting[1]
    response = reviewer_client.post(queue_review(second.pk, queue.filters), {"decision": "returned", "reason": ""})
    assert response["Location"] == queue_change(second.pk, queue.filters)
    landed = reviewer_client.get(response["Location"])
    assert messages_of(landed)[0][0] == "error"
    second.refresh_from_db()
    assert second.status == "submitted"


def test_a_decision_another_reviewer_took_first_moves_on_to_the_next(reviewer_client, queue) -> None:
    second, fourth = queue.waiting[1], queue.waiting[2]
    Initiative.objects.filter(pk=second.pk).update(status="valid")  # decided meanwhile in another tab
    response = reviewer_client.post(queue_review(second.pk, queue.filters), {"decision": "rejected", "reason": "X"})
    assert urlsplit(response["Location"]).path == reverse("admin:initiatives_reviewqueue_change", args=[fourth.pk])
    landed = reviewer_client.get(response["Location"])
    assert [level for level, _ in messages_of(landed)] == ["error"]
    assert "không tồn tại" not in landed.content.decode()


def test_deciding_from_the_plain_initiative_list_moves_to_the_next_one_awaiting_review(
    reviewer_client, queue, unit_tree
) -> None:
    _first, second, fourth, fifth = queue.waiting
    # The initiative list, newest first by default: after the fourth comes the second (the reviewer's
    # own is skipped); a filter of status keeps to the list the reviewer opened.
    filters = urlencode({"subtree": unit_tree.thep.pk, "status__exact": "submitted"})
    url = reverse("admin:initiatives_initiative_review", args=[fourth.pk])
    response = reviewer_client.post(f"{url}?{urlencode({'_changelist_filters': filters})}", {"decision": "valid"})
    assert urlsplit(response["Location"]).path == reverse("admin:initiatives_initiative_change", args=[second.pk])
    assert preserved(response["Location"]) == parse_qs(filters)
    assert messages_of(reviewer_client.get(response["Location"])) == [("success", "“Lò cao 4”: Hợp lệ.")]
    # Opened without a list (a link in a mail): the next of the whole list, newest first.
    response = reviewer_client.post(
        reverse("admin:initiatives_initiative_review", args=[fifth.pk]), {"decision": "valid"}
    )
    assert response["Location"] == reverse("admin:initiatives_initiative_change", args=[second.pk])
    landed = reviewer_client.get(response["Location"])
    assert messages_of(landed) == [("success", "“Lò cao 5”: Hợp lệ.")]


def test_a_bulk_decision_returns_to_the_filtered_queue_without_a_spurious_warning(reviewer_client, queue) -> None:
    first, second, *_ = queue.waiting
    url = f"{reverse(QUEUE)}?{queue.filters}"
    selected = {"action": "review_valid", "_selected_action": [first.pk, second.pk]}
    page = reviewer_client.post(url, selected).content.decode()
    assert "Xác nhận" in page
    assert f'href="{url}"'.replace("&", "&amp;") in page  # the breadcrumb back to the filtered queue
    response = reviewer_client.post(url, {**selected, "apply": "1", "reason": ""})
    assert urlsplit(response["Location"]).path == reverse(QUEUE)
    assert parse_qs(urlsplit(response["Location"]).query) == parse_qs(queue.filters)
    landed = reviewer_client.get(response["Location"])
    assert messages_of(landed) == [("success", "Đã chuyển 2 sáng kiến sang “Hợp lệ”.")]
    assert 'class="warning"' not in landed.content.decode()


def test_a_bulk_decision_warns_only_of_what_it_left(reviewer_client, queue) -> None:
    first = queue.waiting[0]
    url = f"{reverse(QUEUE)}?{queue.filters}"
    selected = {"action": "review_valid", "_selected_action": [first.pk, queue.own.pk]}
    response = reviewer_client.post(url, {**selected, "apply": "1"}, follow=True)
    assert [level for level, _ in messages_of(response)] == ["success", "warning"]
    assert "do chính bạn gửi hoặc chỉnh sửa" in response.content.decode()
    assert parse_qs(urlsplit(response.redirect_chain[-1][0]).query) == parse_qs(queue.filters)


def test_decisions_and_answers_are_in_my_actions_on_the_admin_index(
    reviewer_client, reviewer, queue, officer, unit_tree
) -> None:
    first, second, fourth, _fifth = queue.waiting
    reviewer_client.post(queue_review(first.pk, queue.filters), {"decision": "valid"})
    reviewer_client.post(queue_review(second.pk, queue.filters), {"decision": "returned", "reason": "Bổ sung"})
    url = f"{reverse(QUEUE)}?{queue.filters}"
    reviewer_client.post(
        url, {"action": "review_rejected", "_selected_action": [fourth.pk], "apply": "1", "reason": "Trùng"}
    )
    question = question_ask(unit=unit_tree.thep, by=officer, subject="Hỏi về chỉ tiêu", body="Nội dung")
    pending = reverse("admin:questions_pendingquestion_change", args=[question.pk])
    reviewer_client.post(pending, {"answer": "Chỉ tiêu giao theo quý.", "is_public": "on"})

    entries = LogEntry.objects.filter(user=reviewer).order_by("pk")
    assert [(e.action_flag, e.object_repr, e.get_change_message()) for e in entries] == [
        (CHANGE, "Lò cao 1", "Đã xét duyệt: Hợp lệ."),
        (CHANGE, "Lò cao 2", "Đã xét duyệt: Yêu cầu bổ sung."),
        (CHANGE, "Lò cao 4", "Đã xét duyệt: Không hợp lệ."),
        (CHANGE, "Hỏi về chỉ tiêu", "Đã trả lời."),
    ]
    # Each links to the page that lasts: the initiative's and the question's, not the queues'.
    assert [e.get_admin_url() for e in entries] == [
        reverse("admin:initiatives_initiative_change", args=[first.pk]),
        reverse("admin:initiatives_initiative_change", args=[second.pk]),
        reverse("admin:initiatives_initiative_change", args=[fourth.pk]),
        reverse("admin:questions_question_change", args=[question.pk]),
    ]
    index = reviewer_client.get(reverse("admin:index")).content.decode()
    assert "Hoạt động của tôi" in index
    for title in ("Lò cao 1", "Lò cao 2", "Lò cao 4", "Hỏi về chỉ tiêu"):
        assert title in index
    assert reverse("admin:questions_question_change", args=[question.pk]) in index
    assert Question.objects.get().answered_by == reviewer


def test_the_review_view_runs_a_fixed_number_of_queries(
    reviewer_client, queue, program, unit_tree, django_assert_num_queries
) -> None:
    first, second, fourth, _fifth = queue.waiting
    reviewer_client.post(queue_review(first.pk, queue.filters), {"decision": "valid"})  # warm the caches
    # A longer queue costs no more: the next one is found by an indexed seek, not by counting.
    InitiativeFactory.create_batch(30, program=program, unit=unit_tree.gang_thep, field=first.field)
    with django_assert_num_queries(QUERIES_OF_A_DECISION):
        response = reviewer_client.post(queue_review(second.pk, queue.filters), {"decision": "valid"})
    assert urlsplit(response["Location"]).path == reverse("admin:initiatives_reviewqueue_change", args=[fourth.pk])


# account and permissions 5 (the session and its groups come from the cache), the decision (claim,
# count mark, timeline, mail, history) 9, the next one 5. The count mark (one INSERT, issue 18) tells
# the leaderboard snapshot to re-count the initiative.
QUERIES_OF_A_DECISION = 19


def test_money_reads_in_dong_in_the_admin(reviewer_client, queue) -> None:
    first = queue.waiting[0]
    Initiative.objects.filter(pk=first.pk).update(value_vnd=125_500_000)
    for name in ("initiative", "reviewqueue"):
        listed = reviewer_client.get(reverse(f"admin:initiatives_{name}_changelist")).content.decode()
        assert "125.500.000 đ" in listed and "125500000" not in listed
        page = reviewer_client.get(reverse(f"admin:initiatives_{name}_change", args=[first.pk])).content.decode()
        assert 'value="125.500.000"' in page and "125500000" not in page


def test_money_reads_in_dong_on_a_read_only_page(client: Client, leader, queue) -> None:
    first = queue.waiting[0]
    Initiative.objects.filter(pk=first.pk).update(value_vnd=125_500_000)
    client.force_login(leader)
    page = client.get(reverse("admin:initiatives_initiative_change", args=[first.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "125.500.000 đ" in text and "125500000" not in text


def test_the_admin_form_takes_an_amount_as_typed_in_vietnamese(reviewer_client, queue) -> None:
    from tests.forms import admin_change_data

    first = queue.waiting[0]
    url = reverse("admin:initiatives_initiative_change", args=[first.pk])
    data = admin_change_data(reviewer_client, url)
    data["value_vnd"] = "2.500.000 đ"
    response = reviewer_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    first.refresh_from_db()
    assert first.value_vnd == 2_500_000


def test_a_list_that_no_longer_makes_sense_sends_the_reviewer_back_to_it(reviewer_client, queue) -> None:
    second = queue.waiting[1]
    response = reviewer_client.post(queue_review(second.pk, "no_such_field=1&o=x"), {"decision": "valid"})
    assert urlsplit(response["Location"]).path == reverse(QUEUE)
    second.refresh_from_db()
    assert second.status == "valid"


def test_save_and_continue_on_an_answered_question_opens_the_question_not_a_missing_page(
    reviewer_client, officer, unit_tree
) -> None:
    question = question_ask(unit=unit_tree.thep, by=officer, subject="Hỏi", body="Nội dung")
    pending = reverse("admin:questions_pendingquestion_change", args=[question.pk])
    response = reviewer_client.post(pending, {"answer": "Trả lời.", "_continue": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:questions_question_change", args=[question.pk])
    text = response.content.decode()
    assert "không tồn tại" not in text and 'class="warning"' not in text
