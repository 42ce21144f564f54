"""The e-mail the outbox sends about an initiative: the board's decision, and why."""

from __future__ import annotations

from initiatives.models import StatusChange
from notifications.kinds import Mail


def status_change_mail(change_id: int, *, site_url: str) -> Mail | None:
    change = StatusChange.objects.select_related("initiative__unit").filter(pk=change_id).first()
    if change is None:  # rolled back or deleted meanwhile: nothing to tell
        return None
    initiative = change.initiative
    context = {"change": change, "initiative": initiative, "url": site_url + initiative.get_absolute_url()}
    return Mail(template="status_change", context=context, unit_id=initiative.unit_id)
