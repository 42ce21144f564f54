"""Import of the units spreadsheet (about 130,000 rows nationally).

All rows are read and checked first; any bad row means nothing is written and every problem is
reported with its row number and column. Re-importing a file updates the units in place.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from sangkien.spreadsheets import (
    Layout,
    SheetIssue,
    SpreadsheetError,
    TableSpec,
    at_most,
    cell_text,
    max_length,
    read_rows,
    whole_number,
)
from sangkien.spreadsheets import template_workbook as spreadsheet_template
from sangkien.text import fold_key
from sangkien.xlsx_guard import vietnamese_number
from unions.levels import parse_level
from unions.models import CODE_PATTERN, EmulationCluster, Union, User
from unions.permissions import may_change_programme_settings, may_change_unit, may_hold_path
from unions.services import check_level_above, check_level_under, check_root, child_path, union_rebuild_paths

HEADER = ("Mã đơn vị", "Tên đơn vị", "Cấp", "Mã đơn vị cấp trên", "Số đoàn viên", "Cụm thi đua")
CODE, NAME, LEVEL, PARENT, MEMBERS, CLUSTER = range(len(HEADER))
# The other headers the boards' files use (compared folded, as `sangkien.sheet_layout` does).
SPEC = TableSpec(
    headers=HEADER,
    aliases={
        "Mã đơn vị": ("Mã ĐV", "Mã công đoàn"),
        "Tên đơn vị": ("Tên công đoàn", "Tên đơn vị công đoàn", "Tên CĐCS"),
        "Cấp": ("Cấp đơn vị", "Cấp công đoàn"),
        "Mã đơn vị cấp trên": ("Mã cấp trên", "Mã công đoàn cấp trên", "Mã ĐV cấp trên"),
        "Số đoàn viên": ("Số ĐV", "Tổng số đoàn viên", "Đoàn viên"),
        "Cụm thi đua": ("Cụm", "Khối thi đua", "Cụm, khối thi đua"),
    },
)
EXAMPLE_ROWS = (
    ("TLD", "Tổng Liên đoàn Lao động Việt Nam", "Tổng Liên đoàn", "", 11000000, ""),
    ("CTVN", "Công đoàn Công Thương Việt Nam", "Cấp tỉnh/ngành", "TLD", 250000, "Khối công đoàn ngành"),
    ("CTVN-RD", "Công đoàn Công ty CP Bóng đèn - Phích nước Rạng Đông", "Cơ sở", "CTVN", 2600, ""),
)

_CODE_RE = re.compile(CODE_PATTERN)


def _issue(row: int, column: int, message: str) -> SheetIssue:
    return SheetIssue(row, column, HEADER[column], message)


@dataclass(kw_only=True)
class UnitRow:
    row: int
    code: str
    name: str
    level: str
    parent_code: str
    member_count: int
    cluster: str


@dataclass(kw_only=True)
class ImportResult:
    created: int = 0
    updated: int = 0
    clusters_created: int = 0
    moved: int = 0
    layout: Layout | None = None  # where the table was found and what was skipped, for the summary


MAX_MEMBERS = 2_147_483_647  # the column is a PostgreSQL integer


def _count(value: Any) -> int | None:
    """A member count: a whole number from 0 to MAX_MEMBERS, plain or with thousands separators; 0 when empty."""
    if value is None or value == "":
        return 0
    return whole_number(value if isinstance(value, int | float) else str(value), most=MAX_MEMBERS)


def _parse(
    numbered_rows: Iterable[tuple[int, tuple[Any, ...]]], issues: list[SheetIssue]
) -> tuple[dict[str, UnitRow], set[str]]:
    """Check each row on its own; return the good rows by code, and every code the file names."""
    rows: dict[str, UnitRow] = {}
    first_row: dict[str, int] = {}
    named: set[str] = set()
    code_max = max_length(Union, "code")
    name_max = max_length(Union, "name")
    cluster_max = max_length(EmulationCluster, "name")
    for number, cells in numbered_rows:
        before = len(issues)
        code = cell_text(cells[CODE])
        named.add(code)
        if not code:
            issues.append(_issue(number, CODE, _("The unit code is missing.")))
        elif len(code) > code_max or not _CODE_RE.match(code):
            issues.append(
                _issue(
                    number,
                    CODE,
                    _(
                        "“%(code)s” is not a valid unit code "
                        "(letters, digits, '.', '_', '-'; at most %(max)s characters)."
                    )
                    % {"code": code, "max": code_max},
                )
            )
        elif code in first_row:
            issues.append(
                _issue(
                    number,
                    CODE,
                    _("The unit code “%(code)s” already appears in row %(row)s.")
                    % {"code": code, "row": first_row[code]},
                )
            )
        else:
            first_row[code] = number
        name = cell_text(cells[NAME])
        if not name:
            issues.append(_issue(number, NAME, _("The unit name is missing.")))
        elif len(name) > name_max:
            issues.append(
                _issue(number, NAME, _("The unit name is longer than %(max)s characters.") % {"max": name_max})
            )
        level = parse_level(cells[LEVEL])
        if level is None:
            issues.append(
                _issue(
                    number,
                    LEVEL,
                    _("Unknown level “%(value)s”; use one of: Tổng Liên đoàn, Cấp tỉnh/ngành, Cấp trên cơ sở, Cơ sở.")
                    % {"value": cell_text(cells[LEVEL])},
                )
            )
        parent_code = cell_text(cells[PARENT])
        if parent_code and parent_code == code:
            issues.append(_issue(number, PARENT, _("A unit cannot be its own parent.")))
        elif not parent_code and level and (message := check_root(level=level)):
            issues.append(_issue(number, PARENT, message))
        members = _count(cells[MEMBERS])
        if members is None:
            issues.append(
                _issue(
                    number,
                    MEMBERS,
                    _("“%(value)s” is not a whole number of members (0 to %(max)s).")
                    % {"value": cell_text(cells[MEMBERS]), "max": f"{MAX_MEMBERS:,}".replace(",", ".")},
                )
            )
        cluster = cell_text(cells[CLUSTER])
        if len(cluster) > cluster_max:
            issues.append(
                _issue(number, CLUSTER, _("The cluster name is longer than %(max)s characters.") % {"max": cluster_max})
            )
        if len(issues) == before:
            assert level is not None and members is not None  # else the checks above reported it
            rows[code] = UnitRow(
                row=number, code=code, name=name, level=level, parent_code=parent_code, member_count=members,
                cluster=cluster,
            )  # fmt: skip
    # A bad row's code stays known so its children do not also report an "unknown parent".
    named.discard("")
    return rows, named


def _existing(codes: set[str]) -> dict[str, Union]:
    found: dict[str, Union] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), 5000):
        chunk = ordered[start : start + 5000]
        for unit in Union.objects.filter(code__in=chunk).order_by():
            found[unit.code] = unit
    return found


def _child_levels_outside(parents: dict[int, str], file_codes: set[str]) -> dict[str, set[str]]:
    """Levels of the existing subunits of `parents` (pk → code) that the file does not name."""
    levels: dict[str, set[str]] = {}
    ids = sorted(parents)
    for start in range(0, len(ids), 5000):
        children = Union.objects.filter(parent_id__in=ids[start : start + 5000]).order_by()
        for parent_id, code, level in children.values_list("parent_id", "code", "level"):
            if code not in file_codes:
                levels.setdefault(parents[parent_id], set()).add(level)
    return levels


def _plan(
    rows: dict[str, UnitRow], file_codes: set[str], issues: list[SheetIssue]
) -> tuple[dict[str, Union], dict[str, tuple[str, int]]]:
    """Check the tree the file makes with the database; return DB units and each file row's path."""
    referenced = file_codes | {row.parent_code for row in rows.values() if row.parent_code}
    db = _existing(referenced)
    # A database unit's ancestors may be moved by the file: load them too, by the codes in its path.
    ancestor_codes = {code for unit in db.values() for code in unit.path_codes} - set(db)
    db.update(_existing(ancestor_codes))

    def parent_of(code: str) -> str:
        if code in rows:
            return rows[code].parent_code
        codes = db[code].path_codes
        return codes[-2] if len(codes) > 1 else ""

    def level_of(code: str) -> str | None:
        if code in rows:
            return rows[code].level
        return db[code].level if code in db and code not in file_codes else None

    for row in rows.values():
        if row.parent_code and row.parent_code not in file_codes and row.parent_code not in db:
            issues.append(
                _issue(
                    row.row,
                    PARENT,
                    _("The parent unit “%(code)s” is neither in the file nor in the portal.")
                    % {"code": row.parent_code},
                )
            )

    # Cycles: walk up from every row; `settled` holds codes already walked, so each loop is reported once.
    settled: set[str] = set()
    looped: set[str] = set()
    for start in rows:
        chain: list[str] = []
        seen: set[str] = set()
        code = start
        while code and code not in settled and code not in seen:
            if code not in rows and (code in file_codes or code not in db):
                break  # a bad row or an unknown parent, reported already
            seen.add(code)
            chain.append(code)
            code = parent_of(code)
        if code and code in seen:
            loop = chain[chain.index(code) :]
            for member in loop:
                if member in rows:
                    issues.append(
                        _issue(
                            rows[member].row,
                            PARENT,
                            _("The parent chain loops back to this unit: %(chain)s.")
                            % {"chain": " → ".join([*loop, code])},
                        )
                    )
            looped.update(loop)
        settled.update(chain)
    # Levels must go down the tree (checked after cycles: a loop always breaks this rule too),
    # also towards the subunits already in the portal that the file leaves where they are.
    for row in rows.values():
        if row.parent_code and row.code not in looped and level_of(row.parent_code):
            message = check_level_under(level=row.level, parent_level=level_of(row.parent_code))
            if message:
                issues.append(_issue(row.row, LEVEL, message))
    staying = _child_levels_outside({db[code].pk: code for code in rows if code in db}, file_codes)
    for code, child_levels in staying.items():
        message = check_level_above(level=rows[code].level, child_levels=child_levels)
        if message:
            issues.append(_issue(rows[code].row, LEVEL, message))
    if issues:
        return db, {}

    paths: dict[str, tuple[str, int]] = {}

    def path_of(code: str) -> tuple[str, int]:
        if code not in paths:
            parent = parent_of(code)
            if not parent:
                paths[code] = (child_path("", code), 1)
            else:
                parent_path, parent_depth = path_of(parent)
                paths[code] = (child_path(parent_path, code), parent_depth + 1)
        return paths[code]

    for code in rows:
        path_of(code)
    return db, paths


