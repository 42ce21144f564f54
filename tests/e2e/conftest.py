"""Playwright drives Debian's Chromium (see shared/BROWSER.md): no browser download is possible here."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandlerMixin
from django.http import HttpRequest, HttpResponseBase
from playwright.sync_api import Page

from demo.seed import DEMO_PASSWORD

# Playwright's sync API runs an event loop in the test thread; the ORM calls in tests are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    assert shutil.which(CHROMIUM), f"{CHROMIUM} is missing: `make test` installs Debian's chromium"
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session", autouse=True)
def cached_static_files() -> Iterator[None]:
    """The live server's static files with a lifetime, as WhiteNoise serves production's hashed ones:
    without it Chromium fetched every script and style again on each page, about eleven requests
    a page answered by the test process itself (a page of the site walk took 0.34 s, half of it that)."""
    serve = StaticFilesHandlerMixin.serve

    def serve_cached(self: StaticFilesHandlerMixin, request: HttpRequest) -> HttpResponseBase:
        response = serve(self, request)
        response["Cache-Control"] = "max-age=3600"
        return response

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(StaticFilesHandlerMixin, "serve", serve_cached)
        yield


@pytest.fixture
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "locale": "vi-VN", "timezone_id": "Asia/Ho_Chi_Minh"}


def log_in(page: Page, url: str, username: str) -> None:
    """Sign in with a demo account on the login page at `url` (in a fresh session)."""
    page.context.clear_cookies()
    page.goto(url)
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
