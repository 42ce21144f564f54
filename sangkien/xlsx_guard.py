"""What keeps a hostile .xlsx from taking a worker down (issue 12), for `spreadsheets.read_rows`.

openpyxl trusts the file it reads. A 253 KiB workbook whose shared strings unpack to 100 MB held
a worker for 72 s and 563 MiB; 35 million empty rows took 3 GiB. Three layers bound every import:

1. `check_archive`, before openpyxl opens anything: the zip's members, their declared sizes and
   compression ratio, then one streamed pass over every member that checks what the directory
   declared (zipfile's whole-member read inflates the real stream before it truncates it to the
   declared size), refuses DTDs and encodings Excel never writes, and counts records (rows and
   shared strings) and the XML elements each one holds.
2. `BoundedReader`, openpyxl's reader without the two steps that read a whole part whatever the
   import wants: the dimension scan of each sheet and the shared-strings table that keeps every
   string's element.
3. A `Deadline`, checked at every read of the uploaded bytes and at every row.

The limits are settings (SPREADSHEET_*, see sangkien/settings.py); bench/README.md §8 has the
figures of the largest legitimate files they were chosen from.
"""

from __future__ import annotations

import codecs
import copy
import re
import time
import zipfile
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl.cell.text import Text
from openpyxl.reader.excel import ExcelReader
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

MB = 1024 * 1024
CHUNK = 64 * 1024
# A member this small cannot hurt whatever its ratio (styles and themes compress 5-10:1 anyway).
RATIO_FROM_BYTES = MB
# The start tag of a record: a row of any sheet or a shared string, with or without a prefix; in
# an .ods (issue 16), a `table:table-row`.
RECORD_START = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?(?:row|si|table-row)[\s/>]")
XML_DECLARATION = re.compile(rb"""<\?xml[^>]*?\sencoding\s*=\s*["']([^"']*)["']""")
UTF8_NAMES = {b"utf-8", b"utf8", b"us-ascii", b"ascii"}
# Excel's parts never declare a DTD; entities declared in one are the XML bomb's tool.
XML_TRICKS = (b"<!DOCTYPE", b"<!ENTITY")
LONGEST_TAG = 1024  # bytes of a tag carried to the next chunk so that a split tag is still seen


EXCEL_MAX_ROWS = 1_048_576


class RefusedFile(Exception):
    """The file is refused before or while it is read; the message is for the user."""


def too_many_rows() -> RefusedFile:
    return RefusedFile(
        _("The file was refused: a sheet has more than %(limit)s rows, more than Excel can hold.")
        % {"limit": vietnamese_number(EXCEL_MAX_ROWS)}
    )


def not_a_workbook() -> RefusedFile:
    return RefusedFile(
        _(
            "The file is not a spreadsheet the import reads: use .xlsx, .xlsm, .xls (Excel 97–2003) or .ods "
            "(LibreOffice)."
        )
    )


