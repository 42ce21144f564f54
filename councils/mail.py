"""The e-mail the outbox sends to the officers of the unit that nominated an initiative, when the
round closes: selected or not, its rank and mean."""

from __future__ import annotations

from django.urls import reverse

from councils.models import Nomination
from notifications.kinds import Mail


def nomination_mail(nomination_id: int, *, site_url: str) -> Mail | None:
    nomination = Nomination.objects.select_related("round", "initiative").filter(pk=nomination_id).first()
    if nomination is None or not nomination.round.is_closed:
        return None  # rolled back: nothing to tell
    context = {
        "nomination": nomination,
        "round": nomination.round,
        "initiative": nomination.initiative,
        "url": site_url + reverse("initiatives:detail", args=[nomination.initiative_id]),
    }
    return Mail(template="nomination", context=context, unit_id=nomination.from_unit_id)
