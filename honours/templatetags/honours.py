"""A unit's honours on its dashboard page: `{% load honours %}{% unit_honours unit %}` (one query).
The leaderboard's templates ask the honours app this way; its Python never imports it."""

from __future__ import annotations

from typing import Any

from django import template

from honours import selectors
from unions.models import Union

register = template.Library()


@register.inclusion_tag("honours/_unit_honours.html")
def unit_honours(unit: Union) -> dict[str, Any]:
    return {"entries": selectors.of_unit(unit)}
