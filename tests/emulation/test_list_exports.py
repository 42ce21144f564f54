"""The officer's list export as a tracked background job (issue 17, item 4).

"Xuất Excel" on "Sáng kiến của đơn vị" used to build the workbook in the request (9 s for a tier-2
unit, holding a web worker). Now the request only queues an export job on the "exports" queue; the
officer follows it on "My exports" and downloads it there. The job shares the emulation exports'
machinery: their limits (counted together), reuse of an identical job, takeover after a killed
worker, files written whole, downloads named by type and never cached; and the access policy is
asked when the export is asked for, when it is built and when it is downloaded.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from io import BytesIO
from pathlib import Path
from urllib.parse import urlencode

import openpyxl
import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from emulation.models import ExportJob, ExportStart
from emulation.workbook import run_job
from initiatives.models import Initiative
from tests.factories import InitiativeFactory, UserFactory
from tests.test_fuzz_params import ODD_VALUES

pytestmark = pytest.mark.django_db

REFUSED_ACTIVE = "Bạn đang có 2 tệp xuất đang được tạo: hãy chờ một tệp xong rồi mới yêu cầu tệp khác."
REUSED = "Tệp xuất giống hệt đã được yêu cầu lúc"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def ask_list(client: Client, **filters: object):
    """What "Xuất Excel" posts: the list's query string on the exports' address."""
    query = f"?{urlencode(filters)}" if filters else ""
    return client.post(reverse("list_exports") + query)


def text(response) -> str:
    return response.content.decode()


def sheet_rows(path: Path) -> list[tuple]:
    return list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))


@pytest.fixture
def officer_client(client: Client, officer) -> Client:
    client.force_login(officer)
    return client


@pytest.fixture
def rows(program, field, unit_tree) -> dict[str, Initiative]:
    return {
        "formula": InitiativeFactory(
            program=program, unit=unit_tree.gang_thep, title='=HYPERLINK("http://x")', field=field, value_vnd=12_000_000
        ),
        "valid": InitiativeFactory(program=program, unit=unit_tree.thep, title="Quản lý kho", status="valid"),
        "hanoi": InitiativeFactory(program=program, unit=unit_tree.ha_noi, title="Bia hơi"),
    }


# -- the request queues a job and builds nothing ---------------------------------------------------


def test_export_to_excel_queues_a_job_and_the_request_builds_no_workbook(
    officer_client: Client, officer, unit_tree, rows, settings
) -> None:
    list_page = text(officer_client.get(reverse("initiatives:list"), {"status": "submitted"}))
    assert f'action="{reverse("list_exports")}?status=submitted"' in list_page  # a POST with the list's filters
    started = time.perf_counter()
    response = ask_list(officer_client, status="submitted", q="", page=3)
    elapsed = time.perf_counter() - started
    assert response.status_code == 302 and response["Location"] == reverse("list_exports")
    assert elapsed < 1.0, f"the request took {elapsed:.2f} s"
    job = ExportJob.objects.get()
    assert (job.kind, job.status, job.requested_by, job.scope) == ("initiative_list", "queued", officer, unit_tree.thep)
    assert job.params == {"status": "submitted"}  # the filters that apply, blanks and the page left out
    assert not job.file and not list((Path(settings.MEDIA_ROOT) / "exports").glob("*"))
    assert ExportStart.objects.filter(user=officer, job=job).count() == 1

    page = text(officer_client.get(response["Location"]))
    assert "Đã đưa yêu cầu xuất vào hàng đợi" in page
    assert f'data-export-status="{reverse("export_status", args=[job.pk])}" data-finished=""' in page
    assert officer_client.get(reverse("export_status", args=[job.pk])).json()["finished"] is False


def test_the_old_export_link_only_shows_the_list(officer_client: Client, rows) -> None:
    response = officer_client.get(reverse("initiatives:list"), {"export": "xlsx"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert not ExportJob.objects.exists()
    assert "export=xlsx" not in text(response)  # the page's own links do not carry it on


def test_a_get_asks_for_nothing(officer_client: Client, rows) -> None:
    assert officer_client.get(reverse("list_exports"), {"status": "submitted"}).status_code == 200
    assert not ExportJob.objects.exists()


def test_the_list_of_one_import_exports_that_import_s_initiatives_only(
    officer_client: Client, officer, rows, settings
) -> None:
    token = uuid.uuid4()
    Initiative.objects.filter(pk=rows["formula"].pk).update(import_token=token)
    ask_list(officer_client, **{"import": str(token)})
    job = ExportJob.objects.get()
    assert job.params == {"import": str(token)}
    assert run_job(job.pk) == "done"
    job.refresh_from_db()
    lines = sheet_rows(Path(settings.MEDIA_ROOT) / job.file.name)
    assert [line[2] for line in lines[1:]] == ['=HYPERLINK("http://x")']  # not the unit's other initiative


# -- the worker writes the workbook the request used to ----------------------------------------------


def test_the_worker_writes_the_filtered_list_with_text_kept_as_text(
    officer_client: Client, officer, rows, settings
) -> None:
    ask_list(officer_client, status="submitted")
    job = ExportJob.objects.get()
    assert run_job(job.pk) == "done"  # what the worker does with the message (test_celery runs a real one)
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.total_rows) == ("done", 1, 1)
    workbook = openpyxl.load_workbook(Path(settings.MEDIA_ROOT) / job.file.name)
    sheet = workbook.active
    lines = list(sheet.iter_rows(values_only=True))
    assert lines[0] == (
        "Mã đơn vị", "Đơn vị", "Sáng kiến", "Lĩnh vực", "Loại giải pháp", "Tác giả", "Trạng thái",
        "Ngày gửi", "Ngày áp dụng lần đầu", "Giá trị làm lợi (đồng)", "Giai đoạn",
    )  # fmt: skip
    assert len(lines) == 2 and lines[1][0] == "THEP-TISCO"  # submitted only, and only the officer's subtree
    cell = sheet.cell(row=2, column=3)
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://x")', "s")
    assert lines[1][9] == 12_000_000 and sheet.cell(row=2, column=10).number_format == "#,##0"

    status = officer_client.get(reverse("export_status", args=[job.pk])).json()
    assert status["finished"] and status["download"] == reverse("export_download", args=[job.pk])
    assert status["label"] == _("Done: %(n)s initiative in %(seconds)s s") % {
        "n": 1,
        "seconds": re.findall(r"[\d,.]+", status["label"])[-1],  # the last number: the seconds
    }
    download = officer_client.get(status["download"])
    assert download["Content-Type"] == XLSX_TYPE
    assert re.fullmatch(
        r'attachment; filename="sang-kien-CTVN-THEP-\d{8}-\d{4}\.xlsx"', download["Content-Disposition"]
    )
    assert {"private", "no-store"} <= {part.strip() for part in download["Cache-Control"].split(",")}
    assert openpyxl.load_workbook(BytesIO(b"".join(download.streaming_content))).active["C2"].value == cell.value


def test_the_page_names_each_export_s_filters(officer_client: Client, unit_tree, field, rows) -> None:
    ask_list(officer_client, unit=unit_tree.gang_thep.pk, field=field.pk, status="valid", q="kho")
    ask_list(officer_client)
    page = text(officer_client.get(reverse("list_exports")))
    assert f"Tìm kiếm: “kho” · Đơn vị: {unit_tree.gang_thep.name} · Lĩnh vực: {field.name} · Trạng thái: Hợp lệ" in page
    assert _("All initiatives") in page


# -- limits and reuse, shared with the emulation exports ---------------------------------------------


def test_the_same_filters_again_follow_the_export_being_built(officer_client: Client, officer, unit_tree, rows) -> None:
    ask_list(officer_client, status="submitted")
    again = officer_client.post(reverse("list_exports") + "?q=&status=submitted", follow=True)
    assert REUSED in text(again)
    assert ExportJob.objects.count() == 1 and ExportStart.objects.count() == 1
    ask_list(officer_client, status="valid")  # other filters: another export
    assert ExportJob.objects.count() == 2
    # A colleague with the same filters has an export of its own (its list is what it may see).
    colleague = UserFactory(username="canbo.thep2", unit=unit_tree.thep)
    officer_client.force_login(colleague)
    ask_list(officer_client, status="submitted")
    assert ExportJob.objects.filter(requested_by=colleague).count() == 1
    # Once done, asking again builds the list as it is now.
    ExportJob.objects.update(status=ExportJob.Status.DONE)
    officer_client.force_login(officer)
    ask_list(officer_client, status="submitted")
    assert ExportJob.objects.filter(requested_by=officer).count() == 3


def test_list_and_emulation_exports_count_together_in_the_limits(
    client: Client, leader, program, unit_tree, rows, settings
) -> None:
    """Leadership of Công Thương also has the officers' pages: two emulation workbooks being built
    leave it no third export of any kind."""
    client.force_login(leader)
    for unit in ("CTVN", "CTVN-THEP"):
        client.post(reverse("exports"), {"unit": unit, "level": "", "cluster": "", "phase": ""})
    refused = ask_list(client, status="submitted")
    assert refused.status_code == 302 and refused["Location"] == reverse("initiatives:list") + "?status=submitted"
    assert REFUSED_ACTIVE in text(client.get(refused["Location"]))
    assert not ExportJob.objects.filter(kind="initiative_list").exists()

    # And the hourly limit counts the list exports' starts with the workbooks'.
    settings.EXPORT_MAX_PER_HOUR = 3
    ExportJob.objects.update(status=ExportJob.Status.DONE)
    assert ask_list(client, status="submitted")["Location"] == reverse("list_exports")
    ExportJob.objects.update(status=ExportJob.Status.DONE)
    page = text(client.post(reverse("list_exports") + "?status=valid", follow=True))
    assert "Bạn đã yêu cầu 3 lần xuất trong một giờ qua" in page
    assert ExportStart.objects.filter(user=leader).count() == 3


def test_a_list_exports_identical_filters_are_never_an_emulation_export(client: Client, leader, program, rows) -> None:
    client.force_login(leader)
    ask_list(client)
    client.post(reverse("exports"), {"unit": "CTVN", "level": "", "cluster": "", "phase": ""})
    assert sorted(ExportJob.objects.values_list("kind", flat=True)) == ["emulation", "initiative_list"]
    # The emulation page lists workbooks only.
    page = text(client.get(reverse("exports")))
    assert page.count("data-export-status=") == 1


def test_a_list_too_long_to_export_at_once_asks_for_narrower_filters(
    officer_client: Client, program, unit_tree, settings
) -> None:
    settings.INITIATIVE_LIST_EXPORT_MAX_ROWS = 2
    InitiativeFactory.create_batch(2, program=program, unit=unit_tree.gang_thep)
    InitiativeFactory(program=program, unit=unit_tree.thep, status=Initiative.Status.VALID)
    response = ask_list(officer_client, status="")
    assert response.status_code == 302 and response["Location"] == reverse("initiatives:list")
    assert "Danh sách có hơn 2 sáng kiến, quá nhiều để xuất một lần" in text(officer_client.get(response["Location"]))
    assert not ExportJob.objects.exists() and not ExportStart.objects.exists()
    assert ask_list(officer_client, unit=unit_tree.gang_thep.pk)["Location"] == reverse("list_exports")
    job = ExportJob.objects.get()
    # The list grew past the limit before a worker took it: the job fails, nothing is written.
    InitiativeFactory(program=program, unit=unit_tree.gang_thep)
    assert run_job(job.pk) == "failed"
    job.refresh_from_db()
    assert "Danh sách có hơn 2 sáng kiến" in job.error and not job.file
    settings.INITIATIVE_LIST_EXPORT_MAX_ROWS = 3
    assert run_job(job.pk) == "skipped"  # failed stays failed until retried
    assert officer_client.post(reverse("export_retry", args=[job.pk]))["Location"] == reverse("list_exports")
    assert run_job(job.pk) == "done"
    job.refresh_from_db()
    rows = sheet_rows(Path(settings.MEDIA_ROOT) / job.file.name)
    assert [row[0] for row in rows[1:]] == ["THEP-TISCO"] * 3  # the limit itself is allowed


# -- a killed worker's job is taken over --------------------------------------------------------------


def test_a_list_export_whose_worker_died_is_taken_over_and_its_files_removed(
    officer_client: Client, rows, settings
) -> None:
    ask_list(officer_client)
    job = ExportJob.objects.get()
    lost = timezone.now() - dt.timedelta(seconds=settings.EXPORT_STALE_SECONDS + 1)
    ExportJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=lost, attempts=1)
    folder = Path(settings.MEDIA_ROOT) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{job.pk}-deadbeef-sang-kien.xlsx.partial"
    partial.write_bytes(b"PK half")
    status = officer_client.get(reverse("export_status", args=[job.pk])).json()
    assert (status["finished"], status["retry"]) == (False, True)  # followed on: another worker takes it
    assert run_job(job.pk) == "done"
    job.refresh_from_db()
    assert (job.attempts, job.rows_done) == (2, 2)
    assert [path.name for path in folder.iterdir()] == [Path(job.file.name).name]


# -- who may see and download it ------------------------------------------------------------------------


def test_only_its_asker_follows_retries_and_downloads_a_list_export(
    client: Client, officer, leader, reviewer, unit_tree, rows
) -> None:
    client.force_login(officer)
    ask_list(client)
    job = ExportJob.objects.get()
    run_job(job.pk)
    urls = [reverse("export_status", args=[job.pk]), reverse("export_download", args=[job.pk])]
    assert [client.get(url).status_code for url in urls] == [200, 200]
    others = {
        "officer of the same unit": UserFactory(username="canbo.thep2", unit=unit_tree.thep),
        "officer above": UserFactory(username="canbo.ctvn", unit=unit_tree.cong_thuong),
        "officer elsewhere": UserFactory(username="canbo.hn", unit=unit_tree.ha_noi),
        "leadership above": leader,
        "board above": reviewer,
    }
    for who, user in others.items():
        client.force_login(user)
        assert [client.get(url).status_code for url in urls] == [404, 404], who
        assert client.post(reverse("export_retry", args=[job.pk])).status_code == 404, who
        assert f"export-{job.pk}" not in text(client.get(reverse("list_exports"))), who
    client.logout()
    assert client.get(urls[1]).status_code == 302  # to the login page


def test_an_asker_that_lost_the_subtree_loses_its_list(client: Client, officer, unit_tree, rows) -> None:
    client.force_login(officer)
    ask_list(client)
    job = ExportJob.objects.get()
    run_job(job.pk)
    download = reverse("export_download", args=[job.pk])
    # Moved to a unit under its old one: it may no longer see Thép's list, so not its file either.
    officer.unit = unit_tree.gang_thep
    officer.save()
    assert client.get(download).status_code == 404
    # Moved up, it sees more, its old list included.
    officer.unit = unit_tree.cong_thuong
    officer.save()
    assert client.get(download).status_code == 200


def test_the_worker_asks_the_policy_again_before_building(client: Client, officer, unit_tree, rows) -> None:
    client.force_login(officer)
    ask_list(client, unit=unit_tree.gang_thep.pk)
    first = ExportJob.objects.get()
    ask_list(client)
    second = ExportJob.objects.exclude(pk=first.pk).get()
    officer.unit = unit_tree.rang_dong  # moved before a worker took the jobs
    officer.save()
    assert run_job(first.pk) == "failed" and run_job(second.pk) == "failed"
    expected = _("Your access changed since this export was asked for: ask for it again.")
    assert set(ExportJob.objects.values_list("error", flat=True)) == {expected}
    assert not ExportJob.objects.exclude(file="").exists()


# -- the pages' queries -----------------------------------------------------------------------------------


def test_the_exports_pages_run_a_bounded_number_of_queries(
    officer_client: Client, officer, unit_tree, field, rows, django_assert_max_num_queries, settings
) -> None:
    settings.EXPORT_MAX_ACTIVE_PER_USER = settings.EXPORT_MAX_PER_HOUR = 100
    BUDGET = 10  # session, user, roles, jobs, unit/field/phase names, menu's new answers…
    ask_list(officer_client, unit=unit_tree.gang_thep.pk)
    with django_assert_max_num_queries(BUDGET):
        officer_client.get(reverse("list_exports"))
    for status in ("submitted", "valid", "returned", "rejected", "draft"):
        ask_list(officer_client, status=status, field=field.pk, unit=unit_tree.thep.pk)
    for job in ExportJob.objects.all()[:3]:
        run_job(job.pk)
    with django_assert_max_num_queries(BUDGET):
        response = officer_client.get(reverse("list_exports"))
    assert text(response).count("data-export-status=") == 6
    job = ExportJob.objects.first()
    with django_assert_max_num_queries(5):  # session, user, roles, the job
        officer_client.get(reverse("export_status", args=[job.pk]))
    # Asking: the list's own (programme, phases, unit choices, the row limit), then the lock, the
    # identical job, the two limits, full_clean's three keys and its check of the constraint (in a
    # savepoint: three), and the two rows written.
    with django_assert_max_num_queries(21):
        ask_list(officer_client, q="mới")


def test_the_admin_shows_a_list_export_to_the_board_of_its_subtree_only(client: Client, roles, rows) -> None:
    job = ExportJob.objects.create(kind="initiative_list", scope=roles["officer"].unit, requested_by=roles["officer"])
    change = reverse("admin:emulation_exportjob_change", args=[job.pk])
    seen = {}
    for role in ("own_reviewer", "other_reviewer", "national_reviewer", "officer"):
        client.force_login(roles[role])
        seen[role] = client.get(change).status_code
    assert seen == {"own_reviewer": 200, "other_reviewer": 302, "national_reviewer": 200, "officer": 302}


def test_odd_filters_in_the_export_s_query_never_answer_a_server_error(officer_client: Client, rows, settings) -> None:
    settings.EXPORT_MAX_ACTIVE_PER_USER = settings.EXPORT_MAX_PER_HOUR = 100
    for name in ("q", "unit", "field", "status", "phase"):
        for value in ODD_VALUES:
            response = officer_client.post(f"{reverse('list_exports')}?{urlencode({name: value})}")
            assert response.status_code < 500, (name, value[:20])
    # Only valid filters are kept: the odd units, fields, statuses and phases are no filter at all.
    assert set().union(*(job.params for job in ExportJob.objects.all())) <= {"q"}
    assert officer_client.get(reverse("list_exports")).status_code == 200


def test_only_a_list_export_may_have_no_programme(unit_tree) -> None:
    ExportJob.objects.create(kind="initiative_list", scope=unit_tree.thep)
    with pytest.raises(IntegrityError), transaction.atomic():
        ExportJob.objects.create(kind="emulation", scope=unit_tree.thep)
