"""An issued decision's documents (issue 19, item 5): the list of units it honours as .xlsx (a sheet
per level block, Vietnamese headers, text never read as a formula) and as a PDF in the style of a
Vietnamese administrative decision (the issuing body and the national motto side by side, number
and date, the title, the table, the signer), set in Liberation Serif (the metrics of Times New
Roman, which administrative documents use; SIL Open Font License, in sangkien/fonts), which carries
every Vietnamese letter. Dates as Nghị định 30/2020/NĐ-CP writes them: "Hà Nội, ngày 05 tháng 4 năm
2022" (a 0 before days below 10 and months 1 and 2). The page, the header and the date line are those
of every official document the portal writes (sangkien.official_documents).

A decision never changes, so each document is built once and kept (MEDIA_ROOT/honours/<id>/). A
small one is built when first asked for; a large one in the background (the task
honours.build_document, queue "exports"), the page saying so until it is there. One builder at a
time holds a lock (flock) on a file beside it; the system releases it if the builder dies
(sangkien.official_documents.build_once).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import openpyxl
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace
from openpyxl.styles import Font

from honours.models import HonourDecision, HonourEntry

# FONTS and Busy are re-exported: honours' views, tasks and tests name them here.
from sangkien.official_documents import FAMILY, build_once, date_line, new_pdf, pdf_header
from sangkien.official_documents import FONTS as FONTS
from sangkien.official_documents import Busy as Busy
from sangkien.spreadsheets import safe_cell, sheet_title
from sangkien.text import group_thousands
from unions.levels import BLOCK_NAMES, BLOCKS

XLSX = "xlsx"
PDF = "pdf"
KINDS = {
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    PDF: "application/pdf",
}


# Set by the task when a build failed: the page says so instead of waiting.
FAILED_KEY = "honours:document-failed:{pk}:{kind}"


def honoured(decision: HonourDecision) -> list[HonourEntry]:
    return list(decision.entries.filter(meets=True, excluded=False).order_by("position"))


def folder(decision: HonourDecision) -> Path:
    return Path(settings.MEDIA_ROOT) / "honours" / str(decision.pk)


def path_of(decision: HonourDecision, kind: str) -> Path:
    return folder(decision) / f"quyet-dinh-{decision.pk}.{kind}"


def download_name(decision: HonourDecision, kind: str) -> str:
    """ "Quyết định vinh danh 125-QĐ-TLĐ.pdf": a number's slashes would read as folders."""
    number = decision.number.replace("/", "-").replace("\\", "-")
    return _("Honours decision %(number)s") % {"number": number} + f".{kind}"


def is_large(decision: HonourDecision) -> bool:
    """Built in the background: more units than a request should wait for."""
    return decision.entries.filter(meets=True, excluded=False).count() > settings.HONOURS_DOCUMENT_INLINE_ROWS


def build(decision: HonourDecision, kind: str) -> Path:
    """The document, built now if it is not there yet; Busy while another process builds it."""
    assert decision.is_issued, "only an issued decision has documents"
    writer = write_xlsx if kind == XLSX else write_pdf
    return build_once(path_of(decision, kind), lambda partial: writer(decision, partial))


@dataclass(frozen=True)
class Line:
    """A decision's particulars, as the documents write them."""

    label: str
    value: str


def particulars(decision: HonourDecision) -> list[Line]:
    lines = [
        Line(_("Issued by (body)"), decision.issuer_name),
        Line(_("Decision number"), decision.number),
        Line(_("Date of the decision"), decision.signed_on.strftime("%d/%m/%Y") if decision.signed_on else ""),
        Line(_("Signed by"), decision.signer),
        Line(_("Period"), decision.period_label),
        Line(_("Units under"), decision.scope_name),
        Line(_("Figures as of"), timezone.localtime(decision.taken_at).strftime("%d/%m/%Y %H:%M")),
    ]
    if decision.corrects_id is not None and decision.corrects is not None:
        lines.append(Line(_("Corrects"), decision.corrects.number))
    return lines


def _blocks(entries: list[HonourEntry]) -> Iterator[tuple[str, list[HonourEntry]]]:
    order: dict[str, int] = {str(level): rank for rank, level in enumerate(BLOCKS)}
    ranked = sorted(entries, key=lambda entry: (order.get(entry.level, 99), entry.position))
    for level, members in groupby(ranked, key=lambda entry: entry.level):
        yield level, list(members)


# -- .xlsx ---------------------------------------------------------------------------------------


