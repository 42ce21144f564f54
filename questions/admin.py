from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms import BaseFormSet, ModelForm
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from questions.models import Page, PendingQuestion, Question
from questions.services import question_answer
from sangkien.admin_queues import WorkQueueAdminMixin
from sangkien.downloads import stored_file_response
from sangkien.search import FoldedSearchMixin
from unions.admin import SubtreeFilter
from unions.admin_scoping import ProgrammeWideAdminMixin, ScopedAdminMixin
from unions.http import account
from unions.models import Union


class QuestionSubtreeFilter(SubtreeFilter):
    """`?subtree=<unit id>`: the questions of a unit and everything under it."""

    def restrict(self, queryset: QuerySet, unit: Union) -> QuerySet:
        return queryset.filter(unit__path__startswith=unit.path)


class QuestionAnswerForm(forms.ModelForm):
    answer = forms.CharField(label=_("answer"), widget=forms.Textarea(attrs={"rows": 8, "cols": 80}))

    class Meta:
        model = Question
        fields = ("answer", "is_public")


@admin.register(Question)
class QuestionAdmin(WorkQueueAdminMixin, ScopedAdminMixin, FoldedSearchMixin, admin.ModelAdmin):
    """The board answers here; the officer sees the answer on the site. An answer is in the admin's
    history ("Hoạt động của tôi") against the question itself, whichever list it came from."""

    form = QuestionAnswerForm
    # PendingQuestionAdmin shows other columns and filters.
    list_display: tuple[str, ...] = ("subject", "unit", "asked_at", "answered_at", "is_public")
    list_filter: ClassVar[tuple[Any, ...]] = (
        "is_public",
        ("answered_at", admin.EmptyFieldListFilter),
        QuestionSubtreeFilter,
    )
    list_select_related = ("unit",)
    readonly_fields = ("unit", "asked_by", "asked_at", "subject", "body", "initiative", "attachment_link",
                       "answered_by", "answered_at")  # fmt: skip
    fields = (*readonly_fields, "answer", "is_public")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # officers ask from the site

    @admin.display(description=_("attachment"))
    def attachment_link(self, question: Question) -> str:
        if not question.attachment:
            return "–"
        url = reverse("admin:questions_question_attachment", args=[question.pk])
        return format_html('<a href="{}">{}</a>', url, question.attachment_name)

    def get_urls(self) -> list:
        if self.model is not Question:
            return super().get_urls()
        download = self.admin_site.admin_view(self.attachment_view)
        return [path("<int:pk>/attachment/", download, name="questions_question_attachment"), *super().get_urls()]

    def attachment_view(self, request: HttpRequest, pk: int) -> FileResponse:
        """The board's download, within the board member's scope."""
        question = get_object_or_404(self.get_queryset(request).exclude(attachment=""), pk=pk)
        if not self.has_view_permission(request, question):
            raise PermissionDenied
        return stored_file_response(
            question.attachment, name=question.attachment_name, content_type=question.attachment_type
        )

    def save_model(self, request: HttpRequest, obj: Question, form: ModelForm, change: bool) -> None:
        question_answer(
            question=Question.objects.get(pk=obj.pk),
            answer=form.cleaned_data["answer"],
            is_public=form.cleaned_data["is_public"],
            by=account(request),
        )

    def construct_change_message(  # type: ignore[override]  # also a plain string, which log_change stores as is
        self, request: HttpRequest, form: forms.Form, formsets: Iterable[BaseFormSet[Any]], add: bool = False
    ) -> str | list[dict[str, dict[str, list[str]]]]:
        if "answer" in form.changed_data:
            return gettext("Answered.")
        return super().construct_change_message(request, form, formsets, add)


@admin.register(PendingQuestion)
class PendingQuestionAdmin(QuestionAdmin):
    """Câu hỏi chờ trả lời: oldest first, with how long each has waited."""

    list_display = ("subject", "unit", "asked_at", "age")
    list_filter = (QuestionSubtreeFilter,)
    ordering = ("asked_at", "pk")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(answered_at__isnull=True)

    def response_change(self, request: HttpRequest, obj: Question) -> HttpResponse:
        """After "Save and continue" on an answered question: it has left this list, so its page is the
        question's own (this list's would no longer find it)."""
        response = super().response_change(request, obj)
        if "_continue" in request.POST:  # a save here always answers (the answer is required)
            return redirect(reverse("admin:questions_question_change", args=[obj.pk]))
        return response

    @admin.display(description=_("waiting"))
    def age(self, question: Question) -> str:
        return timesince(question.asked_at)


@admin.register(Page)
class PageAdmin(ProgrammeWideAdminMixin, admin.ModelAdmin):
    list_display = ("title", "slug", "updated_at")
    search_fields = ("title",)
