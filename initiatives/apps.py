from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InitiativesConfig(AppConfig):
    name = "initiatives"
    verbose_name = _("Initiatives")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from initiatives.mail import status_change_mail
        from initiatives.models import Phase, Program
        from initiatives.selectors import forget_current_program
        from notifications.kinds import register
        from notifications.models import Notification

        register(Notification.Kind.STATUS_CHANGE, status_change_mail)
        for model in (Program, Phase):
            post_save.connect(forget_current_program, sender=model, dispatch_uid=f"forget-program-{model.__name__}")
            post_delete.connect(forget_current_program, sender=model, dispatch_uid=f"forget-program-d-{model.__name__}")
