"""Import of initiatives from the officers' Excel template, from the site or the command line.

Every row is checked first; one bad row means nothing is imported and every problem is reported
by row and column. Otherwise all rows become submitted initiatives in one transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from openpyxl.utils.datetime import from_excel

from initiatives import counting, likeness
from initiatives.models import MAX_VALUE_VND, Author, Field, Initiative, Program, StatusChange
from initiatives.services import outside_programme, phase_on
from sangkien.spreadsheets import (
    ChoiceList,
    Layout,
    SheetIssue,
    SpreadsheetError,
    TableSpec,
    cell_text,
    max_length,
    read_rows,
    template_workbook,
)
from sangkien.text import BLANK_MARKS, clean_text, fold, fold_key, parse_vnd
from unions.imports import lost_zeros_message, portal_zero_padded, stripped_number
from unions.models import Union, User
from unions.permissions import can_act_in

HEADER = (
    "Mã đơn vị",
    "Tên sáng kiến",
    "Lĩnh vực",
    "Loại giải pháp",
    "Tác giả",
    "Tóm tắt nội dung",
    "Ngày áp dụng lần đầu",
    "Giá trị làm lợi (đồng)",
)
UNIT, TITLE, FIELD, KIND, AUTHORS, SUMMARY, APPLIED, VALUE = range(len(HEADER))
# The other headers offices write over the same columns (compared folded: case, diacritics,
# line breaks, "(*)" and "(VNĐ)" aside).
SPEC = TableSpec(
    headers=HEADER,
    aliases={
        "Mã đơn vị": ("Mã ĐV", "Mã công đoàn", "Mã đơn vị công đoàn"),
        "Tên sáng kiến": (
            "Tên sáng kiến, giải pháp",
            "Tên sáng kiến/giải pháp",
            "Tên giải pháp",
            "Tên đề tài, sáng kiến",
            "Tên sáng kiến, giải pháp, đề tài",
        ),
        "Lĩnh vực": ("Lĩnh vực áp dụng",),
        "Loại giải pháp": ("Loại", "Loại sáng kiến", "Phân loại"),
        "Tác giả": (
            "Tác giả, đồng tác giả",
            "Tác giả/đồng tác giả",
            "Tác giả (tỷ lệ đóng góp)",
            "Họ và tên tác giả",
            "Họ tên tác giả",
        ),
        "Tóm tắt nội dung": ("Tóm tắt", "Nội dung tóm tắt", "Tóm tắt nội dung sáng kiến", "Mô tả"),
        "Ngày áp dụng lần đầu": ("Ngày áp dụng", "Ngày áp dụng lần đầu tiên", "Thời gian áp dụng lần đầu"),
        "Giá trị làm lợi (đồng)": ("Giá trị làm lợi", "Giá trị làm lợi (VNĐ)", "Giá trị làm lợi (đ)"),
    },
)
EXAMPLE_ROWS = (
    (
        "CTVN-RANGDONG",
        "Cải tiến dây chuyền đóng gói bóng đèn LED",
        "Kỹ thuật – sản xuất",
        "Giải pháp kỹ thuật",
        "Nguyễn Văn An (60%); Trần Thị Bình (40%)",
        "Tự động hóa khâu đóng hộp, giảm 30% thời gian thao tác.",
        "15/03/2022",
        "120.000.000",
    ),
)
AUTHOR_NAME_MAX = max_length(Author, "full_name")
_AUTHOR = re.compile(
    r"^(?P<name>[^()]+?)\s*(?:\(\s*(?P<share>[\d.,]+)\s*%?\s*\)|[:–-]?\s*(?P<bare_share>\d[\d.,]*)\s*%)?$"
)
_AUTHOR_SEPARATORS = re.compile(r"\s*(?:[;\n]|\s+và\s+)\s*", re.IGNORECASE)
# A comma between two digits is a decimal one ("33,5%"), inside brackets it is part of a share.
_COMMA_OUTSIDE_BRACKETS = re.compile(r"(?:(?<!\d),|,(?!\d))(?![^()]*\))")
_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
# A time after the date ("06/05/2022 08:30", "2022-05-06T08:30:00") says nothing about the day.
_TIME = re.compile(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?)$")


def _issue(row: int, column: int, message: str) -> SheetIssue:
    return SheetIssue(row, column, HEADER[column], message)


def kind_aliases() -> dict[str, str]:
    """Folded spellings of each kind of solution: Vietnamese and English labels, with or without
    "giải pháp", plus the short forms of the programme's guide."""
    aliases: dict[str, str] = {"de tai nckh": "research", "nckh": "research"}
    for kind in Initiative.Kind:
        for language in ("vi", "en"):
            with override(language):
                label = fold_key(str(kind.label))
            aliases[label] = kind.value
            aliases[re.sub(r"^(giai phap|solution) ", "", label)] = kind.value
            aliases[re.sub(r" solution$", "", label)] = kind.value
        aliases[kind.value] = kind.value
    return aliases


