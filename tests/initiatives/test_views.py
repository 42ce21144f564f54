from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from initiatives.models import Attachment, Initiative
from initiatives.services import AuthorData, initiative_save_draft
from tests.conftest import PDF, PNG
from tests.factories import AuthorFactory, InitiativeFactory, UserFactory
from tests.forms import post_form

pytestmark = pytest.mark.django_db


def form_data(unit, field, *, action: str = "submit", **changes) -> dict:
    data = {
        "title": "Cải tiến dây chuyền cán thép",
        "unit": unit.pk,
        "field": field.pk,
        "kind": "technical",
        "summary": "Giảm thời gian dừng máy.",
        "description": "Thực trạng: dừng máy nhiều. Giải pháp: bảo dưỡng dự báo.",
        "first_applied_on": "15/03/2022",
        "value_vnd": "10.000.000",
        "authors-TOTAL_FORMS": "3",
        "authors-INITIAL_FORMS": "0",
        "authors-0-full_name": "Nguyễn Văn An",
        "authors-0-share_percent": "60",
        "authors-1-full_name": "Trần Thị Bình",
        "authors-1-share_percent": "40",
        action: "1",
    }
    data.update(changes)
    return data


@pytest.fixture
def officer_client(client: Client, officer) -> Client:
    client.force_login(officer)
    return client


def test_officer_submits_an_initiative_with_vietnamese_amounts(officer_client, program, field, unit_tree) -> None:
    response = post_form(officer_client, "initiatives:create", form_data(unit_tree.gang_thep, field))
    initiative = Initiative.objects.get()
    assert response.status_code == 302 and response["Location"] == initiative.get_absolute_url()
    assert initiative.status == Initiative.Status.SUBMITTED
    assert initiative.value_vnd == 10_000_000
    assert [a.share_percent for a in initiative.authors.all()] == [Decimal(60), Decimal(40)]


def test_a_draft_needs_only_the_title(officer_client, program, field, unit_tree) -> None:
    data = {"title": "Ý tưởng chưa hoàn thiện", "unit": unit_tree.thep.pk, "draft": "1",
            "authors-TOTAL_FORMS": "3", "authors-INITIAL_FORMS": "0"}  # fmt: skip
    response = post_form(officer_client, "initiatives:create", data)
    initiative = Initiative.objects.get()
    assert response["Location"] == reverse("initiatives:edit", args=[initiative.pk])
    assert (initiative.status, initiative.unit) == (Initiative.Status.DRAFT, unit_tree.thep)


@pytest.mark.parametrize(
    ("changes", "field_name", "message"),
    [
        ({"authors-1-share_percent": "30"}, None, "phải bằng 100%; hiện đang là 90%"),
        ({"authors-0-full_name": "", "authors-0-share_percent": "", "authors-1-full_name": "",
          "authors-1-share_percent": ""}, None, "Nhập ít nhất một tác giả."),
        ({"first_applied_on": "01/01/2021"}, "first_applied_on", "từ ngày 08/01/2022 đến ngày 01/09/2023"),
        ({"first_applied_on": "31/02/2022"}, "first_applied_on", "Nhập một ngày hợp lệ"),
        ({"value_vnd": "10.5"}, "value_vnd", "ví dụ 10.000.000"),
        ({"value_vnd": "2.000.000.000.000.000"}, "value_vnd", "tối đa là 1.000.000.000.000.000 đồng"),
        ({"summary": ""}, "summary", "Cần nhập thông tin này để gửi sáng kiến."),
        ({"authors-1-share_percent": ""}, None, "Nhập tỷ lệ đóng góp của tác giả."),
    ],
    ids=["shares-not-100", "no-author", "outside-programme", "bad-date", "bad-amount", "huge-amount",
         "missing-summary", "missing-share"],
)  # fmt: skip
def test_submission_errors_are_vietnamese_and_keep_what_was_typed(
    officer_client, program, field, unit_tree, changes, field_name, message
) -> None:
    response = post_form(officer_client, "initiatives:create", form_data(unit_tree.gang_thep, field, **changes))
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "Nội dung bạn đã nhập vẫn được giữ nguyên." in page
    assert 'value="Cải tiến dây chuyền cán thép"' in page  # nothing typed is lost
    assert "Thực trạng: dừng máy nhiều." in page
    if field_name:
        assert message in " ".join(response.context["form"].errors[field_name])
    assert not Initiative.objects.exists()


