"""The officers' list export: a generator of rows and a write-only openpyxl writer. The workbook is
built by a worker (the export jobs of the emulation app), never in a request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO, Any

import openpyxl
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import timezone
from django.utils.translation import gettext as _

from initiatives.querysets import InitiativeQuerySet
from sangkien.spreadsheets import safe_cell

DATE_FORMAT = "dd/mm/yyyy"
MONEY_FORMAT = "#,##0"


def initiative_list_header() -> list[str]:
    return [
        _("Unit code"),
        _("Unit"),
        _("Initiative"),
        _("Field"),
        _("Kind of solution"),
        _("Authors"),
        _("Status"),
        _("Submitted on"),
        _("First applied on"),
        _("Value benefit (VND)"),
        _("Phase"),
    ]


def initiative_list_rows(initiatives: InitiativeQuerySet) -> Iterator[list[Any]]:
    for initiative in initiatives.iterator(chunk_size=2000):
        authors = "; ".join(
            f"{author.full_name} ({author.share_percent.normalize():f}%)" for author in initiative.authors.all()
        )
        submitted = timezone.localtime(initiative.submitted_at).date() if initiative.submitted_at else None
        yield [
            initiative.unit.code,
            initiative.unit.name,
            initiative.title,
            initiative.field.name if initiative.field else "",
            initiative.get_kind_display(),
            authors,
            initiative.get_status_display(),
            submitted,
            initiative.first_applied_on,
            initiative.value_vnd,
            initiative.phase.name if initiative.phase else "",
        ]


def initiative_list_export_refusal(initiatives: InitiativeQuerySet) -> str:
    """Why this list is not exported ("" if it may be): one sheet holds at most Excel's million rows,
    and a national list of millions would hold a worker for many minutes and open in nothing.
    Asked when the export is requested and again when it is built."""
    limit = settings.INITIATIVE_LIST_EXPORT_MAX_ROWS
    if not initiatives.order_by()[limit : limit + 1].exists():  # reads at most limit + 1 rows
        return ""
    return _(
        "The list has more than %(limit)s initiatives, too many to export at once: narrow it with the "
        "filters (unit, field, status, phase) and export each part."
    ) % {"limit": intcomma(limit)}


def initiative_list_workbook(
    initiatives: InitiativeQuerySet,
    output: IO[bytes],
    *,
    progress: Callable[[int], None] | None = None,
    every: int = 2000,
) -> int:
    """The officer's filtered list as .xlsx, written to `output`; user text is always written as
    text. `progress(rows written)` is called every `every` rows. Returns the rows written."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Initiatives"))
    sheet.freeze_panes = "A2"
    sheet.append(initiative_list_header())
    formats = {7: DATE_FORMAT, 8: DATE_FORMAT, 9: MONEY_FORMAT}
    written = 0
    for row in initiative_list_rows(initiatives):
        sheet.append([safe_cell(sheet, value, formats.get(index)) for index, value in enumerate(row)])
        written += 1
        if progress is not None and written % every == 0:
            progress(written)
    workbook.save(output)
    return written