class Deadline:
    """A wall-clock limit for reading one file."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.ends:
            raise RefusedFile(
                _(
                    "Reading the file took more than %(seconds)s seconds, so it was stopped; "
                    "split it into smaller files."
                )
                % {"seconds": vietnamese_number(self.seconds, 0 if self.seconds == int(self.seconds) else 1)}
            )


class TimedFile:
    """The uploaded bytes as zipfile sees them: every read first checks the deadline.

    zipfile reads the compressed stream a few KiB at a time, so this also interrupts openpyxl
    in the middle of a part (the shared strings are read inside `load_workbook`)."""

    def __init__(self, file: IO[bytes], deadline: Deadline) -> None:
        self.file = file
        self.deadline = deadline

    def read(self, size: int = -1) -> bytes:
        self.deadline.check()
        return self.file.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.file.seek(offset, whence)

    def tell(self) -> int:
        return self.file.tell()

    def seekable(self) -> bool:
        return True


@dataclass(frozen=True)
class ArchiveLimits:
    parts: int
    part_bytes: int
    total_bytes: int
    ratio: int
    records: int
    elements_per_record: int

    @classmethod
    def for_rows(cls, rows: int, columns: int, *, blank_rows: int = 0) -> ArchiveLimits:
        """Limits for a sheet of at most `rows` rows of data read over `columns`, and `blank_rows`
        more without a value: every cell may hold a text of its own, plus a row and a notes column
        per row."""
        return cls(
            parts=settings.SPREADSHEET_MAX_PARTS,
            part_bytes=settings.SPREADSHEET_MAX_PART_BYTES,
            total_bytes=settings.SPREADSHEET_MAX_TOTAL_BYTES,
            ratio=settings.SPREADSHEET_MAX_RATIO,
            records=rows * (columns + 2) + blank_rows,
            elements_per_record=settings.SPREADSHEET_MAX_ELEMENTS_PER_RECORD,
        )


def vietnamese_number(value: float, decimals: int = 0) -> str:
    """1234567.8 → "1.234.567,8": the thousands and decimal marks a Vietnamese reader expects."""
    return f"{value:,.{decimals}f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def _too_large(size: int, limit: int) -> RefusedFile:
    def mb(value: int) -> str:
        return vietnamese_number(value / MB, 1 if value < 10 * MB else 0)

    return RefusedFile(
        _("The file was refused: unpacked, it would take %(size)s MB, more than the %(limit)s MB a spreadsheet may.")
        % {"size": mb(size), "limit": mb(limit)}
    )


def _forged() -> RefusedFile:
    return RefusedFile(
        _("The file was refused: its contents do not match its own table of contents (damaged or forged).")
    )


def _xml_tricks() -> RefusedFile:
    return RefusedFile(
        _(
            "The file was refused: it contains XML that Excel never writes "
            "(a DTD, entities or another encoding than UTF-8)."
        )
    )


def check_archive(source: IO[bytes] | TimedFile, *, limits: ArchiveLimits, deadline: Deadline) -> None:
    """Refuse, with a RefusedFile, a zip that no legitimate import file looks like."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise not_a_workbook() from None
    with archive:
        members = archive.infolist()
        if len(members) > limits.parts:
            raise RefusedFile(
                _("The file was refused: it holds %(count)s parts, more than the %(limit)s a spreadsheet needs.")
                % {"count": vietnamese_number(len(members)), "limit": vietnamese_number(limits.parts)}
            )
        declared = 0
        for info in members:
            # Excel deflates or stores; other methods (bzip2, lzma) and encryption are not .xlsx.
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 0x1:
                raise not_a_workbook()
            # The ratio first: it names what a zip bomb is, whatever its size.
            if info.file_size >= RATIO_FROM_BYTES and info.file_size > limits.ratio * max(info.compress_size, 1):
                raise RefusedFile(
                    _(
                        "The file was refused: one of its parts is compressed %(ratio)s times, far more than a "
                        "real spreadsheet's (at most %(limit)s times)."
                    )
                    % {
                        "ratio": vietnamese_number(info.file_size / max(info.compress_size, 1)),
                        "limit": vietnamese_number(limits.ratio),
                    }
                )
            if info.file_size > limits.part_bytes:
                raise _too_large(info.file_size, limits.part_bytes)
            declared += info.file_size
            if declared > limits.total_bytes:
                raise _too_large(declared, limits.total_bytes)
        scan = _Scan(limits)
        for info in members:
            _scan_member(archive, info, scan, deadline)


class _Scan:
    """Counts over the XML of the whole archive: records, and the elements of the current one."""

    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.records = 0
        self.elements = 0  # '<' seen since the current record (or part) began
        self.rows = 0

    def start_part(self) -> None:
        self.elements = 0
        self.rows = 0  # <row elements of this part (no sheet holds more than Excel's rows)

    def feed(self, work: bytes) -> None:
        if any(trick in work for trick in XML_TRICKS):
            raise _xml_tricks()
        self.rows += work.count(b"<row") - work.count(b"<rowBreaks")
        if self.rows > EXCEL_MAX_ROWS:
            raise too_many_rows()
        starts = [match.start() for match in RECORD_START.finditer(work)]
        self.records += len(starts)
        if self.records > self.limits.records:
            raise RefusedFile(
                _(
                    "The file was refused: it holds more rows and texts than an import of this size can "
                    "(more than %(limit)s)."
                )
                % {"limit": vietnamese_number(self.limits.records)}
            )
        cap = self.limits.elements_per_record
        if self.elements + work.count(b"<") <= cap:  # no record in this chunk can be too large
            self.elements = work.count(b"<", starts[-1]) if starts else self.elements + work.count(b"<")
            return
        begin = 0
        for end in [*starts, len(work)]:
            self.elements += work.count(b"<", begin, end)
            if self.elements > cap:
                raise RefusedFile(
                    _(
                        "The file was refused: one of its rows or texts holds more than %(limit)s XML elements, "
                        "far more than a spreadsheet's."
                    )
                    % {"limit": vietnamese_number(cap)}
                )
            if end < len(work):
                self.elements = 0
            begin = end


