"""Text helpers shared by every app."""

from __future__ import annotations

import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation

# NFD leaves "đ" whole (it is a letter of its own, not d + a mark), so it is mapped first. Windows-1258
# text read as Latin-1 turns "Đ"/"đ" into "Ð"/"ð" (the same bytes, 0xD0 and 0xF0): they fold to d too.
_D_STROKE = str.maketrans({"đ": "d", "Đ": "D", "\u00d0": "D", "\u00f0": "d"})

# Characters nobody sees that break equality: BOM, zero-width space/joiners, word joiner, soft hyphen.
_INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060\u00ad]")
# In long text only the BOM and the zero-width space go: the joiners hold emoji sequences together.
_INVISIBLE_IN_PROSE = re.compile("[\ufeff\u200b]")


def clean_text(text: str, *, multiline: bool = False) -> str:
    """`text` as it is stored: NFC, without invisible characters, trimmed.

    A line (a name, a code, a title) also has NBSP and other spaces made plain and runs of them
    made one. `multiline` text (a summary, a question) keeps its line breaks (CRLF made LF) and its
    spacing, which may be meant (an indented list)."""
    if multiline:
        text = _INVISIBLE_IN_PROSE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
        return unicodedata.normalize("NFC", text).strip()
    if not text.isascii():  # ASCII is NFC and holds none of them: an import's codes skip the work
        text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text))
    return " ".join(text.split())


def unaccent(text: str) -> str:
    """`text` without its diacritics, case kept: `unaccent("Rạng Đông")` is `"Rang Dong"`."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_D_STROKE))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower-case, diacritic-free, single-spaced form of `text`, for searching.

    `fold("Công ty Rạng Đông")` is `"cong ty rang dong"`, so "rang dong" finds "Rạng Đông".
    """
    return " ".join(unaccent(_INVISIBLE.sub("", text)).casefold().split())


_NOT_ALNUM = re.compile(r"[\W_]+")


def fold_key(text: str) -> str:
    """`fold` without punctuation: what names a cluster, a field or a kind of solution. "Hoà Bình"
    and "Hòa Bình", an NFD spelling, a hyphen or an en dash, a comma or none all give one key:
    `fold_key("An toàn, vệ sinh lao động")` is `"an toan ve sinh lao dong"`."""
    return " ".join(_NOT_ALNUM.sub(" ", fold(text)).split())


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
# Marks a spreadsheet uses for "no amount".
BLANK_MARKS = frozenset({"-", "–", "—", "--"})
# "1,5 tỷ", "10 triệu", "500 nghìn", "1 tỷ 200 triệu": a number (its decimal comma or point) and a word.
# Longer than any amount written with its separators, unit and a scale word: refused unread.
MAX_AMOUNT_CHARACTERS = 60
_SCALES = {"ty": 10**9, "ti": 10**9, "trieu": 10**6, "tr": 10**6, "nghin": 10**3, "ngan": 10**3}
_SCALED = re.compile(r"(\d+(?:[.,]\d+)?)\s*(ty|ti|trieu|tr|nghin|ngan)\b")


def _scaled(folded: str) -> int | None:
    """ "1,5 ty" → 1.500.000.000; "1 ty 200 trieu" → 1.200.000.000; None unless every part is read
    and the sum is whole đồng."""
    parts = list(_SCALED.finditer(folded))
    if not parts or _SCALED.sub("", folded).strip():
        return None
    total = Decimal(0)
    for part in parts:
        # Three digits after the separator group thousands, as in a plain amount ("1.500 triệu" is
        # 1.500.000.000 đ); otherwise it is the decimal comma or point ("1,5 tỷ").
        grouped = _grouped(part[1])
        try:
            number = Decimal(grouped) if grouped is not None else Decimal(part[1].replace(",", "."))
        except InvalidOperation:
            return None
        total += number * _SCALES[part[2]]
    return int(total) if total == total.to_integral_value() else None


def _grouped(cleaned: str) -> int | None:
    """ "10.000.000", "10,000,000", "10000000": digits, grouped by threes with one separator."""
    if _digits(cleaned):
        return int(cleaned)
    for separator in (".", ","):
        groups = cleaned.split(separator)
        thousands = len(groups) > 1 and 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
        if thousands and all(_digits(g) for g in groups):
            return int("".join(groups))
    return None


