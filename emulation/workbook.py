"""The emulation-criteria workbook ("tiêu chí đánh giá thi đua") and the jobs that build it.

What a unit's row counts (as of the job's instant, the whole programme or one phase):
- its whole subtree's initiatives that are not drafts and were submitted by then, as the
  leaderboard counts them (initiatives.counting): submitted, valid, value benefit of the valid
  ones, by field and by quarter of submission;
- "participating": the subtree's grassroots units with at least one submitted initiative, out of
  all its grassroots units (a grassroots unit counts itself);
- the target (chỉ tiêu) and the member count recorded for the unit itself.

Each criterion turns one metric into points by its bands (the highest band whose threshold the
value reaches; none reached: 0 points); a unit's score is the sum of weight × points, and its
rank is within its level block and emulation cluster, among the units of the workbook (equal
scores share a rank).

How it stays fast and small at 130,000 units: the figures are counted in SQL into temporary tables
(one scan of the initiatives, then initiatives.counting's roll-up level by level, the leaderboard's
too); one query per level block then adds each criterion's value and points, the score and the rank in cluster,
and its rows come through a server-side cursor, written as they arrive by openpyxl's write-only
workbook. Memory holds a chunk of rows, never a sheet.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Generator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import openpyxl
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.db import connection
from django.db.models import F, Q
from django.template.defaultfilters import floatformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from emulation.kinds import BuildRefused, ExportKind, Progress, kind_of
from emulation.models import EmulationCriterion, ExportJob
from initiatives import counting
from initiatives.models import Field, Initiative, Phase, Program, Target
from sangkien.files import PARTIAL_SUFFIX, write_whole
from sangkien.spreadsheets import looks_like_formula, safe_cell, sheet_title
from unions.levels import BLOCKS
from unions.models import EmulationCluster, Union

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)

INTEGER = "#,##0"
DECIMAL = "#,##0.00"
PERCENT = "0.0%"
DATE_TIME = "dd/mm/yyyy hh:mm"
PROGRESS_EVERY = 2000  # rows between two heartbeats of a job

_INITIATIVE = Initiative._meta.db_table
_UNION = Union._meta.db_table
_TARGET = Target._meta.db_table
_CLUSTER = EmulationCluster._meta.db_table
_TEMP_TABLES = ("ex_own", "ex_up", "ex_fig")


@dataclass(frozen=True)
class ExportRequest:
    """What to export: the units under `scope` (all levels, or one), in one cluster or all."""

    program: Program
    scope: Union
    phase: Phase | None = None
    level: str = ""
    cluster: EmulationCluster | None = None
    as_of: dt.datetime = field(default_factory=timezone.now)
    requested_by: str = ""

    @classmethod
    def of(cls, job: ExportJob) -> ExportRequest:
        who = job.requested_by.get_full_name() or job.requested_by.username if job.requested_by else ""
        assert job.program is not None  # an emulation export is always of a programme
        return cls(job.program, job.scope, job.phase, job.level, job.cluster, job.as_of, who)

    @property
    def levels(self) -> list[str]:
        return [level for level in BLOCKS if not self.level or level == self.level]


@dataclass(frozen=True)
class Criterion:
    code: str
    name: str
    metric: str
    metric_label: str
    weight: Decimal
    bands: tuple[tuple[Decimal, Decimal], ...]  # (threshold, points), highest threshold first


def criteria_of(program: Program) -> list[Criterion]:
    """The programme's criteria with their bands (two queries)."""
    result = []
    for criterion in EmulationCriterion.objects.filter(program=program).prefetch_related("bands"):
        bands = sorted(((b.min_value, b.points) for b in criterion.bands.all()), reverse=True)
        result.append(
            Criterion(
                criterion.code,
                criterion.name,
                criterion.metric,
                str(criterion.get_metric_display()),
                criterion.weight,
                tuple(bands),
            )
        )
    return result


@dataclass(frozen=True)
class Quarter:
    label: str
    starts: dt.datetime  # aware, local midnight
    ends: dt.datetime  # exclusive


