"""Text helpers shared by every app."""

from __future__ import annotations

import unicodedata

# NFD leaves "đ" whole (it is a letter of its own, not d + a mark), so it is mapped first.
_D_STROKE = str.maketrans({"đ": "d", "Đ": "D"})


def unaccent(text: str) -> str:
    """`text` without its diacritics, case kept: `unaccent("Rạng Đông")` is `"Rang Dong"`."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_D_STROKE))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower-case, diacritic-free, single-spaced form of `text`, for searching.

    `fold("Công ty Rạng Đông")` is `"cong ty rang dong"`, so "rang dong" finds "Rạng Đông".
    """
    return " ".join(unaccent(text).casefold().split())


def _digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts "²" and other characters int() refuses."""
    return text.isascii() and text.isdigit()


def parse_id(text: str, *, max_digits: int = 18) -> int | None:
    """A row id or page number typed into a URL or a form: ASCII digits only, at most `max_digits`
    of them (an id fits a BIGINT); None for anything else, which a lookup would turn into a 500."""
    return int(text) if _digits(text) and len(text) <= max_digits else None


def group_thousands(amount: int) -> str:
    """An amount with Vietnamese digit grouping, whatever the active language: "125.500.000"."""
    return f"{amount:,}".replace(",", ".")


def format_vnd(amount: int) -> str:
    """An amount in đồng as Vietnamese readers expect it: "125.500.000 đ"."""
    return f"{group_thousands(amount)} đ"


_VND_UNITS = ("đồng", "dong", "vnd", "vnđ", "đ", "d")


def parse_vnd(text: str) -> int | None:
    """An amount in đồng as Vietnamese users type it: "10.000.000", "10,000,000", "10 000 000 đ".

    Returns None when the text is not a whole, non-negative amount (đồng has no subunit).
    """
    cleaned = text.strip().lower()
    for unit in _VND_UNITS:
        if cleaned.endswith(unit):
            cleaned = cleaned[: -len(unit)].strip()
            break
    cleaned = cleaned.replace(" ", "").replace("\u00a0", "")
    if not cleaned:
        return None
    if _digits(cleaned):
        return int(cleaned)
    for separator in (".", ","):
        groups = cleaned.split(separator)
        thousands = len(groups) > 1 and 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
        if thousands and all(_digits(g) for g in groups):
            return int("".join(groups))
    return None
