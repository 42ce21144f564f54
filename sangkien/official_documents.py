"""Official documents in Vietnamese administrative style (Nghị định 30/2020/NĐ-CP), as PDF and .docx:
the issuing body and the national motto side by side over the date line, then the document's
paragraphs, tables and signatures.

PDF with fpdf2, set in Liberation Serif (the metrics of Times New Roman, which administrative
documents use; SIL Open Font License, in sangkien/fonts), which carries every Vietnamese letter and
is embedded, so the PDF prints the same everywhere. The .docx (python-docx) names Times New Roman
itself: the office that edits it has that font. Dates as the decree writes them: "Hà Nội, ngày 05
tháng 4 năm 2022" (a 0 before days below 10 and before months 1 and 2).

A document that never changes is built once and kept (`build_once`): one builder at a time holds a
lock (flock) on a file beside it, which the system releases if the builder dies.

Text is always written as text: nothing in a name or a summary is read as markup or a field.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import docx
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Length, Mm, Pt
from docx.table import Table as DocxTable
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from fpdf import FPDF
from fpdf.fonts import FontFace

from sangkien.files import write_whole

FONTS = Path(__file__).resolve().parent / "fonts"
FAMILY = "LiberationSerif"  # the PDF's embedded font
DOCX_FONT = "Times New Roman"  # what a .docx asks the office's Word for

# The page of Nghị định 30/2020/NĐ-CP: A4, left 30 mm, right 15, top 20, bottom 20.
PAGE_MM = (210, 297)
LEFT_MM, RIGHT_MM, TOP_MM, BOTTOM_MM = 30, 15, 20, 20
# The header's columns: the issuing body at left, the national motto at right.
BODY_SHARE = 0.42

MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_LINE = "Độc lập - Tự do - Hạnh phúc"


class Busy(Exception):
    """Another process is building this document right now."""


def build_once(out: Path, write: Callable[[Path], object]) -> Path:
    """`out`, written by `write(path)` if it is not there yet (whole or not at all); Busy while
    another process builds it."""
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with _lock(out):
        if not out.exists():  # built by the holder before us
            write_whole(out, write)
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


def date_line(day: dt.date | None, place: str) -> str:
    """ "Hà Nội, ngày 05 tháng 4 năm 2022": a 0 before a day below 10 and before months 1 and 2 (so
    that no one can add a digit in front of them); "Ngày …" when the place is not known."""
    if day is None:
        return ""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    dated = _("date %(day)s month %(month)s year %(year)s") % {
        "day": f"{day.day:02d}",
        "month": month,
        "year": day.year,
    }
    return f"{place}, {dated}" if place else capfirst(dated)


# -- PDF -----------------------------------------------------------------------------------------


def new_pdf(title: str) -> FPDF:
    """An A4 page set up as the decree has it, with Liberation Serif in its four styles."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(left=LEFT_MM, top=TOP_MM, right=RIGHT_MM)
    pdf.set_auto_page_break(auto=True, margin=BOTTOM_MM)
    pdf.add_font(FAMILY, "", FONTS / "LiberationSerif-Regular.ttf")
    pdf.add_font(FAMILY, "B", FONTS / "LiberationSerif-Bold.ttf")
    pdf.add_font(FAMILY, "I", FONTS / "LiberationSerif-Italic.ttf")
    pdf.add_font(FAMILY, "BI", FONTS / "LiberationSerif-BoldItalic.ttf")  # "Nơi nhận:"
    pdf.set_title(title)
    pdf.set_creator("Sáng kiến")
    return pdf


