"""The emulation-criteria workbook and its export jobs.

The small tree (figures as of 31/12/2022 23:00; K = Kỹ thuật, Q = Quản lý):

    TLD
    ├── CTVN (tier 2, cluster T, target 10, 1,000 members)
    │   ├── CTVN-THEP (superior, no cluster, 200 members)
    │   │   └── THEP-TISCO (cluster A, target 4, 200 members): valid K 10 M + 20 M (Feb), returned K
    │   │       99 M and rejected Q (Apr), a draft, one submitted in 2023 (after the instant)
    │   └── CTVN-RANGDONG (cluster B, target 2, 100 members): 2 submitted Q + valid K 5 M (Jul)
    └── HN (tier 2, cluster T, 500 members)
        ├── HN-BIA (cluster A, target 10, 50 members): valid Q 1 M (Mar)
        ├── HN-X (cluster A, target 10, 10 members): valid K (Aug)
        └── HN-DIEN (cluster B, 40 members): nothing

Criteria: TC1 completion of the target, weight 2, ≥ 50 % → 5, ≥ 100 % → 10 points;
TC2 valid share, weight 1, ≥ 50 % → 4, ≥ 100 % → 8 points.

    unit      submitted valid value  completion   TC1  valid share  TC2  score  rank in cluster
    TISCO         4       2   30 M   100 %         10   50 %          4   24     A: 1
    RANGDONG      3       1    5 M   150 %         10   33.3 %        0   20     B: 1
    BIA           1       1    1 M   10 %           0   100 %         8    8     A: 2 (tie)
    X             1       1    0     10 %           0   100 %         8    8     A: 2 (tie)
    DIEN          0       0    0     (no target)    0   (none)        0    0     B: 2
    CTVN          7       3   35 M   70 %           5   42.9 %        0   10     T: 1
    HN            2       2    1 M   (no target)    0   100 %         8    8     T: 2
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import subprocess
import uuid
import zipfile
from pathlib import Path

import openpyxl
import pytest
from celery.exceptions import Retry
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from emulation.models import EmulationCriterion, ExportJob, ScoringBand
from emulation.tasks import build_emulation_export
from emulation.workbook import ExportRequest, clean_exports, export_to, run_job, write_workbook
from initiatives.models import Initiative
from tests.conftest import role_group
from tests.factories import (
    EmulationClusterFactory,
    FieldFactory,
    InitiativeFactory,
    TargetFactory,
    UnionFactory,
    UserFactory,
)
from unions.models import Union
from unions.permissions import REVIEWERS_GROUP

S = Initiative.Status
M = 1_000_000


def at(day: str, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour)))


@pytest.fixture
def tree(unit_tree, program):
    phase1, phase2 = program.phases.order_by("number")
    k, q = FieldFactory(name="Kỹ thuật", position=1), FieldFactory(name="Quản lý", position=2)
    a, b, t = (EmulationClusterFactory(name=name) for name in ("Cụm A", "Cụm B", "Cụm T"))
    x = UnionFactory(code="HN-X", name="Công đoàn Công ty X", parent=unit_tree.ha_noi)
    dien = UnionFactory(code="HN-DIEN", name="Công đoàn Điện lực Hà Nội", parent=unit_tree.ha_noi)
    for unit, cluster, members in (
        (unit_tree.cong_thuong, t, 1000),
        (unit_tree.ha_noi, t, 500),
        (unit_tree.thep, None, 200),
        (unit_tree.gang_thep, a, 200),
        (unit_tree.rang_dong, b, 100),
        (unit_tree.bia, a, 50),
        (x, a, 10),
        (dien, b, 40),
    ):
        Union.objects.filter(pk=unit.pk).update(cluster=cluster, member_count=members)
    for unit, quantity in ((unit_tree.gang_thep, 4), (unit_tree.rang_dong, 2), (unit_tree.bia, 10), (x, 10)):
        TargetFactory(program=program, unit=unit, quantity=quantity)
    TargetFactory(program=program, unit=unit_tree.cong_thuong, quantity=10)

    def add(unit, field, status, when, value=None, phase=phase1):
        InitiativeFactory(
            program=program,
            unit=unit,
            field=field,
            phase=phase,
            status=status,
            value_vnd=value,
            submitted_at=None if status == S.DRAFT else at(when),
        )

    add(unit_tree.gang_thep, k, S.VALID, "2022-02-10", 10 * M)
    add(unit_tree.gang_thep, k, S.VALID, "2022-02-11", 20 * M)
    add(unit_tree.gang_thep, k, S.RETURNED, "2022-04-05", 99 * M)
    add(unit_tree.gang_thep, q, S.REJECTED, "2022-04-06")
    add(unit_tree.gang_thep, q, S.DRAFT, "2022-04-07")
    add(unit_tree.gang_thep, q, S.SUBMITTED, "2023-01-05", phase=phase2)  # after the instant
    add(unit_tree.rang_dong, q, S.SUBMITTED, "2022-07-01", phase=phase2)
    add(unit_tree.rang_dong, q, S.SUBMITTED, "2022-07-01", phase=phase2)
    add(unit_tree.rang_dong, k, S.VALID, "2022-07-02", 5 * M, phase=phase2)
    add(unit_tree.bia, q, S.VALID, "2022-03-01", 1 * M)
    add(x, k, S.VALID, "2022-08-01", phase=phase2)

    tc1 = EmulationCriterion.objects.create(
        program=program, code="TC1", name="Hoàn thành chỉ tiêu", metric="completion", weight=2, position=1
    )
    tc2 = EmulationCriterion.objects.create(
        program=program, code="TC2", name="Tỷ lệ hợp lệ", metric="valid_ratio", weight=1, position=2
    )
    for criterion, bands in ((tc1, ((50, 5), (100, 10))), (tc2, ((50, 4), (100, 8)))):
        for threshold, points in bands:
            ScoringBand.objects.create(criterion=criterion, min_value=threshold, points=points)
    return {"program": program, "phase1": phase1, "phase2": phase2, "tree": unit_tree, "a": a}


def request_for(tree, **kwargs) -> ExportRequest:
    options = {"as_of": at("2022-12-31", 23), "requested_by": "Lãnh Đạo", **kwargs}
    return ExportRequest(tree["program"], options.pop("scope", tree["tree"].root), **options)


def sheets(path: Path) -> dict[str, dict[str, dict[str, object]]]:
    """Each level sheet's rows by unit code, as {header: value}."""
    workbook = openpyxl.load_workbook(path)
    result = {}
    for sheet in workbook.worksheets[1:]:
        rows = list(sheet.iter_rows(values_only=True))
        result[sheet.title] = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    return result


