"""Hostile spreadsheets cannot take a worker down (issue 12): each is refused quickly, in Vietnamese,
with nothing imported, by both importers, on the site, in the admin and on the command line.

The red team's files are built here (tests/spreadsheet_bombs.py); the peak memory of an import is
read from a process of its own (tests/import_probe.py).
"""

from __future__ import annotations

import re
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import IO

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from initiatives.imports import HEADER as INITIATIVE_HEADER
from initiatives.imports import import_initiatives
from initiatives.models import Initiative
from sangkien.spreadsheets import SpreadsheetError
from tests import spreadsheet_bombs as bombs
from tests.import_probe import probe
from unions.imports import HEADER as UNIT_HEADER
from unions.imports import import_units
from unions.models import Union

# What the user reads for each kind of refusal.
TOO_COMPRESSED = "Tệp bị từ chối: một phần của tệp được nén"
FORGED = "không khớp với mục lục của chính nó"
XML_TRICKS = "XML mà Excel không bao giờ ghi"
TOO_MANY_ELEMENTS = "phần tử XML"
RED_TEAM = {
    # file → (builder, refusal), as the issue describes them
    "shared-strings-100MB.xlsx": (bombs.shared_strings_bomb, TOO_COMPRESSED),
    "shared-strings-400MB.xlsx": (
        lambda path, header: bombs.shared_strings_bomb(path, header, expanded=400_000_000),
        TOO_COMPRESSED,
    ),
    "empty-rows-35M.xlsx": (bombs.empty_rows_bomb, TOO_COMPRESSED),
}