def test_the_same_title_warns_before_a_second_submission(officer_client, program, field, unit_tree) -> None:
    post_form(officer_client, "initiatives:create", form_data(unit_tree.gang_thep, field))
    response = post_form(officer_client, "initiatives:create", form_data(unit_tree.gang_thep, field))
    assert "Đơn vị đã gửi một sáng kiến cùng tên" in response.content.decode()
    assert Initiative.objects.count() == 1
    post_form(officer_client, "initiatives:create", form_data(unit_tree.gang_thep, field, confirm_duplicate="on"))
    assert Initiative.objects.submitted().count() == 2


def test_attachments_are_checked_by_content_and_size(officer_client, program, field, unit_tree, settings) -> None:
    url = reverse("initiatives:create")
    fake = SimpleUploadedFile("bao-cao.pdf", b"MZ\x90\x00 this is an exe", content_type="application/pdf")
    response = officer_client.post(url, {**form_data(unit_tree.gang_thep, field), "attachments": fake})
    assert "không phải là tệp PDF, Word (DOCX), Excel (XLSX), JPG hoặc PNG" in response.content.decode()
    settings.INITIATIVE_ATTACHMENT_MAX_BYTES = 50
    big = SimpleUploadedFile("thuyet-minh.pdf", PDF)
    response = officer_client.post(url, {**form_data(unit_tree.gang_thep, field), "attachments": big})
    assert "mỗi tệp tối đa 50" in response.content.decode()
    assert not Initiative.objects.exists()
    settings.INITIATIVE_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    files = [SimpleUploadedFile("thuyet-minh.pdf", PDF), SimpleUploadedFile("anh.png", PNG)]
    post_form(officer_client, "initiatives:create", {**form_data(unit_tree.gang_thep, field), "attachments": files})
    assert sorted(Attachment.objects.values_list("original_name", "content_type")) == [
        ("anh.png", "image/png"),
        ("thuyet-minh.pdf", "application/pdf"),
    ]


def test_attachments_download_only_for_who_may_see_the_initiative(client, program, field, unit_tree, officer) -> None:
    initiative = InitiativeFactory(program=program, unit=unit_tree.gang_thep)
    attachment = Attachment.objects.create(
        initiative=initiative, file=SimpleUploadedFile("x.pdf", PDF), original_name="thuyet-minh.pdf",
        content_type="application/pdf", size=len(PDF),
    )  # fmt: skip
    url = attachment.get_absolute_url()
    assert client.get(url).status_code == 302  # anonymous → login
    client.force_login(UserFactory(username="canbo.rangdong", unit=unit_tree.rang_dong))
    assert client.get(url).status_code == 404
    client.force_login(officer)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert "thuyet-minh.pdf" in response["Content-Disposition"]


@pytest.mark.parametrize("view", ["initiatives:detail", "initiatives:edit"])
def test_another_subtrees_initiative_is_not_found(officer_client, program, unit_tree, view) -> None:
    elsewhere = InitiativeFactory(program=program, unit=unit_tree.rang_dong, status="draft", submitted_at=None)
    assert officer_client.get(reverse(view, args=[elsewhere.pk])).status_code == 404
    assert officer_client.post(reverse(view, args=[elsewhere.pk]), {"title": "x", "draft": "1"}).status_code == 404


def test_an_officer_cannot_file_an_initiative_for_a_unit_outside_its_subtree(
    officer_client, program, field, unit_tree
) -> None:
    response = post_form(officer_client, "initiatives:create", form_data(unit_tree.rang_dong, field))
    assert "unit" in response.context["form"].errors
    assert not Initiative.objects.exists()


