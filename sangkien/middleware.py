"""Request guards that apply to every URL before any view runs."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse


class NulCharacterRejected(SuspiciousOperation):
    """A NUL byte in a query or form parameter: no legitimate form sends one."""


class RejectNulMiddleware:
    """Answer 400 to a request whose query string or form fields hold a NUL byte.

    PostgreSQL cannot store or compare text containing NUL, so a `%00` that reached an admin
    list filter or any other lookup became a 500. Refusing it at the door covers every page,
    including the ones Django's admin builds from the query string.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.META.get("QUERY_STRING", "") or "%00" in request.META.get("QUERY_STRING", ""):
            self._check(request.GET)
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            self._check(request.POST)
        return self.get_response(request)

    @staticmethod
    def _check(params: object) -> None:
        for key, values in params.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                raise NulCharacterRejected("NUL character in request parameters")
