"""Owing an e-mail: what other apps call when they change something a unit must hear about."""

from __future__ import annotations

from django.utils import timezone

from notifications.models import Notification
from notifications.outbox import FIRST_SEND_GRACE
from notifications.tasks import send_notification
from sangkien.queueing import enqueue_on_commit


def notify(*, kind: str, object_id: int, unit_id: int | None) -> Notification:
    """Owe an e-mail to the officers of a unit: the row commits with the change; a worker sends
    it, the resend job retries."""
    notification = Notification.objects.create(
        kind=kind, object_id=object_id, unit_id=unit_id, next_attempt_at=timezone.now() + FIRST_SEND_GRACE
    )
    enqueue_on_commit(send_notification, notification.pk)
    return notification


# A decision honouring thousands of units owes thousands of e-mails: the first ones are queued at
# once, the others wait for the resend job (every minute), so the request does not publish each.
QUEUED_AT_ONCE = 100


def notify_many(*, kind: str, owed: list[tuple[int, int]]) -> list[Notification]:
    """Owe an e-mail per (object id, unit id): one INSERT for all of them."""
    due = timezone.now() + FIRST_SEND_GRACE
    rows = Notification.objects.bulk_create(
        [
            Notification(kind=kind, object_id=object_id, unit_id=unit_id, next_attempt_at=due)
            for object_id, unit_id in owed
        ],
        batch_size=1000,
    )
    for row in rows[:QUEUED_AT_ONCE]:
        enqueue_on_commit(send_notification, row.pk)
    return rows