def quarters(starts_on: dt.date, ends_on: dt.date) -> list[Quarter]:
    """The calendar quarters from `starts_on` to `ends_on`, with local-midnight boundaries."""
    result = []
    year, quarter = starts_on.year, (starts_on.month - 1) // 3
    while dt.date(year, quarter * 3 + 1, 1) <= ends_on:
        first = dt.date(year, quarter * 3 + 1, 1)
        year_after, quarter_after = (year + 1, 0) if quarter == 3 else (year, quarter + 1)
        after = dt.date(year_after, quarter_after * 3 + 1, 1)
        result.append(
            Quarter(
                _("Q%(quarter)s/%(year)s") % {"quarter": quarter + 1, "year": year},
                timezone.make_aware(dt.datetime.combine(first, dt.time())),
                timezone.make_aware(dt.datetime.combine(after, dt.time())),
            )
        )
        year, quarter = year_after, quarter_after
    return result


class ClaimLost(Exception):
    """Another worker took the job over (this one was thought dead): stop and leave it alone."""


# -- counting ------------------------------------------------------------------------------------


def _count(request: ExportRequest, fields: list[Field], periods: list[Quarter]) -> list[str]:
    """Fill the temporary table ex_fig: one row per unit under the scope with its subtree's
    figures. Returns the names of the field and quarter columns."""
    grassroots = Union.Level.GRASSROOTS
    valid, valid_params = counting.valid_sql(alias="i")
    submitted, submitted_params = counting.submitted_sql(alias="i", by=request.as_of)
    field_columns = [f"f{n}" for n in range(len(fields))]
    quarter_columns = [f"q{n}" for n in range(len(periods))]
    columns = ["submitted", "valid", "value_vnd", *field_columns, *quarter_columns]
    own_params: list[Any] = [*valid_params, *valid_params]
    sums = [
        "COUNT(*) AS submitted",
        f"SUM(CASE WHEN {valid} THEN 1 ELSE 0 END) AS valid",
        f"CAST(SUM(CASE WHEN {valid} THEN COALESCE(i.value_vnd, 0) ELSE 0 END) AS BIGINT) AS value_vnd",
    ]
    for column, item in zip(field_columns, fields, strict=True):
        sums.append(f"SUM(CASE WHEN i.field_id = %s THEN 1 ELSE 0 END) AS {column}")
        own_params.append(item.pk)
    for column, period in zip(quarter_columns, periods, strict=True):
        sums.append(f"SUM(CASE WHEN i.submitted_at >= %s AND i.submitted_at < %s THEN 1 ELSE 0 END) AS {column}")
        own_params += [period.starts, period.ends]
    scope_join = ""
    if request.scope.parent_id is not None:  # a subtree: only its units' initiatives
        scope_join = f"JOIN {_UNION} su ON su.id = i.unit_id AND su.path LIKE %s ESCAPE '\\'"
        own_params.append(_subtree_pattern(request.scope))
    where = f"i.program_id = %s AND {submitted}"
    own_params += [request.program.pk, *submitted_params]
    if request.phase is not None:
        where += " AND i.phase_id = %s"
        own_params.append(request.phase.pk)
    zeros = ", ".join(f"COALESCE(o.{c}, 0) AS {c}" for c in columns)
    totals = ", ".join(f"SUM({c}) AS {c}" for c in [*columns, "participating", "grassroots"])
    below: list[str | int] = [_subtree_pattern(request.scope), request.scope.depth]
    with connection.cursor() as cursor:
        for table in _TEMP_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        if connection.vendor == "postgresql":
            cursor.execute("SET work_mem = '128MB'")  # the unit groups fit in memory (the session's own)
        cursor.execute(
            f"CREATE TEMP TABLE ex_own AS SELECT i.unit_id, {', '.join(sums)} FROM {_INITIATIVE} i {scope_join} "
            f"WHERE {where} GROUP BY i.unit_id",
            own_params,
        )
        # Every unit under the scope, with or without initiatives; then level by level upwards.
        cursor.execute(
            f"CREATE TEMP TABLE ex_up AS SELECT u.id AS unit_id, u.depth, {zeros}, "
            f"CASE WHEN u.level = %s AND o.submitted > 0 THEN 1 ELSE 0 END AS participating, "
            f"CASE WHEN u.level = %s THEN 1 ELSE 0 END AS grassroots "
            f"FROM {_UNION} u LEFT JOIN ex_own o ON o.unit_id = u.id WHERE u.path LIKE %s ESCAPE '\\' AND u.depth > %s",
            [grassroots, grassroots, *below],
        )
        cursor.execute("SELECT MAX(depth) FROM ex_up")
        deepest = cursor.fetchone()[0] or 0
        rolled = [*columns, "participating", "grassroots"]
        counting.roll_up(cursor, table="ex_up", keys=[], sums=rolled, deepest=deepest, top=request.scope.depth + 1)
        cursor.execute(f"CREATE TEMP TABLE ex_fig AS SELECT unit_id, {totals} FROM ex_up GROUP BY unit_id")
        cursor.execute("DROP TABLE ex_own")
        cursor.execute("DROP TABLE ex_up")
    return field_columns + quarter_columns


