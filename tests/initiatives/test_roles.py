"""Roles do what they say (issue 12, item 2): leadership reads and changes nothing on the site, a
board member never reviews what it submitted or edited, menus offer only what the role may do."""

from __future__ import annotations

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models.signals import pre_save
from django.test import Client
from django.urls import reverse

from initiatives.models import Attachment, Initiative, StatusChange
from initiatives.services import initiative_review
from questions.models import Question
from tests.conftest import PDF
from tests.factories import InitiativeFactory, UserFactory
from tests.forms import post_form
from tests.initiatives.test_views import form_data
from unions.models import User

pytestmark = pytest.mark.django_db


def logged_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def test_leadership_reads_its_units_pages_but_cannot_create_edit_submit_ask_or_delete(
    client: Client, program, field, unit_tree, leader
) -> None:
    draft = InitiativeFactory(program=program, unit=unit_tree.thep, status="draft", submitted_at=None, title="Nháp")
    attachment = Attachment.objects.create(
        initiative=draft, file=SimpleUploadedFile("x.pdf", PDF), original_name="x.pdf",
        content_type="application/pdf", size=len(PDF),
    )  # fmt: skip
    logged_in(client, leader)
    assert client.get(reverse("initiatives:list")).status_code == 200
    assert client.get(reverse("initiatives:detail", args=[draft.pk])).status_code == 200
    refused = [
        ("get", reverse("initiatives:create"), {}),
        ("post", reverse("initiatives:create"), form_data(unit_tree.thep, field)),
        ("post", reverse("initiatives:create"), form_data(unit_tree.thep, field, action="save")),
        ("get", reverse("initiatives:edit", args=[draft.pk]), {}),
        ("post", reverse("initiatives:edit", args=[draft.pk]), form_data(unit_tree.thep, field)),
        ("get", reverse("initiatives:import"), {}),
        ("get", reverse("questions:create"), {}),
        ("post", reverse("questions:create"), {"subject": "Hỏi", "body": "Câu hỏi"}),
        ("post", reverse("initiatives:attachment_delete", args=[attachment.pk]), {}),
    ]
    for method, url, data in refused:
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (method, url)
    draft.refresh_from_db()
    assert (draft.status, draft.title) == ("draft", "Nháp")
    assert Initiative.objects.count() == 1 and not Question.objects.exists()
    assert Attachment.objects.filter(pk=attachment.pk).exists()


def test_menus_and_buttons_offer_leadership_only_what_it_may_do(
    client: Client, program, unit_tree, leader, officer
) -> None:
    draft = InitiativeFactory(program=program, unit=unit_tree.thep, status="draft", submitted_at=None)
    pages = [
        reverse("initiatives:list"),
        reverse("initiatives:detail", args=[draft.pk]),
        reverse("questions:list"),
    ]
    writing = [reverse("initiatives:create"), reverse("initiatives:import"), reverse("questions:create"),
               reverse("initiatives:edit", args=[draft.pk])]  # fmt: skip
    for user, offered in ((leader, False), (officer, True)):
        logged_in(client, user)
        for page in pages:
            html = client.get(page).content.decode()
            for link in writing:
                if link in html and not offered:
                    pytest.fail(f"{user.username} is offered {link} on {page}")
        html = client.get(reverse("initiatives:list")).content.decode()
        assert (f'href="{reverse("initiatives:create")}"' in html) is offered
        assert (f'href="{reverse("initiatives:import")}"' in html) is offered


@pytest.fixture
def board_member(reviewer) -> User:
    """bancspl: on the board of Công Thương and, like an officer, able to file an initiative."""
    return reviewer


def test_a_board_member_cannot_review_an_initiative_it_submitted_on_the_site(
    client: Client, program, field, unit_tree, board_member
) -> None:
    logged_in(client, board_member)
    response = post_form(client, "initiatives:create", form_data(unit_tree.thep, field))
    assert response.status_code == 302
    initiative = Initiative.objects.get()
    assert initiative.status == "submitted"
    change_url = reverse("admin:initiatives_initiative_change", args=[initiative.pk])
    page = client.get(change_url)
    assert page.context["review_refused"] and "review_form" not in page.context
    assert "một thành viên khác của Ban phải duyệt" in page.content.decode()
    response = client.post(
        reverse("admin:initiatives_initiative_review", args=[initiative.pk]), {"decision": "valid"}, follow=True
    )
    assert "một thành viên khác của Ban phải duyệt" in response.content.decode()
    changelist = reverse("admin:initiatives_reviewqueue_changelist")
    response = client.post(
        changelist,
        {"action": "review_valid", "_selected_action": [initiative.pk], "apply": "1", "reason": "", "note": ""},
        follow=True,
    )
    assert "để lại cho thành viên khác của Ban duyệt" in response.content.decode()
    initiative.refresh_from_db()
    assert initiative.status == "submitted"
    assert list(StatusChange.objects.values_list("to_status", flat=True)) == ["submitted"]
    # Another member of the board decides.
    other = UserFactory(username="bancspl2", unit=unit_tree.cong_thuong, is_staff=True)
    other.groups.set(board_member.groups.all())
    logged_in(client, other)
    client.post(reverse("admin:initiatives_initiative_review", args=[initiative.pk]), {"decision": "valid"})
    initiative.refresh_from_db()
    assert initiative.status == "valid"