def test_the_workbook_counts_scores_and_ranks_each_unit(tree, tmp_path) -> None:
    path = tmp_path / "thi-dua.xlsx"
    assert write_workbook(request_for(tree), path) == 8  # 2 tier-2, 1 superior, 5 grassroots units
    book = sheets(path)
    assert list(book) == ["Khối LĐLĐ tỉnh, CĐ ngành", "Khối công đoàn cấp trên cơ sở", "Khối công đoàn cơ sở"]
    tier2, superior, grassroots = book.values()

    tisco = grassroots["THEP-TISCO"]
    assert tisco["Đơn vị"] == "Công đoàn Công ty CP Gang thép Thái Nguyên"
    assert tisco["Cấp"] == "Công đoàn cơ sở"
    assert tisco["Đơn vị cấp trên"] == "Công đoàn Tổng Công ty Thép Việt Nam"
    assert tisco["Cụm thi đua"] == "Cụm A"
    assert (tisco["Chỉ tiêu"], tisco["Số sáng kiến đã gửi"], tisco["Số hợp lệ"]) == (4, 4, 2)
    assert tisco["% hoàn thành"] == 1.0
    assert tisco["Tổng giá trị làm lợi (đồng)"] == 30 * M
    assert (tisco["Số đoàn viên"], tisco["Sáng kiến/100 đoàn viên"]) == (200, 2.0)
    assert (tisco["Lĩnh vực: Kỹ thuật"], tisco["Lĩnh vực: Quản lý"]) == (3, 1)
    quarters = [tisco[f"Gửi trong quý {n}/2022"] for n in (1, 2, 3, 4)]
    assert quarters == [2, 2, 0, 0]
    assert (tisco["TC1: giá trị"], tisco["TC1: điểm"], tisco["TC2: giá trị"], tisco["TC2: điểm"]) == (100, 10, 50, 4)
    assert (tisco["Điểm"], tisco["Xếp hạng trong cụm"]) == (24, 1)

    scores = {code: (row["Điểm"], row["Xếp hạng trong cụm"]) for code, row in grassroots.items()}
    assert scores == {
        "THEP-TISCO": (24, 1),
        "CTVN-RANGDONG": (20, 1),
        "HN-BIA": (8, 2),
        "HN-X": (8, 2),  # equal scores share a rank
        "HN-DIEN": (0, 2),
    }
    dien = grassroots["HN-DIEN"]
    assert (dien["Số sáng kiến đã gửi"], dien["% hoàn thành"], dien["TC1: giá trị"]) == (0, None, None)

    thep = superior["CTVN-THEP"]
    assert (thep["Số sáng kiến đã gửi"], thep["Số CĐCS tham gia"], thep["Xếp hạng trong cụm"]) == (4, 1, None)

    ctvn, hn = tier2["CTVN"], tier2["HN"]
    assert (ctvn["Số sáng kiến đã gửi"], ctvn["Số hợp lệ"], ctvn["Tổng giá trị làm lợi (đồng)"]) == (7, 3, 35 * M)
    assert (ctvn["Lĩnh vực: Kỹ thuật"], ctvn["Lĩnh vực: Quản lý"]) == (4, 3)
    assert [ctvn[f"Gửi trong quý {n}/2022"] for n in (1, 2, 3, 4)] == [2, 2, 3, 0]
    assert (ctvn["% hoàn thành"], ctvn["Số CĐCS tham gia"], ctvn["Điểm"], ctvn["Xếp hạng trong cụm"]) == (
        0.7,
        2,
        10,
        1,
    )
    assert (hn["Số sáng kiến đã gửi"], hn["Số CĐCS tham gia"], hn["Điểm"], hn["Xếp hạng trong cụm"]) == (2, 2, 8, 2)


