"""The Content-Security-Policy allows only the portal's own scripts and styles: every response
carries it, and no template brings back inline code it would block (the browser side is in
tests/e2e/test_content_security_policy.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
# The project's templates and every app's (`<app>/templates/`), not the virtualenv's.
TEMPLATE_DIRS = [TEMPLATES, *sorted(path for path in ROOT.glob("*/templates") if path.parent.name != ".venv")]
# HTML e-mails are read in mail clients, never served under the policy, and inline styles are the
# norm there (clients drop <link> and <style>).
NOT_SERVED = ROOT / "notifications" / "templates" / "emails"

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

TEMPLATE_CODE = re.compile(r"\{%.*?%\}|\{#.*?#\}|\{\{.*?\}\}", re.S)
HTML_TAG = re.compile(r"<[a-zA-Z][^<>]*>")
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
IN_A_TAG = {
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
}
ANYWHERE = {
    "<style> block": re.compile(r"<style\b", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def inline_code(source: str) -> list[tuple[int, str]]:
    """(line, what) for everything in a template that the policy blocks."""
    # Template tags and variables become blanks of the same shape: a `>` in `{% if a > b %}` must
    # not end an HTML tag, and line numbers must stay right.
    text = TEMPLATE_CODE.sub(lambda match: re.sub(r"[^\n]", " ", match.group()), source)
    found = []
    for tag in HTML_TAG.finditer(text):
        found += [(tag.start(), what) for what, pattern in IN_A_TAG.items() if pattern.search(tag.group())]
    for what, pattern in ANYWHERE.items():
        found += [(match.start(), what) for match in pattern.finditer(text)]
    for script in SCRIPT.finditer(text):
        attributes, body = script.groups()
        if not re.search(r"\ssrc\s*=", attributes) or body.strip():
            found.append((script.start(), "inline <script>"))
    return sorted((text.count("\n", 0, offset) + 1, what) for offset, what in found)


@pytest.mark.parametrize(
    ("snippet", "what"),
    [
        ('<p class="x" style="white-space: pre-line">', "style attribute"),
        ('<div {% if wide %}style="width: {{ w }}%"{% endif %}>', "style attribute"),
        ('<button type="button" onclick="go()">', "event handler attribute"),
        ("<body\n  onload='x()'>", "event handler attribute"),
        ("<style>p { color: red }</style>", "<style> block"),
        ('<a href="JavaScript:void(0)">', "javascript: URL"),
        ("<script>alert(1)</script>", "inline <script>"),
        ('<script src="{% static "a.js" %}">alert(1)</script>', "inline <script>"),
        ('<script type="application/json">{"a": 1}</script>', "inline <script>"),
    ],
)
def test_the_template_scan_finds_each_kind_of_inline_code(snippet: str, what: str) -> None:
    assert [what for _line, what in inline_code(snippet)] == [what]


def test_the_template_scan_passes_external_scripts_and_template_logic() -> None:
    clean = """{% if days > 0 %}<strong class="text-success">{{ one }}</strong>{% endif %}
<script src="{% static 'js/export-status.js' %}" defer></script>
<p data-online="1" class="only">{% blocktranslate count one=days %}…{% endblocktranslate %}</p>"""
    assert inline_code(clean) == []


def test_no_template_has_inline_script_style_or_event_handler() -> None:
    served = [
        path for folder in TEMPLATE_DIRS for path in sorted(folder.rglob("*.html")) if NOT_SERVED not in path.parents
    ]
    ours = {TEMPLATES / "base.html", ROOT / "leaderboard" / "templates" / "leaderboard" / "dashboard.html"}
    assert ours <= set(served)  # it reads the project's and the apps' templates
    found = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in served
        for line, what in inline_code(path.read_text(encoding="utf-8"))
    ]
    assert not found, "Move these to static/css/site.css or static/js/ (the policy blocks them):\n" + "\n".join(found)


def test_the_stylesheet_gives_every_whole_percent_its_width() -> None:
    """Progress bars take a class pct-0 … pct-100 instead of a style attribute."""
    css = (ROOT / "static" / "css" / "site.css").read_text()
    widths = dict(re.findall(r"\.pct-(\d+) \{ width: (\d+)%; \}", css))
    assert widths == {str(n): str(n) for n in range(101)}


@pytest.mark.django_db
def test_pages_and_the_admin_answer_with_the_policy(client: Client) -> None:
    for url in (reverse("faq"), reverse("login"), reverse("admin:login"), reverse("healthz")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Content-Security-Policy"] == POLICY, url
