"""The e-mail the outbox sends about a question: the board's answer, to the unit and the asker."""

from __future__ import annotations

from notifications.kinds import Mail
from questions.models import Question


def answer_mail(question_id: int, *, site_url: str) -> Mail | None:
    question = (
        Question.objects.select_related("unit", "asked_by").filter(pk=question_id, answered_at__isnull=False).first()
    )
    if question is None:
        return None
    context = {"question": question, "url": site_url + question.get_absolute_url()}
    return Mail(template="answer", context=context, unit_id=question.unit_id, also=(question.asked_by,))
