"""Rate limits of the API per client address: the address as the portal's own proxies report it
(sangkien.client_address), never one a client names in a header of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.throttling import SimpleRateThrottle

from sangkien.client_address import client_address

if TYPE_CHECKING:  # rest_framework.views imports this module through its settings
    from rest_framework.request import Request
    from rest_framework.views import APIView


class ClientAddressThrottle(SimpleRateThrottle):
    """Every client of the public API, counted by its address (`REST_FRAMEWORK`'s "public" rate)."""

    scope = "public"

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request._request) or "unknown"}
