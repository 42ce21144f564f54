"""Diacritic-insensitive admin search, shared by every app's admin."""

from __future__ import annotations

from typing import ClassVar

from django.db.models import QuerySet
from django.http import HttpRequest

from sangkien.text import fold


class FoldedSearchMixin:
    """Admin search on the model's folded `search_text`: "rang dong" finds "Rạng Đông".

    The model keeps a folded `search_text` column (trigram-indexed on PostgreSQL), so one
    `LIKE '%term%'` replaces the admin's default OR of `icontains` over several columns.
    """

    search_fields: ClassVar[list[str] | tuple[str, ...]] = ("search_text",)  # makes the admin show its search box

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        folded = fold(search_term)
        if not folded:
            return queryset, False
        return queryset.filter(search_text__contains=folded), False