def test_submitted_initiatives_are_read_only_for_officers(officer_client, program, unit_tree) -> None:
    initiative = InitiativeFactory(program=program, unit=unit_tree.gang_thep, title="Đã gửi rồi")
    response = officer_client.post(reverse("initiatives:edit", args=[initiative.pk]), {"title": "Sửa", "draft": "1"})
    assert response["Location"] == initiative.get_absolute_url()
    initiative.refresh_from_db()
    assert initiative.title == "Đã gửi rồi"


def test_an_account_without_a_unit_is_refused(client, program) -> None:
    client.force_login(UserFactory(username="khach"))
    assert client.get(reverse("initiatives:list")).status_code == 403


def test_the_list_filters_and_searches_without_diacritics(officer_client, program, field, unit_tree) -> None:
    road = InitiativeFactory(program=program, unit=unit_tree.gang_thep, title="Sửa đường ống dẫn khí", field=field)
    AuthorFactory(initiative=road, full_name="Lê Thị Rạng")
    InitiativeFactory(program=program, unit=unit_tree.thep, title="Quản lý kho", status="valid")
    InitiativeFactory(program=program, unit=unit_tree.rang_dong, title="Sửa đường dây điện")  # another subtree
    for initiative in Initiative.objects.all():
        initiative.refresh_search_text(list(initiative.authors.values_list("full_name", flat=True)))
        initiative.save()

    def titles(**params) -> list[str]:
        response = officer_client.get(reverse("initiatives:list"), params)
        return sorted(i.title for i in response.context["page"])

    assert titles() == ["Quản lý kho", "Sửa đường ống dẫn khí"]
    assert titles(q="duong") == ["Sửa đường ống dẫn khí"]
    assert titles(q="le thi rang") == ["Sửa đường ống dẫn khí"]
    assert titles(status="valid") == ["Quản lý kho"]
    assert titles(unit=unit_tree.gang_thep.pk) == ["Sửa đường ống dẫn khí"]
    assert titles(field=field.pk) == ["Sửa đường ống dẫn khí"]
    # A unit outside the subtree is not a choice: an error shows, and the other filters still apply.
    response = officer_client.get(reverse("initiatives:list"), {"q": "duong", "unit": unit_tree.rang_dong.pk})
    assert [i.title for i in response.context["page"]] == ["Sửa đường ống dẫn khí"]
    assert "unit" in response.context["filters"].errors


def test_list_and_detail_run_a_bounded_number_of_queries(
    officer_client, program, field, unit_tree, django_assert_max_num_queries
) -> None:
    def make(count: int) -> None:
        for number in range(count):
            initiative = InitiativeFactory(program=program, unit=unit_tree.gang_thep, field=field)
            AuthorFactory.create_batch(2, initiative=initiative, share_percent=50)
            Attachment.objects.create(
                initiative=initiative,
                file=SimpleUploadedFile(f"{number}.pdf", PDF),
                original_name=f"{number}.pdf",
                content_type="application/pdf",
                size=1,
            )

    BUDGET = 14  # session, user, programme, phases, filter choices, count, rows, authors, menu's new answers and roles…
    make(3)
    with django_assert_max_num_queries(BUDGET):
        officer_client.get(reverse("initiatives:list"))
    make(30)
    with django_assert_max_num_queries(BUDGET):
        response = officer_client.get(reverse("initiatives:list"))
    assert len(response.context["page"]) == 25
    initiative = Initiative.objects.first()
    with django_assert_max_num_queries(BUDGET):
        officer_client.get(reverse("initiatives:detail", args=[initiative.pk]))


def test_templates_escape_user_text(officer_client, program, unit_tree, officer) -> None:
    initiative = initiative_save_draft(
        initiative=Initiative(program=program, unit=unit_tree.gang_thep, title="<script>alert(1)</script>"),
        authors=[AuthorData("<b>An</b>", Decimal(100))],
        by=officer,
    )
    for url in (reverse("initiatives:detail", args=[initiative.pk]), reverse("initiatives:list")):
        page = officer_client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
        assert "<b>An</b>" not in page


