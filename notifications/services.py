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