def _subtree_pattern(scope: Union) -> str:
    """LIKE pattern of a unit's subtree: codes may hold "_", which LIKE reads as any character."""
    return connection.ops.prep_for_like_query(scope.path) + "%"


def _drop_temp_tables() -> None:
    with connection.cursor() as cursor:
        for table in _TEMP_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        if connection.vendor == "postgresql":
            cursor.execute("RESET work_mem")


# The SQL of each metric, over the figures (f) and the unit (u, with its target t): NULL when it
# cannot be computed (no target, no members…), which reaches no band.
_METRICS: dict[str, str] = {
    EmulationCriterion.Metric.SUBMITTED: "f.submitted",
    EmulationCriterion.Metric.VALID: "f.valid",
    EmulationCriterion.Metric.VALUE: "f.value_vnd",
    EmulationCriterion.Metric.COMPLETION: "100.0 * f.submitted / NULLIF(COALESCE(t.quantity, 0), 0)",
    EmulationCriterion.Metric.PER_100_MEMBERS: "100.0 * f.submitted / NULLIF(u.member_count, 0)",
    EmulationCriterion.Metric.PARTICIPATION: "100.0 * f.participating / NULLIF(f.grassroots, 0)",
    EmulationCriterion.Metric.VALID_RATIO: "100.0 * f.valid / NULLIF(f.submitted, 0)",
}


def _scoring(criteria: list[Criterion]) -> tuple[list[str], list[float], str]:
    """Each criterion's value and points as SQL columns, the thresholds they take as parameters,
    and the score: the workbook's figures all come from the database, which also ranks each
    cluster, so the rows are read once."""
    columns, thresholds, points = [], [], []
    for criterion in criteria:
        value = f"CAST({_METRICS[criterion.metric]} AS DOUBLE PRECISION)"
        # Points and weights as decimal literals: exact sums in PostgreSQL (NUMERIC), so equal
        # scores are equal; the rank also compares them rounded, for SQLite's floating point.
        bands = " ".join(f"WHEN {value} >= %s THEN {_literal(p)}" for _t, p in criterion.bands)
        earned = f"(CASE {bands} ELSE 0.0 END)" if criterion.bands else "0.0"
        columns += [value, f"CAST({earned} AS DOUBLE PRECISION)"]
        thresholds += [float(threshold) for threshold, _p in criterion.bands]
        points.append(f"{_literal(criterion.weight)} * {earned}")
    return columns, thresholds, " + ".join(points) or "0.0"


def _literal(number: Decimal) -> str:
    """A decimal as an SQL literal (it comes from a DecimalField, never from a request)."""
    return f"{Decimal(number):f}"


