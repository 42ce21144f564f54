"""The values offices write (issue 16, items 3 and 4) and their group headings and subtotals, in
the office layout as openpyxl writes it (.xlsx) and as LibreOffice saves it (.xls, .ods, .xlsm):
what both imports store, and the exact errors of what they refuse.

Dates and amounts come both as text typed into a cell ("06/05/2022 08:30", "10.000.000,00") and
as real date and number cells with an office's number format; LibreOffice keeps each as it is.
The files are converted once per session with the others (`office_files` in tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import pytest

from initiatives.imports import import_initiatives
from initiatives.models import Author, Initiative
from sangkien.spreadsheets import SpreadsheetError
from tests.factories import FieldFactory, UnionFactory
from tests.office_sheets import AsIs, Formatted, nfd, office_workbook
from tests.test_office_spreadsheets import INITIATIVE_HEADER, UNIT_SHEET_HEADER
from unions.imports import import_units
from unions.models import EmulationCluster, Union

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

FORMATS = ["xlsx", "xls", "ods", "xlsm"]
SHARES = "Nguyễn Văn An (60%); Trần Thị Bình (40%)"


def initiative(
    title: str,
    *,
    unit: object = "THEP-TISCO",
    authors: str = SHARES,
    field: str = "Kỹ thuật – sản xuất",
    kind: str = "Giải pháp kỹ thuật",
    value: object = "120.000.000",
    applied: object = "15/03/2022",
) -> list[object]:
    """A row in INITIATIVE_HEADER's order (title, unit, authors, field, kind, a note, value,
    date, summary, a contact)."""
    return [title, unit, authors, field, kind, None, value, applied, "Giảm tiêu hao than cốc.", None]


def subtotal(label: str, value: int, *, in_stt: bool = True) -> AsIs:
    """A subtotal row: the label in STT (A) or in the title (B), the sum under the value (H)."""
    return AsIs([label, None, None, None, None, None, None, value] if in_stt else [None, label, *[None] * 5, value])


# Rows 8 to 18 under the header in row 7.
GOOD_INITIATIVES = [
    AsIs(["I", "KHỐI SẢN XUẤT"]),  # 8: a roman numeral in STT
    AsIs(["A. Công đoàn Công ty CP Gang thép Thái Nguyên"]),  # 9: the heading alone in the first cell
    initiative(  # 10: NFD, NBSP, zero-width and BOM; a hyphen for the field's en dash; text amount and ISO date
        f"\u00a0{nfd('Cải tiến lò cao số 3')}\u200b",
        unit="\ufeffTHEP-TISCO\u200b",
        authors=nfd("Nguyễn\u00a0Văn An"),
        field="Kỹ thuật - sản xuất",
        kind="giai phap ky-thuat",
        value="1,5 tỷ",
        applied="2022-05-06",
    ),
    initiative(  # 11: the field without its comma
        "Quản lý kho bằng mã vạch", field="An toàn vệ sinh lao động", value="10 triệu", applied="06/05/2022 08:30"
    ),
    initiative(  # 12: the old tone mark; Alt+Enter between authors with shares
        "Hoà nhập số cho công nhân",
        authors="Nguyễn Văn An (60%)\nTrần Thị Bình (40%)",
        field="Hoà nhập số",
        value="10.000.000,00",
        applied="06/05/22",
    ),
    subtotal("Cộng đơn vị A", 1_520_000_000),  # 13
    AsIs([None, "B. Công đoàn Tổng Công ty Thép Việt Nam"]),  # 14: the heading in the title column
    initiative(  # 15: a cp1258 Đ read as Latin-1; "-" for no amount; a real date-and-time cell
        "Đổi mới quy trình cán",
        unit="CTVN-THEP",
        field="\u00d0ổi mới",
        value="-",
        applied=Formatted(dt.datetime(2022, 5, 6, 8, 30), "DD/MM/YYYY HH:MM"),
    ),
    initiative(  # 16: a title starting with "Cộng"; a number cell formatted with thousands; a date cell
        "Cộng đồng sáng tạo trẻ",
        unit="CTVN-THEP",
        value=Formatted(10_000_000, "#,##0"),
        applied=Formatted(dt.date(2022, 5, 6), "DD/MM/YYYY"),
    ),
    initiative(  # 17: a title numbered like a heading; an amount formatted in đồng; the "A và B" form with shares
        "I. Tiết kiệm điện khu văn phòng",
        unit="CTVN-THEP",
        authors="Lê Văn Cường (50%) và Phạm Thị Dung (50%)",
        value=Formatted(2_500_000, '#,##0 "đ"'),
        applied=Formatted(44687, "0"),  # an Excel serial date in a cell formatted as a number
    ),
    subtotal("Cộng khối I", 1_532_500_000, in_stt=False),  # 18
]
# Rows 8 to 16: each refused for one reason.
BAD_INITIATIVES = [
    initiative("Tác giả phẩy", authors="Nguyễn Văn An, Trần Thị Bình"),  # 8
    initiative("Tác giả xuống dòng", authors="Nguyễn Văn An\nTrần Thị Bình"),  # 9: Alt+Enter
    initiative("Tác giả và", authors="Nguyễn Văn An và Trần Thị Bình"),  # 10
    initiative("Tác giả chấm phẩy", authors="Nguyễn Văn An; Trần Thị Bình"),  # 11
    initiative("Năm dạng chữ", applied="2022"),  # 12
    initiative("Năm dạng số", applied=2022),  # 13
    initiative("Mã mất số 0", unit=1234),  # 14: a number cell: Excel dropped the zeros of 001234
    initiative("Cộng đồng không mã", unit=None),  # 15: data without its code, never a subtotal
    subtotal("Cộng đơn vị", 720_000_000),  # 16: skipped
]
TWO_WITHOUT_SHARES = (
    "2 tác giả (Nguyễn Văn An; Trần Thị Bình) nhưng chưa đủ tỷ lệ đóng góp: hãy ghi tỷ lệ của từng người, "
    "ví dụ Nguyễn Văn A (60%); Trần Thị B (40%)."
)
ONLY_A_YEAR = "2022 mới chỉ là năm: hãy ghi đủ ngày áp dụng lần đầu theo dạng dd/mm/yyyy."
BAD_INITIATIVE_ERRORS = [
    *[
        f"Trang tính “Danh sách”, dòng {row}, cột D (Tác giả (tỷ lệ đóng góp)): {TWO_WITHOUT_SHARES}"
        for row in (8, 9, 10, 11)
    ],
    f"Trang tính “Danh sách”, dòng 12, cột I (Ngày áp dụng lần đầu): {ONLY_A_YEAR}",
    f"Trang tính “Danh sách”, dòng 13, cột I (Ngày áp dụng lần đầu): {ONLY_A_YEAR}",
    "Trang tính “Danh sách”, dòng 14, cột C (Mã đơn vị): “1234” có vẻ là mã đã mất các số 0 ở đầu: có phải là "
    "“001234”? Hãy định dạng cột là Văn bản (Text) trong Excel rồi nhập lại mã.",
    "Trang tính “Danh sách”, dòng 15, cột C (Mã đơn vị): Thiếu mã đơn vị.",
]

# Rows 8 to 18 under the header in row 7 (name, code, level, parent, cluster, members).
GOOD_UNITS = [
    ["Tổng Liên đoàn Lao động Việt Nam", "TLD", "Tổng Liên đoàn", "", "", 0],  # 8
    AsIs(["I", "KHỐI ĐỊA PHƯƠNG"]),  # 9
    [nfd("Liên đoàn Lao động tỉnh Hòa Bình"), "\ufeffHB\u00a0", "LĐLĐ tỉnh/thành phố", "TLD", "", 1000],  # 10
    ["LĐLĐ huyện Lương Sơn", "HB-LS", "L\u00d0L\u00d0 huyện/quận", "HB", "Cụm thi đua Hoà Bình - Sơn La", 500],  # 11
    ["Công đoàn các KCN tỉnh", "HB-KCN", "Công đoàn Khu công nghiệp", "HB", nfd("cụm thi đua hòa bình—sơn la"), 200],
    AsIs([None, "A. Công đoàn cơ sở thuộc LĐLĐ huyện Lương Sơn"]),  # 13
    ["CĐCS Trường Tiểu học", "HB-LS-01\u200b", "CĐCS", "HB-LS", "Cụm thi đua Hòa Bình, Sơn La\u00a0", "1.234"],  # 14
    [nfd("Công đoàn Trường THCS Đông Xuân"), "001234", "Cấp cơ sở", "HB-LS", "", 45],  # 15: zeros kept as text
    AsIs(["Cộng đơn vị A", None, None, None, None, None, 1279]),  # 16
    ["Công đoàn Giao thông vận tải", "GTVT", "Công đoàn ngành Trung ương", "TLD", "", Formatted(120_000, "#,##0")],
    AsIs([None, "Cộng khối I", None, None, None, None, 122_979]),  # 18
]
BAD_UNITS = [
    ["Tổng Liên đoàn Lao động Việt Nam", "TLD", "Tổng Liên đoàn", "", "", 0],  # 8
    ["Liên đoàn Lao động tỉnh Hòa Bình", "HB", "LĐLĐ tỉnh/thành phố", "TLD", "", 0],  # 9
    ["LĐLĐ huyện Lương Sơn", "000101", "LĐLĐ huyện/quận", "HB", "", 1],  # 10: the file's codes have six digits
    ["Công đoàn Trường Tiểu học", 1234, "CĐCS", 101, "", 1],  # 11: number cells, their zeros lost
]


def office_sources(folder: Path) -> list[Path]:
    """This module's files for the session's conversion (tests/conftest.py, `office_files`)."""
    return [
        office_workbook(folder / name, header=header, rows=rows, title=title)
        for name, header, rows, title in (
            ("gia-tri-sang-kien.xlsx", INITIATIVE_HEADER, GOOD_INITIATIVES, "DANH SÁCH SÁNG KIẾN NĂM 2022"),
            ("loi-sang-kien.xlsx", INITIATIVE_HEADER, BAD_INITIATIVES, "DANH SÁCH SÁNG KIẾN NĂM 2022"),
            ("gia-tri-don-vi.xlsx", UNIT_SHEET_HEADER, GOOD_UNITS, "DANH SÁCH ĐƠN VỊ"),
            ("loi-don-vi.xlsx", UNIT_SHEET_HEADER, BAD_UNITS, "DANH SÁCH ĐƠN VỊ"),
        )
    ]


@pytest.fixture
def fields(field) -> None:
    """The programme's fields as the board spelled them; the files spell them otherwise."""
    for name in ("An toàn, vệ sinh lao động", "Hòa nhập số", "Đổi mới"):
        FieldFactory(name=name)


