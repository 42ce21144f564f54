from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CouncilsConfig(AppConfig):
    name = "councils"
    verbose_name = _("Outstanding initiatives")

    def ready(self) -> None:
        from councils.mail import nomination_mail
        from notifications.kinds import register
        from notifications.models import Notification

        register(Notification.Kind.NOMINATION, nomination_mail)
