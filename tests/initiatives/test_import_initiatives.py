from __future__ import annotations

import datetime as dt
import time
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from initiatives.imports import HEADER, import_initiatives, parse_authors
from initiatives.models import Initiative, StatusChange
from sangkien.spreadsheets import SpreadsheetError, template_workbook
from tests.factories import FieldFactory
from tests.forms import post_form
from unions.models import Union

pytestmark = pytest.mark.django_db


def good_row(unit_code: str = "THEP-TISCO", **changes) -> list:
    row = {
        "unit": unit_code,
        "title": "Cải tiến lò cao số 3",
        "field": "Kỹ thuật – sản xuất",
        "kind": "Giải pháp kỹ thuật",
        "authors": "Nguyễn Văn An (60%); Trần Thị Bình (40%)",
        "summary": "Giảm tiêu hao than cốc.",
        "applied": "15/03/2022",
        "value": "120.000.000",
    }
    row.update(changes)
    return list(row.values())


def workbook(rows: list[list], header: tuple = HEADER) -> BytesIO:
    book = openpyxl.Workbook()
    book.active.append(header)
    for row in rows:
        book.active.append(row)
    buffer = BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "sang-kien.xlsx"
    return buffer


def errors_of(rows: list[list], officer, program) -> list[str]:
    with pytest.raises(SpreadsheetError) as caught:
        import_initiatives(workbook(rows), user=officer, program=program)
    assert not Initiative.objects.exists(), "a bad file must import nothing"
    return caught.value.messages


def test_a_good_file_creates_submitted_initiatives(officer, program, field, unit_tree) -> None:
    second_row = good_row("CTVN-THEP", title="Quản lý kho", kind="quản lý", authors="Lê Văn Cường")
    second_row[6:8] = [dt.datetime(2022, 6, 2), 5_000_000]  # a real Excel date and a number
    rows = [good_row(), second_row]
    result = import_initiatives(workbook(rows), user=officer, program=program)
    assert result.created == 2
    first, second = Initiative.objects.order_by("pk")
    assert (first.status, first.unit, first.field, first.kind) == ("submitted", unit_tree.gang_thep, field, "technical")
    assert first.value_vnd == 120_000_000 and first.first_applied_on == dt.date(2022, 3, 15)
    assert [(a.full_name, int(a.share_percent)) for a in first.authors.all()] == [
        ("Nguyễn Văn An", 60),
        ("Trần Thị Bình", 40),
    ]
    assert [(a.full_name, int(a.share_percent)) for a in second.authors.all()] == [("Lê Văn Cường", 100)]
    assert (second.kind, second.first_applied_on) == ("management", dt.date(2022, 6, 2))
    assert StatusChange.objects.filter(to_status="submitted", by=officer).count() == 2
    assert Initiative.objects.search("tran thi binh").get() == first