def _rows(
    request: ExportRequest, level: str, extra: list[str], criteria: list[Criterion]
) -> Generator[tuple[Any, ...], None, None]:
    """The units of one level block grouped by parent in tree order, each parent's units by name
    (Vietnamese order, the column's collation), from a server-side cursor: the unit's columns,
    its figures, the field and quarter counts, each criterion's value and points, the score and
    the rank within the level and cluster (equal scores share a rank; no cluster, no rank)."""
    columns, thresholds, score = _scoring(criteria)
    ranked = f"RANK() OVER (PARTITION BY u.cluster_id ORDER BY ROUND({score}, 4) DESC)"
    rank = f"CASE WHEN u.cluster_id IS NOT NULL THEN {ranked} END"
    select = [
        "u.code, u.name, u.level, p.name, c.name, COALESCE(t.quantity, 0), f.submitted, f.valid",
        "f.participating, u.member_count, f.value_vnd",
        *(f"f.{column}" for column in extra),
        *columns,
        f"CAST({score} AS DOUBLE PRECISION)",  # read as floats: Decimals cost 12 s at 130,000 units
        rank,
    ]
    sql = (
        f"SELECT {', '.join(select)} FROM ex_fig f "
        f"JOIN {_UNION} u ON u.id = f.unit_id LEFT JOIN {_UNION} p ON p.id = u.parent_id "
        f"LEFT JOIN {_CLUSTER} c ON c.id = u.cluster_id "
        f"LEFT JOIN {_TARGET} t ON t.unit_id = u.id AND t.program_id = %s WHERE u.level = %s"
    )
    # The thresholds appear three times: in the criteria's points, in the score, in the rank's order.
    params: list[Any] = [*thresholds, *thresholds, *thresholds, request.program.pk, level]
    if request.cluster is not None:
        sql += " AND u.cluster_id = %s"
        params.append(request.cluster.pk)
    with connection.chunked_cursor() as cursor:
        # The parent's path keeps the tree's grouping; at 130,000 units this sort takes 255 ms, 30 ms
        # more than the path alone (measured on PostgreSQL 15).
        cursor.execute(sql + " ORDER BY p.path NULLS FIRST, u.name, u.path", params)
        while chunk := cursor.fetchmany(2000):
            yield from chunk