def test_forms_are_csrf_protected(program, unit_tree, officer, field) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    assert client.post(reverse("initiatives:create"), form_data(unit_tree.gang_thep, field)).status_code == 403
    assert client.post(reverse("initiatives:import"), {}).status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        reverse("initiatives:list"),
        reverse("initiatives:create"),
        reverse("initiatives:import"),
        reverse("initiatives:import_template"),
        reverse("initiatives:detail", args=[1]),
        reverse("initiatives:edit", args=[1]),
        reverse("initiatives:attachment", args=[1]),
    ],
)
def test_every_officer_page_asks_anonymous_visitors_to_log_in(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_initiative_admin_searches_without_diacritics(client: Client, program, unit_tree) -> None:
    InitiativeFactory(program=program, unit=unit_tree.gang_thep, title="Sửa đường ống dẫn khí")
    InitiativeFactory(program=program, unit=unit_tree.gang_thep, title="Quản lý kho")
    for initiative in Initiative.objects.all():
        initiative.refresh_search_text([])
        initiative.save()
    client.force_login(UserFactory(username="quantri", is_staff=True, is_superuser=True))
    response = client.get(reverse("admin:initiatives_initiative_changelist"), {"q": "duong ong"})
    assert [i.title for i in response.context["cl"].result_list] == ["Sửa đường ống dẫn khí"]


def test_a_draft_attachment_can_be_removed_but_not_a_submitted_ones(
    officer_client, program, unit_tree, django_capture_on_commit_callbacks
) -> None:
    draft = InitiativeFactory(program=program, unit=unit_tree.gang_thep, status="draft", submitted_at=None)
    sent = InitiativeFactory(program=program, unit=unit_tree.gang_thep)
    files = [
        Attachment.objects.create(initiative=initiative, file=SimpleUploadedFile("x.pdf", PDF),
                                  original_name="x.pdf", content_type="application/pdf", size=len(PDF))
        for initiative in (draft, sent)
    ]  # fmt: skip
    stored = Path(files[0].file.path)
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(reverse("initiatives:attachment_delete", args=[files[0].pk]))
    assert response["Location"] == reverse("initiatives:edit", args=[draft.pk])
    assert not Attachment.objects.filter(pk=files[0].pk).exists()
    assert not stored.exists()  # the file goes too, once the deletion is committed
    officer_client.post(reverse("initiatives:attachment_delete", args=[files[1].pk]))
    assert Attachment.objects.filter(pk=files[1].pk).exists()
    assert Path(files[1].file.path).exists()
    assert officer_client.get(reverse("initiatives:attachment_delete", args=[files[1].pk])).status_code == 405


def test_a_returned_initiative_shows_the_boards_reason_and_can_be_completed(
    officer_client, program, unit_tree, reviewer
) -> None:
    from django.utils import timezone

    from initiatives.models import StatusChange

    initiative = InitiativeFactory(program=program, unit=unit_tree.gang_thep, status="returned")
    StatusChange.objects.create(initiative=initiative, from_status="submitted", to_status="returned", by=reviewer,
                                at=timezone.now(), reason="Bổ sung số liệu giá trị làm lợi.")  # fmt: skip
    page = officer_client.get(reverse("initiatives:detail", args=[initiative.pk])).content.decode()
    assert "Ban CSPL&QHLĐ đề nghị bổ sung sáng kiến" in page
    assert "Bổ sung số liệu giá trị làm lợi." in page
    assert reverse("initiatives:edit", args=[initiative.pk]) in page
    assert officer_client.get(reverse("initiatives:edit", args=[initiative.pk])).status_code == 200


def ooxml(kind: str) -> bytes:
    """A minimal Word or Excel file, as zip entries the type sniffing looks for."""
    import zipfile

    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml" if kind == "docx" else "xl/workbook.xml", "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "content_type", "kept_as"),
    [
        ("thuyet-minh.docx", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "thuyet-minh.docx"),
        ("so-lieu.xlsx", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "so-lieu.xlsx"),
        ("anh.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32, "image/jpeg", "anh.jpg"),
        # The content decides the type, the stored file's name and the extension of the name kept.
        ("ten-sai.html", PDF, "application/pdf", "ten-sai.pdf"),
    ],
)  # fmt: skip
def test_word_excel_and_jpg_files_are_accepted_by_their_content(
    officer_client, program, field, unit_tree, name, content, content_type, kept_as
) -> None:
    data = ooxml(content) if isinstance(content, str) else content
    upload = SimpleUploadedFile(name, data, content_type="text/html")
    post_form(officer_client, "initiatives:create", {**form_data(unit_tree.gang_thep, field), "attachments": upload})
    attachment = Attachment.objects.get()
    assert (attachment.original_name, attachment.content_type) == (kept_as, content_type)
    assert not attachment.file.name.endswith(".html")


