"""Links between dashboard pages that stay on the page's snapshot: the live pages link to live
pages, an evidence page (`as_of` in its context) to the same snapshot's pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def dashboard_url(context: dict[str, Any], code: str | None = None) -> str:
    """The dashboard's address, or a unit's drill-down's when `code` is given."""
    as_of = context.get("as_of")
    if code is None:
        return reverse("dashboard_as_of", args=[as_of.pk]) if as_of else reverse("dashboard")
    return reverse("dashboard_unit_as_of", args=[code, as_of.pk]) if as_of else reverse("dashboard_unit", args=[code])
