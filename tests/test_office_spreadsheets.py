"""The layouts and formats offices use (issue 16, items 1 and 2), for both importers.

The files are made from the project's own rows: openpyxl writes the office layout as .xlsx
(tests/office_sheets.py) and LibreOffice saves the same files as .xls, .ods and .xlsm, once per
session (one soffice call per format, `office_files` in tests/conftest.py), for the tests marked slow.
"""

from __future__ import annotations

import datetime as dt
import time
import unicodedata
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from initiatives.imports import import_initiatives
from initiatives.models import Initiative
from sangkien.sheet_layout import header_key
from sangkien.spreadsheets import SpreadsheetError, read_rows
from tests import spreadsheet_bombs as bombs
from tests.factories import UserFactory
from tests.forms import post_form
from tests.office_sheets import nfd, office_workbook
from unions.imports import HEADER as UNIT_HEADER
from unions.imports import SPEC as UNIT_SPEC
from unions.imports import import_units
from unions.models import Union

pytestmark = pytest.mark.django_db

# The initiatives sheet as an office lays it out: shuffled, respelled, two extra columns.
INITIATIVE_HEADER = (
    "Ten sang kien",  # no diacritics
    nfd("Mã đơn vị"),  # decomposed
    "Tác giả\n(tỷ lệ đóng góp)",  # over two lines
    "Lĩnh vực (*)",
    "LOẠI GIẢI PHÁP",
    "Ghi chú",
    "Giá trị làm lợi\n(VNĐ)",
    "Ngày áp dụng\nlần đầu",
    "Tóm tắt nội dung",
    "Người liên hệ",
)


def initiative(title: str, unit: str = "THEP-TISCO", value: object = "120.000.000") -> list[object]:
    return [
        title,
        unit,
        "Nguyễn Văn An (60%); Trần Thị Bình (40%)",
        "Kỹ thuật – sản xuất",
        "Giải pháp kỹ thuật",
        "đã nghiệm thu",
        value,
        dt.datetime(2022, 3, 15),
        "Giảm tiêu hao than cốc.",
        "0912 345 678",
    ]


INITIATIVE_ROWS = [
    initiative("Cải tiến lò cao số 3"),
    initiative("Quản lý kho bằng mã vạch", value=5_000_000),
    initiative("Sáng kiến bị lọc ẩn"),  # hidden by a filter
    initiative("Tự động hóa khâu đóng gói", unit="CTVN-THEP"),
]
UNIT_SHEET_HEADER = (
    "Tên đơn vị",
    "Ma don vi (*)",
    "Cấp",
    "Mã đơn vị\ncấp trên",
    "Cụm thi đua",
    "Số đoàn viên\n(người)",
)
UNIT_ROWS = [
    ["Tổng Liên đoàn Lao động Việt Nam", "TLD", "Tổng Liên đoàn", "", "", 11_000_000],
    ["Công đoàn Công Thương Việt Nam", "CTVN", "Cấp tỉnh/ngành", "TLD", "Khối công đoàn ngành", 250_000],
    ["Công đoàn ẩn", "AN", "Cơ sở", "CTVN", "", 10],  # hidden by a filter
    ["Công đoàn Công ty CP Bóng đèn Rạng Đông", "CTVN-RD", "Cơ sở", "CTVN", "", 2600],
]


def initiatives_file(path: Path) -> Path:
    return office_workbook(
        path,
        header=INITIATIVE_HEADER,
        rows=INITIATIVE_ROWS,
        title="DANH SÁCH SÁNG KIẾN ĐĂNG KÝ NĂM 2026",
        hidden_row=2,
        totals=["3 sáng kiến", None, None, None, None, None, 245_000_000],
    )


def units_file(path: Path) -> Path:
    return office_workbook(
        path,
        header=UNIT_SHEET_HEADER,
        rows=UNIT_ROWS,
        title="DANH SÁCH ĐƠN VỊ",
        hidden_row=2,
        totals=["Cộng", None, None, None, None, 11_252_600],
    )


def office_sources(folder: Path) -> list[Path]:
    """This module's files for the session's conversion (tests/conftest.py, `office_files`)."""
    wide = openpyxl.Workbook()
    wide.active.append(UNIT_HEADER)
    wide.active["IV65000"] = "x"  # the last column .xls has, far down: a grid of 16 million cells
    wide.save(folder / "rong.xlsx")
    many = openpyxl.Workbook()
    many.active.append(UNIT_HEADER)
    for number in range(6000):
        many.active.append((f"CS-{number}", f"Công đoàn cơ sở số {number}", "Cơ sở", "CTVN", 100, "Khối doanh nghiệp"))
    many.save(folder / "nhieu.xlsx")
    return [
        initiatives_file(folder / "sang-kien.xlsx"),
        units_file(folder / "don-vi.xlsx"),
        folder / "rong.xlsx",
        folder / "nhieu.xlsx",
    ]


