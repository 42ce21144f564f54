"""The spreadsheet formats offices send (issue 16): .xlsx, .xlsm, .xls (Excel 97–2003) and .ods.

The format is told by the file's content, never by its name. Each is read under the same limits
(`sangkien.xlsx_guard`): the upload's size before anything is parsed; for the two zips (.xlsx/.xlsm
and .ods) the archive check (parts, unpacked sizes, ratio, DTDs, records); for .ods also the extent
its repeated rows and cells stand for, before the reader builds its grid; for every format the
deadline. .xlsx and .xlsm are read with openpyxl (row by row, hidden rows and formulas seen);
.xls and .ods with calamine (Rust), which tells neither hidden rows nor formulas: the hidden rows
of an .ods are read from its content.xml while its extent is checked, those of an .xls from the
ROW records of its sheets.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO
from typing import IO, Any
from xml.etree.ElementTree import ParseError, iterparse

from django.utils.translation import gettext as _
from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

from sangkien.xlsx_guard import (
    CHUNK,
    EXCEL_MAX_ROWS,
    ArchiveLimits,
    BoundedReader,
    Deadline,
    RefusedFile,
    TimedFile,
    check_archive,
    not_a_workbook,
    too_many_rows,
    vietnamese_number,
)

# Cells are read up to this column: an import's columns, its offices' extra ones and an STT.
MAX_COLUMNS = 64
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
FORMAT_NAMES = {"xlsx": ".xlsx", "xlsm": ".xlsm", "xls": ".xls", "ods": ".ods"}
ODS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
ODS_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


class FormulaWithoutValue:
    """A formula cell saved without its computed value (a file written by a program, not Excel)."""

    def __repr__(self) -> str:
        return "FormulaWithoutValue"


FORMULA_WITHOUT_VALUE = FormulaWithoutValue()


@dataclass
class Sheet:
    name: str
    visible: bool
    rows: Callable[[], Iterator[tuple[int, list[Any], bool]]]  # (row number, cells, hidden)


def detect_format(source: IO[bytes]) -> str:
    """ "xlsx", "xlsm", "xls" or "ods" from the bytes; a RefusedFile for anything else."""
    source.seek(0)
    head = source.read(8)
    source.seek(0)
    if head == OLE_MAGIC:
        return "xls"
    if head[:4] != b"PK\x03\x04":
        raise not_a_workbook()
    try:
        with zipfile.ZipFile(source) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                if info.file_size <= 100 and archive.read(info).strip() == ODS_MIME:
                    return "ods"
                raise not_a_workbook()
            if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
                info = archive.getinfo("[Content_Types].xml")
                if info.file_size > 1024 * 1024:
                    raise not_a_workbook()
                return "xlsm" if b"macroEnabled" in archive.read(info) else "xlsx"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise not_a_workbook() from None
    finally:
        source.seek(0)
    raise not_a_workbook()


# What a row with a value holds (a value, an inline string, a formula) and what ends the rows.
_VALUE_MARKS = (b"<v", b"<is", b"<f", b"sheetData")


class _WithoutBlanks:
    """A sheet's XML as the parser reads it, without the runs of rows that hold no value (rows
    formatted only, `<row r="9" s="2" customFormat="1"/>`, or of cells without a value): a sheet
    formatted down to row 1,048,576 is read in a second or two, not parsed element by element.

    A chunk is dropped, from its first row start to its last, when it holds no value, inline
    string, formula nor the end of the rows, and every row in it is numbered by its `r` (so the
    numbers of the rows after it never shift): bytes.find and count, no parsing. A chunk with
    data goes to the parser whole."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.carry = b""
        self.done = False

    def read(self, size: int = -1) -> bytes:
        while not self.done:
            chunk = self.source.read(CHUNK)
            if not chunk:
                self.done = True
                out, self.carry = self.carry, b""
                return out
            buffer = self.carry + chunk
            first, last = buffer.find(b"<row "), buffer.rfind(b"<row ")
            if (
                first < last
                and not any(mark in buffer for mark in _VALUE_MARKS)
                and (buffer.count(b"<row") == buffer.count(b'<row r="'))
            ):
                self.carry = buffer[last:]
                out = buffer[:first]
            else:
                cut = buffer.rfind(b"<")
                if cut <= 0:
                    cut = len(buffer)
                self.carry = buffer[cut:]
                out = buffer[:cut]
            if out:
                return out
        return b""


