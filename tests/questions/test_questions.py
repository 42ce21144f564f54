from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from questions.models import Question
from questions.services import question_answer, question_ask
from tests.conftest import PDF
from tests.factories import InitiativeFactory, UserFactory
from tests.forms import post_form

pytestmark = pytest.mark.django_db


def test_officer_asks_the_board_answers_and_the_officer_sees_it(
    client: Client, officer, reviewer, program, unit_tree
) -> None:
    initiative = InitiativeFactory(program=program, unit=unit_tree.gang_thep)
    client.force_login(officer)
    form_page = client.get(reverse("questions:create"), {"initiative": initiative.pk}).content.decode()
    assert initiative.title in form_page
    response = post_form(
        client,
        "questions:create",
        {"subject": "Sáng kiến áp dụng từ 2021 có được tính?", "body": "Đơn vị có sáng kiến áp dụng từ 12/2021.",
         "initiative": initiative.pk, "attachment": SimpleUploadedFile("cong-van.pdf", PDF)},
    )  # fmt: skip
    question = Question.objects.get()
    assert response["Location"] == question.get_absolute_url()
    assert (question.unit, question.asked_by, question.initiative) == (unit_tree.thep, officer, initiative)
    assert question.attachment_type == "application/pdf"

    # The board sees it waiting in the admin, with its age.
    client.force_login(reviewer)
    waiting = client.get(reverse("admin:questions_pendingquestion_changelist"))
    assert [q.pk for q in waiting.context["cl"].result_list] == [question.pk]
    client.post(reverse("admin:questions_question_change", args=[question.pk]),
                {"answer": "Không, chỉ tính sáng kiến áp dụng từ 08/01/2022.", "is_public": "on"})  # fmt: skip
    question.refresh_from_db()
    assert (question.answered_by, question.is_public) == (reviewer, True)
    assert not client.get(reverse("admin:questions_pendingquestion_changelist")).context["cl"].result_list

    # The officer's menu counts the new answer until the officer opens it.
    client.force_login(officer)
    menu = client.get(reverse("initiatives:list")).content.decode()
    assert '1<span class="visually-hidden"> câu trả lời mới</span>' in menu
    page = client.get(question.get_absolute_url()).content.decode()
    assert "chỉ tính sáng kiến áp dụng từ 08/01/2022" in page
    assert "câu trả lời mới" not in client.get(reverse("initiatives:list")).content.decode()


def test_an_empty_answer_is_refused_in_the_admin(client: Client, officer, reviewer, unit_tree) -> None:
    question = question_ask(unit=unit_tree.thep, by=officer, subject="Hỏi", body="Nội dung")
    client.force_login(reviewer)
    response = client.post(reverse("admin:questions_question_change", args=[question.pk]), {"answer": ""})
    assert response.status_code == 200
    question.refresh_from_db()
    assert question.answered_at is None


def test_the_public_faq_hides_the_asker_and_searches_without_diacritics(
    client: Client, officer, reviewer, unit_tree
) -> None:
    public = question_ask(unit=unit_tree.thep, by=officer, subject="Cách tính giá trị làm lợi", body="Tính thế nào?")
    question_answer(question=public, answer="Theo số liệu một năm áp dụng.", by=reviewer, is_public=True)
    private = question_ask(unit=unit_tree.thep, by=officer, subject="Hỏi riêng về đơn vị", body="Riêng")
    question_answer(question=private, answer="Trả lời riêng.", by=reviewer, is_public=False)
    question_ask(unit=unit_tree.thep, by=officer, subject="Chưa trả lời", body="...")
    page = client.get(reverse("faq")).content.decode()
    assert "Cách tính giá trị làm lợi" in page and "Theo số liệu một năm áp dụng." in page
    assert "Hỏi riêng" not in page and "Chưa trả lời" not in page
    assert officer.get_full_name() not in page and unit_tree.thep.name not in page
    assert "Cách tính" in client.get(reverse("faq"), {"q": "gia tri lam loi"}).content.decode()
    assert "Cách tính" not in client.get(reverse("faq"), {"q": "khong co"}).content.decode()


def test_questions_are_seen_only_within_the_subtree(client: Client, officer, unit_tree) -> None:
    other = UserFactory(username="canbo.rangdong", unit=unit_tree.rang_dong)
    theirs = question_ask(unit=unit_tree.rang_dong, by=other, subject="Của Rạng Đông", body="...")
    client.force_login(officer)
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert "Của Rạng Đông" not in client.get(reverse("questions:list")).content.decode()
    # A question may only link an initiative the officer may see.
    elsewhere = InitiativeFactory(unit=unit_tree.rang_dong)
    response = client.post(reverse("questions:create"), {"subject": "x", "body": "y", "initiative": elsewhere.pk})
    assert response.status_code == 200 and not Question.objects.filter(subject="x").exists()


def test_question_pages_run_a_bounded_number_of_queries(client: Client, officer, reviewer, unit_tree,
                                                        django_assert_max_num_queries) -> None:  # fmt: skip
    def ask(count: int) -> None:
        for number in range(count):
            question = question_ask(unit=unit_tree.thep, by=officer, subject=f"Câu {number}", body="...")
            question_answer(question=question, answer="Đáp", by=reviewer, is_public=True)

    ask(2)
    client.force_login(officer)
    with django_assert_max_num_queries(8):
        client.get(reverse("questions:list"))
    with django_assert_max_num_queries(2):  # the public page, for a visitor: count and rows
        Client().get(reverse("faq"))
    ask(20)
    with django_assert_max_num_queries(8):
        client.get(reverse("questions:list"))
    with django_assert_max_num_queries(2):  # the public page, for a visitor: count and rows
        Client().get(reverse("faq"))


def test_question_admin_lists_run_a_bounded_number_of_queries(client: Client, officer, reviewer, unit_tree,
                                                              django_assert_max_num_queries) -> None:  # fmt: skip
    client.force_login(reviewer)
    for count in (2, 30):
        for number in range(count):
            question_ask(unit=unit_tree.thep, by=officer, subject=f"Câu {count}-{number}", body="...")
        for name in ("question", "pendingquestion"):
            with django_assert_max_num_queries(14):
                response = client.get(reverse(f"admin:questions_{name}_changelist"))
            assert response.status_code == 200


def test_the_question_lists_filter_by_subtree_and_the_board_downloads_attachments(
    client: Client, officer, unit_tree
) -> None:
    from initiatives.services import AttachmentUpload
    from tests.conftest import role_group
    from unions.permissions import REVIEWERS_GROUP

    national_board = UserFactory(username="ban.tw", is_staff=True)  # no unit: the whole country
    national_board.groups.add(role_group(REVIEWERS_GROUP))
    upload = AttachmentUpload(SimpleUploadedFile("cong-van.pdf", PDF), "application/pdf")
    question = question_ask(unit=unit_tree.thep, by=officer, subject="Có tệp", body="...", attachment=upload)
    question_ask(unit=unit_tree.bia, by=UserFactory(username="canbo.bia", unit=unit_tree.bia), subject="Hà Nội hỏi",
                 body="...")  # fmt: skip
    client.force_login(national_board)
    for name in ("question", "pendingquestion"):
        response = client.get(reverse(f"admin:questions_{name}_changelist"), {"subtree": unit_tree.cong_thuong.pk})
        assert [q.subject for q in response.context["cl"].result_list] == ["Có tệp"]
    download = client.get(reverse("admin:questions_question_attachment", args=[question.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
