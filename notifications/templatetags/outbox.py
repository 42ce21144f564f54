"""The outbox's backlog for the admin's pages: {% mail_backlog as backlog %}."""

from __future__ import annotations

from django import template
from django.contrib import admin

from notifications.models import Notification
from notifications.outbox import MailBacklog
from notifications.outbox import mail_backlog as backlog_of

register = template.Library()


@register.simple_tag(takes_context=True)
def mail_backlog(context: template.Context) -> MailBacklog | None:
    """The e-mails owed among those the admin shows this person (a province's board: its subtree's),
    or None for someone who may not see the outbox."""
    request = context.get("request")
    model_admin = admin.site.get_model_admin(Notification)
    if request is None or not model_admin.has_view_permission(request):
        return None
    return backlog_of(model_admin.get_queryset(request))
