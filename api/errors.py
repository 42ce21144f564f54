"""The API's refusals in the user's language: Django REST framework's own Vietnamese catalogue
lacks some of them (a throttled request, a bad cursor, a missing token, a body that is not JSON)."""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ErrorDetail, NotAuthenticated, ParseError, Throttled, UnsupportedMediaType
from rest_framework.response import Response
from rest_framework.views import exception_handler as framework_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    wait = getattr(exc, "wait", None)  # set by Throttled's __init__ (the stubs do not declare it)
    if isinstance(exc, Throttled) and wait is not None:
        seconds = math.ceil(wait)
        said = Throttled(detail=throttled_detail(seconds))
        said.__dict__["wait"] = seconds  # the Retry-After header
        exc = said
    elif isinstance(exc, NotAuthenticated):  # keeps its WWW-Authenticate header (exc.auth_header)
        exc.detail = ErrorDetail(_("Give the token as “Authorization: Token <token>”."), code=exc.default_code)
    elif isinstance(exc, ParseError):
        exc.detail = ErrorDetail(_("The request's body is not valid JSON."), code=exc.default_code)
    elif isinstance(exc, UnsupportedMediaType):
        exc.detail = ErrorDetail(
            _("Send the request's body as JSON (Content-Type: application/json)."), code=exc.default_code
        )
    return framework_handler(exc, context)


def throttled_detail(seconds: int) -> str:
    return _("Too many requests from this address: try again in %(seconds)s s.") % {"seconds": seconds}
