from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HonoursConfig(AppConfig):
    name = "honours"
    verbose_name = _("Honours")

    def ready(self) -> None:
        from honours.mail import honour_mail
        from notifications.kinds import register
        from notifications.models import Notification

        register(Notification.Kind.HONOUR, honour_mail)