def _check_scope(
    rows: dict[str, UnitRow],
    db: dict[str, Union],
    paths: dict[str, tuple[str, int]],
    user: User,
    issues: list[SheetIssue],
) -> None:
    """A board account changes, creates and moves units only where the access policy lets it:
    a province's board inside its own subtree, never into or out of it."""
    for code, row in rows.items():
        unit = db.get(code)
        if unit is not None and not may_change_unit(user, unit):
            issues.append(
                _issue(
                    row.row,
                    CODE,
                    _("The unit “%(code)s” is outside your subtree: you may not change it.") % {"code": code},
                )
            )
        elif code in paths and not may_hold_path(user, paths[code][0]):
            issues.append(_issue(row.row, PARENT, _("This would place the unit outside your subtree.")))
    if not may_change_programme_settings(user):
        known = _known_clusters()
        for row in rows.values():
            if row.cluster and fold_key(row.cluster) not in known:
                issues.append(
                    _issue(
                        row.row,
                        CLUSTER,
                        _("There is no emulation cluster “%(name)s”; only the national board creates clusters.")
                        % {"name": row.cluster},
                    )
                )


def import_units(source: str | Path | IO[bytes], *, user: User | None = None) -> ImportResult:
    """Validate the whole file, then create or update every unit in one transaction.

    `user` is the board account importing from the admin, held to its scope; the command line
    (an operator of the server) passes none."""
    issues: list[SheetIssue] = []
    limit = settings.UNION_IMPORT_MAX_ROWS
    layout = Layout()
    numbered_rows = read_rows(
        source, spec=SPEC, max_bytes=settings.UNION_IMPORT_MAX_BYTES, max_rows=limit, layout=layout
    )
    rows, file_codes = _parse(
        at_most(
            numbered_rows,
            limit,
            too_many=_("The file has more than %(limit)s units; split it into several files.")
            % {"limit": vietnamese_number(limit)},
        ),
        issues,
    )
    _lost_zeros(rows, file_codes, issues)
    db, paths = _plan(rows, file_codes, issues)
    if user is not None:
        _check_scope(rows, db, paths, user, issues)
    if issues:
        raise SpreadsheetError(issues, layout=layout)
    if not rows:
        raise SpreadsheetError(_("The file has a header but no unit rows."))
    result = ImportResult(layout=layout)
    with transaction.atomic():
        clusters = _clusters({row.cluster for row in rows.values() if row.cluster}, result)
        pks = {code: unit.pk for code, unit in db.items()}
        existing: list[Union] = []
        originals: dict[str, tuple[Any, ...]] = {}
        created_by_depth: dict[int, list[tuple[UnitRow, Union]]] = {}
        for code, row in rows.items():
            path, depth = paths[code]
            unit = db.get(code) or Union(code=code)
            if unit.pk is not None:
                originals[code] = _columns(unit)
                result.moved += unit.path != path
            unit.name, unit.level, unit.member_count = row.name, row.level, row.member_count
            unit.cluster = clusters.get(row.cluster)
            unit.path, unit.depth = path, depth
            unit.refresh_search_text()
            if unit.pk is None:
                created_by_depth.setdefault(depth, []).append((row, unit))
            else:
                existing.append(unit)
        # Parents are created before their children, a depth at a time, so their ids are known.
        for depth in sorted(created_by_depth):
            batch = created_by_depth[depth]
            for row, unit in batch:
                unit.parent_id = pks[row.parent_code] if row.parent_code else None
            Union.objects.bulk_create([unit for _row, unit in batch], batch_size=2000)
            pks.update((unit.code, unit.pk) for _row, unit in batch)
            result.created += len(batch)
        for unit in existing:
            parent_code = rows[unit.code].parent_code
            unit.parent_id = pks[parent_code] if parent_code else None
        # Only rows that differ are written: re-importing an unchanged national file writes nothing.
        changed = [unit for unit in existing if _columns(unit) != originals[unit.code]]
        _update_units(changed)
        result.updated = len(changed)
        if result.moved:
            union_rebuild_paths()  # units not in the file but under a moved one follow it
    return result