@pytest.mark.parametrize(
    ("changes", "column", "expected"),
    [
        ({"unit_code": "CTVN-RANGDONG"}, "A", "không thuộc phạm vi đơn vị của bạn"),
        ({"unit_code": "KHONG-CO"}, "A", "Không có đơn vị nào có mã “KHONG-CO”"),
        ({"title": ""}, "B", "Thiếu tên sáng kiến"),
        ({"field": "Thể thao"}, "C", "Lĩnh vực “Thể thao” không hợp lệ"),
        ({"kind": "Sáng chế"}, "D", "Loại giải pháp “Sáng chế” không hợp lệ"),
        ({"authors": "An (60%); Bình (30%)"}, "E", "hiện đang là 90%"),
        ({"authors": "An; Bình"}, "E", "ví dụ Nguyễn Văn A (60%); Trần Thị B (40%)."),
        ({"authors": ""}, "E", "Nhập ít nhất một tác giả"),
        ({"applied": "15-03-2O22"}, "G", "dd/mm/yyyy"),
        ({"applied": "31/12/2021"}, "G", "từ ngày 08/01/2022 đến ngày 01/09/2023"),
        ({"value": "mười triệu"}, "H", "10.000.000"),
        ({"value": "10²"}, "H", "10.000.000"),
        ({"value": 10**20}, "H", "kiểm tra lại số tiền"),
        ({"authors": "A (33,333%); B (66,667%)"}, "E", "tối đa hai chữ số thập phân"),
        ({"authors": "A" * 201}, "E", "dài quá 200 ký tự"),
        ({"title": "Cải tiến lò cao số 3"}, "B", "đã có ở dòng 2"),
    ],
    ids=["outside-subtree", "unknown-unit", "no-title", "unknown-field", "unknown-kind", "shares",
         "shares-missing", "no-author", "bad-date", "outside-programme", "bad-amount", "superscript-digit",
         "amount-too-large", "share-decimals", "author-too-long", "duplicate-in-file"],
)  # fmt: skip
def test_a_bad_row_imports_nothing_and_is_named_by_row_and_column(
    officer, program, field, unit_tree, changes, column, expected
) -> None:
    unit_code = changes.pop("unit_code", "THEP-TISCO")
    errors = errors_of([good_row(), good_row(unit_code, **changes)], officer, program)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"Dòng 3, cột {column} ("), errors[0]
    assert "%%" not in errors[0]
    assert expected in errors[0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "Tệp trống"),
        (b"not a workbook", "không phải là bảng tính"),
        (None, "Không trang tính nào có dòng tiêu đề"),
    ],
)
def test_bad_files_get_a_clear_message(officer, program, content, expected) -> None:
    source = workbook([good_row()], header=("Mã", "Tên")) if content is None else BytesIO(content)
    with pytest.raises(SpreadsheetError) as caught:
        import_initiatives(source, user=officer, program=program)
    assert expected in caught.value.messages[0]


def test_a_file_over_the_row_limit_is_refused(officer, program, field, unit_tree, settings) -> None:
    settings.INITIATIVE_IMPORT_MAX_ROWS = 3
    assert "hơn 3 sáng kiến" in errors_of([good_row()] * 4, officer, program)[0]


def test_authors_text_is_read_as_officers_write_it() -> None:
    assert parse_authors("Nguyễn Văn A") == [("Nguyễn Văn A", 100)]
    assert parse_authors("Nguyễn Văn A (33,5%); Trần Thị B (66.5 %)") == [("Nguyễn Văn A", 33.5), ("Trần Thị B", 66.5)]
    assert isinstance(parse_authors("A (120%)"), str)


def test_ten_thousand_rows_import_in_seconds(officer, program, field, unit_tree) -> None:
    rows = [good_row(title=f"Sáng kiến số {n}") for n in range(10_000)]
    source = workbook(rows)
    started = time.perf_counter()
    assert import_initiatives(source, user=officer, program=program).created == 10_000
    elapsed = time.perf_counter() - started
    assert elapsed < 30, f"10,000 rows took {elapsed:.1f} s"
    assert Initiative.objects.count() == 10_000


def test_the_import_page_reports_errors_and_imports_good_files(
    client: Client, officer, program, field, unit_tree
) -> None:
    client.force_login(officer)
    page = client.get(reverse("initiatives:import")).content.decode()
    assert "Nhập sáng kiến từ Excel" in page and "đơn vị nào" not in page
    page = post_form(client, "initiatives:import", {"file": workbook([good_row(), good_row(field="Thể thao")])})
    page = page.content.decode()
    assert "Dòng 3, cột C (Lĩnh vực)" in page
    assert "Chưa nhập sáng kiến nào. Vui lòng sửa các dòng sau rồi tải tệp lên lại:" in page
    assert "đơn vị nào" not in page  # the page speaks of initiatives, not units
    response = post_form(client, "initiatives:import", {"file": workbook([good_row()])}, follow=True)
    assert "Đã nhập và gửi 1 sáng kiến." in response.content.decode()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("x.xlsx", b"%PDF-1.4", "Tệp không phải là bảng tính mà chức năng nhập đọc được"),
        ("thuyet-minh.pdf", b"%PDF-1.4", "Tệp không phải là bảng tính mà chức năng nhập đọc được"),
        ("sang-kien.csv", "Mã đơn vị,Tên sáng kiến\n".encode(), "Tệp không phải là bảng tính mà chức năng nhập"),
        ("trong.xlsx", b"", "Tập tin được gửi là rỗng."),
    ],
    ids=["pdf-named-xlsx", "pdf", "csv", "empty"],
)
def test_a_file_that_is_not_a_workbook_gets_one_clear_error_not_a_list_of_rows(
    client: Client, officer, program, name, content, expected
) -> None:
    client.force_login(officer)
    upload = BytesIO(content)
    upload.name = name
    page = post_form(client, "initiatives:import", {"file": upload}).content.decode()
    assert expected in page
    assert "sửa các dòng sau" not in page and "<li>" + expected not in page
    assert page.count('class="alert alert-danger"') + page.count("invalid-feedback") >= 1
    assert not Initiative.objects.exists()


