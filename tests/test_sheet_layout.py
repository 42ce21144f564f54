"""Rows under the header: a totals row or a signature block is skipped only when its unit-code
column holds no code, so a data row whose title happens to read like one is imported (or its errors
reported), never dropped (issue 16, item 1)."""

from __future__ import annotations

from sangkien.sheet_layout import Layout, split_rows

# Code | Title | Field | Kind: the key column first, as both importers' specs have it.
WIDTH = 4


def rows_of(*rows: tuple) -> list[tuple[int, tuple, bool]]:
    return [(number, row, False) for number, row in enumerate(rows, start=2)]


def split(*rows: tuple) -> tuple[list[int], Layout]:
    layout = Layout(columns=(0, 1, 2, 3))
    return [number for number, _ in split_rows(iter(rows_of(*rows)), layout, WIDTH)], layout


def test_a_sparse_data_row_that_names_a_chairman_is_kept() -> None:
    kept, layout = split(
        ("CTVN", "Cải tiến lò cao", "Kỹ thuật", "Giải pháp"),
        ("CTVN", "Đề xuất của Chủ tịch CĐCS", None, None),  # half filled: the importer reports what is missing
    )
    assert kept == [2, 3] and layout.signature_rows == []


def test_a_title_starting_with_tong_is_data_when_the_row_has_a_code() -> None:
    kept, layout = split((1001, "Tổng 5 giải pháp tiết kiệm điện", "Kỹ thuật", "Giải pháp"), (1002, "Tổng", None, None))
    assert kept == [2, 3] and layout.totals_rows == []


def test_totals_and_the_signature_block_without_codes_are_skipped() -> None:
    kept, layout = split(
        ("CTVN", "Cải tiến lò cao", "Kỹ thuật", "Giải pháp"),
        (None, "Tổng cộng: 1 sáng kiến", None, None),
        ("Tổng cộng", None, None, None),  # typed in the code column itself
        (None, "Hà Nội, ngày 06 tháng 5 năm 2022", None, None),
        (None, "Chủ tịch", None, None),
        (None, "Nguyễn Văn An", None, None),
    )
    assert kept == [2]
    assert layout.totals_rows == [3, 4] and layout.signature_rows == [5, 6, 7]


def split_office(*rows: tuple) -> tuple[list[int], Layout]:
    """As `split`, with an STT column in front (A) that no importer reads."""
    layout = Layout(columns=(1, 2, 3, 4))
    return [number for number, _ in split_rows(iter(rows_of(*rows)), layout, WIDTH)], layout


def test_group_headings_and_subtotals_inside_the_data_are_skipped() -> None:
    kept, layout = split_office(
        ("I", None, "KHỐI SẢN XUẤT", None, None),  # a roman numeral in STT, the heading in the title
        ("I. KHỐI SẢN XUẤT", None, None, None, None),  # the heading alone in the first cell
        (None, None, "A. Công đoàn cơ sở Gang thép", None, None),
        ("a)", None, "Phân xưởng cán", None, None),
        (1, "THEP-TISCO", "Cải tiến lò cao", "Kỹ thuật", "Giải pháp"),
        ("Cộng đơn vị A", None, None, None, 120_000_000),  # a subtotal: a label and its sums
        (None, None, "Cộng khối I", "2 sáng kiến", "245.000.000 đ"),
        ("Cộng:", None, None, None, 245_000_000.0),
        (None, "II. KHỐI HÀNH CHÍNH", None, None, None),  # typed in the code column itself
        (None, "Cộng khối II", None, None, None),
        ("KHỐI SỰ NGHIỆP", None, None, None, None),  # in capitals, no number
    )
    assert kept == [6]
    assert layout.group_rows == [2, 3, 4, 5, 10, 12]
    assert layout.totals_rows == [7, 8, 9, 11]
    assert "Đã bỏ qua dòng tiêu đề nhóm 2, 3, 4, 5, 10, 12." in layout.summary()


def test_a_row_of_data_is_never_taken_for_a_heading_or_a_subtotal() -> None:
    kept, layout = split_office(
        (1, "THEP-TISCO", "Cộng đồng doanh nghiệp số", "Kỹ thuật", "Giải pháp"),  # a title starting with "Cộng"
        (2, "THEP-TISCO", "I. Giải pháp tiết kiệm điện", None, None),  # a title numbered like a heading
        (3, "HN", None, None, None),  # a code alone: the importer reports what is missing
        (4, "CTVN", "KHỐI", None, None),
        (5, None, "Cộng đồng doanh nghiệp số", "Kỹ thuật", "Giải pháp"),  # no code, but data
        (6, None, "Cộng tác viên giỏi", None, "15/03/2022"),  # a date is no sum
        (7, None, "Cải tiến lò cao", None, None),  # a title alone, neither numbered nor in capitals
        ("Công đoàn cơ sở Gang thép", None, None, None, 100),  # "Công" is no "Cộng"
    )
    assert kept == [2, 3, 4, 5, 6, 7, 8, 9]
    assert layout.group_rows == [] and layout.totals_rows == []
