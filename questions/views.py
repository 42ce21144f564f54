from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from initiatives import once
from initiatives.models import FormSubmission
from initiatives.selectors import visible_initiatives
from questions.forms import FaqSearchForm, QuestionForm
from questions.models import Page
from questions.selectors import public_faq, visible_questions
from questions.services import question_ask, question_mark_seen
from sangkien.downloads import stored_file_response
from sangkien.public_pages import public_page
from sangkien.text import parse_id
from unions.http import AuthenticatedHttpRequest
from unions.permissions import may_ask_questions, require_unit_pages, require_writer

PAGE_SIZE = 25


@login_required
def question_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The questions of the officer's units, with the board's answers."""
    require_unit_pages(request.user)
    questions = visible_questions(user=request.user).select_related("unit", "asked_by")
    page = Paginator(questions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "questions/list.html", {"page": page})


@login_required
def question_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_writer(request.user)
    if not may_ask_questions(request.user):
        raise PermissionDenied(_("Your account does not belong to a union unit."))
    initiatives = visible_initiatives(user=request.user)
    form = QuestionForm(
        request.POST or None,
        request.FILES or None,
        initiatives=initiatives,
        initial={"initiative": request.GET.get("initiative")},
    )
    token = once.FormToken.of(request)
    if request.method == "POST" and form.is_valid():
        if token.expired:
            once.form_expired(request)
        else:
            attachments = form.cleaned_data["attachment"]
            try:
                with once.once_only_for(token, request, FormSubmission.Purpose.QUESTION) as submission:
                    assert submission is not None  # claimed with the form's token
                    unit = request.user.unit
                    assert unit is not None  # may_ask_questions() above
                    question = question_ask(
                        unit=unit,
                        by=request.user,
                        subject=form.cleaned_data["subject"],
                        body=form.cleaned_data["body"],
                        initiative=form.cleaned_data["initiative"],
                        attachment=attachments[0] if attachments else None,
                    )
                    once.record_result(submission, question.get_absolute_url())
            except once.AlreadySent as sent:
                return once.already_sent(request, sent, reverse("questions:list"))
            messages.success(request, _("Your question has been sent to the review board."))
            return redirect(question)
    linked = parse_id(str(form["initiative"].value() or ""))
    about = initiatives.filter(pk=linked).first() if linked is not None else None
    return render(request, "questions/form.html", {"form": form, "about": about, "once": token})


@login_required
def question_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    require_unit_pages(request.user)
    question = get_object_or_404(
        visible_questions(user=request.user).select_related("unit", "asked_by", "answered_by", "initiative"), pk=pk
    )
    question_mark_seen(question=question, by=request.user)
    return render(request, "questions/detail.html", {"question": question})


@login_required
def question_attachment(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    require_unit_pages(request.user)
    question = get_object_or_404(visible_questions(user=request.user).exclude(attachment=""), pk=pk)
    return stored_file_response(
        question.attachment, name=question.attachment_name, content_type=question.attachment_type
    )


@public_page("q", "page")
def faq(request: HttpRequest) -> HttpResponse:
    """Hỏi đáp: public answers, without the askers' names or units."""
    search = FaqSearchForm(request.GET or None)
    term = search.cleaned_data["q"] if search.is_valid() else ""
    page = Paginator(public_faq(term=term), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "questions/faq.html", {"page": page, "search": search, "term": term})


def page(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "questions/page.html", {"page": get_object_or_404(Page, slug=slug)})
