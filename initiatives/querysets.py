"""Reusable filters over initiatives."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from sangkien.text import fold

if TYPE_CHECKING:
    from unions.models import Union


class InitiativeQuerySet(models.QuerySet["Initiative"]):
    def in_subtree(self, unit: Union) -> InitiativeQuerySet:
        """Initiatives of `unit` and every unit under it."""
        return self.filter(unit__path__startswith=unit.path)

    def submitted(self) -> InitiativeQuerySet:
        """Every non-draft initiative counts as submitted."""
        return self.exclude(status="draft")

    def valid(self) -> InitiativeQuerySet:
        return self.filter(status="valid")

    def search(self, term: str) -> InitiativeQuerySet:
        """Diacritic-insensitive search on title and authors' names."""
        folded = fold(term)
        return self.filter(search_text__contains=folded) if folded else self
