"""Text helpers shared by every app."""

from __future__ import annotations

import unicodedata

# NFD leaves "đ" whole (it is a letter of its own, not d + a mark), so it is mapped first.
_D_STROKE = str.maketrans({"đ": "d", "Đ": "D"})


def fold(text: str) -> str:
    """Lower-case, diacritic-free, single-spaced form of `text`, for searching.

    `fold("Công ty Rạng Đông")` is `"cong ty rang dong"`, so "rang dong" finds "Rạng Đông".
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_D_STROKE))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())
