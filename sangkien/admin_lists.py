"""Admin changelists of millions of rows (issue 17): the board's review queue and the initiatives.

- `CappedPaginator` counts at most LIST_COUNT_CAP + 1 rows: the list says "more than 1,000" and the
  filters narrow it (the paginator's COUNT of 1.25 million submitted initiatives took 740 ms of
  PostgreSQL per page of the queue).
- The row checkbox is written out directly: Django renders it through the form widget's template,
  which was two thirds of the Python time of a page of 100 rows (the markup is the same).
- 25 rows a page: a reviewer works the queue from its top, the filters and the search find the
  rest, and a page renders in a bounded time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.admin import helpers
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from sangkien.paging import CappedPaginator

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    _Base = ModelAdmin
else:
    _Base = object


class LargeListAdminMixin(_Base):
    paginator = CappedPaginator
    show_full_result_count = False
    list_per_page = 25

    def action_checkbox(self, obj: Any) -> SafeString:
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(_("Select this object for an action - {}"), str(obj)),
        )
