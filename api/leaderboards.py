"""The leaderboards of published snapshots (issue 21, item 1): the latest snapshot and those kept
as evidence, each ranked per level block, optionally within a phase, a field or an emulation
cluster, exactly as the snapshot counted them (leaderboard.dashboard, frozen: the units as it saw
them); as JSON, and as CSV and .xlsx for journalists and other unions (open data)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import openpyxl
from django.utils import timezone
from django.utils.translation import gettext as _

from initiatives.models import Field, Program
from leaderboard import dashboard, evidence, history
from leaderboard.models import LeaderboardSnapshot
from sangkien.downloads import CSV, XLSX
from sangkien.spreadsheets import looks_like_formula, safe_cell
from sangkien.text import parse_id
from unions.levels import BLOCK_NAMES
from unions.models import EmulationCluster, Union

MAX_LIMIT = 100


class BadFilter(Exception):
    """A filter that names nothing: the message says which, in the user's language."""


class NotReady(Exception):
    """The snapshot's rows are being rebuilt: ask again shortly."""


def published(program: Program) -> list[LeaderboardSnapshot]:
    """The latest snapshot and those kept as evidence, the latest first."""
    latest = dashboard.snapshots(program=program).current
    kept = evidence.pinned(program.pk)
    shown = ([latest] if latest is not None else []) + [s for s in kept if latest is None or s.pk != latest.pk]
    return sorted(shown, key=lambda snapshot: snapshot.taken_at, reverse=True)


def published_snapshot(program: Program, pk: int | None) -> LeaderboardSnapshot | None:
    found = next((snapshot for snapshot in published(program) if snapshot.pk == pk), None)
    return found if found is not None and history.has_history(found) else None


@dataclass(frozen=True)
class Chosen:
    filters: dashboard.Filters
    limit: int


def choose(program: Program, params: Any) -> Chosen:
    """The filters and the limit a request names, each checked (BadFilter says what is wrong)."""

    def one(name: str, rows: Any, message: str) -> Any:
        text = params.get(name, "")
        if not text:
            return None
        found = rows.filter(pk=parse_id(text) or 0).first()
        if found is None:
            raise BadFilter(message)
        return found

    phase = one("phase", program.phases.all(), _("No phase of the programme has this id."))
    field = one("field", Field.objects.all(), _("No field has this id."))
    cluster = one("cluster", EmulationCluster.objects.all(), _("No emulation cluster has this id."))
    limit_text = params.get("limit", "")
    limit = parse_id(limit_text) if limit_text else dashboard.TOP
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise BadFilter(_("The limit is a number from 1 to %(most)s.") % {"most": MAX_LIMIT})
    return Chosen(dashboard.Filters(phase=phase, field=field, cluster=cluster), limit)


def blocks(program: Program, snapshot: LeaderboardSnapshot, chosen: Chosen) -> list[dict[str, Any]]:
    """Each level block's first `limit` units, as the snapshot counted and saw them."""
    snaps = dashboard.Snapshots(snapshot, snapshot.previous, frozen=True)
    try:
        # Only a kept snapshot is rebuilt when its rows were dropped (the access policy's rule).
        evidence.prepare(snapshot, snapshot.previous, may_rebuild=bool(snapshot.pinned_reason))
    except evidence.Preparing as preparing:
        raise NotReady from preparing
    root = Union.objects.filter(parent=None).order_by("path").first()
    scope = evidence.unit(snapshot, pk=root.pk) if root is not None else None
    if scope is None:
        return []
    rankings = dashboard.block_rankings(snaps=snaps, scope=scope, filters=chosen.filters, limit=chosen.limit)
    return [
        {
            "level": level,
            "name": str(BLOCK_NAMES[level]),
            "rows": [
                {
                    "rank": standing.rank,
                    "previous_rank": standing.previous_rank,
                    "unit_code": standing.unit.code,
                    "unit_name": standing.unit.name,
                    "submitted": standing.submitted,
                    "valid": standing.valid,
                    "value_vnd": standing.value_vnd,
                    "participating": standing.participating,
                    "target": standing.target,
                }
                for standing in dashboard.with_targets_in(standings, program=program, filters=chosen.filters)
            ],
        }
        for level, standings in rankings.items()
    ]


COLUMNS = (
    "rank",
    "previous_rank",
    "unit_code",
    "unit_name",
    "submitted",
    "valid",
    "value_vnd",
    "participating",
    "target",
)


def headers() -> list[str]:
    return [
        _("Level block"), _("Rank"), _("Previous rank"), _("Unit code"), _("Unit"), _("Submitted"), _("Valid"),
        _("Value benefit (VND)"), _("Members taking part"), _("Target"),
    ]  # fmt: skip


def _flat(answer: list[dict[str, Any]]) -> list[list[Any]]:
    return [[block["name"], *(row[column] for column in COLUMNS)] for block in answer for row in block["rows"]]


def _name(snapshot: LeaderboardSnapshot, extension: str) -> str:
    taken = timezone.localtime(snapshot.taken_at).strftime("%d-%m-%Y %Hh%M")
    return _("Leaderboard as of %(taken)s") % {"taken": taken} + extension


def csv_file(snapshot: LeaderboardSnapshot, answer: list[dict[str, Any]]) -> tuple[bytes, str, str]:
    """UTF-8 with a BOM (Excel then reads the Vietnamese letters), text never read as a formula."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers())
    for row in _flat(answer):
        writer.writerow(["'" + value if looks_like_formula(value) else value for value in row])
    return ("\ufeff" + out.getvalue()).encode(), _name(snapshot, ".csv"), CSV


def xlsx_file(snapshot: LeaderboardSnapshot, answer: list[dict[str, Any]]) -> tuple[bytes, str, str]:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Leaderboard"))
    sheet.append([safe_cell(sheet, header) for header in headers()])
    for row in _flat(answer):
        sheet.append([safe_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), _name(snapshot, ".xlsx"), XLSX
