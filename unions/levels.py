"""The levels of the union tree in their order, and the level blocks units are ranked in.

Defined here once: the tree's placement rules, the dashboard, the leaderboard's home-page leaders,
the emulation workbook's sheets and the export form all read the same order and the same blocks.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from sangkien.text import fold_key
from unions.models import Union

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Top down: a unit's level is below its parent's.
LEVELS = (Union.Level.CONFEDERATION, Union.Level.TIER2, Union.Level.SUPERIOR, Union.Level.GRASSROOTS)
LEVEL_RANK: dict[str, int] = {level: rank for rank, level in enumerate(LEVELS, start=1)}

# The level blocks (khối), highest first: units are ranked and scored against the others of their
# block. The Confederation, alone at the top, is in none.
BLOCKS = LEVELS[1:]
BLOCK_NAMES: dict[str, StrOrPromise] = {
    Union.Level.TIER2: _("Block of provincial federations and sector unions"),
    Union.Level.SUPERIOR: _("Block of superior-level unions"),
    Union.Level.GRASSROOTS: _("Block of grassroots unions"),
}

# The names offices give each level in their spreadsheets, short and long, compared by `fold_key`
# (no case, diacritics, punctuation: "LĐLĐ tỉnh/thành phố" and "ldld tinh, thanh pho" are one). A
# leading "Công đoàn"/"CĐ" is also dropped before comparing, so "CĐ cơ sở" is "Cơ sở".
LEVEL_NAMES: dict[str, tuple[str, ...]] = {
    Union.Level.CONFEDERATION: ("Tổng Liên đoàn", "Tổng Liên đoàn Lao động Việt Nam", "TLĐ", "TLĐLĐ"),
    Union.Level.TIER2: (
        "Cấp tỉnh/ngành", "Cấp tỉnh", "Cấp ngành", "Cấp tỉnh, ngành", "Cấp tỉnh, ngành trung ương",
        "Liên đoàn Lao động tỉnh/thành phố", "Liên đoàn Lao động tỉnh/TP", "Liên đoàn Lao động tỉnh",
        "Liên đoàn Lao động thành phố", "LĐLĐ tỉnh/thành phố", "LĐLĐ tỉnh/TP", "LĐLĐ tỉnh", "LĐLĐ",
        "Công đoàn ngành Trung ương", "Công đoàn ngành TW", "Ngành Trung ương",
        "Công đoàn Tổng công ty trực thuộc Tổng Liên đoàn",
    ),
    Union.Level.SUPERIOR: (
        "Cấp trên cơ sở", "Cấp trên trực tiếp cơ sở", "Công đoàn cấp trên cơ sở", "Công đoàn cấp trên trực tiếp cơ sở",
        "LĐLĐ huyện/quận", "LĐLĐ quận/huyện", "LĐLĐ huyện", "LĐLĐ quận", "LĐLĐ thị xã",
        "LĐLĐ huyện/quận/thị xã/thành phố", "Liên đoàn Lao động huyện/quận", "Liên đoàn Lao động quận/huyện",
        "Liên đoàn Lao động huyện", "Liên đoàn Lao động quận", "Liên đoàn Lao động thị xã",
        "Công đoàn Khu công nghiệp", "Công đoàn các Khu công nghiệp", "Công đoàn KCN", "Công đoàn Khu kinh tế",
        "Công đoàn Khu chế xuất", "Công đoàn Khu chế xuất và công nghiệp", "Công đoàn ngành địa phương",
    ),
    Union.Level.GRASSROOTS: ("Cơ sở", "Cấp cơ sở", "Công đoàn cơ sở", "CĐCS"),
}  # fmt: skip
_UNION_PREFIX = re.compile(r"^(cong doan|cd) ")
LEVEL_ALIASES: dict[str, str] = {
    _UNION_PREFIX.sub("", fold_key(name)): level for level, names in LEVEL_NAMES.items() for name in names
}


def parse_level(value: object) -> str | None:
    """The level a spelling names: "Cơ sở", "CĐCS", "CĐ cơ sở", "Công đoàn cấp tỉnh, ngành", "LĐLĐ huyện/quận"…"""
    return _level_of(str(value or ""))


@functools.lru_cache(maxsize=256)  # a national file spells its 130,000 levels a handful of ways
def _level_of(text: str) -> str | None:
    return LEVEL_ALIASES.get(_UNION_PREFIX.sub("", fold_key(text)))