def test_a_phase_a_subtree_a_level_and_a_cluster_narrow_the_workbook(tree, tmp_path) -> None:
    path = tmp_path / "p2.xlsx"
    write_workbook(request_for(tree, phase=tree["phase2"], scope=tree["tree"].cong_thuong), path)
    book = sheets(path)
    assert list(book["Khối LĐLĐ tỉnh, CĐ ngành"]) == []  # only the units under Công Thương
    grassroots = book["Khối công đoàn cơ sở"]
    assert set(grassroots) == {"THEP-TISCO", "CTVN-RANGDONG"}
    assert grassroots["THEP-TISCO"]["Số sáng kiến đã gửi"] == 0  # its phase-2 one came after the instant
    rang_dong = grassroots["CTVN-RANGDONG"]
    assert rang_dong["Số sáng kiến đã gửi"] == 3
    assert [key for key in rang_dong if key.startswith("Gửi trong quý")] == [
        "Gửi trong quý 2/2022",
        "Gửi trong quý 3/2022",
        "Gửi trong quý 4/2022",
    ]
    assert book["Khối công đoàn cấp trên cơ sở"]["CTVN-THEP"]["Số sáng kiến đã gửi"] == 0

    path = tmp_path / "a.xlsx"
    write_workbook(request_for(tree, level=Union.Level.GRASSROOTS, cluster=tree["a"]), path)
    book = sheets(path)
    assert list(book) == ["Khối công đoàn cơ sở"]
    assert sorted(book["Khối công đoàn cơ sở"]) == ["HN-BIA", "HN-X", "THEP-TISCO"]