# The columns an import writes, with the SQL type each VALUES entry is cast to.
UPDATED_COLUMNS = (
    ("name", "varchar(255)"),
    ("level", "varchar(16)"),
    ("parent_id", "bigint"),
    ("member_count", "integer"),
    ("cluster_id", "bigint"),
    ("path", "varchar(400)"),
    ("depth", "smallint"),
    ("search_text", "varchar(500)"),
)
UPDATE_BATCH = 1000


def _columns(unit: Union) -> tuple[Any, ...]:
    return tuple(getattr(unit, column) for column, _type in UPDATED_COLUMNS)


def _update_units(units: list[Union]) -> None:
    """WITH v AS (VALUES …) UPDATE … FROM v, a thousand rows a statement.

    Django's bulk_update writes one CASE per column over the whole batch: for 130,000 changed
    units it took 150 s of CPU, this takes seconds. Valid on PostgreSQL and SQLite ≥ 3.33.
    """
    table = connection.ops.quote_name(Union._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column, _type in UPDATED_COLUMNS)
    assignments = ", ".join(
        f"{connection.ops.quote_name(column)} = v.{connection.ops.quote_name(column)}"
        for column, _type in UPDATED_COLUMNS
    )
    row_sql = "(CAST(%s AS bigint), " + ", ".join(f"CAST(%s AS {sql_type})" for _c, sql_type in UPDATED_COLUMNS) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(units), UPDATE_BATCH):
            batch = units[start : start + UPDATE_BATCH]
            values = ", ".join([row_sql] * len(batch))
            params = [value for unit in batch for value in (unit.pk, *_columns(unit))]
            cursor.execute(
                f"WITH v(id, {names}) AS (VALUES {values}) "
                f"UPDATE {table} SET {assignments} FROM v WHERE {table}.id = v.id",
                params,
            )


