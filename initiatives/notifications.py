"""E-mail to the officers of a unit when the board decides on an initiative or answers a question.

Sent by Celery tasks enqueued after commit (initiatives.tasks): a mail server or a broker that is
down never undoes or blocks the review itself.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from initiatives.models import Question, StatusChange
from unions.models import Union, User

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: object, *args: object) -> None:
    """Queue `task` once the transaction commits; a broker that is down is logged, never raised."""

    def send() -> None:
        try:
            task.apply_async(args=args, retry=False)
        except Exception:  # the broker is down: the decision stands, the e-mail is what is lost
            logger.exception("Could not queue %s%r: the notification is not sent", task.name, args)

    transaction.on_commit(send)


def _officers(unit: Union, *also: User | None) -> list[str]:
    emails = set(User.objects.filter(unit=unit, is_active=True).exclude(email="").values_list("email", flat=True))
    emails.update(user.email for user in also if user is not None and user.is_active and user.email)
    return sorted(emails)


def _send(*, template: str, context: dict, recipients: list[str]) -> int:
    if not recipients:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, to=[], bcc=recipients)  # officers don't see each other
    message.attach_alternative(html, "text/html")
    message.send()
    return len(recipients)


def send_status_change(*, change_id: int, site_url: str) -> int:
    """Tell the unit's officers what the board decided, and why. Returns how many were told."""
    change = StatusChange.objects.select_related("initiative__unit").filter(pk=change_id).first()
    if change is None:  # rolled back or deleted meanwhile: nothing to tell
        return 0
    initiative = change.initiative
    context = {"change": change, "initiative": initiative, "url": site_url + initiative.get_absolute_url()}
    return _send(template="status_change", context=context, recipients=_officers(initiative.unit))


def send_answer(*, question_id: int, site_url: str) -> int:
    question = (
        Question.objects.select_related("unit", "asked_by").filter(pk=question_id, answered_at__isnull=False).first()
    )
    if question is None:
        return 0
    context = {"question": question, "url": site_url + reverse("initiatives:question", args=[question.pk])}
    return _send(template="answer", context=context, recipients=_officers(question.unit, question.asked_by))