def test_the_cover_sheet_says_what_was_exported_and_how_it_is_scored(tree, tmp_path) -> None:
    path = tmp_path / "cover.xlsx"
    write_workbook(request_for(tree, phase=tree["phase1"]), path)
    cover = openpyxl.load_workbook(path).worksheets[0]
    lines = {row[0]: row[1] for row in cover.iter_rows(values_only=True) if row[0]}
    assert lines["Chương trình"] == "01 triệu sáng kiến"
    assert lines["Giai đoạn"] == "Giai đoạn 1"
    assert lines["Phạm vi"] == "Tổng Liên đoàn Lao động Việt Nam (TLD)"
    assert lines["Tính đến"] == dt.datetime(2022, 12, 31, 23, 0)
    assert lines["Người yêu cầu"] == "Lãnh Đạo"
    texts = [cell for row in cover.iter_rows(values_only=True) for cell in row if isinstance(cell, str)]
    assert "Điểm = tổng theo các tiêu chí của (trọng số × điểm)." in texts
    assert "≥ 50 → 5; ≥ 100 → 10" in texts


def test_text_that_looks_like_a_formula_is_written_as_text(tree, tmp_path) -> None:
    Union.objects.filter(code="HN-BIA").update(name='=HYPERLINK("http://evil.example","Bấm")')
    tree["a"].name = "+cmd|' /C calc'!A0"
    tree["a"].save()
    path = tmp_path / "injection.xlsx"
    write_workbook(request_for(tree), path)
    sheet = openpyxl.load_workbook(path)["Khối công đoàn cơ sở"]
    bia = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "HN-BIA")
    assert (bia[1].value, bia[1].data_type) == ('=HYPERLINK("http://evil.example","Bấm")', "s")
    assert (bia[4].value, bia[4].data_type) == ("+cmd|' /C calc'!A0", "s")
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name), name


def test_the_workbook_has_frozen_headers_filters_and_number_formats(tree, tmp_path) -> None:
    path = tmp_path / "formats.xlsx"
    write_workbook(request_for(tree), path)
    sheet = openpyxl.load_workbook(path)["Khối công đoàn cơ sở"]
    headers = [cell.value for cell in sheet[1]]
    assert sheet.freeze_panes == "C2"
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(headers))}6"  # 5 units
    tisco = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "THEP-TISCO")
    formats = dict(zip(headers, (cell.number_format for cell in tisco), strict=True))
    # Thousands separators where a number reaches 1,000; below that a number shows the same
    # without a format, and is written without one (twice as fast).
    assert formats["Tổng giá trị làm lợi (đồng)"] == "#,##0"
    assert formats["% hoàn thành"] == "0.0%"
    assert formats["Số sáng kiến đã gửi"] == "General"
    Union.objects.filter(code="THEP-TISCO").update(member_count=12_345)
    write_workbook(request_for(tree), path)
    sheet = openpyxl.load_workbook(path)["Khối công đoàn cơ sở"]
    tisco = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "THEP-TISCO")
    members = tisco[headers.index("Số đoàn viên")]
    assert (members.value, members.number_format) == (12_345, "#,##0")


