"""Finding an import's table in the layouts offices use (issue 16), whatever the file's format.

Offices put their own title block above the header (the national motto, the unit's name, a merged
"DANH SÁCH SÁNG KIẾN …" title, a date line), number the rows in an "STT" column, order the columns
their own way, add columns of their own, write the headers with or without diacritics, on several
lines, with "(*)" or "(VNĐ)", keep the data on any sheet, and end it with a "Tổng cộng" row and a
signature block. `Layout.find` takes the rows of each sheet and returns where the table is; the
importers get their cells in their own column order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl.utils import get_column_letter

from sangkien.text import fold

# The header is looked for in this many non-blank rows at the top of each sheet.
HEADER_SEARCH_ROWS = 30
# "(*)" marks a required column; units of money or counts after a header change nothing.
_MARKS = re.compile(r"\(\s*\*+\s*\)|\*|\(\s*(?:vnd|vnđ|đồng|dong|đ|d|người|nguoi)\s*\)", re.IGNORECASE)
_PUNCTUATION = re.compile(r"[:.;]+$")
NUMBERING = {"stt", "tt", "so tt", "so thu tu", "no", "no."}
# The first text of a totals row: "Tổng cộng", "Cộng", "Tổng số: 12 sáng kiến"…
# Only the label, with at most a count or an amount after it: "Tổng Liên đoàn…" and "Công đoàn…" are data.
_TOTALS = re.compile(r"^(tong cong|cong|tong so|tong)(\s*[:(\d].*)?$")
# A subtotal's label, diacritics kept ("Cộng đơn vị A", "Cộng khối I", "Tổng cộng khối sản xuất"):
# "Công đoàn…" folds as "Cộng…" does, so only the written "cộng"/"tổng" counts here.
_SUBTOTAL = re.compile(r"^(tổng cộng|cộng|tổng số|tổng)(\s|:|$)")
# What a subtotal row holds besides its label: sums and counts ("245.000.000", "3 sáng kiến"), never
# a date ("15/03/2022", "2022-05-06") or a code.
_SUM = re.compile(r"^\d[\d.,\s]*[^\d/:\-]*$")
# The marks that number a group of rows: "I", "IV", "A", "b", "1.2", each with "." or ")" or not.
_GROUP_MARK = r"(?:M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})|[A-ZĐa-zđ]|\d+(?:\.\d+)+)"
_GROUP_MARK_CELL = re.compile(rf"^{_GROUP_MARK}[.)]?$")
# A heading in one cell: "I. KHỐI SẢN XUẤT", "A. Công đoàn cơ sở …", "2) Khối hành chính", "B - Khối …".
_GROUP_HEADING = re.compile(rf"^(?:{_GROUP_MARK}|\d+)(?:[.)]|\s+[-–])\s*\S")
# Texts that open a signature block: the date line, the signers' titles, "(Ký, ghi rõ họ tên)".
_SIGNATURE = re.compile(
    r"(^|\W)(ngay \S+ thang \S+ nam|nguoi lap( bieu)?|thu truong|ky,? ghi ro ho ten|ky ten|dong dau|"
    r"tm\.|t/m|chu tich|pho chu tich|giam doc|xac nhan cua|noi nhan)(\W|$)"
)


def header_key(text: str) -> str:
    """The form two spellings of one header share: "Giá trị làm lợi\\n(VNĐ) (*)" → "gia tri lam loi"."""
    folded = fold(_MARKS.sub(" ", text))  # once as written, once more for marks written in NFD
    folded = fold(_MARKS.sub(" ", folded))
    return _PUNCTUATION.sub("", folded).strip()


@dataclass(frozen=True)
class TableSpec:
    """An importer's columns: each canonical header (in the order its cells are handed over) with
    the other spellings offices use; `required` columns must all be found for a row to be the header."""

    headers: tuple[str, ...]
    aliases: Mapping[str, Sequence[str]] = field(default_factory=dict)
    optional: frozenset[str] = frozenset()

    def keys(self) -> dict[str, int]:
        keys: dict[str, int] = {}
        for index, header in enumerate(self.headers):
            for spelling in (header, *self.aliases.get(header, ())):
                keys.setdefault(header_key(spelling), index)
        return keys


@dataclass
class Layout:
    """Where the table is, and what the reading skipped: what the import summary shows."""

    sheet: str = ""
    first_sheet: bool = True
    header_row: int = 0
    columns: tuple[int | None, ...] = ()  # 0-based sheet column of each canonical header
    found_headers: tuple[str, ...] = ()  # the header text as the file spells it
    extra_columns: list[str] = field(default_factory=list)
    totals_rows: list[int] = field(default_factory=list)
    signature_rows: list[int] = field(default_factory=list)
    hidden_rows: list[int] = field(default_factory=list)
    group_rows: list[int] = field(default_factory=list)
    file_format: str = ""

    @property
    def sheet_label(self) -> str:
        """The sheet's name for error messages: only when it is not the file's first sheet."""
        return "" if self.first_sheet else self.sheet

    def summary(self) -> list[str]:
        """What the officer reads after an import, one sentence each."""
        lines = [
            _("Read the sheet “%(sheet)s” (%(format)s), header in row %(row)s.")
            % {"sheet": self.sheet, "format": self.file_format, "row": self.header_row}
        ]
        if self.extra_columns:
            lines.append(_("Columns not imported: %(columns)s.") % {"columns": ", ".join(self.extra_columns)})
        if self.totals_rows:
            lines.append(
                ngettext("Skipped the totals row %(rows)s.", "Skipped the totals rows %(rows)s.", len(self.totals_rows))
                % {"rows": _rows_text(self.totals_rows)}
            )
        if self.group_rows:
            lines.append(
                ngettext(
                    "Skipped the group heading row %(rows)s.",
                    "Skipped the group heading rows %(rows)s.",
                    len(self.group_rows),
                )
                % {"rows": _rows_text(self.group_rows)}
            )
        if self.signature_rows:
            lines.append(
                _("Skipped the signature block under the data (rows %(first)s to %(last)s).")
                % {"first": self.signature_rows[0], "last": self.signature_rows[-1]}
            )
        if self.hidden_rows:
            lines.append(
                ngettext(
                    "Row %(rows)s is hidden (filtered out) and was not imported; show it and import it again "
                    "if it belongs.",
                    "Rows %(rows)s are hidden (filtered out) and were not imported; show them and import them "
                    "again if they belong.",
                    len(self.hidden_rows),
                )
                % {"rows": _rows_text(self.hidden_rows)}
            )
        return lines

    def place(self, column: int) -> tuple[int, str]:
        """The sheet column and header text of a canonical column, for an error message."""
        actual = self.columns[column] if column < len(self.columns) else None
        if actual is None:
            return column, ""
        return actual, self.found_headers[column]


def _rows_text(rows: list[int], shown: int = 20) -> str:
    text = ", ".join(str(row) for row in rows[:shown])
    return text + (" …" if len(rows) > shown else "")


@dataclass(frozen=True)
class HeaderMatch:
    row: int
    columns: tuple[int | None, ...]
    found: tuple[str, ...]
    extra: tuple[str, ...]
    missing: tuple[str, ...]


def match_header(spec: TableSpec, row: int, cells: Sequence[Any]) -> HeaderMatch:
    keys = spec.keys()
    columns: list[int | None] = [None] * len(spec.headers)
    found = [""] * len(spec.headers)
    extra: list[str] = []
    for position, value in enumerate(cells):
        # A header is text or a number (a year); a formula saved without its value is no header.
        plain = isinstance(value, (str, int, float)) and not isinstance(value, bool)
        text = unicodedata.normalize("NFC", " ".join(str(value).split())) if plain else ""
        if not text:
            continue
        key = header_key(text)
        index = keys.get(key)
        if index is not None and columns[index] is None:
            columns[index] = position
            found[index] = text
        elif key not in NUMBERING:
            extra.append(f"{text} ({get_column_letter(position + 1)})")
    missing = tuple(
        header for index, header in enumerate(spec.headers) if columns[index] is None and header not in spec.optional
    )
    return HeaderMatch(row, tuple(columns), tuple(found), tuple(extra), missing)


def is_totals_row(cells: Iterable[Any]) -> bool:
    first = next((text for text in (_text(cell) for cell in cells) if text), "")
    # "Tổng…" and "Cộng…" start with T or C however they are spelled: other rows are not folded.
    return first[:1] in ("T", "t", "C", "c") and bool(_TOTALS.match(fold(first)))


def is_subtotal_row(cells: Iterable[Any]) -> bool:
    """A group's subtotal: one "Cộng …"/"Tổng …" label and nothing but sums and counts. An
    initiative titled "Cộng đồng …" is not one: its other cells hold text (a field, an author) or a date."""
    labels = [cell for cell in cells if _filled(cell) and not _is_sum(cell)]
    return (
        len(labels) == 1
        and isinstance(labels[0], str)
        and bool(_SUBTOTAL.match(unicodedata.normalize("NFC", _text(labels[0])).casefold()))
    )


def _is_sum(cell: Any) -> bool:
    if isinstance(cell, bool):
        return False
    if isinstance(cell, (int, float, Decimal)):
        return True
    return isinstance(cell, str) and bool(_SUM.match(_text(cell)))


def is_group_row(cells: Iterable[Any]) -> bool:
    """A heading over a group of rows: one text cell numbered as a heading ("I. KHỐI SẢN XUẤT") or
    written in capitals ("KHỐI SẢN XUẤT"), or a mark alone ("I", "A") then one text. Nothing else
    is filled: a row of data holds more than its title."""
    filled = [cell for cell in cells if _filled(cell)]
    if not 1 <= len(filled) <= 2 or not all(isinstance(cell, str) for cell in filled):
        return False
    texts = [_text(cell) for cell in filled]
    if len(texts) == 2:
        return bool(_GROUP_MARK_CELL.match(texts[0]))
    text = texts[0]
    letters = [ch for ch in text if ch.isalpha()]
    return bool(_GROUP_HEADING.match(text)) or (len(letters) > 1 and text == text.upper())


def is_signature_row(cells: Iterable[Any]) -> bool:
    return any(_SIGNATURE.search(fold(text)) for text in (_text(cell) for cell in cells) if text)


def _text(value: Any) -> str:
    if value is None or not isinstance(value, str):
        return ""
    return " ".join(value.split())


def pick(cells: Sequence[Any], columns: tuple[int | None, ...]) -> tuple[Any, ...]:
    """A row's cells in the importer's order: a column the file lacks (an optional one) is None."""
    return tuple(cells[column] if column is not None and column < len(cells) else None for column in columns)


def split_rows(
    rows: Iterator[tuple[int, Sequence[Any], bool]], layout: Layout, width: int
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The data rows under the header, in the importer's order; totals rows, the signature block and
    hidden rows are recorded in `layout` and left out. A row that looks like data under a signature
    block is still yielded (the importer reports what is wrong with it), so nothing is lost silently."""
    signature_from: int | None = None
    for number, cells, hidden in rows:
        if not any(_filled(cell) for cell in cells):
            continue
        picked = pick(cells, layout.columns)
        # The key column (the unit's code, first in both importers) holds a code on every row of
        # data: a row with one is never taken for a signer's line or a total, whatever its title
        # reads like ("Đề xuất của Chủ tịch CĐCS", "Tổng 5 giải pháp…"); the importer reports
        # what else is wrong with it. A label typed in that column itself ("Tổng cộng") is no code.
        key = picked[0] if picked else None
        if (
            not _looks_like_data(picked, width)
            and (not _filled(key) or is_signature_row([key]))
            and (signature_from is not None or is_signature_row(cells))
        ):
            signature_from = signature_from or number
            layout.signature_rows.append(number)
            continue
        if is_totals_row(cells) and (not _filled(key) or is_totals_row([key])):
            layout.totals_rows.append(number)
            continue
        # Group headings and subtotals inside the data ("I. KHỐI SẢN XUẤT", "Cộng đơn vị A"): never
        # a row with a code, nor one holding more than a heading or a label and its sums.
        if (not _filled(key) or _is_label(key)) and is_subtotal_row(cells):
            layout.totals_rows.append(number)
            continue
        if (not _filled(key) or _is_label(key)) and is_group_row(cells):
            layout.group_rows.append(number)
            continue
        if hidden:
            layout.hidden_rows.append(number)
            continue
        yield number, picked


def _is_label(key: Any) -> bool:
    """A heading or a subtotal's label typed in the key column itself: words ("I. KHỐI SẢN XUẤT",
    "Cộng đơn vị A"), where a code never has a space."""
    return isinstance(key, str) and " " in key.strip()


def _filled(cell: Any) -> bool:
    return cell is not None and (not isinstance(cell, str) or bool(cell.strip()))


def _looks_like_data(cells: tuple[Any, ...], width: int) -> bool:
    """Most of the importer's columns filled: a row of data, not a signer's title or name."""
    return sum(1 for cell in cells if _filled(cell)) * 2 > width
