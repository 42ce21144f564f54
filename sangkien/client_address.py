"""The address a request came from, for the login lockout (django-axes' AXES_CLIENT_IP_CALLABLE).

Hand-written rather than django-axes' python-ipware option: ipware's `proxy_trusted_ips` compares
the entries *inside* X-Forwarded-For (which the client writes) with string prefixes, never the peer
that actually connected (REMOTE_ADDR), so a client reaching gunicorn directly could still name its
own address. Here the peer must be one of TRUSTED_PROXY_ADDRESSES before the header is read at all."""

from __future__ import annotations

import ipaddress
from functools import cache

from django.conf import settings
from django.http import HttpRequest

type Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def proxy_networks(addresses: tuple[str, ...]) -> tuple[Network, ...]:
    """TRUSTED_PROXY_ADDRESSES as networks: each an address (a network of one) or a CIDR block
    (settings.py refuses to start on anything else)."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in addresses)


def is_trusted_proxy(address: str | None) -> bool:
    """Whether `address` (a request's REMOTE_ADDR) is one of the portal's own reverse proxies."""
    if not address:
        return False
    try:
        peer = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
        peer = peer.ipv4_mapped  # ::ffff:172.30.12.2 from a dual-stack socket is the proxy's IPv4 address
    return any(peer in network for network in proxy_networks(tuple(settings.TRUSTED_PROXY_ADDRESSES)))


def client_address(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, unless the request came from one of our own proxies (TRUSTED_PROXY_ADDRESSES)
    and went through TRUSTED_PROXY_COUNT of them: each appends its peer to X-Forwarded-For, so the
    address the outermost one saw stands TRUSTED_PROXY_COUNT entries from the right. Entries further
    left come from the client, which may write anything there; so may a client that reaches gunicorn
    directly, whatever it writes: its header is never read."""
    remote = request.META.get("REMOTE_ADDR")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0 or not is_trusted_proxy(remote):
        return remote
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [entry for entry in forwarded if entry]
    if len(forwarded) < hops:
        # Not through all of our proxies: only the peer is known.
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-hops]))
    except ValueError:
        return remote
