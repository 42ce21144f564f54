"""An issued decision's documents (issue 19, item 5): the list of units it honours as .xlsx (a sheet
per level block, Vietnamese headers, text never read as a formula) and as a PDF in the style of a
Vietnamese administrative decision (the issuing body and the national motto side by side, number
and date, the title, the table, the signer), set in Liberation Serif (the metrics of Times New
Roman, which administrative documents use; SIL Open Font License, in honours/fonts), which carries
every Vietnamese letter. Dates as Nghị định 30/2020/NĐ-CP writes them: "Hà Nội, ngày 05 tháng 4 năm
2022" (a 0 before days below 10 and months 1 and 2).

A decision never changes, so each document is built once and kept (MEDIA_ROOT/honours/<id>/). A
small one is built when first asked for; a large one in the background (the task
honours.build_document, queue "exports"), the page saying so until it is there. One builder at a
time holds a lock (flock) on a file beside it; the system releases it if the builder dies.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import openpyxl
from django.conf import settings
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace
from openpyxl.styles import Font

from honours.models import HonourDecision, HonourEntry
from sangkien.files import write_whole
from sangkien.spreadsheets import safe_cell, sheet_title
from sangkien.text import group_thousands
from unions.levels import BLOCK_NAMES, BLOCKS

FONTS = Path(__file__).resolve().parent / "fonts"
XLSX = "xlsx"
PDF = "pdf"
KINDS = {
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    PDF: "application/pdf",
}


# Set by the task when a build failed: the page says so instead of waiting.
FAILED_KEY = "honours:document-failed:{pk}:{kind}"


class Busy(Exception):
    """Another process is building this document right now."""


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
    out = path_of(decision, kind)
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with _lock(out):
        if not out.exists():  # built by the holder before us
            writer = write_xlsx if kind == XLSX else write_pdf
            write_whole(out, lambda partial: writer(decision, partial))
    return out


@contextmanager
def _lock(out: Path) -> Iterator[None]:
    """An exclusive lock on a file beside `out` (flock): held by one builder at a time, and released
    by the system when its process ends, whatever way it dies, so no lock is ever left behind."""
    lock_path = out.with_name(f".{out.name}.lock")
    with open(lock_path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(str(out)) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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

FAMILY = "LiberationSerif"


def _pdf() -> FPDF:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    # Margins of administrative documents (Nghị định 30/2020/NĐ-CP): left 30 mm, right 15, top 20.
    pdf.set_margins(left=30, top=20, right=15)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_font(FAMILY, "", FONTS / "LiberationSerif-Regular.ttf")
    pdf.add_font(FAMILY, "B", FONTS / "LiberationSerif-Bold.ttf")
    pdf.add_font(FAMILY, "I", FONTS / "LiberationSerif-Italic.ttf")
    pdf.set_title(_("Honours decision %(number)s") % {"number": ""})
    pdf.set_creator("Sáng kiến")
    return pdf


def _signed_on(decision: HonourDecision) -> str:
    """ "Hà Nội, ngày 05 tháng 4 năm 2022": a 0 before a day below 10 and before months 1 and 2."""
    day = decision.signed_on
    if day is None:
        return ""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    dated = _("date %(day)s month %(month)s year %(year)s") % {
        "day": f"{day.day:02d}",
        "month": month,
        "year": day.year,
    }
    return f"{decision.place}, {dated}" if decision.place else capfirst(dated)


def write_pdf(decision: HonourDecision, path: Path) -> int:
    pdf = _pdf()
    pdf.set_title(_("Honours decision %(number)s") % {"number": decision.number})
    pdf.add_page()
    width = pdf.epw
    left, right = width * 0.42, width * 0.58
    top = pdf.get_y()
    # The issuing body, and the decision's number under it.
    pdf.set_font(FAMILY, "B", 12)
    pdf.multi_cell(
        left, 6, (decision.issuer_name or decision.scope_name).upper(), align="C", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font(FAMILY, "", 12)
    pdf.multi_cell(
        left, 6, _("No.: %(number)s") % {"number": decision.number}, align="C", new_x="LMARGIN", new_y="NEXT"
    )
    below_left = pdf.get_y()
    # The national motto.
    pdf.set_xy(pdf.l_margin + left, top)
    pdf.set_font(FAMILY, "B", 12)
    pdf.multi_cell(right, 6, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font(FAMILY, "BU", 13)
    pdf.multi_cell(right, 6, "Độc lập - Tự do - Hạnh phúc", align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font(FAMILY, "I", 12)
    pdf.ln(2)
    pdf.set_x(pdf.l_margin + left)
    pdf.multi_cell(right, 6, _signed_on(decision), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(below_left, pdf.get_y()) + 8)
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
