"""Excel files in and out: the checks every import shares, templates and safe export cells.

An import reads the whole file through `read_rows`, collects a `SheetIssue` per bad cell and raises
`SpreadsheetError` with all of them, so that nothing is written and the user sees every problem
with its row number and column at once.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from io import BytesIO
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import ParseError

import openpyxl
from django.conf import settings
from django.core.management import CommandError
from django.db.models import Field, Model
from django.utils.translation import gettext as _
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from sangkien.sheet_formats import FORMAT_NAMES, FormulaWithoutValue, Sheet, open_sheets
from sangkien.sheet_layout import HEADER_SEARCH_ROWS, HeaderMatch, Layout, TableSpec, match_header, split_rows
from sangkien.text import clean_text
from sangkien.xlsx_guard import EXCEL_MAX_ROWS, ArchiveLimits, Deadline, RefusedFile, not_a_workbook

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What an import's file picker offers first (the content decides anyway): .xlsx, .xlsm, .xls, .ods.
SPREADSHEET_ACCEPT = ",".join(
    (
        ".xlsx",
        ".xlsm",
        ".xls",
        ".ods",
        XLSX_CONTENT_TYPE,
        "application/vnd.ms-excel.sheet.macroEnabled.12",
        "application/vnd.ms-excel",
        "application/vnd.oasis.opendocument.spreadsheet",
    )
)
# A spreadsheet program runs a cell starting with one of these as a formula (CSV/XLSX injection).
FORMULA_PREFIXES = ("=", "+", "-", "@")


@dataclass(frozen=True)
class SheetIssue:
    row: int
    column: int  # 0-based
    header: str
    message: str
    sheet: str = ""  # named when the table is not on the file's first sheet

    def __str__(self) -> str:
        where = {
            "row": self.row,
            "letter": get_column_letter(self.column + 1),
            "header": self.header,
            "message": self.message,
            "sheet": self.sheet,
        }
        if self.sheet:
            return _("Sheet “%(sheet)s”, row %(row)s, column %(letter)s (%(header)s): %(message)s") % where
        return _("Row %(row)s, column %(letter)s (%(header)s): %(message)s") % where


class SpreadsheetError(Exception):
    """Nothing was imported: either the whole file is unusable, or these rows are wrong."""

    def __init__(self, issues: list[SheetIssue] | str, *, layout: Layout | None = None) -> None:
        """`layout`: the importer's issues name its columns in its own order; they are placed at
        the columns (and under the headers) of the file."""
        if layout is not None and not isinstance(issues, str):
            issues = [
                replace(issue, column=place[0], header=place[1] or issue.header, sheet=layout.sheet_label)
                for issue in issues
                for place in (layout.place(issue.column),)
            ]
        self.file_error = issues if isinstance(issues, str) else ""
        self.issues = [] if isinstance(issues, str) else sorted(issues, key=lambda i: (i.row, i.column))
        super().__init__("\n".join(self.messages))

    @property
    def messages(self) -> list[str]:
        return [self.file_error] if self.file_error else [str(issue) for issue in self.issues]


def import_failed(stderr: Any, error: SpreadsheetError) -> CommandError:
    """For management commands: print every row error, then the CommandError that exits non-zero."""
    for message in error.messages:
        stderr.write(message)
    return CommandError(_("Nothing was imported: %(count)s error(s).") % {"count": len(error.messages)})


def cell_text(value: Any) -> str:
    """A cell as stored text (`clean_text`: NFC, single-spaced, no BOM, NBSP or zero-width
    character); a number typed into Excel (123.0) comes back as "123"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_text(str(value))


