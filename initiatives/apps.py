from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InitiativesConfig(AppConfig):
    name = "initiatives"
    verbose_name = _("Initiatives")

    def ready(self) -> None:
        from initiatives.mail import status_change_mail
        from notifications.kinds import register
        from notifications.models import Notification

        register(Notification.Kind.STATUS_CHANGE, status_change_mail)
