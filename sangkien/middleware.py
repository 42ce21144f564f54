"""Request guards that apply to every URL before any view runs."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.utils.translation import gettext as _

from sangkien.text import parse_id

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# The API's addresses: its clients read JSON, never the site's HTML error page.
API_PREFIX = "/api/"


class NulCharacterRejected(SuspiciousOperation):
    """A NUL byte in a query or form parameter: no legitimate form sends one."""


class MalformedSelection(SuspiciousOperation):
    """An admin action posted for rows whose ids are not numbers."""


class RejectMalformedMiddleware:
    """Answer 400 to a request whose path, cookies, query string or form fields hold a NUL byte,
    or to an admin action posted for ids that are not numbers.

    PostgreSQL cannot store or compare text containing NUL, so a `%00` that reached an admin list
    filter, a URL segment or the session cookie became a 500; an admin action's `_selected_action`
    is turned into `pk__in` unchecked. Refusing both at the door covers every page, including the
    ones Django's admin builds from the request. It runs before the session is loaded.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            self._guard(request)
        except SuspiciousOperation:
            if request.path_info.startswith(API_PREFIX):
                return JsonResponse({"detail": _("The request holds a NUL character: it is refused.")}, status=400)
            raise
        return self.get_response(request)

    def _guard(self, request: HttpRequest) -> None:
        if "\x00" in request.path_info or any("\x00" in key + value for key, value in request.COOKIES.items()):
            raise NulCharacterRejected("NUL character in the path or a cookie")
        if "\x00" in request.META.get("QUERY_STRING", "") or "%00" in request.META.get("QUERY_STRING", ""):
            self._check(request.GET)
        if request.method == "POST" and request.content_type in FORM_TYPES:
            self._check(request.POST)
            selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
            if any(parse_id(value) is None for value in selected):
                raise MalformedSelection("admin action for ids that are not numbers")

    @staticmethod
    def _check(params: QueryDict) -> None:
        for key, values in params.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                raise NulCharacterRejected("NUL character in request parameters")