def test_libreoffice_opens_the_workbook(tree, tmp_path) -> None:
    path = tmp_path / "lo.xlsx"
    write_workbook(request_for(tree), path)
    # Every sheet to CSV (UTF-8, comma-separated; the last option asks for all sheets).
    out = tmp_path / "csv"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            "--outdir",
            str(out),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    grassroots = next(out.glob("*Khối công đoàn cơ sở*.csv"))
    rows = list(csv.reader(grassroots.open(encoding="utf-8")))
    assert rows[0][:3] == ["Mã đơn vị", "Đơn vị", "Cấp"]
    tisco = next(row for row in rows if row[0] == "THEP-TISCO")
    assert tisco[1] == "Công đoàn Công ty CP Gang thép Thái Nguyên"
    assert tisco[-2:] == ["24", "1"]  # the score, the rank


def test_the_command_writes_the_same_workbook(tree, tmp_path) -> None:
    out = tmp_path / "cli.xlsx"
    call_command(
        "export_emulation", "--program", tree["program"].slug, "--phase", "1", "--scope", "CTVN", "--out", str(out)
    )
    book = sheets(out)
    assert book["Khối công đoàn cơ sở"]["THEP-TISCO"]["Số sáng kiến đã gửi"] == 4
    assert set(book["Khối công đoàn cơ sở"]) == {"THEP-TISCO", "CTVN-RANGDONG"}
    assert not list(tmp_path.glob(".*partial"))  # written under a temporary name, then renamed


def test_export_to_leaves_no_file_when_it_fails(tree, tmp_path) -> None:
    out = tmp_path / "missing-folder" / "x.xlsx"
    with pytest.raises(OSError):
        export_to(request_for(tree), out)
    assert not out.exists()


# -- jobs ----------------------------------------------------------------------------------------


def job_for(tree, user=None, **kwargs) -> ExportJob:
    options = {"scope": tree["tree"].root, "as_of": at("2022-12-31", 23), **kwargs}
    return ExportJob.objects.create(program=tree["program"], requested_by=user, **options)


def test_a_job_goes_from_queued_to_done_with_its_file(tree, settings) -> None:
    job = job_for(tree)
    assert job.status == ExportJob.Status.QUEUED
    assert run_job(job.pk) == "done"
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.total_rows, job.attempts, job.error) == ("done", 8, 8, 1, "")
    assert job.seconds is not None and job.finished_at is not None
    path = Path(settings.MEDIA_ROOT) / job.file.name
    assert path.exists() and sheets(path)["Khối công đoàn cơ sở"]["THEP-TISCO"]["Điểm"] == 24
    assert not list(path.parent.glob(".*.partial"))
    assert run_job(job.pk) == "skipped"  # a second delivery of the message changes nothing


def test_a_failing_job_is_failed_with_its_error_and_can_be_retried(tree, settings, tmp_path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the exports folder should be")
    settings.MEDIA_ROOT = blocker
    job = job_for(tree)
    assert run_job(job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED
    assert "not-a-folder" in job.error  # the details, for the admin and the log
    assert job.can_retry and not job.file

    settings.MEDIA_ROOT = tmp_path / "media"
    from emulation.workbook import requeue

    assert requeue(job)
    job.refresh_from_db()
    assert (job.status, job.error) == ("queued", "")
    assert run_job(job.pk) == "done"
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("done", 2)


def test_a_lost_job_is_claimed_again_and_a_live_one_is_not(tree, settings) -> None:
    job = job_for(tree)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, heartbeat_at=timezone.now())
    assert run_job(job.pk) == "busy"  # a worker is building it: the task checks again later
    stale = timezone.now() - dt.timedelta(seconds=settings.EXPORT_STALE_SECONDS + 1)
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=stale)
    job.refresh_from_db()
    assert job.is_lost and job.can_retry
    assert run_job(job.pk) == "done"  # the redelivered message takes it over


