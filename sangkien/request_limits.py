"""Request bodies are refused before Django reads them when they are longer than their URL allows.

Without this an anonymous multipart POST of 1 GiB to the login page was written to a temporary file
before CSRF refused it, and an officer's 1 GiB import was stored before the form said "too large".

The one table below names every URL that accepts files and the setting that bounds them; every
other URL is bounded by REQUEST_BODY_MAX_BYTES (its form fields only). `tests/test_request_limits.py`
fails when a view that reads request.FILES, or an admin form with a file field, is missing here.

The declared Content-Length is all that needs checking: Django's WSGIRequest reads `wsgi.input`
through a LimitedStream of exactly CONTENT_LENGTH bytes (0 when the header is absent), so a body
sent chunked or longer than declared is never read, let alone stored (the tests prove it against
a real gunicorn).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils.encoding import escape_uri_path

# The most files one upload field takes (the initiative form's attachments); forms check it too.
MAX_FILES_PER_UPLOAD = 10


@dataclass(frozen=True)
class FileAllowance:
    """A URL's files: at most `count` of them, each at most the bytes of setting `setting`."""

    setting: str
    count: int = 1

    def bytes(self) -> int:
        return self.count * getattr(settings, self.setting)


# URL name → the files one request to it may carry. The form's other fields and the multipart
# framing get REQUEST_BODY_MAX_BYTES on top.
UPLOAD_LIMITS: dict[str, FileAllowance] = {
    "initiatives:create": FileAllowance("INITIATIVE_ATTACHMENT_MAX_BYTES", MAX_FILES_PER_UPLOAD),
    "initiatives:edit": FileAllowance("INITIATIVE_ATTACHMENT_MAX_BYTES", MAX_FILES_PER_UPLOAD),
    "questions:create": FileAllowance("INITIATIVE_ATTACHMENT_MAX_BYTES"),
    "initiatives:import": FileAllowance("INITIATIVE_IMPORT_MAX_BYTES"),
    "admin:unions_union_import": FileAllowance("UNION_IMPORT_MAX_BYTES"),
    "admin:initiatives_quartertarget_import": FileAllowance("QUARTER_TARGET_IMPORT_MAX_BYTES"),
}


def body_limit(view_name: str | None) -> int:
    """The most bytes a request body to the URL named `view_name` may have."""
    allowance = UPLOAD_LIMITS.get(view_name or "")
    return settings.REQUEST_BODY_MAX_BYTES + (allowance.bytes() if allowance else 0)


def largest_body_limit() -> int:
    """What the reverse proxy must let through (nginx's client_max_body_size)."""
    return max(body_limit(name) for name in [None, *UPLOAD_LIMITS])


def view_name_of(path: str) -> str | None:
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


def declared_length(request: HttpRequest) -> int:
    """Content-Length as Django itself reads it: anything unparsable is no body at all."""
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def too_large_response(request: HttpRequest, *, limit: int, length: int | None, back: str | None) -> HttpResponse:
    """413 in the portal's layout, with a link `back` to the form (a path of this site, as a GET).
    Rendered before the session and the user are loaded, so the page needs neither the database
    nor the session (the menu shows the anonymous links)."""
    if back is not None:
        # Percent-encoded, so no tab or backslash survives for a browser to drop or turn into "/",
        # and with one leading slash: a path starting with "//" would be a link to another host.
        back = "/" + escape_uri_path(back).lstrip("/")
    context = {"limit": limit, "length": length, "back": back}
    response = HttpResponse(render_to_string("413.html", context, request=request), status=413)
    # Set here: CommonMiddleware, which would, never sees this response.
    response.headers["Content-Length"] = str(len(response.content))
    return response


class RequestBodyLimitMiddleware:
    """Before anything (CSRF, the forms) reads the body: only SecurityMiddleware comes earlier, so
    the 413 still carries its headers (HSTS, nosniff); it reads no body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = declared_length(request)
        if length > settings.REQUEST_BODY_MAX_BYTES:  # only then is the URL worth resolving
            limit = body_limit(view_name_of(request.path_info))
            if length > limit:
                return too_large_response(request, limit=limit, length=length, back=request.path)
        return self.get_response(request)