def test_another_subtrees_attachment_cannot_be_removed(officer_client, program, unit_tree) -> None:
    elsewhere = InitiativeFactory(program=program, unit=unit_tree.rang_dong, status="draft", submitted_at=None)
    attachment = Attachment.objects.create(initiative=elsewhere, file=SimpleUploadedFile("x.pdf", PDF),
                                           original_name="x.pdf", content_type="application/pdf", size=1)  # fmt: skip
    assert officer_client.post(reverse("initiatives:attachment_delete", args=[attachment.pk])).status_code == 404
    assert Attachment.objects.filter(pk=attachment.pk).exists()


def test_edit_and_file_removal_are_csrf_protected(program, unit_tree, officer) -> None:
    draft = InitiativeFactory(program=program, unit=unit_tree.gang_thep, status="draft", submitted_at=None)
    attachment = Attachment.objects.create(initiative=draft, file=SimpleUploadedFile("x.pdf", PDF),
                                           original_name="x.pdf", content_type="application/pdf", size=1)  # fmt: skip
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    assert client.post(reverse("initiatives:edit", args=[draft.pk]), {"title": "x", "draft": "1"}).status_code == 403
    assert client.post(reverse("initiatives:attachment_delete", args=[attachment.pk])).status_code == 403


def test_files_chosen_before_a_duplicate_warning_are_asked_for_again(officer_client, program, field, unit_tree) -> None:
    post_form(officer_client, "initiatives:create", form_data(unit_tree.gang_thep, field))
    upload = SimpleUploadedFile("thuyet-minh.pdf", PDF)
    data = {**form_data(unit_tree.gang_thep, field), "attachments": upload}
    page = post_form(officer_client, "initiatives:create", data).content.decode()
    assert "Đơn vị đã gửi một sáng kiến cùng tên" in page
    assert "vui lòng chọn lại tệp đính kèm" in page


def test_a_large_subtree_types_the_unit_code_instead_of_a_drop_down(
    officer_client, program, field, unit_tree, monkeypatch
) -> None:
    from initiatives import forms

    monkeypatch.setattr(forms, "MAX_UNIT_OPTIONS", 1)  # Thép has 2 units: now "large"
    page = officer_client.get(reverse("initiatives:create")).content.decode()
    assert 'name="unit" value="CTVN-THEP"' in page and "Nhập mã đơn vị" in page
    data = {**form_data(unit_tree.gang_thep, field), "unit": "THEP-TISCO"}
    post_form(officer_client, "initiatives:create", data)
    assert Initiative.objects.get().unit == unit_tree.gang_thep
    response = post_form(officer_client, "initiatives:create", {**data, "unit": "CTVN-RANGDONG", "title": "Khác"})
    assert "Không có đơn vị nào có mã này trong phạm vi đơn vị của bạn." in response.content.decode()
    listed = officer_client.get(reverse("initiatives:list"), {"unit": "THEP-TISCO"}).context["page"]
    assert [i.unit for i in listed] == [unit_tree.gang_thep]
