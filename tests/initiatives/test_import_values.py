"""How the officers' import reads the values offices actually write (issue 16, items 3 and 4)."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest

from initiatives.imports import import_initiatives
from initiatives.models import Author, Initiative
from tests.factories import FieldFactory, UnionFactory
from tests.initiatives.test_import_initiatives import errors_of, good_row, workbook

pytestmark = pytest.mark.django_db


def imported(rows: list[list], officer, program) -> list[Initiative]:
    import_initiatives(workbook(rows), user=officer, program=program)
    return list(Initiative.objects.order_by("pk"))


@pytest.mark.parametrize(
    "authors",
    ["Nguyễn Văn An, Trần Thị Bình", "Nguyễn Văn An\nTrần Thị Bình", "Nguyễn Văn An và Trần Thị Bình",
     "Nguyễn Văn An; Trần Thị Bình", "Nguyễn Văn An (60%), Trần Thị Bình"],
    ids=["comma", "alt-enter", "va", "semicolon", "one-share-missing"],
)  # fmt: skip
def test_several_authors_without_shares_are_never_merged_into_one(officer, program, field, unit_tree, authors) -> None:
    errors = errors_of([good_row(authors=authors)], officer, program)
    assert errors == [
        "Dòng 2, cột E (Tác giả): 2 tác giả (Nguyễn Văn An; Trần Thị Bình) nhưng chưa đủ tỷ lệ đóng góp: hãy ghi "
        "tỷ lệ của từng người, ví dụ Nguyễn Văn A (60%); Trần Thị B (40%)."
    ]


@pytest.mark.parametrize(
    "authors",
    ["Nguyễn Văn An 60%, Trần Thị Bình 40%", "Nguyễn Văn An (60%)\nTrần Thị Bình (40%)",
     "Nguyễn Văn An - 60% và Trần Thị Bình: 40%", "Nguyễn Văn An (60%); Trần Thị Bình (40%)"],
    ids=["bare-shares-comma", "lines", "va", "template"],
)  # fmt: skip
def test_a_list_of_authors_with_shares_is_read_whatever_the_separator(
    officer, program, field, unit_tree, authors
) -> None:
    [initiative] = imported([good_row(authors=authors)], officer, program)
    assert [(a.full_name, int(a.share_percent)) for a in initiative.authors.order_by("order")] == [
        ("Nguyễn Văn An", 60),
        ("Trần Thị Bình", 40),
    ]


def test_a_share_without_its_percent_sign_is_not_read_as_part_of_the_name(officer, program, field, unit_tree) -> None:
    errors = errors_of([good_row(authors="Nguyễn Văn An 60; Trần Thị Bình 40")], officer, program)
    assert errors[0].startswith("Dòng 2, cột E (Tác giả): Không đọc được “Nguyễn Văn An 60”")


def test_text_is_stored_in_nfc_without_invisible_characters(officer, program, field, unit_tree) -> None:
    nfd = unicodedata.normalize("NFD", "Cải tiến lò cao số 3")
    row = good_row(
        "\ufeffTHEP-TISCO\u200b",
        title=f"\u00a0{nfd}\u200b",
        authors=unicodedata.normalize("NFD", "Nguyễn\u00a0Văn An"),
        summary=unicodedata.normalize("NFD", "Giảm tiêu hao\r\nthan cốc."),
    )
    [initiative] = imported([row], officer, program)
    assert initiative.title == "Cải tiến lò cao số 3"
    assert initiative.summary == "Giảm tiêu hao\nthan cốc."
    assert Author.objects.get().full_name == "Nguyễn Văn An"


@pytest.mark.parametrize(
    ("field_name", "typed"),
    [("Kỹ thuật – sản xuất", "Kỹ thuật - sản xuất"), ("Kỹ thuật – sản xuất", "kỹ thuật—sản xuất"),
     ("An toàn, vệ sinh lao động", "An toàn vệ sinh lao động"),
     ("An toàn vệ sinh lao động", "an toàn, vệ sinh lao động"),
     ("Hoà nhập số", "Hòa nhập số"), ("Hòa nhập số", unicodedata.normalize("NFD", "Hoà nhập số")),
     ("Đổi mới", "\u00d0ổi mới")],
    ids=["hyphen", "em-dash", "comma-dropped", "comma-added", "old-tone-mark", "nfd", "latin1-eth"],
)  # fmt: skip
def test_fields_are_matched_by_a_folded_key(officer, program, unit_tree, field_name, typed) -> None:
    field = FieldFactory(name=field_name)
    [initiative] = imported([good_row(field=typed)], officer, program)
    assert initiative.field == field


@pytest.mark.parametrize("typed", ["Giải pháp kỹ thuật", "giai phap ky-thuat", "Kỹ thuật.", "GIẢI PHÁP – KỸ THUẬT"])
def test_kinds_are_matched_by_a_folded_key(officer, program, field, unit_tree, typed) -> None:
    [initiative] = imported([good_row(kind=typed)], officer, program)
    assert initiative.kind == "technical"


@pytest.mark.parametrize(
    ("typed", "day"),
    [("2022-05-06", dt.date(2022, 5, 6)), ("06/05/2022 08:30", dt.date(2022, 5, 6)), ("06/05/22", dt.date(2022, 5, 6)),
     ("2022-05-06 08:30:00", dt.date(2022, 5, 6)), ("6.5.2022", dt.date(2022, 5, 6)),
     (dt.datetime(2022, 5, 6, 8, 30), dt.date(2022, 5, 6)), (dt.date(2022, 5, 6), dt.date(2022, 5, 6)),
     (44687, dt.date(2022, 5, 6)), ("15/03/2022", dt.date(2022, 3, 15))],
    ids=["iso", "with-time", "two-digit-year", "iso-with-time", "dots", "datetime-cell", "date-cell", "serial",
         "template"],
)  # fmt: skip
def test_dates_are_read_as_they_are_written(officer, program, field, unit_tree, typed, day) -> None:
    [initiative] = imported([good_row(applied=typed)], officer, program)
    assert initiative.first_applied_on == day


@pytest.mark.parametrize("typed", ["2022", 2022])
def test_a_year_alone_is_told_about_the_year_not_the_programme(officer, program, field, unit_tree, typed) -> None:
    errors = errors_of([good_row(applied=typed)], officer, program)
    assert errors == [
        "Dòng 2, cột G (Ngày áp dụng lần đầu): 2022 mới chỉ là năm: hãy ghi đủ ngày áp dụng lần đầu theo dạng "
        "dd/mm/yyyy."
    ]


@pytest.mark.parametrize(
    ("typed", "amount"),
    [("1,5 tỷ", 1_500_000_000), ("10 triệu", 10_000_000), ("10.000.000,00", 10_000_000), ("10,000,000", 10_000_000),
     ("-", None), ("–", None), ("", None), ("120.000.000", 120_000_000), ("1 tỷ 200 triệu đồng", 1_200_000_000),
     (5_000_000, 5_000_000), ("10 000 000 đ", 10_000_000)],
    ids=["ty", "trieu", "zero-decimals", "commas", "hyphen", "en-dash", "blank", "template", "compound", "number",
         "spaces"],
)  # fmt: skip
def test_amounts_are_read_as_they_are_written(officer, program, field, unit_tree, typed, amount) -> None:
    [initiative] = imported([good_row(value=typed)], officer, program)
    assert initiative.value_vnd == amount


@pytest.mark.parametrize("typed", ["10.000.000,50", "1,5", "1,2345 nghìn", "10.000.000,000"])
def test_an_amount_that_is_not_whole_dong_is_refused(officer, program, field, unit_tree, typed) -> None:
    errors = errors_of([good_row(value=typed)], officer, program)
    assert errors == [
        "Dòng 2, cột H (Giá trị làm lợi (đồng)): Nhập số tiền nguyên theo đồng, ví dụ 10.000.000 hoặc 1,5 tỷ."
    ]


def test_a_unit_code_that_lost_its_leading_zeros_names_the_code_it_probably_meant(
    officer, program, field, unit_tree
) -> None:
    UnionFactory(code="001234", name="Công đoàn Nhà máy cán thép", parent=unit_tree.thep)
    rows = [good_row(1234), good_row("5678", title="Khác"), good_row("001234", title="Đúng mã")]
    assert errors_of(rows, officer, program) == [
        "Dòng 2, cột A (Mã đơn vị): “1234” có vẻ là mã đã mất các số 0 ở đầu: có phải là “001234”? Hãy định dạng "
        "cột là Văn bản (Text) trong Excel rồi nhập lại mã.",
        "Dòng 3, cột A (Mã đơn vị): Không có đơn vị nào có mã “5678”.",
    ]