@pytest.mark.parametrize("extension", FORMATS)
def test_the_values_offices_write_are_stored_as_meant(office_files, extension, officer, program, fields) -> None:
    result = import_initiatives(office_files[f"gia-tri-sang-kien.{extension}"], user=officer, program=program)
    stored = {
        title: (unit, field, value, day)
        for title, unit, field, value, day in Initiative.objects.values_list(
            "title", "unit__code", "field__name", "value_vnd", "first_applied_on"
        )
    }
    may_6 = dt.date(2022, 5, 6)
    assert stored == {
        "Cải tiến lò cao số 3": ("THEP-TISCO", "Kỹ thuật – sản xuất", 1_500_000_000, may_6),
        "Quản lý kho bằng mã vạch": ("THEP-TISCO", "An toàn, vệ sinh lao động", 10_000_000, may_6),
        "Hoà nhập số cho công nhân": ("THEP-TISCO", "Hòa nhập số", 10_000_000, may_6),
        "Đổi mới quy trình cán": ("CTVN-THEP", "Đổi mới", None, may_6),
        "Cộng đồng sáng tạo trẻ": ("CTVN-THEP", "Kỹ thuật – sản xuất", 10_000_000, may_6),
        "I. Tiết kiệm điện khu văn phòng": ("CTVN-THEP", "Kỹ thuật – sản xuất", 2_500_000, may_6),
    }
    assert all(unicodedata.is_normalized("NFC", title) for title in stored)
    assert set(Initiative.objects.values_list("kind", flat=True)) == {"technical"}
    assert Author.objects.get(initiative__title="Cải tiến lò cao số 3").full_name == "Nguyễn Văn An"
    assert [
        (author.full_name, int(author.share_percent))
        for author in Author.objects.filter(initiative__title__startswith="I.").order_by("order")
    ] == [("Lê Văn Cường", 50), ("Phạm Thị Dung", 50)]
    assert (result.layout.group_rows, result.layout.totals_rows) == ([8, 9, 14], [13, 18])
    assert "Đã bỏ qua dòng tiêu đề nhóm 8, 9, 14." in result.layout.summary()
    assert "Đã bỏ qua dòng tổng cộng 13, 18." in result.layout.summary()


