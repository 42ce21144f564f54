"""Public pages served to anonymous visitors from the cache (issue 17).

An anonymous visitor of the home page, the public list and search, a public initiative or the FAQ
sees what every other anonymous visitor sees, so the page is rendered once a minute
(`PUBLIC_PAGE_CACHE_SECONDS`) and then served from the cache: a hit costs one cache read, no query,
no session. Before, two requests a second to the public list kept both of a server's workers busy.

What is never served from or stored in the cache:
- a request with a session or a messages cookie: it may belong to someone signed in or carry a
  message for this visitor only ("Bạn đã đăng xuất"), so the page is rendered for it;
- a query string with a parameter the page does not read, or longer than any filter the page offers
  (`public_page` names the parameters): odd URLs cannot fill the cache, they are rendered each time;
- any answer but a 200 without cookies (a page that sets one is somebody's own).

A new programme or phase makes every cached public page old at once (`forget_public_pages`, a new
version of their keys); anything else shows within the minute.

The cache is optional (sangkien.cache): without it every request renders, as before.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

MAX_QUERY_LENGTH = 300  # characters of the query string: longer is no filter a visitor types
VERSION_KEY = "public-pages-version"


# The version as this process last read it, and until when it trusts that reading: a hit then costs
# one cache read, not two, and another process sees a new version within a second.
_version: tuple[float, int] = (0.0, 0)
VERSION_TRUSTED_SECONDS = 1.0


def forget_public_pages(**_: object) -> None:
    """Every public page is rendered again at its next visit."""
    global _version
    version = time.time_ns()
    cache.set(VERSION_KEY, version, None)
    _version = (time.monotonic() + VERSION_TRUSTED_SECONDS, version)


def current_version() -> int:
    """The public pages' version: a new programme or phase makes a new one (`forget_public_pages`)."""
    global _version
    now = time.monotonic()
    if now >= _version[0]:
        _version = (now + VERSION_TRUSTED_SECONDS, cache.get(VERSION_KEY, 0))
    return _version[1]


def _cache_key(request: HttpRequest, view: str, parameters: frozenset[str]) -> str | None:
    """The page's key, or None when this request must be rendered for itself."""
    if request.method not in ("GET", "HEAD"):
        return None
    if settings.SESSION_COOKIE_NAME in request.COOKIES or "messages" in request.COOKIES:
        return None
    query = request.META.get("QUERY_STRING", "")
    if len(query) > MAX_QUERY_LENGTH or set(request.GET) - parameters:
        return None
    # The parameters in a stable order: ?field=1&q=x and ?q=x&field=1 are one page.
    normal = "&".join(f"{name}={value}" for name, value in sorted(request.GET.lists(), key=lambda item: item[0]))
    digest = hashlib.sha256(f"{request.path}?{normal}".encode()).hexdigest()
    return f"public-page:{current_version()}:{view}:{get_language()}:{digest}"


def public_page(*parameters: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Serve the decorated view to anonymous visitors from the cache, for the query `parameters`
    it reads (see the module's docstring)."""
    allowed = frozenset(parameters)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        name = f"{view.__module__}.{view.__qualname__}"

        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            key = _cache_key(request, name, allowed)
            if key is None:
                return view(request, *args, **kwargs)
            cached = cache.get(key)
            if cached is not None:
                content, content_type = cached
                return HttpResponse(content, content_type=content_type)
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.cookies and not response.streaming:
                cache.set(key, (response.content, response["Content-Type"]), settings.PUBLIC_PAGE_CACHE_SECONDS)
            return response

        return wrapper

    return decorator
