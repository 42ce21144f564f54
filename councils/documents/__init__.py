"""A closed round's documents (issue 20, item 4): the minutes of its council (biên bản: the round's
settings and rubric, the members present and absent, conflicts of interest, third scorers, every
submitted sheet per member and criterion, the means, the ranking and the result) and the cover
submission to the level above (tờ trình: the selected initiatives in rank order, each with its
particulars and summary), each as PDF and .docx in Vietnamese administrative style
(sangkien.official_documents).

A closed round never changes, so each document is built once and kept (MEDIA_ROOT/councils/<id>/),
in the background (the task councils.build_document, queue "exports"); one builder at a time holds
a lock beside the file.

A confidential initiative keeps to what the public site shows of it (its title, field and value
benefit): its unit, authors, summary and the nomination's reasons, which describe it, are written as
"confidential information". The minutes keep its title and scores, and the unit that nominated it
(the council knows who did).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from councils.documents.minutes import compose_minutes
from councils.documents.names import (
    DOCX_TYPE,
    KINDS,
    MINUTES_DOCX,
    MINUTES_PDF,
    PDF_TYPE,
    SUBMISSION_DOCX,
    SUBMISSION_PDF,
    download_name,
)
from councils.documents.submission import compose_submission
from councils.models import SelectionRound
from sangkien.official_documents import Busy, OfficialDocument, build_once, write_docx, write_pdf

__all__ = [
    "DOCX_TYPE",
    "FAILED_KEY",
    "KINDS",
    "MINUTES_DOCX",
    "MINUTES_PDF",
    "PDF_TYPE",
    "SUBMISSION_DOCX",
    "SUBMISSION_PDF",
    "Busy",
    "build",
    "build_all",
    "compose_minutes",
    "compose_submission",
    "download_name",
    "folder",
    "path_of",
]

# Set by the task when a build failed: the page says so instead of waiting.
FAILED_KEY = "councils:document-failed:{pk}:{name}"


def folder(selection_round: SelectionRound) -> Path:
    return Path(settings.MEDIA_ROOT) / "councils" / str(selection_round.pk)


def path_of(selection_round: SelectionRound, name: str) -> Path:
    if name not in KINDS:
        raise ValueError(f"no such document: {name!r}")
    return folder(selection_round) / name


def build(selection_round: SelectionRound, name: str) -> Path:
    """The document, built now if it is not there yet; Busy while another process builds it."""
    if not selection_round.is_closed:
        raise ValueError("only a closed round has documents")
    compose = compose_minutes if name.startswith("minutes") else compose_submission
    writer: Callable[[OfficialDocument, Path], None] = write_pdf if name.endswith(".pdf") else write_docx
    return build_once(path_of(selection_round, name), lambda partial: writer(compose(selection_round), partial))


def build_all(selection_round: SelectionRound) -> list[Path]:
    return [build(selection_round, name) for name in KINDS]
