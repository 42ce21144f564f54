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
from tests.factories import InitiativeFactory
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
        # Each trial alike to the last: confirmed past the national check for copies.
        data = {
            **form_data(unit_tree.thep, field, title=f"Cải tiến số {trial}", confirm_duplicate="on"),
            **once_field(client, url),
        }
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
    responses = at_once(
        lambda: logged_in(officer).post(
            reverse("initiatives:import"), {"file": workbook([good_row(), good_row(title="Khác")]), **token}
        )
    )
    assert Initiative.objects.count() == 2
    # Both land on the list of what the import created.
    assert {response["Location"] for response in responses} == {imported_list(token, officer)}  # type: ignore[index]


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


def imported_list(token: dict[str, str], user: User) -> str:
    """The officer's list narrowed to the initiatives of the import posted with `token`."""
    return f"{reverse('initiatives:list')}?import={once.token_of(token['once'], user=user)}"


def listed_titles(response: object) -> set[str]:
    return {initiative.title for initiative in response.context["page"]}  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_an_import_posted_again_lands_on_the_same_list_of_exactly_what_it_imported(
    client: Client, officer, program, field, unit_tree
) -> None:
    InitiativeFactory(program=program, unit=unit_tree.thep, field=field, title="Có từ trước")
    client.force_login(officer)
    earlier = once_field(client, reverse("initiatives:import"))
    client.post(reverse("initiatives:import"), {"file": workbook([good_row(title="Lần nhập trước")]), **earlier})
    token = once_field(client, reverse("initiatives:import"))
    sheet = [good_row(), good_row("CTVN-THEP", title="Khác")]
    first = client.post(reverse("initiatives:import"), {"file": workbook(sheet), **token}, follow=True)
    again = client.post(reverse("initiatives:import"), {"file": workbook(sheet), **token}, follow=True)
    assert first.redirect_chain[0][0] == again.redirect_chain[0][0] == imported_list(token, officer)
    for page in (first, again):
        assert listed_titles(page) == {"Cải tiến lò cao số 3", "Khác"}
        html = page.content.decode()
        assert "Đây là các sáng kiến của lần nhập từ Excel này." in html
        assert f'href="{reverse("initiatives:list")}">Xem tất cả sáng kiến</a>' in html
        assert "2 sáng kiến" in html
    assert "Biểu mẫu này đã được gửi trước đó" in again.content.decode()
    assert Initiative.objects.count() == 4
    # Without the filter, the list shows everything and says nothing about an import.
    everything = client.get(reverse("initiatives:list"))
    assert len(listed_titles(everything)) == 4
    assert "lần nhập từ Excel này" not in everything.content.decode()


@pytest.mark.django_db
def test_an_import_list_shows_another_subtree_nothing_whatever_the_token(
    client: Client, officer, program, field, unit_tree
) -> None:
    client.force_login(officer)
    token = once_field(client, reverse("initiatives:import"))
    client.post(reverse("initiatives:import"), {"file": workbook([good_row()]), **token})
    assert Initiative.objects.filter(import_token__isnull=False).count() == 1
    hanoi = User.objects.create_user(username="canbo.hanoi", unit=unit_tree.ha_noi)
    client.force_login(hanoi)
    page = client.get(imported_list(token, officer))
    assert page.status_code == 200
    assert listed_titles(page) == set()
    assert "Không có sáng kiến nào phù hợp" in page.content.decode()


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