def test_taking_over_a_job_removes_what_its_dead_attempt_left(tree, settings) -> None:
    job, other = job_for(tree), job_for(tree)
    dead = uuid.uuid4()
    stale = timezone.now() - dt.timedelta(seconds=settings.EXPORT_STALE_SECONDS + 1)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, claim=dead, heartbeat_at=stale)
    folder = Path(settings.MEDIA_ROOT) / "exports"
    folder.mkdir(parents=True)
    partial = folder / f".{job.pk}-{dead.hex[:8]}-tieu-chi-thi-dua-TLD-20221231-2300.xlsx.partial"
    renamed = folder / f"{job.pk}-{dead.hex[:8]}-tieu-chi-thi-dua-TLD-20221231-2300.xlsx"  # killed before recording it
    others = folder / f".{other.pk}-{dead.hex[:8]}-tieu-chi-thi-dua-TLD-20221231-2300.xlsx.partial"
    for path in (partial, renamed, others):
        path.write_bytes(b"PK")
    assert run_job(job.pk) == "done"
    job.refresh_from_db()
    assert sorted(path.name for path in folder.iterdir()) == sorted([others.name, Path(job.file.name).name])


def test_a_delivery_that_finds_the_job_busy_looks_again_when_its_heartbeat_goes_stale(tree, settings) -> None:
    job = job_for(tree)
    beat = timezone.now() - dt.timedelta(seconds=100)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, heartbeat_at=beat)
    with pytest.raises(Retry) as retry:
        build_emulation_export.apply(args=[job.pk])
    assert settings.EXPORT_STALE_SECONDS - 100 < retry.value.when <= settings.EXPORT_STALE_SECONDS - 100 + 3


def test_the_page_follows_a_job_whose_worker_died_until_it_is_done(client: Client, tree, leader, settings) -> None:
    job = job_for(tree, scope=tree["tree"].cong_thuong)
    lost = timezone.now() - dt.timedelta(seconds=settings.EXPORT_STALE_SECONDS + 1)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, heartbeat_at=lost)
    client.force_login(leader)
    status = client.get(reverse("export_status", args=[job.pk])).json()
    # Another worker takes it over by itself: the page keeps following it (and offers Retry).
    assert (status["finished"], status["retry"]) == (False, True)
    assert status["label"] == "Bị gián đoạn: tiến trình đang tạo tệp bị ngắt; một tiến trình khác sẽ sớm làm tiếp"
    assert re.search(r'data-export-status="[^"]+" data-finished=""', client.get(reverse("exports")).content.decode())
    # No one took it over for twice the stale period: its message is gone, only Retry helps.
    abandoned = timezone.now() - dt.timedelta(seconds=2 * settings.EXPORT_STALE_SECONDS + 1)
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=abandoned)
    status = client.get(reverse("export_status", args=[job.pk])).json()
    assert (status["label"], status["retry"]) == ("Đã dừng: tiến trình đang tạo tệp bị ngắt", True)
    assert run_job(job.pk) == "done"
    assert client.get(reverse("export_status", args=[job.pk])).json()["finished"] is True


def test_old_files_are_cleaned_after_the_retention_period(tree, settings) -> None:
    job = job_for(tree)
    run_job(job.pk)
    job.refresh_from_db()
    path = Path(settings.MEDIA_ROOT) / job.file.name
    assert clean_exports(now=timezone.now()) == 0
    later = timezone.now() + dt.timedelta(days=settings.EXPORT_RETENTION_DAYS + 1)
    assert clean_exports(now=later) == 1
    job.refresh_from_db()
    assert not path.exists() and job.file.name == "" and job.status == ExportJob.Status.DONE


# -- the pages -----------------------------------------------------------------------------------