def _author_parts(text: str) -> list[str]:
    """The authors a cell lists: one a line (Alt+Enter), or separated by ";", "," or " và ", the
    decimal commas of the shares ("33,5%") excepted."""
    parts: list[str] = []
    for piece in _AUTHOR_SEPARATORS.split(text):
        parts.extend(part for part in _COMMA_OUTSIDE_BRACKETS.split(piece))
    return [" ".join(part.split()) for part in parts if part.strip()]


def parse_authors(text: str) -> list[tuple[str, Decimal]] | str:
    """ "Nguyễn Văn A (60%); Trần Thị B (40%)" → names and shares; one name alone means 100%.

    Authors may also be one a line, or separated by commas or "và"; a share may follow the name
    without brackets ("Nguyễn Văn A 60%"). Several names without shares are never read as one
    author: the message asks for each one's share. Returns the error message instead when the
    text cannot be read.
    """
    parts = _author_parts(clean_text(text, multiline=True))
    if not parts:
        return _("Enter at least one author.")
    authors: list[tuple[str, Decimal | None]] = []
    for part in parts:
        match = _AUTHOR.match(part)
        if not match or any(ch.isdigit() for ch in match["name"]):
            # A digit in a name is a share without its "%": "Nguyễn Văn A 60" is not a name.
            return _("Cannot read “%(part)s”; write authors as: Nguyễn Văn A (60%%); Trần Thị B (40%%).") % {
                "part": part
            }
        share = None
        if raw_share := match["share"] or match["bare_share"]:
            try:
                share = Decimal(raw_share.replace(",", "."))
            except InvalidOperation:
                share = Decimal(-1)
            # Two decimals at most, as stored: 33,333% would silently become 33,33%.
            exponent = share.as_tuple().exponent  # an int: the pattern admits digits only
            if not Decimal(0) < share <= 100 or (isinstance(exponent, int) and exponent < -2):
                return _("“%(part)s” needs a share above 0 and up to 100%%, with at most two decimals.") % {
                    "part": part
                }
        name = " ".join(match["name"].split())
        if len(name) > AUTHOR_NAME_MAX:
            return _("The author's name “%(name)s…” is longer than %(max)s characters.") % {
                "name": name[:40],
                "max": AUTHOR_NAME_MAX,
            }
        authors.append((name, share))
    if len(authors) == 1 and authors[0][1] is None:
        return [(authors[0][0], Decimal(100))]
    shared = [(name, share) for name, share in authors if share is not None]
    if len(shared) < len(authors):
        return _(
            "%(count)s authors (%(names)s) but not every one's share: give each one's share, "
            "e.g. Nguyễn Văn A (60%%); Trần Thị B (40%%)."
        ) % {"count": len(authors), "names": "; ".join(name for name, _share in authors)}
    total = sum((share for _name, share in shared), Decimal(0))
    if total != 100:
        return _("The authors' shares must add up to 100%%; they add up to %(total)s%%.") % {
            "total": f"{total.normalize():f}".replace(".", ",")
        }
    return shared


def parse_date(value: Any) -> dt.date | None:
    """A date as officers write it: an Excel date or datetime cell, an Excel serial number,
    "15/03/2022" (or with "." or "-"), "15/03/22" (20xx), "2022-03-15", each with a time or not."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value < 2_958_466:
        if bare_year(value) is not None:
            return None  # 2022 typed alone is a year, not the 2022nd day of 1900
        return from_excel(value).date()  # an Excel serial date in a cell formatted as a number
    text = _TIME.sub("", cell_text(value))
    if match := _DATE.match(text):
        day, month, year = int(match[1]), int(match[2]), int(match[3])
        if len(match[3]) == 2:
            year += 2000  # "06/05/22": initiatives are of this century
    elif match := _ISO_DATE.match(text):
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    else:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def bare_year(value: Any) -> int | None:
    """The year, when a date cell holds a year alone ("2022", or the number 2022)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    text = cell_text(value)
    return int(text) if re.fullmatch(r"(19|20)\d\d", text) else None


def parse_amount(value: Any) -> int | str | None:
    """A value benefit in đồng; None for blank (or a "-"); the error message when unreadable."""
    if value is None or cell_text(value) in ("", *BLANK_MARKS):
        return None
    if isinstance(value, bool):
        return _("Enter a whole amount in đồng, for example 10.000.000 or 1,5 tỷ.")
    amount: int | None
    if isinstance(value, int):
        amount = value
    elif isinstance(value, float):
        amount = int(value) if value.is_integer() else None
    elif isinstance(value, Decimal):
        amount = int(value) if value == value.to_integral_value() else None
    else:
        amount = parse_vnd(str(value))
    if amount is None or amount < 0:
        return _("Enter a whole amount in đồng, for example 10.000.000 or 1,5 tỷ.")
    if amount > MAX_VALUE_VND:
        return _("%(value)s đồng is more than any initiative's value benefit; check the amount.") % {
            "value": cell_text(value)
        }
    return amount


