"""The levels of the union tree in their order, and the level blocks units are ranked in.

Defined here once: the tree's placement rules, the dashboard, the leaderboard's home-page leaders,
the emulation workbook's sheets and the export form all read the same order and the same blocks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

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