class _RowParser(WorkSheetParser):
    """openpyxl's sheet parser, row by row, that also tells a hidden row and marks a formula
    saved without its value (openpyxl's data-only reading gives None, as for an empty cell)."""

    def parse_row(self, row: Any) -> tuple[int, list[dict[str, Any]], bool]:  # type: ignore[override]
        hidden = row.get("hidden") in ("1", "true")
        if len(row) == 0:  # a formatted-only row: no cell to parse
            number = row.get("r")
            self.row_counter = int(number) if number and number.isdigit() else self.row_counter + 1
            return self.row_counter, [], hidden
        number, cells = super().parse_row(row)
        return number, cells, hidden

    def parse_cell(self, element: Any) -> dict[str, Any]:
        cell = super().parse_cell(element)
        if cell["value"] is None and element.find(FORMULA_TAG) is not None and not element.findtext(VALUE_TAG):
            cell["value"] = FORMULA_WITHOUT_VALUE
        return cell


def _xlsx_rows(workbook: Any, worksheet: Any, deadline: Deadline) -> Iterator[tuple[int, list[Any], bool]]:
    with worksheet._get_source() as source:
        parser = _RowParser(
            _WithoutBlanks(source),
            worksheet._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for number, parsed, hidden in parser.parse():
            deadline.check()
            if number > EXCEL_MAX_ROWS:
                raise too_many_rows()
            cells: list[Any] = []
            for cell in parsed:
                column = cell["column"]
                if column > MAX_COLUMNS or cell["value"] is None:
                    continue
                if column > len(cells):
                    cells.extend([None] * (column - len(cells)))
                cells[column - 1] = cell["value"]
            yield number, cells, hidden


def open_xlsx(timed: TimedFile, limits: ArchiveLimits, deadline: Deadline) -> tuple[list[Sheet], Callable[[], None]]:
    check_archive(timed, limits=limits, deadline=deadline)
    try:
        reader = BoundedReader(timed)
        try:
            reader.read()
        except BaseException:
            reader.archive.close()
            raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, ParseError):
        raise not_a_workbook() from None
    workbook = reader.wb
    sheets = [
        Sheet(
            name=worksheet.title,
            visible=worksheet.sheet_state == "visible",
            rows=functools.partial(_xlsx_rows, workbook, worksheet, deadline),
        )
        for worksheet in workbook.worksheets
    ]
    return sheets, workbook.close


def too_many_cells(limit: int) -> RefusedFile:
    return RefusedFile(
        _(
            "The file was refused: its sheets stand for more than %(limit)s cells, "
            "more than an import of this size reads."
        )
        % {"limit": vietnamese_number(limit)}
    )


class _HiddenRows:
    """The hidden rows of one sheet: single rows in a set, long repeated runs as ranges."""

    def __init__(self) -> None:
        self.rows: set[int] = set()
        self.runs: list[tuple[int, int]] = []

    def add(self, first: int, last: int) -> None:
        if last - first < 1000:
            self.rows.update(range(first, last + 1))
        else:
            self.runs.append((first, last))

    def __contains__(self, row: int) -> bool:
        return row in self.rows or any(first <= row <= last for first, last in self.runs)


