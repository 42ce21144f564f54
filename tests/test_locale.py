"""Vietnamese first: every UI msgid has a Vietnamese translation, and the compiled catalogue is current."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.utils import translation

from tests.test_architecture import PACKAGES

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "vi" / "LC_MESSAGES" / "django.po"
# The JavaScript catalogue: the admin's date picker and selectors (sangkien/translations.js).
JS_PO = ROOT / "locale" / "vi" / "LC_MESSAGES" / "djangojs.po"
# The project's packages (the app map's list, so a new app is never left out) and its other sources.
SOURCES = ("manage.py", *PACKAGES, "templates", "static", "locale")
CATALOGUES = pytest.mark.parametrize("po_path", [PO, JS_PO], ids=["django", "djangojs"])


def entries(po: polib.POFile) -> dict[tuple[str | None, str], object]:
    """Translations by (context, msgid): one msgid may be translated differently in a context."""
    return {
        (entry.msgctxt, entry.msgid): dict(entry.msgstr_plural) if entry.msgid_plural else entry.msgstr
        for entry in po
        if not entry.obsolete
    }


def untranslated(po: polib.POFile) -> list[str]:
    def translated(entry: polib.POEntry) -> bool:
        if entry.msgid_plural:
            return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
        return bool(entry.msgstr)

    return sorted(entry.msgid for entry in po if not translated(entry) or "fuzzy" in entry.flags)


@CATALOGUES
def test_every_entry_of_the_catalogue_is_translated(po_path: Path) -> None:
    assert not untranslated(polib.pofile(str(po_path)))


@CATALOGUES
def test_the_compiled_catalogue_matches_the_po_file(po_path: Path) -> None:
    compiled = polib.mofile(str(po_path.with_suffix(".mo")))
    assert entries(compiled) == entries(polib.pofile(str(po_path))), "run `make messages` and commit the .mo files"


def test_every_msgid_in_code_and_templates_is_in_the_catalogue(tmp_path: Path) -> None:
    """makemessages on a copy of the sources must find exactly the msgids the catalogue has."""
    assert shutil.which("xgettext"), "make test installs Debian's gettext"
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_"))}
    for domain in ("django", "djangojs"):
        result = subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-d", domain, "-l", "vi", "--no-obsolete",
             "--ignore=static/vendor"],
            cwd=tmp_path, env={**env, "DJANGO_SETTINGS_MODULE": "sangkien.settings"},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        fresh = polib.pofile(str(tmp_path / "locale" / "vi" / "LC_MESSAGES" / f"{domain}.po"))
        missing = untranslated(fresh)
        assert not missing, f"{domain}: msgids without a Vietnamese translation (run `make messages`): {missing}"


@pytest.mark.parametrize(
    ("msgid", "expected"),
    [("Submitted", "Đã gửi"), ("Grassroots union", "Công đoàn cơ sở"), ("Log in", "Đăng nhập"),
     ("Show counts", "Hiện số lượng")],  # the last: Django's, which its own Vietnamese lacks
)  # fmt: skip
def test_the_ui_speaks_vietnamese_and_english_comes_free(msgid: str, expected: str) -> None:
    with translation.override("vi"):
        assert translation.gettext(msgid) == expected
    with translation.override("en"):
        assert translation.gettext(msgid) == msgid