def test_the_template_downloads_and_its_example_is_never_imported(
    client: Client, officer, program, field, unit_tree
) -> None:
    client.force_login(officer)
    response = client.get(reverse("initiatives:import_template"))
    book = openpyxl.load_workbook(BytesIO(response.content))
    assert tuple(c.value for c in book.worksheets[0][1]) == HEADER
    assert book.worksheets[1].max_row == 2  # the example, on its own sheet
    with pytest.raises(SpreadsheetError, match="chưa có sáng kiến nào"):
        import_initiatives(BytesIO(response.content), user=officer, program=program)


def template_book(client: Client) -> openpyxl.Workbook:
    return openpyxl.load_workbook(BytesIO(client.get(reverse("initiatives:import_template")).content))


def test_the_template_sheets_are_named_in_vietnamese_with_diacritics(client: Client, officer, program, field) -> None:
    client.force_login(officer)
    book = template_book(client)
    assert book.sheetnames == ["Sáng kiến", "Ví dụ", "Danh mục"]
    assert book.active.title == "Sáng kiến"
    assert [sheet.sheet_state for sheet in book.worksheets] == ["visible", "visible", "hidden"]


def test_the_template_offers_drop_down_lists_for_field_and_kind(client: Client, officer, program, unit_tree) -> None:
    FieldFactory(name="Chuyển đổi số", position=2)
    FieldFactory(name="An toàn vệ sinh lao động", position=1)
    FieldFactory(name="Lĩnh vực đã bỏ", is_active=False)
    client.force_login(officer)
    book = template_book(client)
    lists = book["Danh mục"]
    fields = [row[0] for row in lists.iter_rows(min_row=2, values_only=True) if row[0]]
    kinds = [row[1] for row in lists.iter_rows(min_row=2, values_only=True) if row[1]]
    assert fields == ["An toàn vệ sinh lao động", "Chuyển đổi số"]
    assert kinds == [str(kind.label) for kind in Initiative.Kind] and "Giải pháp kỹ thuật" in kinds
    validations = {str(v.sqref): v for v in book["Sáng kiến"].data_validations.dataValidation}
    field_list, kind_list = validations["C2:C20001"], validations["D2:D20001"]
    assert (field_list.type, field_list.formula1) == ("list", "'Danh mục'!$A$2:$A$3")
    assert (kind_list.type, kind_list.formula1) == ("list", f"'Danh mục'!$B$2:$B${len(kinds) + 1}")
    assert field_list.showDropDown is not True  # openpyxl's name is inverted: True would hide the arrow
    assert "lĩnh vực" in field_list.error.lower() and "loại giải pháp" in kind_list.error.lower()


def test_a_filled_in_template_imports_and_so_does_the_old_template(
    client: Client, officer, program, field, unit_tree
) -> None:
    client.force_login(officer)
    book = template_book(client)
    book["Sáng kiến"].append(good_row())
    filled = BytesIO()
    book.save(filled)
    assert import_initiatives(filled, user=officer, program=program).created == 1
    # The template offered until now: sheets "Sang kien" and "Vi du", without lists.
    old = template_workbook(
        title="Sang kien", header=HEADER, examples=[good_row(title="Ví dụ")], examples_sheet="Vi du", widths=[16] * 8
    )
    book = openpyxl.load_workbook(BytesIO(old))
    assert book.sheetnames == ["Sang kien", "Vi du"]
    book["Sang kien"].append(good_row(title="Từ mẫu cũ"))
    filled = BytesIO()
    book.save(filled)
    assert import_initiatives(filled, user=officer, program=program).created == 1
    assert sorted(Initiative.objects.values_list("title", flat=True)) == ["Cải tiến lò cao số 3", "Từ mẫu cũ"]


