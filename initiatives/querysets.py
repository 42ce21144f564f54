"""Reusable filters over initiatives."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self, TypeVar

from django.db import models

from sangkien.text import fold

if TYPE_CHECKING:
    from unions.models import Union


# Initiative (and ReviewQueue, its proxy): named in models.py, which imports this module.
_Row = TypeVar("_Row", bound=models.Model)


class InitiativeQuerySet(models.QuerySet[_Row]):
    def in_subtree(self, unit: Union) -> Self:
        """Initiatives of `unit` and every unit under it."""
        return self.filter(unit__path__startswith=unit.path)

    def submitted(self) -> Self:
        """Every non-draft initiative counts as submitted."""
        return self.exclude(status="draft")

    def valid(self) -> Self:
        return self.filter(status="valid")

    def search(self, term: str) -> Self:
        """Diacritic-insensitive search on title and authors' names."""
        folded = fold(term)
        return self.filter(search_text__contains=folded) if folded else self