@dataclass
class ParsedRow:
    row: int
    unit: Union
    title: str
    field: Field
    kind: str
    authors: list[tuple[str, Decimal]]
    summary: str
    first_applied_on: dt.date
    value_vnd: int | None


@dataclass
class InitiativeImportResult:
    created: int
    layout: Layout  # where the table was found and what was skipped, for the summary


def _units_for(user: User, codes: set[str]) -> tuple[dict[str, Union], set[str]]:
    """The units named in the file that the user may act in, and the codes that exist elsewhere."""
    found = Union.objects.active().filter(code__in=codes).only("pk", "code", "name", "path")
    mine: dict[str, Union] = {}
    elsewhere: set[str] = set()
    for unit in found:
        if can_act_in(user, unit):
            mine[unit.code] = unit
        else:
            elsewhere.add(unit.code)
    return mine, elsewhere


def import_initiatives(
    source: str | Path | IO[bytes], *, user: User, program: Program, token: uuid.UUID | None = None
) -> InitiativeImportResult:
    """Check every row, then create them all as submitted initiatives in one transaction, each
    marked with `token` (the import form's one-time token) when given."""
    limit = settings.INITIATIVE_IMPORT_MAX_ROWS
    raw = []
    layout = Layout()
    for number, cells in read_rows(
        source, spec=SPEC, max_bytes=settings.INITIATIVE_IMPORT_MAX_BYTES, max_rows=limit, layout=layout
    ):
        raw.append((number, cells))
        if len(raw) > limit:
            raise SpreadsheetError(
                _("The file has more than %(limit)s initiatives; split it into several files.") % {"limit": limit}
            )
    if not raw:
        raise SpreadsheetError(_("The file has a header but no initiatives."))
    units, elsewhere = _units_for(user, {cell_text(cells[UNIT]) for _n, cells in raw})
    fields = {fold_key(field.name): field for field in Field.objects.filter(is_active=True)}
    kinds = kind_aliases()
    # A code Excel stripped of its zeros ("1234" for "001234") names the code it probably meant.
    padded = functools.cache(portal_zero_padded)
    title_max = max_length(Initiative, "title")
    issues: list[SheetIssue] = []
    parsed: list[ParsedRow] = []
    for number, cells in raw:
        before = len(issues)
        code = cell_text(cells[UNIT])
        unit = units.get(code)
        if not code:
            issues.append(_issue(number, UNIT, _("The unit code is missing.")))
        elif code in elsewhere:
            issues.append(_issue(number, UNIT, _("The unit “%(code)s” is not one of your units.") % {"code": code}))
        elif unit is None and stripped_number(code) and (meant := padded().get(int(code))):
            issues.append(_issue(number, UNIT, lost_zeros_message(code, meant)))
        elif unit is None:
            issues.append(_issue(number, UNIT, _("There is no unit with the code “%(code)s”.") % {"code": code}))
        title = cell_text(cells[TITLE])
        if not title:
            issues.append(_issue(number, TITLE, _("The title is missing.")))
        elif len(title) > title_max:
            issues.append(_issue(number, TITLE, _("The title is longer than %(max)s characters.") % {"max": title_max}))
        field = fields.get(fold_key(cell_text(cells[FIELD])))
        if field is None:
            issues.append(
                _issue(
                    number,
                    FIELD,
                    _("Unknown field “%(value)s”; use one of: %(choices)s.")
                    % {"value": cell_text(cells[FIELD]), "choices": ", ".join(f.name for f in fields.values())},
                )
            )
        kind = kinds.get(fold_key(cell_text(cells[KIND])))
        if kind is None:
            issues.append(
                _issue(
                    number,
                    KIND,
                    _("Unknown kind of solution “%(value)s”; use one of: %(choices)s.")
                    % {"value": cell_text(cells[KIND]), "choices": ", ".join(str(k.label) for k in Initiative.Kind)},
                )
            )
        authors = parse_authors(str(cells[AUTHORS] or ""))  # not cell_text: its line breaks separate authors
        if isinstance(authors, str):
            issues.append(_issue(number, AUTHORS, authors))
        applied = parse_date(cells[APPLIED])
        if applied is None and (year := bare_year(cells[APPLIED])) is not None:
            issues.append(
                _issue(
                    number,
                    APPLIED,
                    _("%(year)s is only a year: write the full date of first application as dd/mm/yyyy.")
                    % {"year": year},
                )
            )
        elif applied is None:
            issues.append(
                _issue(
                    number,
                    APPLIED,
                    _("“%(value)s” is not a date; write it as dd/mm/yyyy.") % {"value": cell_text(cells[APPLIED])},
                )
            )
        elif message := outside_programme(program=program, day=applied):
            issues.append(_issue(number, APPLIED, message))
        summary = clean_text(str(cells[SUMMARY] or ""), multiline=True)  # keep the officer's line breaks
        value = parse_amount(cells[VALUE])
        if isinstance(value, str):
            issues.append(_issue(number, VALUE, value))
        if len(issues) == before:
            # Each check above that fails reports an issue, so every part is there.
            assert unit is not None and field is not None and kind is not None and applied is not None
            assert not isinstance(authors, str) and not isinstance(value, str)
            parsed.append(ParsedRow(number, unit, title, field, kind, authors, summary, applied, value))
    issues.extend(_duplicates(parsed, program=program))
    if issues:
        raise SpreadsheetError(issues, layout=layout)
    return InitiativeImportResult(created=_create(parsed, user=user, program=program, token=token), layout=layout)