def test_uploading_the_same_file_twice_files_nothing_twice(officer, program, field, unit_tree) -> None:
    import_initiatives(workbook([good_row()]), user=officer, program=program)
    with pytest.raises(SpreadsheetError) as caught:
        import_initiatives(workbook([good_row()]), user=officer, program=program)
    assert caught.value.messages == [
        "Dòng 2, cột B (Tên sáng kiến): Đơn vị đã gửi một sáng kiến cùng tên; hãy bỏ dòng này."
    ]
    assert Initiative.objects.count() == 1


def test_excel_serial_dates_line_breaks_and_inactive_units(officer, program, field, unit_tree) -> None:
    row = good_row(applied=44635, summary="Dòng một\nDòng hai")  # 44635 = 15/03/2022
    import_initiatives(workbook([row]), user=officer, program=program)
    initiative = Initiative.objects.get()
    assert (initiative.first_applied_on, initiative.summary) == (dt.date(2022, 3, 15), "Dòng một\nDòng hai")
    Union.objects.filter(pk=unit_tree.gang_thep.pk).update(is_active=False)
    with pytest.raises(SpreadsheetError, match="Không có đơn vị nào có mã"):
        import_initiatives(workbook([good_row(title="Khác")]), user=officer, program=program)


def test_a_damaged_sheet_inside_a_valid_zip_gets_a_clear_message(officer, program) -> None:
    import zipfile

    source = workbook([good_row()])
    damaged = BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(damaged, "w") as copy:
        for item in original.infolist():
            data = original.read(item.filename)
            copy.writestr(item, b"<worksheet><sheetData><row" if item.filename.endswith("sheet1.xml") else data)
    with pytest.raises(SpreadsheetError, match="không phải là bảng tính"):
        import_initiatives(damaged, user=officer, program=program)


def test_the_command_imports_with_the_users_rights(tmp_path: Path, officer, program, field, unit_tree, capsys) -> None:
    path = tmp_path / "sang-kien.xlsx"
    path.write_bytes(workbook([good_row(), good_row("CTVN-RANGDONG")]).getvalue())
    with pytest.raises(CommandError):
        call_command("import_initiatives", str(path), user=officer.username)
    assert "Dòng 3, cột A (Mã đơn vị)" in capsys.readouterr().err
    assert not Initiative.objects.exists()
    path.write_bytes(workbook([good_row()]).getvalue())
    call_command("import_initiatives", str(path), user=officer.username)
    assert "Đã nhập 1 sáng kiến" in capsys.readouterr().out
    with pytest.raises(CommandError, match="khong-ai"):
        call_command("import_initiatives", str(path), user="khong-ai")


def test_a_huge_file_is_refused_before_it_is_read(officer, program, settings) -> None:
    settings.INITIATIVE_IMPORT_MAX_BYTES = 1024
    with pytest.raises(SpreadsheetError) as caught:
        import_initiatives(workbook([good_row()] * 50), user=officer, program=program)
    assert "Tệp quá lớn" in caught.value.messages[0]


def test_the_command_refuses_a_read_only_account_as_the_import_page_does(
    tmp_path: Path, leader, program, field, unit_tree
) -> None:
    """Leadership reads everything and imports nothing, on the site (403) and on the command line."""
    path = tmp_path / "sang-kien.xlsx"
    path.write_bytes(workbook([good_row()]).getvalue())
    with pytest.raises(CommandError, match="lanhdao") as caught:
        call_command("import_initiatives", str(path), user=leader.username)
    assert "Không có cán bộ" not in str(caught.value)  # the account exists: it is the right that lacks
    assert not Initiative.objects.exists()
    browser = Client()
    browser.force_login(leader)
    assert browser.get(reverse("initiatives:import")).status_code == 403
