"""Calendar quarters of a programme and each unit's target for one (issue 19: the quarterly honours).

**The rule.** A unit's target for a quarter is the one assigned to it for that quarter (QuarterTarget:
set in the admin or imported from a sheet `Mã đơn vị | Quý | Chỉ tiêu`). Without one, it is the share
of its programme target (Target) that falls in the quarter, pro rata of the programme's days: with
a programme of 600 days and a target of 600, a quarter of 91 days wholly inside it gets 91, and the
quarter in which the programme starts on the quarter's 61st day gets 31 (its 31 days within the
programme). The share is
rounded half up, as a phase's share of a target is on the dashboard (leaderboard.dashboard.target_in).
A quarter outside the programme's dates has no target (0). Quarters are those of the calendar, in
the portal's time zone, as the leaderboard's mirror keys them (YYYYQ: 20231 for Q1/2023). The
targets of many units at once: initiatives.selectors.quarter_targets.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Protocol

from django.utils.translation import gettext as _

from sangkien.text import fold_key


class Program(Protocol):
    """A programme as this module reads it (initiatives.models.Program, whose model uses this module
    to check a quarter target, or the programme a snapshot kept): its dates."""

    @property
    def starts_on(self) -> dt.date: ...

    @property
    def ends_on(self) -> dt.date: ...


ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1 to 4

    @classmethod
    def of(cls, day: dt.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def from_key(cls, key: int) -> Quarter:
        year, number = divmod(key, 10)
        return cls(year, number)

    @property
    def key(self) -> int:
        """YYYYQ, as the leaderboard's mirror keys a quarter (20231: Q1/2023)."""
        return self.year * 10 + self.number

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> dt.date:
        return Quarter(self.year + self.number // 4, self.number % 4 + 1).first_day - dt.timedelta(days=1)

    def label(self) -> str:
        return _("Q%(quarter)s/%(year)s") % {"quarter": self.number, "year": self.year}

    def __str__(self) -> str:
        return self.label()


# After folding (lower case, no diacritics, đ as d, punctuation as spaces: sangkien.text.fold_key):
# "quy 1 2023", "q1 2023", "1 2023", "quy i nam 2023", and the year first: "2023 q1", "2023 quy 1".
_NUMBER = r"0?(?P<number>[1-4]|iv|iii|ii|i)"
_QUARTER_FIRST = re.compile(rf"^(?:quy\s*|q\s*)?{_NUMBER}\s+(?:nam\s+)?(?P<year>\d{{4}})$")
_YEAR_FIRST = re.compile(rf"^(?P<year>\d{{4}})\s+(?:quy\s*|q\s*){_NUMBER}$")


def parse_quarter(text: str) -> Quarter | None:
    """The quarter a cell names ("Quý 1/2023", "Q1/2023", "1/2023", "Quý I năm 2023", "2023-Q1"),
    or None when it names none."""
    folded = fold_key(text)
    match = _QUARTER_FIRST.match(folded) or _YEAR_FIRST.match(folded)
    if match is None:
        return None
    number = match["number"]
    return Quarter(int(match["year"]), int(number) if number.isdigit() else ROMAN[number])


def programme_quarters(program: Program) -> list[Quarter]:
    """The quarters the programme's dates touch, in order."""
    quarters, quarter = [], Quarter.of(program.starts_on)
    while quarter.first_day <= program.ends_on:
        quarters.append(quarter)
        quarter = Quarter.of(quarter.last_day + dt.timedelta(days=1))
    return quarters


def days_within(program: Program, quarter: Quarter) -> int:
    """The days of the quarter within the programme's dates (0 outside them)."""
    first, last = max(quarter.first_day, program.starts_on), min(quarter.last_day, program.ends_on)
    return max((last - first).days + 1, 0)


def derived_target(programme_target: int, *, program: Program, quarter: Quarter) -> int:
    """The share of a programme target that falls in the quarter, pro rata of days, rounded half up."""
    total = (program.ends_on - program.starts_on).days + 1
    return (2 * programme_target * days_within(program, quarter) + total) // (2 * total)


def outside_message(program: Program, quarter: Quarter) -> str:
    """Why a quarter outside the programme's dates has no target ("" when it is within them)."""
    if days_within(program, quarter):
        return ""
    return _("The quarter is outside the programme (%(start)s – %(end)s): %(quarter)s.") % {
        "quarter": quarter.label(),
        "start": program.starts_on.strftime("%d/%m/%Y"),
        "end": program.ends_on.strftime("%d/%m/%Y"),
    }