@pytest.fixture(scope="module")
def red_team(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three files, built once; the header is the units one (the initiatives import refuses
    them before it reads any header)."""
    folder = tmp_path_factory.mktemp("red-team")
    return {name: build(folder / name, UNIT_HEADER) for name, (build, _refusal) in RED_TEAM.items()}


def refusal(path: Path | BytesIO) -> str:
    units = Union.objects.count()
    with pytest.raises(SpreadsheetError) as caught:
        import_units(path)
    assert Union.objects.count() == units, "a refused file must import nothing"
    return caught.value.messages[0]


def test_the_red_team_files_have_the_shape_the_issue_describes(red_team: dict[str, Path]) -> None:
    def biggest(path: Path) -> zipfile.ZipInfo:
        return max(zipfile.ZipFile(path).infolist(), key=lambda info: info.file_size)

    shared_100, shared_400, rows = (red_team[name] for name in RED_TEAM)
    assert shared_100.stat().st_size < 300 * 1024 and biggest(shared_100).file_size > 100_000_000
    assert 900 * 1024 < shared_400.stat().st_size < 1100 * 1024 and biggest(shared_400).file_size > 400_000_000
    assert rows.stat().st_size < 320 * 1024 and biggest(rows).file_size >= 35_000_000 * len(b"<row/>")


@pytest.mark.django_db
@pytest.mark.parametrize("name", RED_TEAM)
def test_a_red_team_file_is_refused_in_vietnamese_in_well_under_two_seconds(
    red_team: dict[str, Path], name: str, officer, program
) -> None:
    started = time.perf_counter()
    message = refusal(red_team[name])
    assert time.perf_counter() - started < 2
    assert message.startswith(RED_TEAM[name][1]), message
    with pytest.raises(SpreadsheetError) as caught:
        import_initiatives(red_team[name], user=officer, program=program)
    assert caught.value.messages == [message]
    assert not Initiative.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_red_team_files_cost_no_time_or_memory_on_the_site_in_the_admin_or_on_the_command_line(
    red_team: dict[str, Path], tmp_path: Path, officer, program, field, unit_tree
) -> None:
    """Each file is imported three ways in a process of its own, whose peak memory is compared
    with a process importing a tiny valid file the same three ways."""
    from tests.factories import UserFactory

    UserFactory(username="quantri", is_superuser=True, is_staff=True)
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    tiny = tmp_path / "mot-dong.xlsx"
    book = openpyxl.Workbook()
    book.active.append(UNIT_HEADER)
    book.active.append(("CTVN-MOI", "Công đoàn Công ty Mới", "Cơ sở", "CTVN", 10, ""))
    book.save(tiny)
    tiny_initiatives = tmp_path / "mot-sang-kien.xlsx"
    book = openpyxl.Workbook()
    book.active.append(INITIATIVE_HEADER)
    book.active.append(
        ("THEP-TISCO", "Cải tiến lò cao số 3", field.name, "Giải pháp kỹ thuật", "Nguyễn Văn An", "", "15/03/2022", "")
    )
    book.save(tiny_initiatives)
    baseline = probe(tiny, username=officer.username, database_url=database_url, site_path=tiny_initiatives)
    assert baseline.exit_code == 0, baseline
    assert baseline.imports["command"]["shown"] == "ok"
    assert "Đã nhập 0 đơn vị mới và cập nhật 0 đơn vị." in baseline.imports["admin"]["shown"]  # the command's
    assert "Đã nhập và gửi 1 sáng kiến." in baseline.imports["site"]["shown"]
    for name, (_build, expected) in RED_TEAM.items():
        result = probe(red_team[name], username=officer.username, database_url=database_url)
        assert result.exit_code == 0, (name, result)
        for way in ("command", "admin", "site"):
            shown = result.imports[way]["shown"]
            assert expected in shown, (name, way, shown[:2000])
            assert result.imports[way]["seconds"] < 2, (name, way, result.imports[way]["seconds"])
        assert "Chưa nhập dữ liệu nào" in result.imports["command"]["shown"]  # and the command exits non-zero
        extra = result.peak_rss_mb - baseline.peak_rss_mb
        assert extra < 100, f"{name}: {result.peak_rss_mb:.0f} MB against {baseline.peak_rss_mb:.0f} MB"
    assert Union.objects.filter(code="CTVN-MOI").count() == 1  # the tiny files only
    assert Initiative.objects.get().title == "Cải tiến lò cao số 3"


@pytest.mark.django_db
def test_the_command_exits_non_zero_on_a_hostile_file(red_team: dict[str, Path], capsys) -> None:
    with pytest.raises(CommandError, match="Chưa nhập dữ liệu nào"):
        call_command("import_units", str(red_team["empty-rows-35M.xlsx"]))
    assert TOO_COMPRESSED in capsys.readouterr().err


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (bombs.wide_row_bomb, TOO_MANY_ELEMENTS),
        (bombs.entity_bomb, XML_TRICKS),
        (bombs.lying_size_bomb, FORGED),
    ],
    ids=["one-row-of-4-million-cells", "xml-entities", "declared-size-smaller-than-the-stream"],
)
def test_bombs_that_pass_a_ratio_check_are_refused_too(tmp_path: Path, build, expected: str) -> None:
    path = build(tmp_path / "bom.xlsx", UNIT_HEADER)
    started = time.perf_counter()
    assert expected in refusal(path)
    assert time.perf_counter() - started < 2


def test_zipfile_inflates_a_whole_part_before_cutting_it_to_its_declared_size(tmp_path: Path) -> None:
    """Why the guard inflates every part itself: zipfile trusts the directory's size for what it
    returns, but a whole-part read (openpyxl's for styles, workbook and relationships) first
    inflates the entire stream; read piecewise, it stops at the declared size."""
    path = bombs.lying_size_bomb(tmp_path / "bom.xlsx", UNIT_HEADER, expanded=20_000_000)

    def peak_bytes(read: Callable[[IO[bytes]], object]) -> int:
        with zipfile.ZipFile(path) as archive, archive.open("xl/styles.xml") as stream:
            tracemalloc.start()
            with pytest.raises(zipfile.BadZipFile, match="CRC"):
                read(stream)  # the CRC is the whole stream's, so the cut part never matches it
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        return peak

    assert zipfile.ZipFile(path).getinfo("xl/styles.xml").file_size == 1024
    assert peak_bytes(lambda stream: stream.read()) > 20_000_000
    assert peak_bytes(lambda stream: [stream.read(4096) for _ in range(10)]) < 1_000_000


def workbook_with(tmp_path: Path, **parts: bytes | str) -> Path:
    """A good units workbook (one row) whose parts are replaced or added."""
    book = openpyxl.Workbook()
    book.active.append(UNIT_HEADER)
    book.active.append(("TLD", "Tổng Liên đoàn Lao động Việt Nam", "Tổng Liên đoàn", "", 1, ""))
    buffer = BytesIO()
    book.save(buffer)
    path = tmp_path / "don-vi.xlsx"
    with zipfile.ZipFile(buffer) as original, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in original.infolist():
            if info.filename not in parts:
                copy.writestr(info, original.read(info))
        for name, content in parts.items():
            copy.writestr(name, content)
    return path


def sheet_xml(rows: str, head: str = '<?xml version="1.0" encoding="UTF-8"?>') -> str:
    header = "".join(
        f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{name}</t></is></c>' for i, name in enumerate(UNIT_HEADER)
    )
    return f'{head}<worksheet xmlns="{bombs.MAIN}"><sheetData><row r="1">{header}</row>{rows}</sheetData></worksheet>'


GOOD_ROW = (
    '<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>TLD</t></is></c>'
    '<c r="B{r}" t="inlineStr"><is><t>Tổng Liên đoàn</t></is></c>'
    '<c r="C{r}" t="inlineStr"><is><t>Tổng Liên đoàn</t></is></c><c r="E{r}"><v>1</v></c></row>'
)


@pytest.mark.django_db
def test_a_sheet_in_utf16_is_refused(tmp_path: Path) -> None:
    sheet = sheet_xml(GOOD_ROW.format(r=2), head='<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16")
    assert XML_TRICKS in refusal(workbook_with(tmp_path, **{"xl/worksheets/sheet1.xml": sheet}))


@pytest.mark.django_db
def test_leading_whitespace_does_not_hide_a_dtd(tmp_path: Path) -> None:
    sheet = " " * 200_000 + sheet_xml(GOOD_ROW.format(r=2), head='<!DOCTYPE worksheet [<!ENTITY a "b">]>')
    assert XML_TRICKS in refusal(workbook_with(tmp_path, **{"xl/worksheets/sheet1.xml": sheet}))


@pytest.mark.django_db
def test_a_file_of_too_many_parts_is_refused(tmp_path: Path, settings) -> None:
    settings.SPREADSHEET_MAX_PARTS = 20
    extra = {f"xl/media/image{n}.png": b"\x89PNG" for n in range(20)}
    assert "Tệp bị từ chối: tệp gồm 29 phần, nhiều hơn 20 phần" in refusal(workbook_with(tmp_path, **extra))


@pytest.mark.django_db
def test_a_part_or_a_file_too_large_once_unpacked_is_refused(tmp_path: Path, settings) -> None:
    rows = "".join(GOOD_ROW.format(r=r).replace("TLD", f"T{r}") for r in range(2, 5000))
    path = workbook_with(tmp_path, **{"xl/worksheets/sheet1.xml": sheet_xml(rows)})
    settings.SPREADSHEET_MAX_PART_BYTES = 512 * 1024
    assert re.match(r"Tệp bị từ chối: khi giải nén, tệp sẽ chiếm 1,\d MB, nhiều hơn mức 0,5 MB", refusal(path))
    settings.SPREADSHEET_MAX_PART_BYTES = 1024 * 1024 * 1024
    settings.SPREADSHEET_MAX_TOTAL_BYTES = 512 * 1024
    assert re.match(r"Tệp bị từ chối: khi giải nén, tệp sẽ chiếm 1,\d MB, nhiều hơn mức 0,5 MB", refusal(path))


@pytest.mark.django_db
def test_a_row_far_below_the_header_is_read_without_walking_the_gap(tmp_path: Path, settings) -> None:
    settings.UNION_IMPORT_MAX_ROWS = 100
    # openpyxl's read-only sheet yields the million blank rows before it one by one; the reader does not.
    far = workbook_with(tmp_path, **{"xl/worksheets/sheet1.xml": sheet_xml(GOOD_ROW.format(r=1_048_576))})
    started = time.perf_counter()
    assert import_units(far).created == 1
    assert time.perf_counter() - started < 1


@pytest.mark.django_db
def test_blank_rows_past_what_excel_can_hold_are_refused_before_they_are_read(tmp_path: Path, settings) -> None:
    """Every row Excel can hold may be written out (formatted-only rows are); more cannot be a sheet."""
    settings.SPREADSHEET_MAX_RATIO = 10_000  # the count, not the ratio, is what this file meets
    empty = workbook_with(tmp_path, **{"xl/worksheets/sheet1.xml": sheet_xml("<row/>" * 1_050_000)})
    started = time.perf_counter()
    assert refusal(empty) == "Tệp bị từ chối: một trang tính có hơn 1.048.576 dòng, nhiều hơn Excel có thể chứa."
    assert time.perf_counter() - started < 3


@pytest.mark.django_db
def test_a_units_file_over_its_row_limit_is_refused(tmp_path: Path, settings) -> None:
    settings.UNION_IMPORT_MAX_ROWS = 3
    rows = "".join(GOOD_ROW.format(r=r).replace("TLD", f"T{r}") for r in range(2, 6))
    assert refusal(workbook_with(tmp_path, **{"xl/worksheets/sheet1.xml": sheet_xml(rows)})) == (
        "Tệp có hơn 3 đơn vị; hãy chia thành nhiều tệp."
    )


@pytest.mark.django_db
def test_a_wrong_dimension_no_longer_cuts_the_sheet_short(tmp_path: Path) -> None:
    """openpyxl's read-only mode trusted <dimension>; the import now reads the rows themselves."""
    child = (
        '<row r="3"><c r="A3" t="inlineStr"><is><t>CTVN</t></is></c>'
        '<c r="B3" t="inlineStr"><is><t>Công đoàn Công Thương Việt Nam</t></is></c>'
        '<c r="C3" t="inlineStr"><is><t>Cấp tỉnh/ngành</t></is></c>'
        '<c r="D3" t="inlineStr"><is><t>TLD</t></is></c><c r="E3"><v>5</v></c></row>'
    )
    rows = GOOD_ROW.format(r=2) + child
    sheet = sheet_xml(rows).replace("<sheetData>", '<dimension ref="A1:F2"/><sheetData>')
    result = import_units(workbook_with(tmp_path, **{"xl/worksheets/sheet1.xml": sheet}))
    assert result.created == 2


@pytest.mark.django_db
def test_reading_a_file_stops_at_the_deadline(tmp_path: Path, settings) -> None:
    rows = "".join(GOOD_ROW.format(r=r).replace("TLD", f"T{r}") for r in range(2, 100_000))
    path = workbook_with(tmp_path, **{"xl/worksheets/sheet1.xml": sheet_xml(rows)})
    settings.SPREADSHEET_READ_SECONDS = 0.3
    started = time.perf_counter()
    assert refusal(path) == ("Việc đọc tệp mất hơn 0,3 giây nên đã bị dừng; hãy chia tệp thành các tệp nhỏ hơn.")
    assert time.perf_counter() - started < 1.5


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_hostile_uploads_leave_the_other_workers_responsive(
    red_team: dict[str, Path], officer, program, field, unit_tree
) -> None:
    """bench/hostile_uploads.py against the test database: gunicorn with 3 sync workers, the three
    files posted at once by a logged-in officer, /healthz/ polled meanwhile."""
    import os

    from bench.hostile_uploads import run

    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sangkien.settings_test",
        "TEST_DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    root = Path(__file__).resolve().parent.parent.parent
    measurement = run(red_team, env=env, code=root, username=officer.username, password="mat-khau-thu-nghiem")
    for upload in measurement.uploads:
        assert upload.answer.startswith(TOO_COMPRESSED), (upload.name, upload.answer)
        assert upload.seconds < 5, (upload.name, upload.seconds)
    assert measurement.health_checks > 0 and not measurement.failed_health_checks
    assert measurement.worst_health_seconds < 2, measurement.worst_health_seconds
    assert not Initiative.objects.exists()