def test_leadership_asks_for_an_export_and_downloads_it(client: Client, tree, leader) -> None:
    client.force_login(leader)
    page = client.get(reverse("exports"))
    assert page.status_code == 200 and "Xuất tiêu chí thi đua" in page.content.decode()
    response = client.post(reverse("exports"), {"unit": "ctvn", "level": "", "cluster": "", "phase": ""})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert (job.scope.code, job.requested_by, job.status) == ("CTVN", leader, "queued")
    assert client.get(reverse("export_status", args=[job.pk])).json()["finished"] is False
    run_job(job.pk)  # what the worker does with the message (tests/test_celery.py runs a real one)
    status = client.get(reverse("export_status", args=[job.pk])).json()
    assert status["status"] == "done" and status["finished"] and status["download"]
    download = client.get(status["download"])
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    assert re.search(r'filename="tieu-chi-thi-dua-CTVN-\d{8}-\d{4}\.xlsx"', download["Content-Disposition"])
    assert b"".join(download.streaming_content).startswith(b"PK")


def test_only_leadership_and_the_board_export_and_only_their_subtree(client: Client, tree, leader, officer) -> None:
    client.force_login(officer)
    assert client.get(reverse("exports")).status_code == 403
    job = job_for(tree, scope=tree["tree"].ha_noi)
    run_job(job.pk)
    client.force_login(leader)  # leadership of Công Thương
    page = client.post(reverse("exports"), {"unit": "HN"})
    assert "Đơn vị này không thuộc phạm vi đơn vị của bạn." in page.content.decode()
    assert client.get(reverse("export_download", args=[job.pk])).status_code == 404
    assert client.get(reverse("export_status", args=[job.pk])).status_code == 404
    national = UserFactory(username="lanhdao.tw", is_superuser=True, is_staff=True)
    client.force_login(national)
    assert client.get(reverse("export_download", args=[job.pk])).status_code == 200


def test_the_form_explains_a_wrong_unit(client: Client, tree, leader) -> None:
    client.force_login(leader)
    page = client.post(reverse("exports"), {"unit": "KHONG-CO"}).content.decode()
    assert "Không có đơn vị nào có mã “KHONG-CO”." in page
    page = client.post(reverse("exports"), {"unit": "THEP-TISCO"}).content.decode()
    assert "Công đoàn cơ sở không có đơn vị trực thuộc" in page
    assert not ExportJob.objects.exists()


def test_the_national_board_edits_criteria_and_their_bands_in_the_admin(client: Client, program, reviewer) -> None:
    url = reverse("admin:emulation_emulationcriterion_add")
    client.force_login(reviewer)  # Công Thương's board: the criteria score the whole country
    assert client.get(url).status_code == 403
    national = UserFactory(username="bancspl.tw", is_staff=True, unit=None)
    national.groups.add(Group.objects.get(name=REVIEWERS_GROUP))
    client.force_login(national)
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "program": program.pk,
            "code": "TC9",
            "name": "Giá trị làm lợi",
            "metric": "value",
            "weight": "1.5",
            "position": "9",
            "bands-TOTAL_FORMS": "2",
            "bands-INITIAL_FORMS": "0",
            "bands-0-min_value": "1000000",
            "bands-0-points": "5",
            "bands-1-min_value": "10000000",
            "bands-1-points": "10",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    criterion = EmulationCriterion.objects.get(code="TC9")
    assert [(int(b.min_value), int(b.points)) for b in criterion.bands.all()] == [(1_000_000, 5), (10_000_000, 10)]


def test_a_code_with_an_underscore_exports_its_own_subtree_only(tree, tmp_path) -> None:
    root = tree["tree"].root
    for code in ("A_1", "A-1"):  # LIKE 'TLD/A_1/%' would also match TLD/A-1/…
        parent = UnionFactory(code=code, name=f"LĐLĐ {code}", level=Union.Level.TIER2, parent=root)
        UnionFactory(code=f"{code}-G", name=f"CĐCS {code}", parent=parent)
    path = tmp_path / "a1.xlsx"
    write_workbook(request_for(tree, scope=Union.objects.get(code="A_1")), path)
    assert list(sheets(path)["Khối công đoàn cơ sở"]) == ["A_1-G"]