def _known_clusters() -> dict[str, EmulationCluster]:
    """Every cluster by its `fold_key` (a few hundred rows at most): "Hoà Bình" in the file finds
    "Hòa Bình", a hyphen finds an en dash. Of look-alikes made before the key, the oldest wins."""
    return {fold_key(cluster.name): cluster for cluster in EmulationCluster.objects.order_by("-pk")}


def _clusters(names: set[str], result: ImportResult) -> dict[str, EmulationCluster]:
    """The cluster each spelling in the file names, by folded key; the missing ones are created
    once each, under the first spelling in alphabetical order."""
    known = _known_clusters()
    missing: dict[str, EmulationCluster] = {}
    for name in sorted(names):
        key = fold_key(name)
        if key not in known and key not in missing:
            missing[key] = EmulationCluster(name=name)
    EmulationCluster.objects.bulk_create(missing.values())
    known.update(missing)
    result.clusters_created = len(missing)
    return {name: known[fold_key(name)] for name in names}


def stripped_number(code: str) -> bool:
    """A code of digits only without a leading zero: what Excel leaves of "001234" typed into a
    column not formatted as text."""
    return code.isascii() and code.isdigit() and not code.startswith("0")


def zero_padded(codes: Iterable[str]) -> dict[int, str]:
    """The numeric codes among `codes` written with zeros in front, by their number (the first
    spelling of each wins)."""
    padded: dict[int, str] = {}
    for code in codes:
        if code.startswith("0") and code.isascii() and code.isdigit() and int(code):
            padded.setdefault(int(code), code)
    return padded


