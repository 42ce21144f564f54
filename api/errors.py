"""The API's refusals in the user's language: Django REST framework's own Vietnamese catalogue
lacks some of them (a throttled request, a bad cursor)."""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.views import exception_handler as framework_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    wait = getattr(exc, "wait", None)  # set by Throttled's __init__ (the stubs do not declare it)
    if isinstance(exc, Throttled) and wait is not None:
        seconds = math.ceil(wait)
        said = Throttled(detail=throttled_detail(seconds))
        said.__dict__["wait"] = seconds  # the Retry-After header
        exc = said
    return framework_handler(exc, context)


def throttled_detail(seconds: int) -> str:
    return _("Too many requests from this address: try again in %(seconds)s s.") % {"seconds": seconds}
