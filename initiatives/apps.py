from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InitiativesConfig(AppConfig):
    name = "initiatives"
    verbose_name = _("Initiatives")

    def ready(self) -> None:
        from django.apps import apps
        from django.db.models.signals import post_delete, post_save

        from initiatives.counting import mark_saved
        from initiatives.mail import status_change_mail
        from initiatives.models import Initiative, Phase, Program
        from initiatives.selectors import forget_current_program
        from notifications.kinds import register
        from notifications.models import Notification

        register(Notification.Kind.STATUS_CHANGE, status_change_mail)
        for model in (Program, Phase):
            post_save.connect(forget_current_program, sender=model, dispatch_uid=f"forget-program-{model.__name__}")
            post_delete.connect(forget_current_program, sender=model, dispatch_uid=f"forget-program-d-{model.__name__}")
        # Count marks (initiatives.counting): every model save and delete of an initiative, whatever
        # class it goes through (the review queue is a proxy, and a proxy's signals name the proxy).
        for initiative in apps.get_models():
            if initiative._meta.concrete_model is Initiative:
                uid = f"count-mark-{initiative.__name__}"
                post_save.connect(mark_saved, sender=initiative, dispatch_uid=uid)
                post_delete.connect(mark_saved, sender=initiative, dispatch_uid=f"{uid}-d")
