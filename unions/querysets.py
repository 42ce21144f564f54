"""Reusable filters over the union tree."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from sangkien.text import fold

if TYPE_CHECKING:
    from unions.models import Union


class UnionQuerySet(models.QuerySet["Union"]):
    def subtree(self, unit: Union) -> UnionQuerySet:
        """`unit` and everything under it: one range scan on the path index."""
        return self.filter(path__startswith=unit.path)

    def descendants(self, unit: Union) -> UnionQuerySet:
        return self.subtree(unit).exclude(pk=unit.pk)

    def ancestors(self, unit: Union, *, include_self: bool = False) -> UnionQuerySet:
        """Every unit above `unit`, root first: a lookup of the codes its path already names."""
        codes = unit.path_codes if include_self else unit.path_codes[:-1]
        return self.filter(code__in=codes).order_by("depth")

    def active(self) -> UnionQuerySet:
        return self.filter(is_active=True)

    def search(self, term: str) -> UnionQuerySet:
        """Diacritic-insensitive search on code, name and short name (trigram index on PostgreSQL)."""
        folded = fold(term)
        if not folded:
            return self
        return self.filter(search_text__contains=folded)
