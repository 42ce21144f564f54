from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.models import Notification
from notifications.tasks import send_notification
from sangkien.queueing import enqueue_on_commit
from unions.admin_scoping import ScopedAdminMixin
from unions.permissions import may_resend_notifications


@admin.register(Notification)
class NotificationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The e-mail outbox: what was sent, what is still owed and why (a province's board sees
    its subtree's)."""

    list_display = ("__str__", "unit", "created_at", "sent_at", "attempts", "next_attempt_at", "last_error")
    list_filter = ("kind", ("sent_at", admin.EmptyFieldListFilter))
    list_select_related = ("unit",)
    readonly_fields = (
        "kind", "object_id", "unit", "created_at", "sent_at", "attempts", "next_attempt_at", "last_error",
    )  # fmt: skip
    actions = ("send_again",)
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return may_resend_notifications(request.user)

    @admin.action(description=_("Send again"), permissions=["resend"])
    def send_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        owed = queryset.filter(sent_at__isnull=True)
        ids = list(owed.values_list("pk", flat=True))
        owed.update(next_attempt_at=timezone.now())  # due now, backing off or given up
        for notification_id in ids:
            enqueue_on_commit(send_notification, notification_id)
        self.message_user(request, _("%(count)s notifications queued again.") % {"count": len(ids)})
