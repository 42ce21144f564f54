from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuestionsConfig(AppConfig):
    name = "questions"
    verbose_name = _("Questions and pages")

    def ready(self) -> None:
        from notifications.kinds import register
        from notifications.models import Notification
        from questions.mail import answer_mail

        register(Notification.Kind.ANSWER, answer_mail)
