"""Downloads cannot smuggle an executable, and no cache keeps them (issue 12, item 7).

Red team: a PDF-headed file named `bao-cao.hta` was accepted and downloaded as `bao-cao.hta`, which
Windows runs as an HTML application. Now every name handed out ends in the extension of the type
the content is, and every download and export carries `Cache-Control: private, no-store`.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from emulation.models import ExportJob
from emulation.workbook import run_job
from initiatives.models import Attachment
from initiatives.services import AttachmentUpload
from questions.models import Question
from questions.services import question_ask
from sangkien.downloads import content_disposition, download_name
from tests.conftest import PDF, PNG
from tests.factories import InitiativeFactory, UserFactory
from tests.forms import post_form
from tests.initiatives.test_views import form_data

pytestmark = pytest.mark.django_db

PDF_TYPE = "application/pdf"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def disposition_name(response) -> str:
    """The file name a browser reads from Content-Disposition (RFC 6266 §4.3): the UTF-8
    `filename*` when there is one, else the quoted `filename`."""
    header = response["Content-Disposition"]
    if extended := re.search(r"filename\*=UTF-8''([^;]+)", header, re.IGNORECASE):
        return unquote(extended.group(1), errors="strict")
    return re.search(r'filename="((?:[^"\\]|\\.)*)"', header).group(1)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# -- the red-team case, through the real forms --------------------------------------------------


def test_a_pdf_named_hta_is_kept_and_downloaded_as_a_pdf(client: Client, officer, program, field, unit_tree) -> None:
    client.force_login(officer)
    upload = SimpleUploadedFile("bao-cao.hta", PDF, content_type="application/hta")
    post_form(client, "initiatives:create", {**form_data(unit_tree.gang_thep, field), "attachments": upload})
    attachment = Attachment.objects.get()
    assert (attachment.original_name, attachment.content_type) == ("bao-cao.pdf", PDF_TYPE)
    assert attachment.file.name.endswith(".pdf")
    page = client.get(attachment.initiative.get_absolute_url()).content.decode()
    assert "bao-cao.pdf" in page and ".hta" not in page

    download = client.get(attachment.get_absolute_url())
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="bao-cao.pdf"'
    assert download["Content-Type"] == PDF_TYPE
    assert body(download) == PDF


def test_a_question_attachment_named_hta_is_kept_and_downloaded_as_a_pdf(
    client: Client, officer, program, unit_tree
) -> None:
    client.force_login(officer)
    upload = SimpleUploadedFile("cong-van.hta", PDF, content_type="application/hta")
    post_form(client, "questions:create", {"subject": "Hỏi", "body": "...", "attachment": upload})
    question = Question.objects.get()
    assert (question.attachment_name, question.attachment_type) == ("cong-van.pdf", PDF_TYPE)
    download = client.get(reverse("questions:attachment", args=[question.pk]))
    assert download["Content-Disposition"] == 'attachment; filename="cong-van.pdf"'
    assert download["Content-Type"] == PDF_TYPE


@pytest.mark.parametrize(
    ("sent_as", "kept_as"),
    [
        ("bao-cao", "bao-cao.pdf"),  # no extension: it gets the right one
        ("bao-cao.PNG", "bao-cao.pdf"),  # the wrong one is replaced
        ("bao-cao.pdf.exe", "bao-cao.pdf.pdf"),  # only the last one counts, and it is the type's
        ("Báo cáo 2022. Phần 1", "Báo cáo 2022. Phần 1.pdf"),  # text after a dot is not an extension
    ],
)
def test_a_name_without_the_right_extension_gets_the_extension_of_its_content(
    client: Client, officer, program, field, unit_tree, sent_as, kept_as
) -> None:
    client.force_login(officer)
    upload = SimpleUploadedFile(sent_as, PDF)
    post_form(client, "initiatives:create", {**form_data(unit_tree.gang_thep, field), "attachments": upload})
    attachment = Attachment.objects.get()
    assert attachment.original_name == kept_as
    assert disposition_name(client.get(attachment.get_absolute_url())) == kept_as


def test_a_vietnamese_name_downloads_whole_and_an_old_client_gets_it_without_diacritics(
    client: Client, officer, program, field, unit_tree
) -> None:
    client.force_login(officer)
    decomposed = unicodedata.normalize("NFD", "Báo cáo tổng kết Đợt 1.pdf")  # as macOS sends it
    upload = SimpleUploadedFile(decomposed, PDF)
    post_form(client, "initiatives:create", {**form_data(unit_tree.gang_thep, field), "attachments": upload})
    attachment = Attachment.objects.get()
    assert attachment.original_name == "Báo cáo tổng kết Đợt 1.pdf"  # composed: searchable, comparable
    download = client.get(attachment.get_absolute_url())
    assert download["Content-Disposition"] == (
        'attachment; filename="Bao cao tong ket Dot 1.pdf"; '
        "filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20t%E1%BB%95ng%20k%E1%BA%BFt%20%C4%90%E1%BB%A3t%201.pdf"
    )
    assert disposition_name(download) == "Báo cáo tổng kết Đợt 1.pdf"


# -- rows stored before names were fixed at upload ------------------------------------------------


def test_a_file_stored_before_the_fix_downloads_with_the_extension_of_its_type(
    client: Client, officer, program, unit_tree
) -> None:
    """The extension comes from the type sniffed at upload, never from the name in the row."""
    initiative = InitiativeFactory(program=program, unit=unit_tree.gang_thep)
    attachment = Attachment.objects.create(
        initiative=initiative, file=SimpleUploadedFile("x.pdf", PDF), original_name="bao-cao.hta",
        content_type=PDF_TYPE, size=len(PDF),
    )  # fmt: skip
    upload = AttachmentUpload(SimpleUploadedFile("anh.png", PNG), "image/png")
    question = question_ask(unit=unit_tree.thep, by=officer, subject="Hỏi", body="...", attachment=upload)
    Question.objects.filter(pk=question.pk).update(attachment_name="anh.png.hta")
    national = UserFactory(username="quantri", is_superuser=True, is_staff=True)

    client.force_login(officer)
    download = client.get(attachment.get_absolute_url())
    assert (disposition_name(download), download["Content-Type"]) == ("bao-cao.pdf", PDF_TYPE)
    download = client.get(reverse("questions:attachment", args=[question.pk]))
    assert (disposition_name(download), download["Content-Type"]) == ("anh.png.png", "image/png")
    client.force_login(national)
    download = client.get(reverse("admin:questions_question_attachment", args=[question.pk]))
    assert (disposition_name(download), download["Content-Type"]) == ("anh.png.png", "image/png")


def test_a_stored_type_the_portal_does_not_know_downloads_as_inert_bytes(client: Client, officer, program) -> None:
    initiative = InitiativeFactory(program=program, unit=officer.unit)
    attachment = Attachment.objects.create(
        initiative=initiative, file=SimpleUploadedFile("x.html", b"<script>alert(1)</script>"),
        original_name="trang.html", content_type="text/html", size=25,
    )  # fmt: skip
    client.force_login(officer)
    download = client.get(attachment.get_absolute_url())
    assert (disposition_name(download), download["Content-Type"]) == ("trang.bin", "application/octet-stream")


def test_a_file_missing_from_storage_is_not_found(client: Client, officer, program, settings) -> None:
    initiative = InitiativeFactory(program=program, unit=officer.unit)
    attachment = Attachment.objects.create(
        initiative=initiative, file=SimpleUploadedFile("x.pdf", PDF), original_name="x.pdf",
        content_type=PDF_TYPE, size=len(PDF),
    )  # fmt: skip
    (Path(settings.MEDIA_ROOT) / attachment.file.name).unlink()
    client.force_login(officer)
    assert client.get(attachment.get_absolute_url()).status_code == 404


# -- names that try something --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd.pdf"),
        ("C:\\fakepath\\bao-cao.pdf", "bao-cao.pdf"),
        ("bao\r\ncao.pdf", "baocao.pdf"),  # a header split
        ("bao-cao\u202efdp.hta", "bao-caofdp.pdf"),  # a right-to-left override shows it as "…ath.pdf"
        ("bao\u200b-cao.pdf", "bao-cao.pdf"),  # a zero-width space
        ("bao-cao.pdf:evil.hta", "bao-cao.pdf_evil.pdf"),  # an NTFS alternate data stream
        ('bao "cao" <1>|?*.pdf', "bao _cao_ _1____.pdf"),  # what Windows refuses in a name
        ("bao-cao.pdf. . ", "bao-cao.pdf"),  # Windows drops trailing dots and spaces
        ("＂bao＂／cao.pdf", "_bao__cao.pdf"),  # full-width quote and slash
        (".hta", "hta.pdf"),  # no hidden file
        ("", "tệp đính kèm.pdf"),
        ("...", "tệp đính kèm.pdf"),
    ],
)
def test_a_download_name_has_no_path_no_control_character_and_the_type_s_extension(name: str, safe: str) -> None:
    assert download_name(name, content_type=PDF_TYPE) == safe
    header = content_disposition(safe)
    assert not any(ch in header for ch in "\r\n\t/\\\u202e\u200b")
    assert header.isascii()


def test_a_long_name_is_cut_to_what_a_file_system_holds_and_keeps_its_extension() -> None:
    name = download_name("Sáng kiến " * 60 + ".hta", content_type=PDF_TYPE)
    assert name.endswith(".pdf") and len(name.encode()) <= 255
    assert name.startswith("Sáng kiến Sáng kiến")


def test_a_name_of_a_script_only_an_old_client_cannot_read_still_has_an_ascii_fallback() -> None:
    header = content_disposition(download_name("报告.hta", content_type=PDF_TYPE))
    assert header == "attachment; filename=\"tep.pdf\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf"


# -- every download and export carries the same headers -------------------------------------------


@pytest.fixture
def downloads(client: Client, officer, leader, program, unit_tree):
    """(who, url, type) for every file the portal hands out."""
    initiative = InitiativeFactory(program=program, unit=unit_tree.gang_thep)
    attachment = Attachment.objects.create(
        initiative=initiative, file=SimpleUploadedFile("x.pdf", PDF), original_name="thuyet-minh.pdf",
        content_type=PDF_TYPE, size=len(PDF),
    )  # fmt: skip
    upload = AttachmentUpload(SimpleUploadedFile("anh.png", PNG), "image/png")
    question = question_ask(unit=unit_tree.thep, by=officer, subject="Hỏi", body="...", attachment=upload)
    job = ExportJob.objects.create(program=program, scope=unit_tree.cong_thuong, requested_by=leader)
    assert run_job(job.pk) == "done"
    listed = ExportJob.objects.create(kind="initiative_list", scope=unit_tree.thep, requested_by=officer)
    assert run_job(listed.pk) == "done"
    superuser = UserFactory(username="quantri", is_superuser=True, is_staff=True)
    return [
        (officer, attachment.get_absolute_url(), PDF_TYPE),
        (officer, reverse("questions:attachment", args=[question.pk]), "image/png"),
        (superuser, reverse("admin:questions_question_attachment", args=[question.pk]), "image/png"),
        (officer, reverse("export_download", args=[listed.pk]), XLSX_TYPE),
        (officer, reverse("initiatives:import_template"), XLSX_TYPE),
        (superuser, reverse("admin:unions_union_import_template"), XLSX_TYPE),
        (leader, reverse("export_download", args=[job.pk]), XLSX_TYPE),
    ]


def test_every_download_and_export_is_private_unsniffed_and_named_by_its_type(client: Client, downloads) -> None:
    extensions = {PDF_TYPE: ".pdf", "image/png": ".png", XLSX_TYPE: ".xlsx"}
    for user, url, content_type in downloads:
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, url
        cache_control = {directive.strip() for directive in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= cache_control, url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Content-Security-Policy"] == "default-src 'none'; sandbox", url
        assert response["Content-Type"] == content_type, url
        assert response["Content-Disposition"].startswith("attachment; filename="), url
        assert disposition_name(response).endswith(extensions[content_type]), url
        assert body(response), url