# Vietnamese alphabetical order, as PostgreSQL's ICU collation "vi-x-icu" (CLDR's Vietnamese
# tailoring of the Unicode Collation Algorithm) sorts: the embedded SQLite mode registers a
# collation of the same name built on `vietnamese_sort_key`, so both databases list names alike.
# Not PyICU: it has no wheel on PyPI and compiles against the system's ICU headers; the one
# unofficial wheel (pyicu-wheels) bundles 18 MB of an ICU other than PostgreSQL's, for what one
# table and NFD do here (tests/test_vietnamese_order.py holds this order against PostgreSQL's).
VIETNAMESE_COLLATION = "vi-x-icu"

# Primary order of what names contain, as ICU sorts it (non-ignorable: spaces and punctuation
# count, before digits, before letters). A letter with a breve, circumflex or horn, and đ, are
# letters of their own; f, j, w and z are not Vietnamese but take their Latin places.
_PRIMARY_ORDER = " _-–—,;:!?.…·'‘’\"“”«»()[]{}@*/\\&#%`^+<=>|~$0123456789aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_PRIMARY = {ch: weight for weight, ch in enumerate(_PRIMARY_ORDER)}
# The marks that make a letter of its own when they follow its base in NFD.
_LETTER_MARKS = {"\u0306": {"a": "ă"}, "\u0302": {"a": "â", "e": "ê", "o": "ô"}, "\u031b": {"o": "ơ", "u": "ư"}}
# The tones, a secondary difference: unmarked, huyền, hỏi, ngã, sắc, nặng (CLDR's Vietnamese order).
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_UNKNOWN = len(_PRIMARY_ORDER)  # after every letter, then by code point


@functools.lru_cache(maxsize=65536)
def vietnamese_sort_key(text: str) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], str]:
    """A key sorting strings in Vietnamese alphabetical order, the order of "vi-x-icu".

    Letters first (a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y, over the whole
    string), then tones (unmarked, huyền, hỏi, ngã, sắc, nặng), then case (lower first), then
    the code points, as PostgreSQL breaks the ties of a deterministic collation:
    "Bạc Liêu" < "Bình Định", "Đồng Tháp" after every "D…" and before "Gia Lai".
    """
    primary: list[int] = []
    secondary: list[int] = []
    tertiary: list[int] = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch) and primary:
            base = _PRIMARY_ORDER[primary[-1]] if primary[-1] < _UNKNOWN else ""
            letter = _LETTER_MARKS.get(ch, {}).get(base)  # a + breve is ă
            if letter is not None:
                primary[-1] = _PRIMARY[letter]
            elif ch in _TONES:
                secondary[-1] = secondary[-1] * 8 + _TONES[ch]
            else:  # a mark other languages use (ç, ñ, ö): after the tones
                secondary[-1] = secondary[-1] * 8 + 6 + (ord(ch) > 0x0308)
            continue
        lower = ch.lower()
        primary.append(_PRIMARY.get(lower, _UNKNOWN + ord(lower)))
        secondary.append(0)
        tertiary.append(int(lower != ch))
    return tuple(primary), tuple(secondary), tuple(tertiary), text


def parse_vnd(text: str) -> int | None:
    """An amount in đồng as Vietnamese users type it: "10.000.000", "10,000,000", "10 000 000 đ",
    "10.000.000,00" (zero decimals, as accounting software writes them), "1,5 tỷ", "10 triệu".

    Returns None when the text is not a whole, non-negative amount (đồng has no subunit). Where a
    separator could be either, the reading is the thousands one: "1.500" and "1,500" are 1.500 đ
    (never 1,5 đ), as in Vietnamese and in English.
    """
    if len(text) > MAX_AMOUNT_CHARACTERS:  # no amount is that long; int() refuses above 4,300 digits
        return None
    cleaned = clean_text(text).lower()
    for unit in _VND_UNITS:
        if cleaned.endswith(unit):
            cleaned = cleaned[: -len(unit)].strip()
            break
    if (scaled := _scaled(fold(cleaned))) is not None:
        return scaled
    cleaned = cleaned.replace(" ", "")
    if not cleaned:
        return None
    if (amount := _grouped(cleaned)) is not None:
        return amount
    # Zero decimals after the other separator: "10.000.000,00", "10,000,000.00", "10000000,0".
    whole, separator, decimals = max(cleaned.rpartition(","), cleaned.rpartition("."), key=lambda p: len(p[0]))
    if separator and decimals and set(decimals) == {"0"} and len(decimals) <= 2 and separator not in whole:
        return _grouped(whole)
    return None