def test_headers_match_whatever_their_spelling() -> None:
    key = header_key("Giá trị làm lợi (đồng)")
    for spelling in (
        "Giá trị làm lợi\n(VNĐ)",
        "GIÁ TRỊ LÀM LỢI (đ) (*)",
        "gia tri lam loi",
        unicodedata.normalize("NFD", "Giá trị làm lợi (đồng)"),
        "Giá trị làm lợi:",
    ):
        assert header_key(spelling) == key, spelling


def check_initiatives(result) -> None:
    titles = set(Initiative.objects.values_list("title", flat=True))
    assert titles == {"Cải tiến lò cao số 3", "Quản lý kho bằng mã vạch", "Tự động hóa khâu đóng gói"}
    stored = Initiative.objects.get(title="Quản lý kho bằng mã vạch")
    assert (stored.unit.code, stored.value_vnd, stored.first_applied_on) == (
        "THEP-TISCO",
        5_000_000,
        dt.date(2022, 3, 15),
    )
    assert stored.field.name == "Kỹ thuật – sản xuất" and stored.summary == "Giảm tiêu hao than cốc."
    assert Initiative.objects.get(title="Tự động hóa khâu đóng gói").unit.code == "CTVN-THEP"
    layout = result.layout
    assert (layout.sheet, layout.header_row) == ("Danh sách", 7)
    assert layout.extra_columns == ["Ghi chú (G)", "Người liên hệ (K)"]
    assert layout.totals_rows == [12]
    assert layout.signature_rows == [14, 15, 17]
    assert layout.hidden_rows == [10]


def test_an_office_layout_imports_its_rows_and_says_what_it_skipped(tmp_path, officer, program, field) -> None:
    result = import_initiatives(initiatives_file(tmp_path / "sang-kien.xlsx"), user=officer, program=program)
    assert result.created == 3
    check_initiatives(result)
    assert result.layout.summary() == [
        "Đã đọc trang tính “Danh sách” (.xlsx), dòng tiêu đề là dòng 7.",
        "Các cột không được nhập: Ghi chú (G), Người liên hệ (K).",
        "Đã bỏ qua dòng tổng cộng 12.",
        "Đã bỏ qua phần chữ ký dưới dữ liệu (dòng 14 đến 17).",
        "Dòng 10 đang bị ẩn (bị lọc) nên không được nhập; nếu cần nhập, hãy hiện các dòng đó và nhập lại.",
    ]


def test_errors_name_the_sheet_and_the_files_own_column(tmp_path, officer, program, field) -> None:
    rows = [initiative("Cải tiến lò cao số 3"), initiative("Khác", unit="KHONG-CO")]
    path = office_workbook(tmp_path / "sai.xlsx", header=INITIATIVE_HEADER, rows=rows, title="DANH SÁCH")
    with pytest.raises(SpreadsheetError) as caught:
        import_initiatives(path, user=officer, program=program)
    assert caught.value.messages == [
        "Trang tính “Danh sách”, dòng 9, cột C (Mã đơn vị): Không có đơn vị nào có mã “KHONG-CO”."
    ]
    assert not Initiative.objects.exists()


def test_a_file_without_the_header_names_the_closest_row(tmp_path, officer, program) -> None:
    header = [name for name in INITIATIVE_HEADER if name != "Lĩnh vực (*)"]
    path = office_workbook(tmp_path / "thieu.xlsx", header=header, rows=[], title="DANH SÁCH")
    with pytest.raises(SpreadsheetError) as caught:
        import_initiatives(path, user=officer, program=program)
    assert "Gần nhất là dòng 7 của trang tính “Danh sách”, còn thiếu: Lĩnh vực." in caught.value.messages[0]


def test_a_formula_without_its_value_is_named_not_taken_for_a_missing_title(officer, program, field) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Mã đơn vị", "Tên sáng kiến", "Lĩnh vực", "Loại giải pháp", "Tác giả", "Tóm tắt nội dung"])
    sheet["G1"], sheet["H1"] = "Ngày áp dụng lần đầu", "Giá trị làm lợi (đồng)"
    sheet.append(["THEP-TISCO", '="Cải tiến " & "lò cao"', "Kỹ thuật – sản xuất", "Giải pháp kỹ thuật", "An"])
    sheet["G2"], sheet["H2"] = "15/03/2022", "=1000*1000"
    buffer = BytesIO()
    book.save(buffer)  # openpyxl saves formulas without their values, as some programs do
    with pytest.raises(SpreadsheetError) as caught:
        import_initiatives(buffer, user=officer, program=program)
    assert caught.value.messages == [
        "Dòng 2, cột B (Tên sáng kiến): ô có công thức nhưng không có giá trị; hãy mở tệp bằng Excel hoặc "
        "LibreOffice, lưu lại rồi nhập lại.",
        "Dòng 2, cột H (Giá trị làm lợi (đồng)): ô có công thức nhưng không có giá trị; hãy mở tệp bằng Excel "
        "hoặc LibreOffice, lưu lại rồi nhập lại.",
    ]