def _ods_extent(timed: TimedFile, *, max_cells: int, deadline: Deadline) -> dict[str, _HiddenRows]:
    """Refuse an .ods whose repeated rows and cells stand for more cells than an import reads:
    calamine builds a sheet's whole grid, so a tiny file could ask for billions of cells. Returns
    each sheet's hidden (filtered-out or collapsed) rows, which calamine does not tell."""
    repeat_rows = f"{{{ODS_TABLE}}}number-rows-repeated"
    repeat_columns = f"{{{ODS_TABLE}}}number-columns-repeated"
    value_type = f"{{{ODS_OFFICE}}}value-type"
    row_tag, cell_tag, table_tag = (f"{{{ODS_TABLE}}}{name}" for name in ("table-row", "table-cell", "table"))
    covered_tag = f"{{{ODS_TABLE}}}covered-table-cell"
    visibility, table_name = f"{{{ODS_TABLE}}}visibility", f"{{{ODS_TABLE}}}name"
    hidden: dict[str, _HiddenRows] = {}
    current = _HiddenRows()
    try:
        with zipfile.ZipFile(timed) as archive, archive.open("content.xml") as content:
            row = width = last_row = last_column = 0
            for event, element in iterparse(content, events=("start", "end")):
                tag = element.tag
                if event == "start":
                    if tag == table_tag:
                        row = last_row = last_column = 0
                        current = hidden.setdefault(element.get(table_name, ""), _HiddenRows())
                    elif tag == row_tag:
                        width = 0
                    continue
                if tag in (cell_tag, covered_tag):
                    repeat = int(element.get(repeat_columns, "1"))
                    width += repeat
                    if element.get(value_type) is not None or len(element):
                        last_column = max(last_column, min(width, MAX_COLUMNS * 1000))
                        if width > MAX_COLUMNS * 1000:
                            raise not_a_workbook()
                elif tag == row_tag:
                    repeat = int(element.get(repeat_rows, "1"))
                    if element.get(visibility, "visible") != "visible":
                        current.add(row + 1, row + repeat)
                    row += repeat
                    if any(
                        child.get(value_type) is not None or len(child)
                        for child in element
                        if child.tag in (cell_tag, covered_tag)
                    ):
                        last_row = row
                    element.clear()
                    deadline.check()
                    if last_row > EXCEL_MAX_ROWS or last_row * max(last_column, 1) > max_cells:
                        raise too_many_cells(max_cells)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, ParseError):
        raise not_a_workbook() from None
    finally:
        timed.seek(0)
    return hidden


# BIFF8 records of a cell with a value (calamine's grid spans them; blank cells it skips):
# FORMULA, RSTRING, LABELSST, NUMBER, LABEL, BOOLERR, RK; MULRK holds several on one row.
_XLS_CELLS = {0x0006, 0x00D6, 0x00FD, 0x0203, 0x0204, 0x0205, 0x027E}
_XLS_MULRK = 0x00BD


