"""Excel files in and out: the checks every import shares, templates and safe export cells.

An import reads the whole file through `read_rows`, collects a `SheetIssue` per bad cell and raises
`SpreadsheetError` with all of them, so that nothing is written and the user sees every problem
with its row number and column at once.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
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
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from sangkien.text import clean_text, fold
from sangkien.xlsx_guard import (
    ArchiveLimits,
    BoundedReader,
    Deadline,
    RefusedFile,
    TimedFile,
    check_archive,
    not_a_workbook,
    vietnamese_number,
)

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A spreadsheet program runs a cell starting with one of these as a formula (CSV/XLSX injection).
FORMULA_PREFIXES = ("=", "+", "-", "@")


@dataclass(frozen=True)
class SheetIssue:
    row: int
    column: int  # 0-based
    header: str
    message: str

    def __str__(self) -> str:
        return _("Row %(row)s, column %(letter)s (%(header)s): %(message)s") % {
            "row": self.row,
            "letter": get_column_letter(self.column + 1),
            "header": self.header,
            "message": self.message,
        }


class SpreadsheetError(Exception):
    """Nothing was imported: either the whole file is unusable, or these rows are wrong."""

    def __init__(self, issues: list[SheetIssue] | str) -> None:
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
    source: str | Path | IO[bytes], *, header: tuple[str, ...], max_bytes: int, max_rows: int
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """Yield (Excel row number, cells) of the first sheet after checking the file and its header.

    Blank rows are skipped but counted: reading stops, with a SpreadsheetError, past `max_rows`
    rows plus SPREADSHEET_MAX_BLANK_ROWS, however the rows are spelled, and past the deadline
    SPREADSHEET_READ_SECONDS. Raises SpreadsheetError for an empty, oversized, hostile (see
    `sangkien.xlsx_guard`) or non-xlsx file, or a first row that is not `header` (compared
    without case, spacing or diacritics). The importers check their own row limits on the rows
    that hold data.
    """
    if isinstance(source, (str, Path)):
        with open(source, "rb") as handle:
            yield from read_rows(handle, header=header, max_bytes=max_bytes, max_rows=max_rows)
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
    sheet_rows = max_rows + settings.SPREADSHEET_MAX_BLANK_ROWS
    deadline = Deadline(settings.SPREADSHEET_READ_SECONDS)
    timed = TimedFile(source, deadline)
    try:
        check_archive(timed, limits=ArchiveLimits.for_rows(sheet_rows + 1, len(header)), deadline=deadline)
        try:
            reader = BoundedReader(timed)
            try:
                reader.read()
            except BaseException:
                reader.archive.close()
                raise
            workbook = reader.wb
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, ParseError):
            raise not_a_workbook() from None
        try:
            yield from _rows(workbook, header, sheet_rows=sheet_rows, deadline=deadline)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, ParseError):
            # A damaged sheet inside a valid zip fails only while its rows are read.
            raise not_a_workbook() from None
        finally:
            workbook.close()
    except RefusedFile as refused:
        raise SpreadsheetError(str(refused)) from None


def _rows(
    workbook: openpyxl.Workbook, header: tuple[str, ...], *, sheet_rows: int, deadline: Deadline
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The rows after the header, once the header is checked; at most `sheet_rows` of them."""
    if not workbook.worksheets:
        raise not_a_workbook()
    width = len(header)
    # max_col: a row is cut to the header's width before its cells are padded or converted.
    rows = workbook.worksheets[0].iter_rows(max_col=width, values_only=True)
    found = tuple(cell_text(cell) for cell in (next(rows, None) or ())[:width])
    if tuple(fold(cell) for cell in found) != tuple(fold(cell) for cell in header):
        raise SpreadsheetError(
            _("The first row must be the header: %(expected)s. Found: %(found)s.")
            % {"expected": " | ".join(header), "found": " | ".join(found) or _("(empty)")}
        )
    for number, cells in enumerate(rows, start=2):
        if number > sheet_rows + 1:
            raise SpreadsheetError(
                _(
                    "The sheet has more than %(limit)s rows under the header, blank rows included; "
                    "delete the empty rows under the data or split the file."
                )
                % {"limit": vietnamese_number(sheet_rows)}
            )
        deadline.check()
        cells = tuple(cells[:width]) + (None,) * (width - len(cells))
        if any(cell_text(cell) for cell in cells):
            yield number, cells


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


def safe_cell(sheet: WriteOnlyWorksheet, value: Any, number_format: str | None = None) -> Cell:
    """A write-only cell whose text is always text: "=SUM(…)" typed by a user is never a formula."""
    cell = WriteOnlyCell(sheet, value=value)
    if looks_like_formula(value):
        cell.data_type = "s"
    if number_format:
        cell.number_format = number_format
    return cell


def max_length(model: type[Model], name: str) -> int:
    """The `max_length` of a model's text column, which an importer quotes in its messages."""
    field = model._meta.get_field(name)
    assert isinstance(field, Field) and field.max_length is not None, f"{model.__name__}.{name} has no max_length"
    return field.max_length
