"""Writes to questions: an officer asks, the board answers, the asker reads."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from initiatives.models import Initiative
from initiatives.services import AttachmentUpload
from notifications.models import Notification
from notifications.services import notify
from questions.models import Question
from questions.selectors import forget_new_answers
from unions.models import Union, User


@transaction.atomic
def question_ask(
    *,
    unit: Union,
    by: User,
    subject: str,
    body: str,
    initiative: Initiative | None = None,
    attachment: AttachmentUpload | None = None,
) -> Question:
    """An officer asks the board; the question waits in the admin's list."""
    question = Question(unit=unit, asked_by=by, subject=subject, body=body, initiative=initiative)
    if attachment is not None:
        question.attachment_type = attachment.content_type
        question.attachment_name = attachment.name
        question.attachment = attachment.file
    question.refresh_search_text()
    question.full_clean()
    question.save()
    return question


@transaction.atomic
def question_answer(*, question: Question, answer: str, by: User, is_public: bool) -> Question:
    """The board answers (or corrects its answer); the asker sees it as new until they open it."""
    answer = answer.strip()
    if not answer:
        raise ValidationError({"answer": _("Write the answer.")})
    if answer != question.answer:
        question.answered_by, question.answered_at, question.answer_seen_at = by, timezone.now(), None
        notify(kind=Notification.Kind.ANSWER, object_id=question.pk, unit_id=question.unit_id)
    question.answer, question.is_public = answer, is_public
    question.refresh_search_text()
    question.full_clean()
    question.save()
    # Forgotten now and again once committed (a page between the two would cache the old count).
    forget_new_answers(user_id=question.asked_by_id)
    transaction.on_commit(lambda: forget_new_answers(user_id=question.asked_by_id))
    return question


def question_mark_seen(*, question: Question, by: User) -> None:
    """The asker opened the answer: it no longer counts as new in the menu."""
    if question.asked_by_id == by.pk and question.answered_at and question.answer_seen_at is None:
        Question.objects.filter(pk=question.pk, answer_seen_at__isnull=True).update(answer_seen_at=timezone.now())
        forget_new_answers(user_id=by.pk)
