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