def portal_zero_padded() -> dict[int, str]:
    """The portal's zero-padded numeric codes by their number: read only when a file holds a
    `stripped_number` it does not know."""
    return zero_padded(Union.objects.filter(code__startswith="0").order_by("code").values_list("code", flat=True))


def lost_zeros_message(code: str, meant: str) -> str:
    """The error for a code that lost its leading zeros, naming the one it probably meant: shared
    by every import that refers to units by code."""
    return _(
        "“%(code)s” looks like a code that lost its leading zeros: did you mean “%(meant)s”? "
        "Format the column as Text in Excel and type the codes again."
    ) % {"code": code, "meant": meant}


def _lost_zeros(rows: dict[str, UnitRow], file_codes: set[str], issues: list[SheetIssue]) -> None:
    """A numeric code Excel stripped of its leading zeros ("1234" for "001234", when the column was
    not formatted as text) gets an error naming the code it probably meant: one the portal or the
    file holds with zeros in front, or the file's own zero-padded width. Those rows are set aside,
    as bad rows are, so the tree checks do not report them twice."""
    bare = {code for row in rows.values() for code in (row.code, row.parent_code) if stripped_number(code)}
    if not bare:
        return
    exists = set(_existing(bare))
    # Zero-padded numeric codes, in the portal and in the file (only read when a bare numeric code is there).
    padded = portal_zero_padded()
    for number, code in zero_padded(sorted(file_codes)).items():
        padded.setdefault(number, code)
    widths = Counter(len(code) for code in file_codes if code.startswith("0") and code.isascii() and code.isdigit())
    width = widths.most_common(1)[0][0] if widths else 0

    def meant(code: str, *, in_file: bool) -> str | None:
        if code in exists or (in_file and code in file_codes and int(code) not in padded):
            return None  # a real code of its own
        if int(code) in padded:
            return padded[int(code)]
        return code.zfill(width) if width > len(code) else None

    for code, row in list(rows.items()):
        for column, value in ((CODE, row.code), (PARENT, row.parent_code)):
            if value in bare and (guess := meant(value, in_file=column == PARENT)):
                issues.append(_issue(row.row, column, lost_zeros_message(value, guess)))
                rows.pop(code, None)


def template_workbook() -> bytes:
    """The downloadable template: the header and a few example rows."""
    return spreadsheet_template(title="Don vi", header=HEADER, examples=EXAMPLE_ROWS, widths=(14, 60, 20, 20, 14, 30))
