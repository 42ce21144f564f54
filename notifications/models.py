"""The outbox: e-mails owed to units' officers."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from unions.models import Union


class Notification(models.Model):
    """An e-mail owed to a unit's officers (outbox): written with the change it tells about, so a
    broker or mail server that is down delays it but never loses it."""

    class Kind(models.TextChoices):
        STATUS_CHANGE = "status_change", _("Status change")
        ANSWER = "answer", _("Answer to a question")
        HONOUR = "honour", _("Honour")
        NOMINATION = "nomination", _("Result of a nomination")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField(_("object id"))
    # The unit whose officers receive it: what scopes the outbox to a province's board.
    unit = models.ForeignKey(
        Union, verbose_name=_("unit"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # Not before: each attempt moves it on (1, 2, 4 … minutes, then hourly) before it starts, so a
    # failing mail server is tried again later by the resend job, not by a worker that waits.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)

    class Meta:
        db_table = "initiatives_notification"  # its table from before the app split
        ordering = ["-created_at"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The backlog's oldest owed e-mail: WHERE sent_at IS NULL … MIN(created_at)
            models.Index(fields=["sent_at", "created_at"], name="notification_pending"),
            # The resend job: WHERE sent_at IS NULL AND next_attempt_at <= now ORDER BY next_attempt_at;
            # partial, so it holds the owed rows only, however many were sent.
            models.Index(fields=["next_attempt_at"], condition=models.Q(sent_at__isnull=True), name="notification_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.object_id}"