def read_rows(
    source: str | Path | IO[bytes],
    *,
    spec: TableSpec,
    max_bytes: int,
    max_rows: int,
    layout: Layout | None = None,
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """Yield (sheet row number, cells in `spec`'s order) of the table an office's file holds.

    The file is .xlsx, .xlsm, .xls or .ods, told by its content. Its table is on the first visible
    sheet whose first rows hold `spec`'s header (see `sangkien.sheet_layout`): title blocks above
    it, an STT column, extra columns, any column order are fine. Blank, totals, signature and
    hidden rows are left out and recorded in `layout`, which also says where the table was.

    Raises SpreadsheetError for an empty, oversized, hostile (see `sangkien.xlsx_guard`) or
    unreadable file, a file with no such header, more than Excel's 1,048,576 rows, a formula cell
    saved without its value, or reading past SPREADSHEET_READ_SECONDS. The importers check their
    own row limits on the rows that hold data.
    """
    layout = layout if layout is not None else Layout()
    if isinstance(source, (str, Path)):
        with open(source, "rb") as handle:
            yield from read_rows(handle, spec=spec, max_bytes=max_bytes, max_rows=max_rows, layout=layout)
        return
    source.seek(0, 2)
    size = source.tell()
    source.seek(0)
    if size == 0:
        raise SpreadsheetError(_("The file is empty."))
    if size > max_bytes:
        raise SpreadsheetError(
            _("The file is too large (%(size)s MB); the limit is %(limit)s MB.")
            % {"size": size // (1024 * 1024), "limit": max_bytes // (1024 * 1024)}
        )
    deadline = Deadline(settings.SPREADSHEET_READ_SECONDS)
    # Every row Excel can hold (formatted-only ones are cheap), plus a text per cell of each data
    # row, extra columns included.
    limits = ArchiveLimits.for_rows(max_rows + 1, 2 * len(spec.headers), blank_rows=EXCEL_MAX_ROWS)
    try:
        max_cells = (max_rows + HEADER_SEARCH_ROWS + 100) * (2 * len(spec.headers) + 2)
        file_format, sheets, close = open_sheets(source, limits=limits, max_cells=max_cells, deadline=deadline)
        try:
            yield from _table(sheets, spec, layout, file_format=file_format)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, ParseError):
            # A damaged sheet inside a valid zip fails only while its rows are read.
            raise not_a_workbook() from None
        finally:
            close()
    except RefusedFile as refused:
        raise SpreadsheetError(str(refused)) from None


def _table(
    sheets: list[Sheet], spec: TableSpec, layout: Layout, *, file_format: str
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The data rows of the first visible sheet whose header matches `spec`."""
    near: list[tuple[Sheet, HeaderMatch]] = []
    visible = [sheet for sheet in sheets if sheet.visible]
    if not visible:
        raise not_a_workbook()
    for sheet in visible:
        rows = sheet.rows()
        best: HeaderMatch | None = None
        seen = 0
        for number, cells, _hidden in rows:
            if not any(cell_text(cell) for cell in cells if not isinstance(cell, FormulaWithoutValue)):
                continue
            seen += 1
            match = match_header(spec, number, cells)
            if not match.missing:
                best = match
                break
            if best is None or len(match.missing) < len(best.missing):
                best = match
            if seen >= HEADER_SEARCH_ROWS:
                break
        if best is None or best.missing:
            if best is not None and len(best.missing) < len(spec.headers) - 1:
                near.append((sheet, best))
            continue
        layout.sheet, layout.first_sheet, layout.header_row = sheet.name, sheets[0] is sheet, best.row
        layout.columns, layout.found_headers, layout.extra_columns = best.columns, best.found, list(best.extra)
        layout.file_format = FORMAT_NAMES[file_format]
        formulas: list[SheetIssue] = []
        for number, picked in split_rows(rows, layout, len(spec.headers)):
            for index, cell in enumerate(picked):
                if isinstance(cell, FormulaWithoutValue):
                    column, header = layout.place(index)
                    formulas.append(
                        SheetIssue(
                            number,
                            column,
                            header,
                            _(
                                "the cell has a formula but no value; open the file in Excel or LibreOffice, "
                                "save it and import it again."
                            ),
                            sheet=layout.sheet_label,
                        )
                    )
            yield number, tuple(None if isinstance(cell, FormulaWithoutValue) else cell for cell in picked)
        if formulas:
            raise SpreadsheetError(formulas)
        return
    expected = " | ".join(spec.headers)
    if near:
        sheet, match = near[0]
        raise SpreadsheetError(
            _(
                "No sheet has the header %(expected)s. The closest is row %(row)s of the sheet “%(sheet)s”, "
                "which lacks: %(missing)s."
            )
            % {"expected": expected, "row": match.row, "sheet": sheet.name, "missing": " | ".join(match.missing)}
        )
    raise SpreadsheetError(
        _("No sheet has the header %(expected)s in its first %(rows)s rows.")
        % {"expected": expected, "rows": HEADER_SEARCH_ROWS}
    )


@dataclass(frozen=True)
class ChoiceList:
    """A drop-down list on one column of an import template: the values live on a hidden sheet."""

    column: int  # 0-based, in the header
    values: Sequence[str]
    title: str  # of the message Excel shows for a value not in the list
    error: str


def template_workbook(
    *,
    title: str,
    header: tuple[str, ...],
    examples: Iterable[tuple[Any, ...]],
    widths: Iterable[int],
    examples_sheet: str | None = None,
    choices: Iterable[ChoiceList] = (),
    choices_sheet: str = "Lists",
    rows: int = 1000,
) -> bytes:
    """A downloadable import template: header, frozen, column widths, and example rows either
    under the header or (`examples_sheet`) on a second sheet that the import never reads. Each
    of `choices` becomes a drop-down list on its column for the first `rows` rows, its values on
    a hidden last sheet (the import reads the first sheet only)."""
    workbook = openpyxl.Workbook()
    first = workbook.active
    assert isinstance(first, Worksheet)  # a new workbook's one sheet
    sheets = [first]
    first.title = title
    if examples_sheet:
        sheets.append(workbook.create_sheet(examples_sheet))
    for sheet in sheets:
        sheet.append(header)
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
    for example in examples:
        sheets[-1].append(example)
    choices = [choice for choice in choices if choice.values]
    if choices:
        lists = workbook.create_sheet(choices_sheet)
        lists.sheet_state = "hidden"
        quoted = "'" + choices_sheet.replace("'", "''") + "'"
        for place, choice in enumerate(choices, start=1):
            letter = get_column_letter(place)
            lists.cell(row=1, column=place, value=header[choice.column])
            for row, value in enumerate(choice.values, start=2):
                # The lists are read as values, never as formulas.
                lists.cell(row=row, column=place, value=value).data_type = "s"
            target = get_column_letter(choice.column + 1)
            validation = DataValidation(
                type="list",
                formula1=f"{quoted}!${letter}$2:${letter}${len(choice.values) + 1}",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=choice.title,
                error=choice.error,
            )
            validation.add(f"{target}2:{target}{rows + 1}")
            sheets[0].add_data_validation(validation)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def looks_like_formula(value: Any) -> bool:
    """Text a spreadsheet program would run as a formula if it were written as it is."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def sheet_title(name: str) -> str:
    """A name as Excel takes it for a sheet: none of \\ / ? * [ ] : (each a space), 31 characters at most."""
    return "".join(" " if char in "\\/?*[]:" else char for char in name)[:31]


def safe_cell(sheet: WriteOnlyWorksheet, value: Any, number_format: str | None = None) -> Cell:
    """A write-only cell whose text is always text: "=SUM(…)" typed by a user is never a formula."""
    cell = WriteOnlyCell(sheet, value=value)
    if looks_like_formula(value):
        cell.data_type = "s"
    if number_format:
        cell.number_format = number_format
    return cell


_THOUSANDS = re.compile(r"^\d{1,3}([.,]\d{3})+$")


def whole_number(value: Any, *, most: int) -> int | None:
    """A cell as a whole number from 0 to `most`: a number, or digits plain or grouped by
    thousands ("1.250", "1,250"); None for anything else (an empty cell included)."""
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        number = int(value) if value.is_integer() else None
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        if text.isascii() and text.isdigit():
            number = int(text)
        elif _THOUSANDS.match(text):
            number = int(re.sub(r"[.,]", "", text))
    return number if number is not None and 0 <= number <= most else None


def at_most(
    numbered_rows: Iterable[tuple[int, tuple[Any, ...]]], limit: int, *, too_many: str
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The rows that hold data (from `read_rows`), refused with `too_many` as soon as there are more
    than `limit` of them: each importer's own count, since `read_rows` bounds the sheet's rows,
    blank ones included."""
    for count, numbered_row in enumerate(numbered_rows, start=1):
        if count > limit:
            raise SpreadsheetError(too_many)
        yield numbered_row


def max_length(model: type[Model], name: str) -> int:
    """The `max_length` of a model's text column, which an importer quotes in its messages."""
    field = model._meta.get_field(name)
    assert isinstance(field, Field) and field.max_length is not None, f"{model.__name__}.{name} has no max_length"
    return field.max_length