def _duplicates(rows: list[ParsedRow], *, program: Program) -> list[SheetIssue]:
    """The same title twice for one unit, in the file or already submitted: uploading a file
    twice must not file every initiative twice."""
    submitted = Initiative.objects.filter(program=program, unit__in={row.unit.pk for row in rows}).submitted()
    known: dict[tuple[int, str], int | None] = {
        (unit_id, fold(title)): None for unit_id, title in submitted.values_list("unit_id", "title")
    }
    issues = []
    for row in rows:
        key = (row.unit.pk, fold(row.title))
        if key in known:
            earlier = known[key]
            message = (
                _("The same title for the same unit is already in row %(row)s.") % {"row": earlier}
                if earlier
                else _("Your unit has already submitted an initiative with this title; remove the row.")
            )
            issues.append(_issue(row.row, TITLE, message))
        else:
            known[key] = row.row
    return issues


@transaction.atomic
def _create(rows: list[ParsedRow], *, user: User, program: Program, token: uuid.UUID | None) -> int:
    now = timezone.now()
    phase = phase_on(program=program, day=timezone.localdate(now))
    initiatives = []
    for row in rows:
        initiative = Initiative(
            program=program,
            phase=phase,
            unit=row.unit,
            title=row.title,
            field=row.field,
            kind=row.kind,
            summary=row.summary,
            first_applied_on=row.first_applied_on,
            value_vnd=row.value_vnd,
            status=Initiative.Status.SUBMITTED,
            submitted_at=now,
            created_by=user,
            import_token=token,
        )
        initiative.refresh_search_text([name for name, _share in row.authors])
        initiatives.append(initiative)
    Initiative.objects.bulk_create(initiatives, batch_size=1000)
    counting.mark(initiative.pk for initiative in initiatives)  # bulk_create sends no post_save
    likeness.remember(initiatives)
    Author.objects.bulk_create(
        (
            Author(initiative=initiative, full_name=name, share_percent=share, order=order)
            for initiative, row in zip(initiatives, rows, strict=True)
            for order, (name, share) in enumerate(row.authors)
        ),
        batch_size=2000,
    )
    StatusChange.objects.bulk_create(
        (
            StatusChange(
                initiative=initiative,
                from_status=Initiative.Status.DRAFT,
                to_status=Initiative.Status.SUBMITTED,
                by=user,
                at=now,
                reason=_("Imported from Excel"),
            )
            for initiative in initiatives
        ),
        batch_size=2000,
    )
    return len(initiatives)


def import_template() -> bytes:
    """The header on the sheet that is imported; the example on a second sheet, never imported;
    drop-down lists of the active fields and of the kinds of solution, on a hidden third sheet."""
    with override("vi"):  # the header is Vietnamese whatever the language: so are the lists
        kinds = [str(kind.label) for kind in Initiative.Kind]
        choices = [
            ChoiceList(
                column=FIELD,
                values=list(Field.objects.filter(is_active=True).values_list("name", flat=True)),
                title=_("Field"),
                error=_("Choose a field from the list."),
            ),
            ChoiceList(
                column=KIND,
                values=kinds,
                title=_("Kind of solution"),
                error=_("Choose a kind of solution from the list."),
            ),
        ]
    return template_workbook(
        title="Sáng kiến",
        header=HEADER,
        examples=EXAMPLE_ROWS,
        examples_sheet="Ví dụ",
        widths=(16, 50, 24, 24, 40, 50, 20, 22),
        choices=choices,
        choices_sheet="Danh mục",
        rows=settings.INITIATIVE_IMPORT_MAX_ROWS,
    )