def _unit_count(request: ExportRequest) -> int:
    marks = ", ".join(["%s"] * len(request.levels))
    sql = f"SELECT COUNT(*) FROM ex_fig f JOIN {_UNION} u ON u.id = f.unit_id WHERE u.level IN ({marks})"
    params: list[Any] = list(request.levels)
    if request.cluster is not None:
        sql += " AND u.cluster_id = %s"
        params.append(request.cluster.pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


# -- writing -------------------------------------------------------------------------------------


class _Row:
    """A row's cells: a plain value where it shows the same without a number format (text, and
    numbers under 1,000: most cells of a grassroots union's row), else one reusable cell per column
    with the format set once. openpyxl writes a styled cell at twice the cost of a plain value, and
    writes each appended row at once, so reusing the cells is safe."""

    def __init__(self, sheet: WriteOnlyWorksheet, formats: list[str | None]) -> None:
        self.formats = formats
        self.cells = []
        for number_format in formats:
            cell = WriteOnlyCell(sheet)
            if number_format:
                cell.number_format = number_format
            self.cells.append(cell)

    def fill(self, values: list[Any]) -> list[Any]:
        row = []
        for cell, number_format, value in zip(self.cells, self.formats, values, strict=True):
            if isinstance(value, float) and number_format != PERCENT:
                value = round(value, 2)
            if value is None or (
                (number_format in (INTEGER, DECIMAL) and -1000 < value < 1000)
                or (number_format is None and not looks_like_formula(value))
            ):
                row.append(value)
                continue
            cell.value = value
            if looks_like_formula(value):
                cell.data_type = "s"  # text typed by a user is never a formula
            row.append(cell)
        return row


def _text(sheet: WriteOnlyWorksheet, value: Any, *, bold: bool = False) -> Cell:
    cell = safe_cell(sheet, value)
    if bold:
        cell.font = Font(bold=True)
    return cell


def _headers(fields: list[Field], periods: list[Quarter], criteria: list[Criterion]) -> list[tuple[str, str | None]]:
    columns: list[tuple[str, str | None]] = [
        (pgettext("emulation workbook", "Unit code"), None),
        (pgettext("emulation workbook", "Unit"), None),
        (pgettext("emulation workbook", "Level"), None),
        (pgettext("emulation workbook", "Parent unit"), None),
        (pgettext("emulation workbook", "Emulation cluster"), None),
        (pgettext("emulation workbook", "Target"), INTEGER),
        (pgettext("emulation workbook", "Submitted initiatives"), INTEGER),
        (pgettext("emulation workbook", "Valid"), INTEGER),
        (pgettext("emulation workbook", "Completion of the target"), PERCENT),
        (pgettext("emulation workbook", "Participating grassroots units"), INTEGER),
        (pgettext("emulation workbook", "Members"), INTEGER),
        (pgettext("emulation workbook", "Initiatives per 100 members"), DECIMAL),
        (pgettext("emulation workbook", "Total value benefit (đồng)"), INTEGER),
    ]
    columns += [(_("Field: %(name)s") % {"name": item.name}, INTEGER) for item in fields]
    columns += [(_("Submitted in %(quarter)s") % {"quarter": period.label}, INTEGER) for period in periods]
    for criterion in criteria:
        columns.append((_("%(code)s: value") % {"code": criterion.code}, DECIMAL))
        columns.append((_("%(code)s: points") % {"code": criterion.code}, DECIMAL))
    columns += [
        (pgettext("emulation workbook", "Score"), DECIMAL),
        (pgettext("emulation workbook", "Rank in cluster"), INTEGER),
    ]
    return columns


def _cover(workbook: openpyxl.Workbook, request: ExportRequest, criteria: list[Criterion], units: int) -> None:
    sheet = workbook.create_sheet(_("Cover"))
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 70
    levels = dict(Union.Level.choices)
    when = timezone.localtime(request.as_of).replace(tzinfo=None)

    def line(label: str, value: Any = None, number_format: str | None = None) -> None:
        cell = _Row(sheet, [number_format]).fill([value])[0]
        sheet.append([_text(sheet, label, bold=True), cell])

    sheet.append([_text(sheet, _("Emulation criteria (tiêu chí đánh giá thi đua)"), bold=True)])
    sheet.append([])
    line(_("Programme"), request.program.name)
    line(_("Phase"), request.phase.name if request.phase else _("Whole programme"))
    line(_("Units under"), f"{request.scope.name} ({request.scope.code})")
    line(_("Level"), str(levels[request.level]) if request.level else _("All levels"))
    line(_("Emulation cluster"), request.cluster.name if request.cluster else _("All clusters"))
    line(_("As of"), when, DATE_TIME)
    line(_("Asked by"), request.requested_by)
    line(_("Units"), units, INTEGER)
    sheet.append([])
    line(_("How the figures are counted"))
    for text in (
        _("A unit's figures include all the units under it."),
        _("Submitted: every initiative that is not a draft, submitted up to the time above."),
        _("Valid: the initiatives the board accepted; the value benefit sums theirs only."),
        _("Participating grassroots units: those with at least one submitted initiative."),
        _("Target and members: as recorded for the unit itself."),
    ):
        sheet.append([None, _text(sheet, text)])
    sheet.append([])
    line(_("How the score is computed"))
    sheet.append([None, _text(sheet, _("Score = the sum over the criteria of weight × points."))])
    sheet.append(
        [None, _text(sheet, _("Points: those of the highest band the value reaches; 0 when it reaches none."))]
    )
    sheet.append(
        [
            None,
            _text(
                sheet, _("Rank in cluster: among the units of the same level and cluster; equal scores share a rank.")
            ),
        ]
    )
    sheet.append([])
    header = [_("Code"), _("Criterion"), _("Metric"), _("Weight"), _("Bands (from → points)")]
    sheet.append([_text(sheet, text, bold=True) for text in header])
    if not criteria:
        sheet.append([_text(sheet, _("No criteria are set for this programme: every score is 0."))])
    for criterion in criteria:
        bands = "; ".join(
            f"≥ {_number(threshold)} → {_number(points)}" for threshold, points in sorted(criterion.bands)
        )
        sheet.append(_Row(sheet, [None, None, None, DECIMAL, None]).fill(
            [criterion.code, criterion.name, criterion.metric_label, criterion.weight, bands]
        ))  # fmt: skip


def _sheet_title(level: str) -> str:
    """The level block's sheet: at most 31 characters, none of those Excel forbids in a title."""
    titles: dict[str, str] = {
        Union.Level.TIER2: pgettext("emulation workbook sheet", "Provincial and sector unions"),
        Union.Level.SUPERIOR: pgettext("emulation workbook sheet", "Superior-level unions"),
        Union.Level.GRASSROOTS: pgettext("emulation workbook sheet", "Grassroots unions"),
    }
    return sheet_title(titles[level])


def _number(value: Decimal) -> str:
    return f"{Decimal(str(value)).normalize():f}".replace(".", ",")


def write_workbook(request: ExportRequest, path: Path, *, progress: Callable[[int, int], None] | None = None) -> int:
    """Write the workbook to `path`; returns the number of unit rows. `progress(done, total)` is
    called every PROGRESS_EVERY rows (it may raise ClaimLost to stop)."""
    fields = list(Field.objects.order_by("position", "name"))
    span = request.phase or request.program
    periods = quarters(span.starts_on, min(span.ends_on, timezone.localtime(request.as_of).date()))
    criteria = criteria_of(request.program)
    levels = dict(Union.Level.choices)
    # Opened first: a path that cannot be written fails at once, not after the counting.
    with path.open("wb") as output:
        return _write(request, output, fields, periods, criteria, levels, progress)


def _write(
    request: ExportRequest,
    output: Any,
    fields: list[Field],
    periods: list[Quarter],
    criteria: list[Criterion],
    levels: Mapping[str, StrOrPromise],
    progress: Callable[[int, int], None] | None,
) -> int:
    try:
        extra = _count(request, fields, periods)
        total = _unit_count(request)
        if progress:
            progress(0, total)
        workbook = openpyxl.Workbook(write_only=True)
        _cover(workbook, request, criteria, total)
        headers = _headers(fields, periods, criteria)
        done = 0
        for level in request.levels:
            sheet = workbook.create_sheet(_sheet_title(level))
            sheet.freeze_panes = "C2"
            for index, width in enumerate([14, 48, 22, 40, 20], start=1):
                sheet.column_dimensions[get_column_letter(index)].width = width
            sheet.append([_text(sheet, title, bold=True) for title, _format in headers])
            row = _Row(sheet, [number_format for _title, number_format in headers])
            label = str(levels[level])
            written = 0
            # Closed before the temporary tables are dropped, even when writing fails.
            with closing(_rows(request, level, extra, criteria)) as units:
                for unit in units:
                    code, name, _level, parent, cluster, target, submitted, valid, joined, members, value = unit[:11]
                    sheet.append(
                        row.fill(
                            [
                                code,
                                name,
                                label,
                                parent or "",
                                cluster or "",
                                target,
                                submitted,
                                valid,
                                submitted / target if target else None,
                                joined,
                                members,
                                100 * submitted / members if members else None,
                                value,
                                *unit[11:],
                            ]
                        )
                    )
                    written += 1
                    done += 1
                    if progress and done % PROGRESS_EVERY == 0:
                        progress(done, total)
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{written + 1}"
        workbook.save(output)
    finally:
        _drop_temp_tables()
    return done


def export_file_name(request: ExportRequest) -> str:
    when = timezone.localtime(request.as_of)
    return f"tieu-chi-thi-dua-{request.scope.code}-{when:%Y%m%d-%H%M}.xlsx"


def export_to(request: ExportRequest, out: Path, *, progress: Callable[[int, int], None] | None = None) -> int:
    """Write the workbook to `out` under a temporary name, renamed when whole (`write_whole`), as
    the command line does; the jobs write through `write_whole` with their kind's writer."""
    return write_whole(out, lambda partial: write_workbook(request, partial, progress=progress))


def _write_job(job: ExportJob, path: Path, progress: Progress) -> int:
    return write_workbook(ExportRequest.of(job), path, progress=progress)


EMULATION_KIND = ExportKind(
    write=_write_job,
    file_name=lambda job: export_file_name(ExportRequest.of(job)),
    running=lambda done, total: (
        _("Running: %(done)s of %(total)s units") % {"done": intcomma(done), "total": intcomma(total)}
    ),
    done=lambda rows, seconds: (
        ngettext("Done: %(n)s unit in %(seconds)s s", "Done: %(n)s units in %(seconds)s s", rows)
        % {"n": intcomma(rows), "seconds": seconds}
    ),
    related=("program", "phase", "scope", "cluster", "requested_by"),
)


# -- jobs ----------------------------------------------------------------------------------------


def exports_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _stale_before() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.EXPORT_STALE_SECONDS)