def write_xlsx(decision: HonourDecision, path: Path) -> int:
    """One sheet per level block: the decision's particulars, then a row per unit honoured."""
    workbook = openpyxl.Workbook(write_only=True)
    entries = honoured(decision)
    bold = Font(bold=True)
    headers = [
        _("No."),
        _("Emulation cluster"),
        _("Unit code"),
        _("Unit"),
        _("Initiatives"),
        _("Target for the period"),
    ]
    blocks = list(_blocks(entries)) or [(BLOCKS[-1], [])]
    for level, members in blocks:
        sheet = workbook.create_sheet(sheet_title(str(BLOCK_NAMES.get(level, level))))
        sheet.column_dimensions["B"].width = 30
        sheet.column_dimensions["D"].width = 60
        title = safe_cell(sheet, _("Units honoured – %(block)s") % {"block": BLOCK_NAMES.get(level, level)})
        title.font = Font(bold=True, size=13)
        sheet.append([title])
        for line in particulars(decision):
            sheet.append([safe_cell(sheet, line.label), safe_cell(sheet, line.value)])
        sheet.append([])
        header_cells = []
        for header in headers:
            cell = safe_cell(sheet, header)
            cell.font = bold
            header_cells.append(cell)
        sheet.append(header_cells)
        for number, entry in enumerate(members, start=1):
            sheet.append(
                [
                    number,
                    safe_cell(sheet, entry.cluster_name or _("The whole level block")),
                    safe_cell(sheet, entry.unit_code),
                    safe_cell(sheet, entry.unit_name),
                    entry.count,
                    entry.target,
                ]
            )
    workbook.save(path)
    return len(entries)


# -- PDF -----------------------------------------------------------------------------------------


def write_pdf(decision: HonourDecision, path: Path) -> int:
    pdf = new_pdf(_("Honours decision %(number)s") % {"number": decision.number})
    pdf.add_page()
    width = pdf.epw
    left, right = pdf_header(
        pdf,
        body=decision.issuer_name or decision.scope_name,
        reference=_("No.: %(number)s") % {"number": decision.number},
        dated=date_line(decision.signed_on, decision.place),
    )
    # The title.
    pdf.set_font(FAMILY, "B", 14)
    pdf.multi_cell(width, 7, _("DECISION"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "B", 13)
    subject = _("On honouring the leading units of the programme “%(program)s”, %(period)s") % {
        "program": decision.program.name,
        "period": decision.period_label,
    }
    pdf.multi_cell(width, 6.5, subject, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(FAMILY, "", 13)
    entries = honoured(decision)
    grounds = [
        _(
            "Based on the figures of the innovation initiatives portal as of %(as_of)s (a snapshot kept as "
            "evidence), which anyone may check on the portal;"
        )
        % {"as_of": timezone.localtime(decision.taken_at).strftime("%d/%m/%Y %H:%M")},
        _(
            "Based on the rule of the programme: in each emulation cluster and level block, the unit with "
            "the most %(count)s in the period, provided it is at least %(margin)s above its own target "
            "for the period;"
        )
        % {"count": decision.get_count_display(), "margin": decision.margin},
    ]
    if decision.corrects is not None:
        grounds.append(
            _("This decision corrects decision %(number)s of %(date)s.")
            % {
                "number": decision.corrects.number,
                "date": decision.corrects.signed_on.strftime("%d/%m/%Y") if decision.corrects.signed_on else "",
            }
        )
    for ground in grounds:
        pdf.multi_cell(width, 6.5, ground, align="J", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FAMILY, "B", 13)
    pdf.multi_cell(width, 7, _("DECIDES:"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 13)
    article = _("Article 1. To honour the %(count)s units listed below as the leading units of %(period)s.") % {
        "count": len(entries),
        "period": decision.period_label,
    }
    pdf.multi_cell(width, 6.5, article, align="J", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _table(pdf, entries)
    pdf.ln(3)
    pdf.set_font(FAMILY, "", 13)
    if decision.note:
        pdf.multi_cell(
            width, 6.5, _("Note: %(note)s") % {"note": decision.note}, align="J", new_x="LMARGIN", new_y="NEXT"
        )
    pdf.multi_cell(
        width,
        6.5,
        _("Article 2. This decision takes effect from the date it is signed."),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(6)
    # The signer, on the right; where it goes, on the left.
    if pdf.will_page_break(40):
        pdf.add_page()
    top = pdf.get_y()
    pdf.set_font(FAMILY, "I", 11)
    pdf.multi_cell(left, 5.5, _("Sent to:\n- The units honoured;\n- Kept on file."), new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(pdf.l_margin + left, top)
    pdf.set_font(FAMILY, "I", 12)
    pdf.multi_cell(right, 6, _("(signed)"), align="C", new_x="LEFT", new_y="NEXT")
    pdf.ln(14)
    pdf.set_x(pdf.l_margin + left)
    pdf.set_font(FAMILY, "B", 13)
    pdf.multi_cell(right, 6, decision.signer, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return len(entries)


def _table(pdf: FPDF, entries: list[HonourEntry]) -> None:
    pdf.set_font(FAMILY, "", 11)
    headings = FontFace(emphasis="BOLD")
    with pdf.table(
        width=pdf.epw,
        align="LEFT",
        col_widths=(10, 70, 45, 20, 20),
        text_align=("CENTER", "LEFT", "LEFT", "RIGHT", "RIGHT"),
        headings_style=headings,
        line_height=5.5,
        repeat_headings=1,
    ) as table:
        table.row([_("No."), _("Unit"), _("Emulation cluster"), _("Initiatives"), _("Target for the period")])
        for level, members in _blocks(entries):
            row = table.row()
            row.cell(str(BLOCK_NAMES.get(level, level)), colspan=5, style=headings)
            for number, entry in enumerate(members, start=1):
                table.row(
                    [
                        str(number),
                        entry.unit_name,
                        entry.cluster_name or _("The whole level block"),
                        group_thousands(entry.count),
                        group_thousands(entry.target) if entry.target is not None else "–",
                    ]
                )
