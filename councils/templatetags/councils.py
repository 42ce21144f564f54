"""The councils on the initiatives' pages, asked by their templates (the initiatives app's Python
never imports this app): `{% load councils %}`

- `{% initiative_nominations initiative user %}`: on an officer's initiative page, its nominations
  and their results (its timeline), and the rounds the officer may nominate it to now;
- `{% outstanding_badges initiative %}`: on its public page, the rounds that selected it."""

from __future__ import annotations

from typing import Any

from django import template

from councils import selectors, services
from initiatives.models import Initiative
from unions.models import User
from unions.permissions import can_act_in, may_write_on_site, sees_round

register = template.Library()


@register.inclusion_tag("councils/_initiative_nominations.html")
def initiative_nominations(initiative: Initiative, user: User) -> dict[str, Any]:
    nominations = selectors.nominations_of(initiative)
    nominated = {n.round_id for n in nominations}
    offered = []
    if initiative.status == Initiative.Status.VALID and can_act_in(user, initiative.unit):
        offered = [
            r for r in services.rounds_open_to(user) if r.pk not in nominated and r.program_id == initiative.program_id
        ]
    rows = [
        {
            "nomination": n,
            "link": sees_round(user, n.round),
            "withdraw": n.round.is_open and may_write_on_site(user) and user.unit_id == n.from_unit_id,
        }
        for n in nominations
    ]
    return {"rows": rows, "offered": offered, "initiative": initiative}


@register.inclusion_tag("councils/_outstanding_badges.html")
def outstanding_badges(initiative: Initiative) -> dict[str, Any]:
    return {"selected": selectors.selected_of(initiative)}