def seconds_until_stale(job_id: int) -> float:
    """How long until the heartbeat of a running job goes stale (0 if it has, or is not running):
    when a delivery that found the job busy should look again."""
    heartbeat = (
        ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.RUNNING)
        .values_list("heartbeat_at", flat=True)
        .first()
    )
    if heartbeat is None:
        return 0.0
    return max(0.0, (heartbeat - _stale_before()).total_seconds())


def _remove_dead_attempts_files(job_id: int) -> int:
    """The files of a job's earlier attempts: the temporary file of one whose worker died, or a
    complete file it renamed but never recorded. Called by the attempt that has just claimed the
    job, so none of them is its own, and none is the job's file (a done job is never claimed).
    Best effort: a folder that cannot be read fails the build itself, with its error, and the
    nightly cleanup removes what is left."""
    folder = Path(settings.MEDIA_ROOT) / "exports"
    try:
        leftovers = [*folder.glob(f".{job_id}-*{PARTIAL_SUFFIX}"), *folder.glob(f"{job_id}-*")]
        for leftover in leftovers:
            # A worker that was thought dead and still writes loses its file: it stops at its next
            # heartbeat, which finds the claim gone, and its rename then fails harmlessly.
            leftover.unlink(missing_ok=True)
    except OSError:
        logger.exception("Emulation export %s: could not remove the files of an attempt that died", job_id)
        return 0
    return len(leftovers)


