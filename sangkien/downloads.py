"""Every file the portal hands out (attachments, workbooks, templates) leaves through here.

A download is a stored upload or a generated workbook; either way:
- its name is one the user's computer cannot mistake for something else: the base name the user
  chose, cleaned, with the extension of the type the content really is (a PDF named `bao-cao.hta`
  downloads as `bao-cao.pdf`, so Windows never runs it as an HTML application);
- `Content-Disposition` carries the name as RFC 6266 asks: an ASCII `filename` for old clients and
  the exact Vietnamese name as UTF-8 in `filename*` (RFC 5987);
- it is never kept by a browser's or a proxy's cache (`Cache-Control: private, no-store`: these are
  a unit's internal documents, and a shared office computer or a proxy must not keep them), never
  sniffed as another type (`X-Content-Type-Options: nosniff`, set for every response by
  SecurityMiddleware) and never run as a page if a browser opens it anyway (a sandboxing CSP).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import IO, overload
from urllib.parse import quote

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from sangkien.text import unaccent

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The types the portal hands out, each with the one extension it is saved under.
EXTENSIONS = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    XLSX: ".xlsx",
    "image/jpeg": ".jpg",
    "image/png": ".png",
}
# Files the portal builds and hands out but never accepts as an upload (initiatives' attachments
# take EXTENSIONS only): the open-data leaderboards (api.leaderboards).
CSV = "text/csv; charset=utf-8"
HANDED_OUT = {**EXTENSIONS, CSV: ".csv"}
# A stored type the portal no longer knows is handed out as bytes nothing opens by itself.
UNKNOWN_TYPE, UNKNOWN_EXTENSION = "application/octet-stream", ".bin"

CACHE_CONTROL = "private, no-store"
# If a browser displays the file in spite of "attachment", nothing in it runs or loads.
SANDBOX = "default-src 'none'; sandbox"

# Path separators and what Windows refuses in a file name ("a.pdf:x.hta" is an alternate stream).
_FORBIDDEN = re.compile(r'[\\/:*?"<>|]')
# What an extension looks like; "Báo cáo 2022. Phần 1" ends in text, not in an extension.
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")
# Linux and most file systems allow 255 bytes per name; the database column holds 255 characters.
_MAX_NAME_BYTES = 255


def random_file_name(folder: str, content_type: str) -> str:
    """A non-guessable name under MEDIA_ROOT for an upload, its extension from the sniffed type (not
    the user's file name, which is kept in the row only)."""
    return f"{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{EXTENSIONS.get(content_type, '')}"


def _visible(ch: str) -> bool:
    """Not a control or format character: no newline to split a header, no right-to-left override
    (U+202E) to show "x<U+202E>fdp.hta" as "xath.pdf", no zero-width space."""
    return not unicodedata.category(ch).startswith(("C", "Zl", "Zp"))


def download_name(name: str, *, content_type: str) -> str:
    """The user's base name, cleaned, with the extension of `content_type` (never the one typed).

    `download_name("bao-cao.hta", content_type="application/pdf")` is `"bao-cao.pdf"`.
    """
    extension = HANDED_OUT.get(content_type, UNKNOWN_EXTENSION)
    base = re.split(r"[\\/]", name)[-1]  # the last part of "C:\fakepath\x.pdf" or "../../x.pdf"
    # NFKC: composed Vietnamese letters (macOS sends them decomposed), and a full-width "／" or "＂"
    # becomes the "/" or '"' that is then replaced.
    base = "".join(ch for ch in unicodedata.normalize("NFKC", base) if _visible(ch))
    base = " ".join(_FORBIDDEN.sub("_", base).split())
    base = _EXTENSION.sub("", base.strip(" .")).strip(" .")  # Windows drops trailing dots and spaces
    room = _MAX_NAME_BYTES - len(extension)
    base = base.encode()[:room].decode(errors="ignore").strip(" .") or _("attachment")
    return base + extension


def content_disposition(name: str) -> str:
    """`attachment` with a `download_name`: as it is when it is plain ASCII, else an ASCII
    approximation ("Bao cao.pdf") for old clients and the exact name in UTF-8 (RFC 6266, 5987)."""
    stem, extension = name[: name.rindex(".")], name[name.rindex(".") :]
    ascii_stem = "".join(ch for ch in _FORBIDDEN.sub("_", unaccent(stem)) if " " <= ch <= "~").strip(" .")
    ascii_stem = ascii_stem or unaccent(_("file"))
    header = f'attachment; filename="{ascii_stem}{extension}"'
    if ascii_stem + extension != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


@overload
def file_response(content: bytes, *, name: str, content_type: str) -> HttpResponse: ...
@overload
def file_response(content: IO[bytes], *, name: str, content_type: str) -> FileResponse: ...
def file_response(content: IO[bytes] | bytes, *, name: str, content_type: str) -> HttpResponse | FileResponse:
    """A download of `content` (an open file, streamed, or bytes already built) under `name` with
    the extension of the type it is, with the headers above."""
    if content_type not in HANDED_OUT:
        content_type = UNKNOWN_TYPE
    if isinstance(content, bytes):
        response: HttpResponse | FileResponse = HttpResponse(content, content_type=content_type)
        response["Content-Length"] = len(content)
    else:
        response = FileResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition(download_name(name, content_type=content_type))
    response["Cache-Control"] = CACHE_CONTROL
    response["Content-Security-Policy"] = SANDBOX
    return response


def stored_file_response(file: FieldFile, *, name: str, content_type: str) -> FileResponse:
    """A stored upload or workbook, with the type recorded when it was stored: the name is made
    again from that type, so a row named before names were fixed at upload is safe too."""
    try:
        handle = file.open("rb")
    except FileNotFoundError:
        raise Http404(_("This file is no longer available.")) from None
    return file_response(handle, name=name, content_type=content_type)
