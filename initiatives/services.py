"""Writes to initiatives. The site, the admin, the importer and the tasks all call these."""

from __future__ import annotations

from initiatives.models import Initiative


def initiative_refresh_search_text(*, initiative: Initiative) -> None:
    """Re-fold the searchable text (title and authors' names) after the initiative or its authors change."""
    names = list(initiative.authors.values_list("full_name", flat=True))
    initiative.refresh_search_text(names)
    Initiative.objects.filter(pk=initiative.pk).update(search_text=initiative.search_text)
