"""One click, one write (issue 13, item 4): the new-initiative, import and question forms carry a
one-time token; two POSTs of one form, at once or one after the other, write once."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from initiatives import once
from initiatives.models import FormSubmission, Initiative
from initiatives.tasks import prune_form_submissions
from questions.models import Question
from tests.forms import once_field
from tests.initiatives.test_import_initiatives import good_row, workbook
from tests.initiatives.test_views import form_data
from unions.models import User

TRIALS = 10


def at_once(post: Callable[[], object], count: int = 2) -> list[object]:
    """`count` POSTs released together, each on its own thread and database connection."""
    barrier = threading.Barrier(count)
    responses: list[object] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            responses[index] = post()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)
def test_two_posts_of_one_new_initiative_form_at_once_create_one_initiative(officer, program, field, unit_tree) -> None:
    client = logged_in(officer)
    url = reverse("initiatives:create")
    for trial in range(TRIALS):
        data = {**form_data(unit_tree.thep, field, title=f"Cải tiến số {trial}"), **once_field(client, url)}
        responses = at_once(lambda data=data: logged_in(officer).post(url, data))
        created = Initiative.objects.get(title=f"Cải tiến số {trial}")
        assert [response.status_code for response in responses] == [302, 302]
        assert {response["Location"] for response in responses} == {created.get_absolute_url()}
    assert Initiative.objects.count() == TRIALS == Initiative.objects.submitted().count()
    assert FormSubmission.objects.count() == TRIALS


@pytest.mark.django_db(transaction=True)
def test_two_posts_of_one_question_or_import_form_at_once_write_once(officer, program, field, unit_tree) -> None:
    client = logged_in(officer)
    ask = {"subject": "Hỏi về tỷ lệ", "body": "Tỷ lệ đóng góp tính thế nào?"}
    ask.update(once_field(client, reverse("questions:create")))
    at_once(lambda: logged_in(officer).post(reverse("questions:create"), ask))
    assert Question.objects.count() == 1
    token = once_field(client, reverse("initiatives:import"))
    at_once(
        lambda: logged_in(officer).post(
            reverse("initiatives:import"), {"file": workbook([good_row(), good_row(title="Khác")]), **token}
        )
    )
    assert Initiative.objects.count() == 2


@pytest.mark.django_db
def test_a_form_posted_again_later_is_sent_to_what_it_created(
    client: Client, officer, program, field, unit_tree
) -> None:
    client.force_login(officer)
    data = {**form_data(unit_tree.thep, field), **once_field(client, reverse("initiatives:create"))}
    first = client.post(reverse("initiatives:create"), data)
    again = client.post(reverse("initiatives:create"), data, follow=True)
    created = Initiative.objects.get()
    assert first["Location"] == created.get_absolute_url()
    assert again.redirect_chain[0][0] == created.get_absolute_url()
    assert "Biểu mẫu này đã được gửi trước đó" in again.content.decode()
    # A draft saved from a new form leads back to the draft.
    data = form_data(unit_tree.thep, field, action="draft", title="Nháp")
    data.update(once_field(client, reverse("initiatives:create")))
    client.post(reverse("initiatives:create"), data)
    response = client.post(reverse("initiatives:create"), {**data, "submit": "1"})
    draft = Initiative.objects.get(title="Nháp")
    assert response["Location"] == reverse("initiatives:edit", args=[draft.pk])
    assert draft.status == "draft" and Initiative.objects.count() == 2


@pytest.mark.django_db
def test_a_form_without_a_valid_token_writes_nothing_and_keeps_what_was_typed(
    client: Client, officer, program, field, unit_tree
) -> None:
    client.force_login(officer)
    other = User.objects.create_user(username="canbo.khac", unit=unit_tree.thep)
    for token in ("", "giả-mạo", once.issue(user=other)):
        page = client.post(reverse("initiatives:create"), {**form_data(unit_tree.thep, field), "once": token})
        assert page.status_code == 200
        html = page.content.decode()
        assert "Biểu mẫu đã hết hạn" in html
        assert "Cải tiến dây chuyền cán thép" in html  # what was typed
        assert 'name="once" value="' in html  # a fresh token to send it again
    assert not Initiative.objects.exists()


@pytest.mark.django_db
def test_a_form_first_saved_as_a_draft_then_sent_again_with_submit_leads_to_the_draft(
    client: Client, officer, program, field, unit_tree
) -> None:
    client.force_login(officer)
    data = form_data(unit_tree.thep, field, action="draft", title="Nháp rồi gửi")
    data.update(once_field(client, reverse("initiatives:create")))
    client.post(reverse("initiatives:create"), data)
    data.pop("draft")
    response = client.post(reverse("initiatives:create"), {**data, "submit": "1"}, follow=True)
    draft = Initiative.objects.get()
    assert response.redirect_chain[0][0] == reverse("initiatives:edit", args=[draft.pk])
    assert "chưa được gửi: hãy gửi tại đây" in response.content.decode()
    assert draft.status == "draft"


@pytest.mark.django_db
def test_tokens_past_their_day_are_forgotten_at_night(officer) -> None:
    old = FormSubmission.objects.create(token=uuid.uuid4(), user=officer, purpose="initiative")
    FormSubmission.objects.filter(pk=old.pk).update(created_at=timezone.now() - once.MAX_AGE - dt.timedelta(minutes=1))
    fresh = FormSubmission.objects.create(token=uuid.uuid4(), user=officer, purpose="question")
    assert prune_form_submissions() == 1
    assert list(FormSubmission.objects.values_list("pk", flat=True)) == [fresh.pk]