def test_a_board_member_that_edited_an_initiative_in_the_admin_cannot_review_it(
    client: Client, program, field, unit_tree, board_member
) -> None:
    initiative = InitiativeFactory(program=program, unit=unit_tree.thep, field=field, title="Cải tiến")
    logged_in(client, board_member)
    change_url = reverse("admin:initiatives_initiative_change", args=[initiative.pk])
    page = client.get(change_url)
    assert "review_form" in page.context
    data = {
        "title": "Cải tiến (đã sửa)", "field": field.pk, "program": program.pk, "kind": "technical",
        "authors-TOTAL_FORMS": 0, "authors-INITIAL_FORMS": 0, "attachments-TOTAL_FORMS": 0,
        "attachments-INITIAL_FORMS": 0, "status_changes-TOTAL_FORMS": 0, "status_changes-INITIAL_FORMS": 0,
    }  # fmt: skip
    data.update({name: "" for name in ("summary", "description", "scope", "effectiveness")})
    response = client.post(change_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert client.get(change_url).context["review_refused"]
    client.post(reverse("admin:initiatives_initiative_review", args=[initiative.pk]), {"decision": "valid"})
    initiative.refresh_from_db()
    assert (initiative.title, initiative.status) == ("Cải tiến (đã sửa)", "submitted")


def change_form_data(initiative: Initiative, **changes: object) -> dict[str, object]:
    data = {
        "title": initiative.title, "field": initiative.field_id, "program": initiative.program_id, "kind": "technical",
        "authors-TOTAL_FORMS": 0, "authors-INITIAL_FORMS": 0, "attachments-TOTAL_FORMS": 0,
        "attachments-INITIAL_FORMS": 0, "status_changes-TOTAL_FORMS": 0, "status_changes-INITIAL_FORMS": 0,
        **dict.fromkeys(("summary", "description", "scope", "effectiveness"), ""),
    }  # fmt: skip
    return {**data, **changes}


@pytest.mark.django_db(transaction=True)
def test_saving_the_change_form_never_undoes_another_members_decision(
    client: Client, program, field, unit_tree, reviewer
) -> None:
    """Another member validates while the first one's typo fix is being saved: both stand."""
    initiative = InitiativeFactory(program=program, unit=unit_tree.thep, field=field, title="Cải tiến")
    other = UserFactory(username="bancspl2", unit=unit_tree.cong_thuong, is_staff=True)
    other.groups.set(reviewer.groups.all())

    def validate() -> None:
        try:
            initiative_review(initiative=Initiative.objects.get(pk=initiative.pk), decision="valid", by=other)
        finally:
            connection.close()

    def meanwhile(sender: type, instance: Initiative, **kwargs: object) -> None:
        """Between the admin loading the row and writing it, the other member decides (on its own
        connection; it waits at most a second if the row is locked)."""
        pre_save.disconnect(meanwhile, sender=Initiative)
        thread = threading.Thread(target=validate)
        thread.start()
        thread.join(timeout=1)
        threads.append(thread)

    threads: list[threading.Thread] = []
    pre_save.connect(meanwhile, sender=Initiative)
    try:
        logged_in(client, reviewer)
        change_url = reverse("admin:initiatives_initiative_change", args=[initiative.pk])
        response = client.post(change_url, change_form_data(initiative, title="Cải tiến (sửa chính tả)"))
    finally:
        pre_save.disconnect(meanwhile, sender=Initiative)
        for thread in threads:
            thread.join(timeout=10)
    assert response.status_code == 302
    initiative.refresh_from_db()
    assert (initiative.title, initiative.status) == ("Cải tiến (sửa chính tả)", "valid")
    assert list(StatusChange.objects.values_list("to_status", flat=True)) == ["valid"]


def test_who_wrote_an_initiative_is_shown_but_not_editable_in_the_admin(
    client: Client, program, field, unit_tree, reviewer
) -> None:
    initiative = InitiativeFactory(program=program, unit=unit_tree.thep, field=field)
    initiative.editors.add(reviewer)
    logged_in(client, reviewer)
    page = client.get(reverse("admin:initiatives_initiative_change", args=[initiative.pk]))
    assert "editors" not in page.context["adminform"].form.fields
    assert page.context["review_refused"]


def test_removing_a_file_counts_as_editing(client: Client, program, field, unit_tree, reviewer) -> None:
    returned = InitiativeFactory(program=program, unit=unit_tree.thep, field=field, status="returned")
    attachment = Attachment.objects.create(
        initiative=returned, file=SimpleUploadedFile("x.pdf", PDF), original_name="x.pdf",
        content_type="application/pdf", size=len(PDF),
    )  # fmt: skip
    logged_in(client, reviewer)
    client.post(reverse("initiatives:attachment_delete", args=[attachment.pk]))
    assert list(returned.editors.all()) == [reviewer]