def _xls_scan(data: bytes, *, max_cells: int, deadline: Deadline) -> dict[str, _HiddenRows]:
    """Each sheet's hidden rows in an .xls, which calamine does not tell: the ROW records (BIFF8)
    of each sheet's substream, whose option flags say a row is hidden. On the way, the grid each
    sheet's cells span is bounded, as for an .ods, before calamine builds it. The compound file's
    "Workbook" stream is found with xlrd's reader of that container."""
    from xlrd.compdoc import CompDoc, CompDocError

    try:
        document = CompDoc(data, logfile=io.StringIO())
        memory, base, size = document.locate_named_stream("Workbook")
    except (CompDocError, IndexError, ValueError, struct.error):
        raise not_a_workbook() from None
    if memory is None:
        return {}  # BIFF5 and older ("Book"): calamine reads them; hidden rows stay unknown
    stream = memoryview(memory)[base : base + size]

    def records(start: int) -> Iterator[tuple[int, memoryview]]:
        at = start
        while at + 4 <= len(stream):
            kind, length = struct.unpack_from("<HH", stream, at)
            yield kind, stream[at + 4 : at + 4 + length]
            if kind == 0x000A:  # EOF of the substream
                return
            at += 4 + length

    sheets: list[tuple[str, int]] = []
    try:
        for kind, body in records(0):
            if kind == 0x0085 and len(body) >= 8:  # BOUNDSHEET: where each sheet's substream starts
                count, flags = body[6], body[7]
                name = (
                    bytes(body[8 : 8 + count * 2]).decode("utf-16-le")
                    if flags & 1
                    else bytes(body[8 : 8 + count]).decode("latin-1")
                )
                sheets.append((name, struct.unpack_from("<I", body, 0)[0]))
        hidden: dict[str, _HiddenRows] = {}
        for name, offset in sheets:
            rows = hidden.setdefault(name, _HiddenRows())
            last_row = last_column = 0
            for number, (kind, body) in enumerate(records(offset)):
                if number % 10_000 == 0:
                    deadline.check()
                if kind == 0x0208 and len(body) >= 14 and struct.unpack_from("<H", body, 12)[0] & 0x20:
                    row = struct.unpack_from("<H", body, 0)[0] + 1
                    rows.add(row, row)
                elif (kind in _XLS_CELLS or kind == _XLS_MULRK) and len(body) >= 6:
                    row, column = struct.unpack_from("<HH", body, 0)
                    if kind == _XLS_MULRK:
                        column = struct.unpack_from("<H", body, len(body) - 2)[0]
                    last_row, last_column = max(last_row, row + 1), max(last_column, column + 1)
                    if last_row * last_column > max_cells:
                        raise too_many_cells(max_cells)
    except (struct.error, UnicodeDecodeError, IndexError):
        raise not_a_workbook() from None
    return hidden


def open_calamine(
    timed: TimedFile, file_format: str, limits: ArchiveLimits, deadline: Deadline, *, max_cells: int
) -> tuple[list[Sheet], Callable[[], None]]:
    import python_calamine

    hidden: dict[str, _HiddenRows] = {}
    if file_format == "ods":
        check_archive(timed, limits=limits, deadline=deadline)
        timed.seek(0)
        hidden = _ods_extent(timed, max_cells=max_cells, deadline=deadline)
    timed.seek(0)
    data = BytesIO(timed.read())
    if file_format == "xls":
        hidden = _xls_scan(data.getvalue(), max_cells=max_cells, deadline=deadline)
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(data)
        metadata = workbook.sheets_metadata
    except Exception:  # calamine raises its own errors and plain ones for a damaged file
        raise not_a_workbook() from None

    def rows(index: int) -> Iterator[tuple[int, list[Any], bool]]:
        hidden_rows = hidden.get(metadata[index].name, _HiddenRows())
        try:
            sheet = workbook.get_sheet_by_index(index)
        except Exception:
            raise not_a_workbook() from None
        start = sheet.start or (0, 0)
        top, left = start
        for offset, values in enumerate(sheet.iter_rows()):
            deadline.check()
            number = top + offset + 1
            if number > EXCEL_MAX_ROWS:
                raise too_many_rows()
            cells = [None] * left + [None if value == "" else value for value in values]
            yield number, cells[:MAX_COLUMNS], number in hidden_rows

    sheets = [
        Sheet(
            name=meta.name,
            visible=str(meta.visible).rsplit(".", 1)[-1].lower() == "visible" and "chart" not in str(meta.typ).lower(),
            rows=functools.partial(rows, index),
        )
        for index, meta in enumerate(metadata)
    ]
    return sheets, workbook.close


def open_sheets(
    source: IO[bytes], *, limits: ArchiveLimits, max_cells: int, deadline: Deadline
) -> tuple[str, list[Sheet], Callable[[], None]]:
    """The format, the sheets (each read on demand) and what closes the file. `max_cells`: the
    grid a sheet of an .ods may stand for (calamine builds it whole)."""
    file_format = detect_format(source)
    timed = TimedFile(source, deadline)
    if file_format in ("xlsx", "xlsm"):
        return file_format, *open_xlsx(timed, limits, deadline)
    return file_format, *open_calamine(timed, file_format, limits, deadline, max_cells=max_cells)
