"""Import of quarter targets (chỉ tiêu quý) from the sheet a board keeps: `Mã đơn vị | Quý | Chỉ tiêu`.

All rows are read and checked first; any bad row means nothing is written and every problem is
reported with its row number and column. Re-importing a file updates the targets in place; a
quarter the file does not name keeps what it had.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from initiatives.models import Program, QuarterTarget
from initiatives.quarters import Quarter, outside_message, parse_quarter
from sangkien.spreadsheets import (
    Layout,
    SheetIssue,
    SpreadsheetError,
    TableSpec,
    at_most,
    cell_text,
    read_rows,
    whole_number,
)
from sangkien.spreadsheets import template_workbook as spreadsheet_template
from sangkien.xlsx_guard import vietnamese_number
from unions.models import Union, User
from unions.permissions import may_set_target

HEADER = ("Mã đơn vị", "Quý", "Chỉ tiêu")
CODE, QUARTER, QUANTITY = range(len(HEADER))
SPEC = TableSpec(
    headers=HEADER,
    aliases={
        "Mã đơn vị": ("Mã ĐV", "Mã công đoàn"),
        "Quý": ("Quý/năm", "Kỳ", "Quý năm"),
        "Chỉ tiêu": ("Chỉ tiêu quý", "Chỉ tiêu sáng kiến", "Số sáng kiến"),
    },
)
EXAMPLE_ROWS = (("CTVN", "Quý 1/2023", 1200), ("CTVN-RD", "Quý 1/2023", 15), ("CTVN-RD", "Quý 2/2023", 20))
MAX_QUANTITY = 2_147_483_647  # the column is a PostgreSQL integer


def _issue(row: int, column: int, message: str) -> SheetIssue:
    return SheetIssue(row, column, HEADER[column], message)


@dataclass(frozen=True)
class Row:
    row: int
    code: str
    quarter: Quarter
    quantity: int


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    layout: Layout | None = None


def _quarter(value: Any, program: Program) -> tuple[Quarter | None, str]:
    """The quarter a cell names and, when it names none the programme has, why (Vietnamese)."""
    if isinstance(value, dt.date):
        # Excel turns "2/2023" typed in a cell into 1 February 2023: the quarter meant is lost.
        return None, _(
            "Excel turned this cell into a date (%(date)s): type the quarter as “Quý 2/2023”, or format "
            "the column as text before typing."
        ) % {"date": value.strftime("%d/%m/%Y")}
    quarter = parse_quarter(cell_text(value))
    if quarter is None:
        return None, _("“%(value)s” is not a quarter; write it as “Quý 1/2023”.") % {"value": cell_text(value)}
    return quarter, outside_message(program, quarter)


def _parse(numbered_rows: Any, program: Program, issues: list[SheetIssue]) -> list[Row]:
    rows: list[Row] = []
    first: dict[tuple[str, Quarter], int] = {}
    for number, cells in numbered_rows:
        before = len(issues)
        code = cell_text(cells[CODE])
        if not code:
            issues.append(_issue(number, CODE, _("The unit code is missing.")))
        quarter, problem = _quarter(cells[QUARTER], program)
        if problem:
            issues.append(_issue(number, QUARTER, problem))
        quantity = whole_number(cells[QUANTITY], most=MAX_QUANTITY)
        if quantity is None and cell_text(cells[QUANTITY]) == "":
            issues.append(_issue(number, QUANTITY, _("The target is missing.")))
        elif quantity is None:
            issues.append(
                _issue(
                    number,
                    QUANTITY,
                    _("“%(value)s” is not a whole number of initiatives (0 to %(max)s).")
                    % {"value": cell_text(cells[QUANTITY]), "max": vietnamese_number(MAX_QUANTITY)},
                )
            )
        if quarter is not None and code and (code, quarter) in first:
            issues.append(
                _issue(
                    number,
                    QUARTER,
                    _("The target of %(code)s for %(quarter)s already appears in row %(row)s.")
                    % {"code": code, "quarter": quarter.label(), "row": first[code, quarter]},
                )
            )
        elif quarter is not None and code:
            first[code, quarter] = number
        if len(issues) == before:
            assert quarter is not None and quantity is not None
            rows.append(Row(number, code, quarter, quantity))
    return rows


def _units(rows: list[Row], user: User | None, issues: list[SheetIssue]) -> dict[str, Union]:
    """The units the rows name, found by code, each one the importing account may set a target of."""
    codes = sorted({row.code for row in rows})
    units: dict[str, Union] = {}
    for start in range(0, len(codes), 5000):
        units.update((unit.code, unit) for unit in Union.objects.filter(code__in=codes[start : start + 5000]))
    for row in rows:
        unit = units.get(row.code)
        if unit is None:
            issues.append(_issue(row.row, CODE, _("No unit has the code “%(code)s”.") % {"code": row.code}))
        elif user is not None and not may_set_target(user, unit):
            issues.append(
                _issue(
                    row.row,
                    CODE,
                    _("You may not set the target of %(unit)s: the level above it assigns it.") % {"unit": unit},
                )
            )
    return units


def import_quarter_targets(
    source: str | Path | IO[bytes], *, program: Program, user: User | None = None
) -> ImportResult:
    """Validate the whole file, then create or update every quarter target in one transaction.

    `user` is the board account importing from the admin, held to the targets it may set (None:
    no account's limits, for the server's own scripts)."""
    issues: list[SheetIssue] = []
    layout = Layout()
    limit = settings.QUARTER_TARGET_IMPORT_MAX_ROWS
    numbered_rows = read_rows(
        source, spec=SPEC, max_bytes=settings.QUARTER_TARGET_IMPORT_MAX_BYTES, max_rows=limit, layout=layout
    )
    rows = _parse(
        at_most(
            numbered_rows,
            limit,
            too_many=_("The file has more than %(limit)s target rows; split it into several files (a quarter each).")
            % {"limit": vietnamese_number(limit)},
        ),
        program,
        issues,
    )
    units = _units(rows, user, issues)
    if issues:
        raise SpreadsheetError(issues, layout=layout)
    if not rows:
        raise SpreadsheetError(_("The file has a header but no target rows."))
    result = ImportResult(layout=layout)
    # Only the file's quarters of the file's units are read back (a national file: ~130,000).
    wanted = {(units[row.code].pk, row.quarter.year, row.quarter.number) for row in rows}
    unit_ids = sorted({unit_id for unit_id, _year, _quarter in wanted})
    years = sorted({year for _unit, year, _quarter in wanted})
    existing: dict[tuple[int, int, int], int] = {}
    for start in range(0, len(unit_ids), 5000):
        found = QuarterTarget.objects.filter(
            program=program, unit_id__in=unit_ids[start : start + 5000], year__in=years
        ).values_list("unit_id", "year", "quarter", "quantity")
        existing.update(((unit_id, year, quarter), quantity) for unit_id, year, quarter, quantity in found)
    written = []
    for row in rows:
        key = (units[row.code].pk, row.quarter.year, row.quarter.number)
        before = existing.get(key)
        if before == row.quantity:
            result.unchanged += 1
            continue
        if before is None:
            result.created += 1
        else:
            result.updated += 1
        written.append(
            QuarterTarget(program=program, unit_id=key[0], year=key[1], quarter=key[2], quantity=row.quantity)
        )
    # Created or updated in one statement per batch: a second import of the same quarters at the
    # same moment updates them rather than failing on the unique constraint.
    with transaction.atomic():
        QuarterTarget.objects.bulk_create(
            written,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["program", "unit", "year", "quarter"],
            update_fields=["quantity"],
        )
    return result


def template_workbook() -> bytes:
    return spreadsheet_template(title=_("Quarter targets"), header=HEADER, examples=EXAMPLE_ROWS, widths=(18, 16, 12))