def claim_job(job_id: int) -> uuid.UUID | None:
    """Take a queued job, or a running one whose worker stopped reporting (removing what that
    worker left in the exports folder); None if it is done, failed, or being built by a live
    worker."""
    claim, now = uuid.uuid4(), timezone.now()
    claimable = Q(status=ExportJob.Status.QUEUED) | Q(status=ExportJob.Status.RUNNING, heartbeat_at__lt=_stale_before())
    taken = ExportJob.objects.filter(claimable, pk=job_id).update(
        status=ExportJob.Status.RUNNING,
        claim=claim,
        attempts=F("attempts") + 1,
        started_at=now,
        heartbeat_at=now,
        rows_done=0,
        total_rows=0,
        error="",
    )
    if not taken:
        return None
    if removed := _remove_dead_attempts_files(job_id):
        logger.warning("Emulation export %s: removed %s file(s) of an attempt that died", job_id, removed)
    return claim


def run_job(job_id: int) -> str:
    """Build a job's workbook (the Celery task's body). Returns what happened: "done", "failed",
    "superseded" (taken over meanwhile), "skipped" (done, failed or gone) or "busy" (a worker
    that reported lately is building it: the task checks again later)."""
    claim = claim_job(job_id)
    if claim is None:
        status = ExportJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        return "busy" if status == ExportJob.Status.RUNNING else "skipped"
    kind = kind_of(ExportJob.objects.values_list("kind", flat=True).get(pk=job_id))
    job = ExportJob.objects.select_related(*kind.related).get(pk=job_id)
    mine = ExportJob.objects.filter(pk=job_id, claim=claim)

    def heartbeat(done: int, total: int) -> None:
        if not mine.update(rows_done=done, total_rows=total, heartbeat_at=timezone.now()):
            raise ClaimLost

    started = time.perf_counter()
    # The claim in the name: a worker that was thought dead and wakes up never touches the file
    # of the one that took its job over.
    name = f"exports/{job.pk}-{claim.hex[:8]}-{kind.file_name(job)}"
    try:
        rows = write_whole(exports_dir() / name.removeprefix("exports/"), lambda path: kind.write(job, path, heartbeat))
    except ClaimLost:
        return "superseded"
    except Exception as error:
        if isinstance(error, BuildRefused):  # not a fault: the reason is the asker's business
            logger.warning("Export %s refused when built: %s", job_id, error)
        else:
            logger.exception("Export %s failed", job_id)
        mine.update(
            status=ExportJob.Status.FAILED,
            error=(str(error) or error.__class__.__name__)[:2000],
            finished_at=timezone.now(),
            seconds=time.perf_counter() - started,
        )
        return "failed"
    finished = mine.update(
        status=ExportJob.Status.DONE,
        file=name,
        rows_done=rows,
        total_rows=rows,
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        seconds=time.perf_counter() - started,
    )
    if not finished:  # taken over meanwhile: the other worker's file is the one offered
        (Path(settings.MEDIA_ROOT) / name).unlink(missing_ok=True)
        return "superseded"
    return "done"