def _scan_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, scan: _Scan, deadline: Deadline) -> None:
    """Inflate one member a chunk at a time: its real size must be the declared one (a longer
    stream is a forged header), and an XML part is fed to the scan."""
    probe = copy.copy(info)
    probe.file_size = info.file_size + 1  # so that zipfile hands over one byte more than declared
    size = 0
    carry = b""
    is_xml: bool | None = None
    scan.start_part()
    try:
        with archive.open(probe) as stream:
            while chunk := stream.read(CHUNK):
                deadline.check()
                size += len(chunk)
                if size > info.file_size:
                    raise _forged()
                if is_xml is None:
                    # Decided at the first byte that is not whitespace, however far: expat accepts
                    # leading whitespace, so a part may not skip the scan by starting with a chunk of it.
                    is_xml = _is_xml(chunk, at_start=size == len(chunk))
                if is_xml:
                    buffer = carry + chunk
                    cut = buffer.rfind(b"<")
                    if cut == -1 or len(buffer) - cut > LONGEST_TAG:
                        cut = len(buffer)
                    scan.feed(buffer[:cut])
                    carry = buffer[cut:]
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError, NotImplementedError):
        # A bad CRC, a truncated or undecodable stream: openpyxl would fail on it too.
        raise _forged() from None
    if size != info.file_size:
        raise _forged()
    if carry:
        scan.feed(carry)


def _is_xml(chunk: bytes, *, at_start: bool) -> bool | None:
    """Whether a part is XML (False for images and other binary parts openpyxl never parses,
    None while only whitespace has been seen); XML in any encoding but UTF-8 is refused, since
    the scan reads bytes."""
    if at_start:
        if chunk.startswith(codecs.BOM_UTF8):
            chunk = chunk[len(codecs.BOM_UTF8) :]
        utf16 = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b"<\x00", b"\x00<")
        if chunk[:2] in utf16 or chunk[:4] == b"\x00\x00\x00<":
            raise _xml_tricks()  # UTF-16 or UTF-32, which expat detects by itself
    head = chunk.lstrip()
    if not head:
        return None
    if not head.startswith(b"<"):
        return False
    declaration = XML_DECLARATION.match(head)
    if declaration and declaration[1].lower() not in UTF8_NAMES:
        raise _xml_tricks()
    return True


class _Sheet(ReadOnlyWorksheet):
    """A read-only sheet without openpyxl's dimension scan: for a sheet with no <dimension>
    element that scan parses every row (35 million `<row/>`: 3 GiB) before the first one is
    yielded, and a wrong one silently cuts the sheet short. The import counts rows itself."""

    def _get_size(self) -> None:
        return None


class BoundedReader(ExcelReader):
    """openpyxl's reader, read-only, for the first sheet's values. Two steps differ:

    - shared strings: openpyxl's `read_string_table` clears each string's element but leaves it in
      the tree (about 70 bytes a string); here the table's root is emptied as it goes;
    - sheets: read lazily as `_Sheet`s, chartsheets skipped (never imported).
    """

    def __init__(self, source: Any) -> None:
        super().__init__(source, read_only=True, data_only=True)

    def read_strings(self) -> None:
        part = self.package.find(SHARED_STRINGS)
        if part is None:
            return
        tag = f"{{{SHEET_MAIN_NS}}}si"
        strings: list[str] = []
        with self.archive.open(part.PartName[1:]) as source:
            events = iterparse(source, events=("start", "end"))
            _event, root = next(events, (None, None))
            if root is None:
                return
            for event, node in events:
                if event == "end" and node.tag == tag:
                    text = Text.from_tree(node)
                    assert text is not None  # from_tree() returns None only in the stubs
                    strings.append(text.content.replace("x005F_", ""))
                    node.clear()
                    root.clear()
        self.shared_strings = strings

    def read_worksheets(self) -> None:
        for sheet, rel in self.parser.find_sheets():
            if rel.target in self.valid_files and "chartsheet" not in rel.Type:
                worksheet = _Sheet(self.wb, sheet.name, rel.target, self.shared_strings)
                # As openpyxl's own reader does: the stubs let a sheet's state be None, and
                # Workbook.create_sheet() would make a writable sheet, so the private list it is.
                worksheet.sheet_state = sheet.state  # type: ignore[assignment]
                self.wb._sheets.append(worksheet)  # type: ignore[attr-defined]