def test_the_units_import_reads_the_same_layouts(tmp_path) -> None:
    result = import_units(units_file(tmp_path / "don-vi.xlsx"))
    assert (result.created, result.updated) == (3, 0)
    assert Union.objects.get(code="CTVN-RD").path == "TLD/CTVN/CTVN-RD/"
    assert Union.objects.get(code="CTVN").cluster.name == "Khối công đoàn ngành"
    assert not Union.objects.filter(code="AN").exists()
    layout = result.layout
    assert (layout.sheet, layout.header_row, layout.totals_rows, layout.hidden_rows) == ("Danh sách", 7, [12], [10])
    assert layout.signature_rows == [14, 15, 17]


def test_a_sheet_formatted_down_to_its_last_row_imports_in_seconds(tmp_path) -> None:
    """Before: read_rows walked all 1,048,576 rows through openpyxl (7.9 s without a row limit;
    the units import stopped at 1.9 s with "more than 210.000 rows", the initiatives one refused
    the file). Now the rows that hold only formatting are never parsed: about 3 s, most of it the
    archive check that reads every byte."""

    def rows():
        yield (
            '<row r="2"><c r="A2" t="inlineStr"><is><t>TLD</t></is></c>'
            '<c r="B2" t="inlineStr"><is><t>Tổng Liên đoàn</t></is></c>'
            '<c r="C2" t="inlineStr"><is><t>Tổng Liên đoàn</t></is></c><c r="E2"><v>1</v></c></row>'
        ).encode()
        for start in range(3, 1_048_577, 50_000):
            yield b"".join(
                b'<row r="%d" s="1" customFormat="1"><c r="A%d" s="1"/><c r="B%d" s="1"/></row>' % (r, r, r)
                for r in range(start, min(start + 50_000, 1_048_577))
            )

    path = bombs._write(tmp_path / "dinh-dang.xlsx", UNIT_HEADER, sheet_rows=rows())
    # CPU time of this process (the import runs in it, on one thread): what the file costs, whatever
    # else the machine is doing (wall time grew to 8 s under a load average of 8). Main took 7.9 s
    # of it before the reader skipped formatting-only rows; the issue saw 75 s.
    started = time.process_time()
    assert import_units(path).created == 1
    assert time.process_time() - started < 6


def test_a_file_that_is_no_spreadsheet_lists_the_formats_read(tmp_path) -> None:
    path = tmp_path / "don-vi.xls"
    path.write_bytes(b"%PDF-1.4 pretending to be .xls")
    with pytest.raises(SpreadsheetError, match=r"\.xlsx, \.xlsm, \.xls \(Excel 97–2003\) hoặc \.ods"):
        import_units(path)


@pytest.mark.slow
@pytest.mark.parametrize("extension", ["xls", "ods", "xlsm"])
def test_libreoffice_saved_files_import_the_same(office_files, extension, officer, program, field) -> None:
    result = import_initiatives(office_files[f"sang-kien.{extension}"], user=officer, program=program)
    check_initiatives(result)
    assert result.layout.file_format.startswith(f".{extension}")
    units = import_units(office_files[f"don-vi.{extension}"])
    assert Union.objects.get(code="CTVN-RD").path == "TLD/CTVN/CTVN-RD/"
    assert not Union.objects.filter(code="AN").exists()  # hidden by the filter
    assert (units.layout.header_row, units.layout.totals_rows) == (7, [12])


@pytest.mark.slow
def test_the_site_and_the_command_take_the_other_formats_and_show_the_summary(
    office_files, client: Client, officer, program, field, capsys
) -> None:
    client.force_login(officer)
    with open(office_files["sang-kien.ods"], "rb") as handle:
        upload = BytesIO(handle.read())
    upload.name = "sang-kien.ods"
    page = post_form(client, "initiatives:import", {"file": upload}, follow=True).content.decode()
    assert "Đã nhập và gửi 3 sáng kiến." in page
    assert "Đã đọc trang tính “Danh sách” (.ods), dòng tiêu đề là dòng 7." in page
    assert "Đã bỏ qua dòng tổng cộng 12." in page
    call_command("import_units", str(office_files["don-vi.xls"]))
    out = capsys.readouterr().out
    assert "Đã đọc trang tính “Danh sách” (.xls), dòng tiêu đề là dòng 7." in out
    assert "Các cột không được nhập" not in out