def requeue(job: ExportJob) -> bool:
    """Put a failed, lost or long-waiting job back in the queue (the caller enqueues it)."""
    retryable = (
        Q(status=ExportJob.Status.FAILED)
        | Q(status=ExportJob.Status.RUNNING, heartbeat_at__lt=_stale_before())
        | Q(status=ExportJob.Status.QUEUED, requested_at__lt=_stale_before())
    )
    return bool(
        ExportJob.objects.filter(retryable, pk=job.pk).update(
            status=ExportJob.Status.QUEUED, claim=None, error="", requested_at=timezone.now()
        )
    )


def clean_exports(*, now: dt.datetime | None = None) -> int:
    """Delete the files of jobs finished more than EXPORT_RETENTION_DAYS ago (the job row stays,
    without its file), and temporary files older than a day; returns the files deleted."""
    now = now or timezone.now()
    deleted = 0
    old = ExportJob.objects.filter(
        status=ExportJob.Status.DONE, finished_at__lt=now - dt.timedelta(days=settings.EXPORT_RETENTION_DAYS)
    ).exclude(file="")
    for job in old:
        job.file.delete(save=False)
        ExportJob.objects.filter(pk=job.pk).update(file="")
        deleted += 1
    for leftover in exports_dir().glob(f".*{PARTIAL_SUFFIX}"):
        if now.timestamp() - leftover.stat().st_mtime > 86400:
            leftover.unlink(missing_ok=True)
            deleted += 1
    return deleted


def job_error(job: ExportJob) -> str:
    """What the page says of a failure: the details (paths, SQL) stay in the admin and the log."""
    if job.status != ExportJob.Status.FAILED:
        return ""
    return _("The file could not be built. Retry; if it fails again, tell the administrator (export no. %(id)s).") % {
        "id": job.pk
    }


def job_label(job: ExportJob) -> str:
    """What the page says of a job's state."""
    if job.is_abandoned:
        return _("Stopped: the worker building it stopped")
    if job.is_lost:
        return _("Interrupted: the worker building it stopped; another worker takes it over shortly")
    if job.is_waiting_too_long:
        return _("Waiting: no worker has taken it yet")
    if job.status == ExportJob.Status.RUNNING:
        return kind_of(job.kind).running(job.rows_done, job.total_rows)
    if job.status == ExportJob.Status.DONE and not job.file:
        return _("Expired: the file was deleted after %(days)s days") % {"days": settings.EXPORT_RETENTION_DAYS}
    if job.status == ExportJob.Status.DONE:
        return kind_of(job.kind).done(job.rows_done, floatformat(job.seconds or 0, 1))
    return str(job.get_status_display())
