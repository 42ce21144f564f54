"""The names of a closed round's documents: their kinds and types, and the name each downloads under."""

from __future__ import annotations

from django.utils.translation import gettext as _

from councils.models import SelectionRound

MINUTES_PDF, MINUTES_DOCX = "minutes.pdf", "minutes.docx"
SUBMISSION_PDF, SUBMISSION_DOCX = "submission.pdf", "submission.docx"
PDF_TYPE = "application/pdf"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
KINDS = {
    MINUTES_PDF: PDF_TYPE,
    MINUTES_DOCX: DOCX_TYPE,
    SUBMISSION_PDF: PDF_TYPE,
    SUBMISSION_DOCX: DOCX_TYPE,
}


def download_name(selection_round: SelectionRound, name: str) -> str:
    """ "Biên bản hội đồng – Xét chọn năm 2023.pdf": a round name's slashes would read as folders."""
    stem, extension = name.split(".")
    round_name = selection_round.name.replace("/", "-").replace("\\", "-")
    if stem == "minutes":
        title = _("Council minutes – %(round)s") % {"round": round_name}
    else:
        title = _("Cover submission – %(round)s") % {"round": round_name}
    return f"{title}.{extension}"