@pytest.mark.slow
@pytest.mark.parametrize("extension", ["ods", "xls"])
def test_a_file_of_thousands_of_rows_in_another_format_is_read_whole(office_files, extension) -> None:
    """An .ods's rows are records for the archive check, as an .xlsx's are (otherwise its whole
    content.xml counted as one row of more than 50,000 XML elements and was refused)."""
    rows = list(read_rows(office_files[f"nhieu.{extension}"], spec=UNIT_SPEC, max_bytes=10**8, max_rows=200_000))
    assert len(rows) == 6000
    assert rows[-1] == (6001, ("CS-5999", "Công đoàn cơ sở số 5999", "Cơ sở", "CTVN", 100, "Khối doanh nghiệp"))


@pytest.mark.slow
def test_an_xls_whose_cells_span_too_large_a_grid_is_refused_before_calamine_builds_it(office_files) -> None:
    started = time.perf_counter()
    with pytest.raises(SpreadsheetError, match="Tệp bị từ chối: các trang tính của tệp chứa hơn"):
        import_units(office_files["rong.xls"])
    assert time.perf_counter() - started < 2


def test_the_command_shows_the_summary_of_an_xlsx(tmp_path, capsys) -> None:
    call_command("import_units", str(units_file(tmp_path / "don-vi.xlsx")))
    out = capsys.readouterr().out
    assert "Đã đọc trang tính “Danh sách” (.xlsx), dòng tiêu đề là dòng 7." in out
    assert "Dòng 10 đang bị ẩn (bị lọc) nên không được nhập" in out


def test_an_ods_standing_for_too_many_cells_is_refused_before_it_is_read(tmp_path) -> None:
    import zipfile

    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
        '<table:table table:name="A"><table:table-row table:number-rows-repeated="1000000">'
        '<table:table-cell office:value-type="string" table:number-columns-repeated="60"><text:p>x</text:p>'
        "</table:table-cell></table:table-row></table:table></office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    path = tmp_path / "bom.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
    started = time.perf_counter()
    with pytest.raises(SpreadsheetError, match="Tệp bị từ chối: các trang tính của tệp chứa hơn"):
        import_units(path)
    assert time.perf_counter() - started < 2


def test_the_command_refuses_a_bad_layout_with_the_closest_header(tmp_path) -> None:
    path = office_workbook(tmp_path / "x.xlsx", header=("Tên", "Mã"), rows=[], title="DANH SÁCH")
    with pytest.raises(CommandError):
        call_command("import_units", str(path))


def test_the_admin_import_takes_an_office_sheet_and_shows_the_summary(tmp_path, client: Client) -> None:
    client.force_login(UserFactory(username="quantri", is_staff=True, is_superuser=True))
    path = units_file(tmp_path / "don-vi.xlsx")
    with open(path, "rb") as handle:
        upload = BytesIO(handle.read())
    upload.name = "don-vi.xlsx"
    page = client.post(reverse("admin:unions_union_import"), {"file": upload}, follow=True).content.decode()
    assert "Đã nhập 3 đơn vị mới và cập nhật 0 đơn vị." in page
    assert "Đã đọc trang tính “Danh sách” (.xlsx), dòng tiêu đề là dòng 7." in page
    assert "Đã bỏ qua phần chữ ký dưới dữ liệu (dòng 14 đến 17)." in page
    form = client.get(reverse("admin:unions_union_import")).content.decode()
    assert 'accept=".xlsx,.xlsm,.xls,.ods,' in form


def test_the_site_upload_field_offers_the_four_formats(client: Client, officer, program) -> None:
    client.force_login(officer)
    page = client.get(reverse("initiatives:import")).content.decode()
    assert 'accept=".xlsx,.xlsm,.xls,.ods,' in page
    assert "Tệp bảng tính (.xlsx, .xlsm, .xls hoặc .ods)" in page


def test_a_formula_without_its_value_in_the_header_row_is_no_extra_column(tmp_path) -> None:
    book = openpyxl.Workbook()
    book.active.append([*UNIT_HEADER, "=1+1"])
    book.active.append(["TLD", "Tổng Liên đoàn Lao động Việt Nam", "Tổng Liên đoàn", "", 1, ""])
    book.save(tmp_path / "don-vi.xlsx")
    assert import_units(tmp_path / "don-vi.xlsx").layout.extra_columns == []