def pdf_header(pdf: FPDF, *, body: str, reference: str, dated: str) -> tuple[float, float]:
    """The header block: the issuing body (upper case) and the document's number (`reference`, may
    be blank) at left; the national motto and the date line at right. Returns the two columns'
    widths, which the signatures below line up with."""
    width = pdf.epw
    left, right = width * BODY_SHARE, width * (1 - BODY_SHARE)
    top = pdf.get_y()
    pdf.set_font(FAMILY, "B", 12)
    pdf.multi_cell(left, 6, body.upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    if reference:
        pdf.set_font(FAMILY, "", 12)
        pdf.multi_cell(left, 6, reference, align="C", new_x="LMARGIN", new_y="NEXT")
    below_left = pdf.get_y()
    pdf.set_xy(pdf.l_margin + left, top)
    pdf.set_font(FAMILY, "B", 12)
    pdf.multi_cell(right, 6, MOTTO, align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font(FAMILY, "BU", 13)
    pdf.multi_cell(right, 6, MOTTO_LINE, align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font(FAMILY, "I", 12)
    pdf.ln(2)
    pdf.set_x(pdf.l_margin + left)
    pdf.multi_cell(right, 6, dated, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(below_left, pdf.get_y()) + 8)
    return left, right


# -- A document's content, for both formats ------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A paragraph. `style`: "" or any of B (bold), I (italic), U (underlined); `align`: L, C, R
    or J (justified); `size` in points; `before`: space above it, in mm."""

    text: str
    style: str = ""
    align: str = "J"
    size: float = 13
    before: float = 0


@dataclass(frozen=True)
class Table:
    """A bordered table: a heading row (repeated on each page) and rows of text. `widths` are
    relative; `align` is L, C or R per column."""

    headings: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[float]
    align: Sequence[str]
    size: float = 11


@dataclass(frozen=True)
class Signatures:
    """Two columns below the text, lined up with the header's: who signs on each side (or where the
    document goes, at left)."""

    left: Sequence[Text]
    right: Sequence[Text]


Block = Text | Table | Signatures


@dataclass(frozen=True)
class OfficialDocument:
    title: str  # the file's own title (its properties)
    body: str  # the issuing body, written upper case
    reference: str  # "Số: 15/TTr" under it, or blank
    dated: str  # the date line
    blocks: Sequence[Block] = field(default_factory=list)


# Characters XML 1.0 cannot hold (a .docx refuses them) and a PDF has no glyph for.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    return _UNPRINTABLE.sub("", text)


def _line_height(size: float) -> float:
    """mm per line: 13 pt text on 6.5 mm lines, as the decisions have it."""
    return size / 2


_PDF_ALIGN = {"L": "LEFT", "C": "CENTER", "R": "RIGHT", "J": "JUSTIFY"}


def write_pdf(document: OfficialDocument, path: Path) -> None:
    pdf = new_pdf(printable(document.title))
    pdf.add_page()
    left, right = pdf_header(
        pdf, body=printable(document.body), reference=printable(document.reference), dated=document.dated
    )
    for block in document.blocks:
        if isinstance(block, Text):
            _pdf_text(pdf, block, pdf.epw)
        elif isinstance(block, Table):
            _pdf_table(pdf, block)
        else:
            _pdf_signatures(pdf, block, left, right)
    pdf.output(str(path))


def _pdf_text(pdf: FPDF, text: Text, width: float) -> None:
    if text.before:
        pdf.set_xy(pdf.get_x(), pdf.get_y() + text.before)  # not ln(): it would go back to the left margin
    pdf.set_font(FAMILY, text.style, text.size)
    pdf.multi_cell(width, _line_height(text.size), printable(text.text), align=text.align, new_x="LEFT", new_y="NEXT")


def _pdf_table(pdf: FPDF, table: Table) -> None:
    pdf.ln(1)
    pdf.set_font(FAMILY, "", table.size)
    with pdf.table(
        width=pdf.epw,
        align="LEFT",
        col_widths=tuple(table.widths),
        text_align=tuple(_PDF_ALIGN[a] for a in table.align),
        headings_style=FontFace(emphasis="BOLD"),
        line_height=_line_height(table.size),
        repeat_headings=1,
    ) as grid:
        grid.row([printable(heading) for heading in table.headings])
        for row in table.rows:
            grid.row([printable(cell) for cell in row])
    pdf.ln(2)


def _pdf_signatures(pdf: FPDF, signatures: Signatures, left: float, right: float) -> None:
    height = max(
        sum(line.before + _line_height(line.size) for line in column) for column in (signatures.left, signatures.right)
    )
    pdf.ln(4)
    if pdf.will_page_break(height):
        pdf.add_page()
    top = pdf.get_y()
    pdf.set_x(pdf.l_margin)
    for line in signatures.left:
        _pdf_text(pdf, line, left)
    below_left = pdf.get_y()
    pdf.set_xy(pdf.l_margin + left, top)
    for line in signatures.right:
        _pdf_text(pdf, line, right)
    pdf.set_xy(pdf.l_margin, max(below_left, pdf.get_y()))


# -- .docx ---------------------------------------------------------------------------------------

_DOCX_ALIGN = {
    "L": WD_ALIGN_PARAGRAPH.LEFT,
    "C": WD_ALIGN_PARAGRAPH.CENTER,
    "R": WD_ALIGN_PARAGRAPH.RIGHT,
    "J": WD_ALIGN_PARAGRAPH.JUSTIFY,
}


def write_docx(document: OfficialDocument, path: Path) -> None:
    out = _new_docx(printable(document.title))
    text_width = PAGE_MM[0] - LEFT_MM - RIGHT_MM
    left, right = text_width * BODY_SHARE, text_width * (1 - BODY_SHARE)
    header_left: list[Text] = [Text(document.body.upper(), "B", "C", 12)]
    if document.reference:
        header_left.append(Text(document.reference, "", "C", 12))
    header_right = [
        Text(MOTTO, "B", "C", 12),
        Text(MOTTO_LINE, "BU", "C", 13),
        Text(document.dated, "I", "C", 12, before=2),
    ]
    _docx_columns(out, header_left, header_right, left, right)
    out.add_paragraph()
    for block in document.blocks:
        if isinstance(block, Text):
            _docx_paragraph(out.add_paragraph(), block)
        elif isinstance(block, Table):
            _docx_table(out, block, text_width)
        else:
            out.add_paragraph()
            _docx_columns(out, block.left, block.right, left, right)
    out.save(str(path))


def _new_docx(title: str) -> DocxDocument:
    out = docx.Document()
    section = out.sections[0]
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.left_margin, section.right_margin = Mm(LEFT_MM), Mm(RIGHT_MM)
    section.top_margin, section.bottom_margin = Mm(TOP_MM), Mm(BOTTOM_MM)
    normal = out.styles["Normal"]
    normal.font.name = DOCX_FONT
    normal.font.size = Pt(13)
    # Word picks the font per script; Vietnamese letters are Latin, but set every slot alike so
    # that no run falls back to the template's theme font.
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), DOCX_FONT)
    normal.paragraph_format.space_after = Pt(3)
    properties = out.core_properties
    properties.title, properties.author, properties.last_modified_by = title, "Sáng kiến", "Sáng kiến"
    properties.comments = ""
    return out


def _docx_paragraph(paragraph: Paragraph, text: Text, *, spaced: bool = True) -> None:
    paragraph.alignment = _DOCX_ALIGN[text.align]
    if text.before:
        paragraph.paragraph_format.space_before = Mm(text.before)
    if not spaced:
        paragraph.paragraph_format.space_after = Pt(0)
    run = paragraph.add_run(printable(text.text))  # "\n" becomes a line break, nothing else is read
    run.bold = "B" in text.style or None
    run.italic = "I" in text.style or None
    run.underline = "U" in text.style or None
    run.font.size = Pt(text.size)


def _docx_table(out: DocxDocument, table: Table, text_width: float) -> None:
    grid = out.add_table(rows=1, cols=len(table.headings))
    grid.style = out.styles["Table Grid"]
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    total = sum(table.widths)
    widths = [Mm(text_width * share / total) for share in table.widths]
    _docx_widths(grid, widths)
    heading = grid.rows[0]
    # Repeated at the top of each page the table runs onto.
    heading._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for cell, text, width in zip(heading.cells, table.headings, widths, strict=True):
        _docx_cell(cell, Text(text, "B", "C", table.size), width)
    for row in table.rows:
        cells = grid.add_row().cells
        for cell, text, align, width in zip(cells, row, table.align, widths, strict=True):
            _docx_cell(cell, Text(text, "", align, table.size), width)
    out.add_paragraph()


def _docx_widths(grid: DocxTable, widths: Sequence[Length]) -> None:
    """The columns' widths in the table's grid (what LibreOffice lays out by) and in each cell of its
    first row (what Word does); the rows added later take the cells' widths from the grid."""
    for column, width in zip(grid.columns, widths, strict=True):
        column.width = width
    for cell, width in zip(grid.rows[0].cells, widths, strict=True):
        cell.width = width


def _docx_cell(cell: _Cell, text: Text, width: Length) -> None:
    cell.width = width
    _docx_paragraph(cell.paragraphs[0], text, spaced=False)


def _docx_columns(
    out: DocxDocument, left_lines: Sequence[Text], right_lines: Sequence[Text], left: float, right: float
) -> None:
    """Two columns side by side without borders (the header, the signatures)."""
    grid = out.add_table(rows=1, cols=2)
    grid.autofit = False
    _docx_widths(grid, [Mm(left), Mm(right)])
    # Kept on one page: a signer's title never parts from the name below it.
    grid.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    for cell, lines in zip(grid.rows[0].cells, (left_lines, right_lines), strict=True):
        for index, line in enumerate(lines):
            paragraph = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
            _docx_paragraph(paragraph, line, spaced=False)