def test_the_page_says_a_job_failed_without_its_technical_details(
    client: Client, tree, leader, settings, tmp_path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    settings.MEDIA_ROOT = blocker
    job = job_for(tree, scope=tree["tree"].cong_thuong)
    run_job(job.pk)
    client.force_login(leader)
    status = client.get(reverse("export_status", args=[job.pk])).json()
    assert status["status"] == "failed" and status["retry"] and status["finished"]
    assert (
        status["error"] == f"Không tạo được tệp. Hãy chạy lại; nếu vẫn lỗi, báo quản trị viên (lần xuất số {job.pk})."
    )
    assert "not-a-folder" not in client.get(reverse("exports")).content.decode()


def test_the_beat_schedule_cleans_old_exports_every_night(settings) -> None:
    from sangkien.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["clean-emulation-exports"]
    assert entry["task"] == "initiatives.clean_emulation_exports" in app.tasks
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({2}, {30})


def test_a_unit_elsewhere_whose_code_differs_in_case_does_not_shadow_ones_own(client: Client, tree) -> None:
    """Công Thương may name a unit "hn"; Hà Nội's board still exports its own "HN"."""
    UnionFactory(
        code="hn", name="Công đoàn HN của Công Thương", level=Union.Level.SUPERIOR, parent=tree["tree"].cong_thuong
    )
    board = UserFactory(username="ban.hanoi", unit=tree["tree"].ha_noi, is_staff=True)
    board.groups.add(role_group(REVIEWERS_GROUP))
    client.force_login(board)
    response = client.post(reverse("exports"), {"unit": "HN"})
    assert response.status_code == 302
    assert ExportJob.objects.get().scope == tree["tree"].ha_noi


def test_an_abandoned_job_is_settled_so_the_page_stops_following_it(tree, settings) -> None:
    """Lost for twice the stale period: only the Retry button moves it on."""
    job = job_for(tree)
    long_ago = timezone.now() - dt.timedelta(seconds=2 * settings.EXPORT_STALE_SECONDS + 5)
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.RUNNING, started_at=long_ago, heartbeat_at=long_ago
    )
    job.refresh_from_db()
    assert job.is_abandoned and job.is_settled and job.can_retry


def test_the_workbook_lists_each_parents_units_in_vietnamese_order(tree, tmp_path) -> None:
    for number, name in enumerate(["Huế", "Đà Nẵng", "Hải Phòng", "Cần Thơ", "Hà Nội"]):
        UnionFactory(code=f"P{number}", name=name, level=Union.Level.TIER2, parent=tree["tree"].root)
    path = tmp_path / "thi-dua.xlsx"
    write_workbook(request_for(tree), path)
    book = sheets(path)
    tier2 = [row["Đơn vị"] for row in book["Khối LĐLĐ tỉnh, CĐ ngành"].values()]
    assert tier2 == [
        "Cần Thơ", "Công đoàn Công Thương Việt Nam", "Đà Nẵng", "Hà Nội", "Hải Phòng", "Huế",
        "Liên đoàn Lao động thành phố Hà Nội",
    ]  # fmt: skip
    # Grouped by their parent, in tree order; "Công ty X" before "Điện lực" under Hà Nội.
    assert list(book["Khối công đoàn cơ sở"]) == ["CTVN-RANGDONG", "THEP-TISCO", "HN-BIA", "HN-X", "HN-DIEN"]


def test_the_export_form_offers_the_clusters_in_vietnamese_order(client: Client, tree, leader) -> None:
    for name in ["Huế", "Đà Nẵng", "Hải Phòng", "Cần Thơ", "Hà Nội"]:
        EmulationClusterFactory(name=f"Khối {name}")
    client.force_login(leader)
    page = client.get(reverse("exports")).content.decode()
    select = page[page.index('name="cluster"') : page.index("</select>", page.index('name="cluster"'))]
    assert re.findall(r">Khối ([^<]+)</option>", select) == ["Cần Thơ", "Đà Nẵng", "Hà Nội", "Hải Phòng", "Huế"]
