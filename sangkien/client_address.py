"""The address a request came from, for the login lockout (django-axes' AXES_CLIENT_IP_CALLABLE)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies of our own the address the outermost of
    them saw: each appends its peer to X-Forwarded-For, so that one stands TRUSTED_PROXY_COUNT entries
    from the right. Entries further left come from the client, which may write anything there;
    taking the leftmost would let an attacker pick a new address for every guess."""
    remote = request.META.get("REMOTE_ADDR")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [entry for entry in forwarded if entry]
    if len(forwarded) < hops:
        # Not through all of our proxies (a request straight to gunicorn): only the peer is known.
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-hops]))
    except ValueError:
        return remote
