"""The e-mail the outbox sends to the officers of a unit an issued decision honours."""

from __future__ import annotations

from django.urls import reverse

from honours.models import HonourDecision, HonourEntry
from notifications.kinds import Mail


def honour_mail(entry_id: int, *, site_url: str) -> Mail | None:
    entry = HonourEntry.objects.select_related("decision").filter(pk=entry_id).first()
    if entry is None or entry.unit_id is None or entry.decision.status != HonourDecision.Status.ISSUED:
        return None  # rolled back, or the unit is gone: nothing to tell
    decision = entry.decision
    context = {
        "entry": entry,
        "decision": decision,
        "group": entry.group_name,
        "url": site_url + reverse("honours:public_decision", args=[decision.pk]),
    }
    return Mail(template="honour", context=context, unit_id=entry.unit_id)