@pytest.mark.parametrize("extension", FORMATS)
def test_what_offices_write_wrong_is_refused_naming_row_and_column(
    office_files, extension, officer, program, field, unit_tree
) -> None:
    UnionFactory(code="001234", name="Công đoàn Nhà máy cán thép", parent=unit_tree.thep)
    with pytest.raises(SpreadsheetError) as caught:
        import_initiatives(office_files[f"loi-sang-kien.{extension}"], user=officer, program=program)
    assert caught.value.messages == BAD_INITIATIVE_ERRORS
    assert not Initiative.objects.exists()


@pytest.mark.parametrize("extension", FORMATS)
def test_the_units_import_stores_what_boards_write_as_meant(office_files, extension) -> None:
    cluster = EmulationCluster.objects.create(name="Cụm thi đua Hòa Bình – Sơn La")
    result = import_units(office_files[f"gia-tri-don-vi.{extension}"])
    units = {code: (name, level, parent) for code, name, level, parent in Union.objects.values_list(
        "code", "name", "level", "parent__code")}  # fmt: skip
    assert units == {
        "TLD": ("Tổng Liên đoàn Lao động Việt Nam", "confederation", None),
        "HB": ("Liên đoàn Lao động tỉnh Hòa Bình", "tier2", "TLD"),
        "HB-LS": ("LĐLĐ huyện Lương Sơn", "superior", "HB"),
        "HB-KCN": ("Công đoàn các KCN tỉnh", "superior", "HB"),
        "HB-LS-01": ("CĐCS Trường Tiểu học", "grassroots", "HB-LS"),
        "001234": ("Công đoàn Trường THCS Đông Xuân", "grassroots", "HB-LS"),
        "GTVT": ("Công đoàn Giao thông vận tải", "tier2", "TLD"),
    }
    assert all(unicodedata.is_normalized("NFC", name) for name, _level, _parent in units.values())
    assert result.clusters_created == 0
    clustered = Union.objects.filter(cluster=cluster).values_list("code", flat=True)
    assert sorted(clustered) == ["HB-KCN", "HB-LS", "HB-LS-01"]
    assert dict(Union.objects.filter(code__in=["HB-LS-01", "GTVT"]).values_list("code", "member_count")) == {
        "HB-LS-01": 1234,
        "GTVT": 120_000,
    }
    assert (result.layout.group_rows, result.layout.totals_rows) == ([9, 13], [16, 18])


@pytest.mark.parametrize("extension", FORMATS)
def test_a_unit_code_that_lost_its_zeros_is_refused_naming_the_code_meant(office_files, extension) -> None:
    with pytest.raises(SpreadsheetError) as caught:
        import_units(office_files[f"loi-don-vi.{extension}"])
    hint = (
        "có vẻ là mã đã mất các số 0 ở đầu: có phải là “{}”? Hãy định dạng cột là Văn bản (Text) trong Excel rồi "
        "nhập lại mã."
    )
    assert caught.value.messages == [
        f"Trang tính “Danh sách”, dòng 11, cột C (Ma don vi (*)): “1234” {hint.format('001234')}",
        f"Trang tính “Danh sách”, dòng 11, cột E (Mã đơn vị cấp trên): “101” {hint.format('000101')}",
    ]
    assert not Union.objects.exists()
