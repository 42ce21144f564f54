"""Spreadsheets laid out as offices make them (issue 16), built from the project's own rows with
openpyxl, and the same files as LibreOffice saves them in the other formats offices use.

`office_workbook` writes the layout: a hidden lists sheet first, then the data sheet with the
unit's name and the national motto, a merged title, a date line, the header (an STT column, the
columns shuffled, headers spelled without diacritics, in NFD, over two lines, with "(*)" and
"(VNĐ)", extra columns), the rows (one of them hidden by a filter), a totals row and a signature
block. `convert` turns a batch of .xlsx files into .xls, .ods or .xlsm with one LibreOffice call.
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl

# LibreOffice's filter for each format the tests need.
FILTERS = {"xls": "xls:MS Excel 97", "ods": "ods:calc8", "xlsm": "xlsm:Calc MS Excel 2007 VBA XML"}


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


class AsIs(tuple):
    """A row written as it is, without an STT number: a group heading or a subtotal."""


@dataclass(frozen=True)
class Formatted:
    """A cell's value with the number format an office gives it ("#,##0", "DD/MM/YYYY")."""

    value: Any
    number_format: str


def office_workbook(
    path: Path,
    *,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    title: str,
    hidden_row: int | None = None,
    totals: Sequence[Any] | None = None,
) -> Path:
    """`header` and `rows` in the sheet's own column order; the STT column is added in front
    (`AsIs` rows are written as they are, from column A). A `Formatted` cell gets its number
    format. `hidden_row`: the index in `rows` of a row hidden by a filter. Returns `path`."""
    book = openpyxl.Workbook()
    lists = book.active
    lists.title = "Danh mục"
    lists.append(["Lĩnh vực", "Loại giải pháp"])
    lists.append(["Kỹ thuật – sản xuất", "Giải pháp kỹ thuật"])
    lists.sheet_state = "hidden"
    sheet = book.create_sheet("Danh sách")
    width = len(header) + 1
    sheet["A1"] = "CÔNG ĐOÀN CÔNG THƯƠNG VIỆT NAM"
    sheet.cell(row=1, column=width - 2, value="CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    sheet["A2"] = "CÔNG ĐOÀN TỔNG CÔNG TY THÉP VIỆT NAM"
    sheet.cell(row=2, column=width - 2, value="Độc lập - Tự do - Hạnh phúc")
    sheet["A4"] = title
    sheet.merge_cells(start_row=4, start_column=1, end_row=4, end_column=width)
    sheet["A5"] = "(Kèm theo Công văn số 12/CĐ-TCT ngày 15/3/2026)"
    sheet.cell(row=6, column=width - 2, value="Hà Nội, ngày 15 tháng 3 năm 2026")
    sheet.append(["STT", *header])  # row 7
    number = 0
    for index, row in enumerate(rows):
        if not isinstance(row, AsIs):
            number += 1
            row = [number, *row]
        sheet.append([value.value if isinstance(value, Formatted) else value for value in row])
        for column, value in enumerate(row, start=1):
            if isinstance(value, Formatted):
                sheet.cell(row=sheet.max_row, column=column).number_format = value.number_format
        if hidden_row is not None and index == hidden_row:
            sheet.row_dimensions[sheet.max_row].hidden = True
    if totals is not None:
        sheet.append(["Tổng cộng", *totals])
    sheet.append([])
    sheet.append([None, "Người lập biểu", None, None, None, "TM. BAN THƯỜNG VỤ"])
    sheet.append([None, "(Ký, ghi rõ họ tên)", None, None, None, "CHỦ TỊCH"])
    sheet.append([])
    sheet.append([None, "Nguyễn Thị Lập", None, None, None, "Trần Văn Chủ"])
    book.save(path)
    return path


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(paths: Sequence[Path], target: str, outdir: Path, profile: Path) -> list[Path]:
    """The `paths` saved by LibreOffice as `target` ("xls", "ods" or "xlsm") in `outdir`, with one
    soffice call and a user profile of its own (so that it never meets another soffice's)."""
    command = [
        soffice() or "soffice",
        f"-env:UserInstallation=file://{profile}",
        "--headless",
        "--norestore",
        "--convert-to",
        FILTERS[target],
        "--outdir",
        str(outdir),
        *map(str, paths),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=180)
    converted = [outdir / f"{path.stem}.{target}" for path in paths]
    missing = [path for path in converted if not path.is_file()]
    assert not missing, f"LibreOffice did not write {missing}"
    return converted
