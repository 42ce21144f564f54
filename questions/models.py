"""Questions units put to the board, the public FAQ made of the answered ones, and editable pages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from initiatives.models import Initiative
from sangkien.cleaning import CleanTextModel
from sangkien.collation import VIETNAMESE_DB_COLLATION
from sangkien.downloads import random_file_name
from sangkien.text import fold
from unions.models import Union


def question_attachment_path(question: Question, filename: str) -> str:
    return random_file_name("questions", question.attachment_type)


class Question(CleanTextModel, models.Model):
    """Câu hỏi / vướng mắc: a unit's question to the board, answered in the admin."""

    unit = models.ForeignKey(Union, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="questions")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("asked by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("question"))
    initiative = models.ForeignKey(
        Initiative,
        verbose_name=_("initiative"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="questions",
    )
    attachment = models.FileField(_("attachment"), upload_to=question_attachment_path, max_length=200, blank=True)
    attachment_name = models.CharField(_("file name"), max_length=255, blank=True)
    attachment_type = models.CharField(_("content type"), max_length=100, blank=True)
    asked_at = models.DateTimeField(_("asked at"), default=timezone.now)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("answered by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answer_seen_at = models.DateTimeField(_("answer seen at"), null=True, blank=True)
    is_public = models.BooleanField(
        _("public in the FAQ"), default=False, help_text=_("Shown in the public FAQ, without the asker's name.")
    )
    search_text = models.TextField(blank=True, editable=False)

    class Meta:
        db_table = "initiatives_question"  # its table from before the app split
        ordering = ["-asked_at", "-pk"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        indexes = [
            # The board's "waiting" list: WHERE answered_at IS NULL ORDER BY asked_at
            models.Index(fields=["answered_at", "asked_at"], name="question_waiting"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_public=False) | models.Q(answered_at__isnull=False),
                name="question_public_only_when_answered",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    def get_absolute_url(self) -> str:
        return reverse("questions:detail", args=[self.pk])

    def refresh_search_text(self) -> None:
        self.search_text = fold(" ".join([self.subject, self.body, self.answer]))


class PendingQuestion(Question):
    """Câu hỏi chờ trả lời: the questions without an answer, oldest first (an admin view)."""

    class Meta:
        proxy = True
        verbose_name = _("question awaiting an answer")
        verbose_name_plural = _("questions awaiting an answer")


class Page(CleanTextModel, models.Model):
    """Editable content such as the guide "Hướng dẫn cập nhật sáng kiến" (plain text, paragraphs)."""

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=200, db_collation=VIETNAMESE_DB_COLLATION)
    body = models.TextField(_("content"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        db_table = "initiatives_page"  # its table from before the app split
        verbose_name = _("page")
        verbose_name_plural = _("pages")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("page", args=[self.slug])
