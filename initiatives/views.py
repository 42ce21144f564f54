from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from initiatives import once
from initiatives.dashboard import BLOCK_NAMES, public_leaders
from initiatives.exports import initiative_list_export_refusal, initiative_list_workbook
from initiatives.forms import (
    AuthorFormSet,
    FaqSearchForm,
    ImportForm,
    InitiativeFilterForm,
    InitiativeForm,
    PublicFilterForm,
    QuestionForm,
    author_initial,
)
from initiatives.imports import import_initiatives, import_template
from initiatives.models import Attachment, FormSubmission, Initiative, Page
from initiatives.selectors import (
    board_metrics,
    current_program,
    initiative_detail,
    initiative_list_rows,
    program_progress,
    public_faq,
    public_initiatives,
    visible_initiatives,
    visible_questions,
)
from initiatives.services import (
    InitiativeStateError,
    attachment_remove,
    duplicates_of,
    initiative_save_draft,
    initiative_submit,
    question_ask,
    question_mark_seen,
)
from sangkien.downloads import file_response, stored_file_response
from sangkien.spreadsheets import XLSX_CONTENT_TYPE, SpreadsheetError
from sangkien.text import parse_id
from unions.permissions import (
    board_scope,
    may_ask_questions,
    may_see_board_metrics,
    may_use_unit_pages,
    may_write_on_site,
)

PAGE_SIZE = 25


def home(request: HttpRequest) -> HttpResponse:
    """The programme's public home page: its name, phases and progress towards the target."""
    program = current_program()
    progress = program_progress(program=program) if program else None
    snapshot, leaders = public_leaders(program=program) if program else (None, {})
    blocks = [(BLOCK_NAMES[level], rows) for level, rows in leaders.items() if rows]
    return render(
        request,
        "initiatives/home.html",
        {"program": program, "progress": progress, "snapshot": snapshot, "leader_blocks": blocks},
    )


def file_download(file: FieldFile, *, name: str, content_type: str) -> HttpResponse:
    """A stored upload, served under its base name with the extension of the type sniffed at upload."""
    return stored_file_response(file, name=name, content_type=content_type)


def _officer(request: HttpRequest) -> None:
    """The units' pages: accounts attached to a unit (leadership reads them too)."""
    if not may_use_unit_pages(request.user):
        raise PermissionDenied(_("Your account does not belong to a union unit."))


def _writer(request: HttpRequest) -> None:
    """Creating and changing: officers and the board, never read-only leadership."""
    _officer(request)
    if not may_write_on_site(request.user):
        raise PermissionDenied(_("Your account may read these pages but not change anything."))


@login_required
def initiative_list(request: HttpRequest) -> HttpResponse:
    """Sáng kiến của đơn vị: the officer's subtree, filtered, searchable without diacritics."""
    _officer(request)
    program = current_program()
    filters = InitiativeFilterForm(request.GET or None, user=request.user, program=program)
    cleaned = {}
    if filters.is_bound:
        filters.is_valid()  # a bad filter (a unit outside the subtree) shows its error; the valid ones apply
        cleaned = filters.cleaned_data
    rows = initiative_list_rows(user=request.user, filters=cleaned)
    if request.GET.get("export") == "xlsx":
        if refusal := initiative_list_export_refusal(rows):
            messages.error(request, refusal)
            query = request.GET.copy()
            query.pop("export")
            return redirect(f"{request.path}?{query.urlencode()}")
        return file_response(initiative_list_workbook(rows), name="sang-kien.xlsx", content_type=XLSX_CONTENT_TYPE)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "initiatives/list.html",
        {"page": page, "filters": filters, "query": query.urlencode(), "program": program},
    )


@login_required
def initiative_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    _officer(request)
    initiative = initiative_detail(user=request.user, pk=pk)
    changes = list(initiative.status_changes.all())
    decision = next((c for c in reversed(changes) if c.to_status == initiative.status and c.reason), None)
    return render(
        request,
        "initiatives/detail.html",
        {"initiative": initiative, "changes": changes, "decision": decision},
    )


@login_required
def initiative_create(request: HttpRequest) -> HttpResponse:
    _writer(request)
    program = current_program()
    if program is None:
        messages.error(request, _("No programme is open at the moment."))
        return redirect("initiatives:list")
    return _edit(request, Initiative(program=program, unit=request.user.unit))


@login_required
def initiative_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _writer(request)
    initiative = get_object_or_404(visible_initiatives(user=request.user).select_related("program"), pk=pk)
    if not initiative.is_editable:
        messages.warning(request, _("This initiative has been submitted and can no longer be edited."))
        return redirect(initiative)
    return _edit(request, initiative)


def _form_expired(request: HttpRequest) -> None:
    messages.error(request, _("This form has expired: what you typed is kept, send it again."))


def _already_sent(request: HttpRequest, sent: once.AlreadySent, fallback: str) -> HttpResponse:
    messages.info(request, _("This form had already been sent: here is what it created."))
    return redirect(sent.url or fallback)


class _AskFirst(Exception):
    """The unit already submitted this title: nothing is written until the officer confirms."""


def _edit(request: HttpRequest, initiative: Initiative) -> HttpResponse:
    submitting = "submit" in request.POST
    data = request.POST if request.method == "POST" else None
    # A new initiative is created once per form, however often it is posted.
    creating = initiative.pk is None
    token = once.FormToken.of(request) if creating else None
    form = InitiativeForm(
        data,
        request.FILES if data else None,
        instance=initiative,
        user=request.user,
        submitting=submitting,
    )
    authors = AuthorFormSet(data, prefix="authors", initial=author_initial(initiative), submitting=submitting)
    duplicates = []
    if data is not None and form.is_valid() and authors.is_valid():
        if token is not None and token.expired:
            _form_expired(request)
        else:
            service = initiative_submit if submitting else initiative_save_draft
            try:
                # The token first: a second POST of this form waits here for the first one, then is
                # sent to its result (instead of being warned about the title the first one took).
                with once_only_for(token, request, FormSubmission.Purpose.INITIATIVE) as submission:
                    if submitting and not form.cleaned_data["confirm_duplicate"]:
                        duplicates = duplicates_of(initiative=form.instance)
                        if duplicates:
                            raise _AskFirst
                    saved = service(
                        initiative=form.instance,
                        authors=authors.authors(),
                        attachments=form.cleaned_data["attachments"],
                        by=request.user,
                    )
                    if submission is not None:
                        once.record_result(submission, saved.get_absolute_url() if submitting else _edit_url(saved))
            except _AskFirst:
                pass  # nothing written: the page asks to confirm the title
            except once.AlreadySent as sent:
                if submitting and sent.url.endswith("/edit/"):
                    # The form first saved a draft (then Back, then "Gửi"): it is submitted from the draft.
                    messages.warning(
                        request,
                        _("This form was first saved as a draft, which has not been submitted: submit it here."),
                    )
                    return redirect(sent.url)
                return _already_sent(request, sent, reverse("initiatives:list"))
            except InitiativeStateError as error:
                messages.error(request, str(error))
                return redirect(initiative)
            else:
                if submitting:
                    messages.success(request, _("The initiative has been submitted to the review board."))
                    return redirect(saved)
                messages.success(request, _("The draft has been saved."))
                return redirect("initiatives:edit", pk=saved.pk)
    elif data is not None:
        messages.error(request, _("Please correct the errors below. What you typed has been kept."))
    if (
        data is not None
        and request.FILES
        and (duplicates or form.errors or authors.errors or authors.non_form_errors())
    ):
        messages.warning(request, _("Browsers cannot keep chosen files after an error: choose them again."))
    return render(
        request,
        "initiatives/form.html",
        {"form": form, "authors": authors, "initiative": initiative, "duplicates": duplicates, "once": token},
    )


def _edit_url(initiative: Initiative) -> str:
    return reverse("initiatives:edit", args=[initiative.pk])


@contextmanager
def once_only_for(token: once.FormToken | None, request: HttpRequest, purpose: str) -> Iterator[FormSubmission | None]:
    """The write of a creating form, claimed by its token (no token: an edit, claimed by its row)."""
    if token is None:
        with transaction.atomic():
            yield None
        return
    with once.once_only(token=token.token, user=request.user, purpose=purpose) as submission:
        yield submission


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """Only people who may see the initiative get its files."""
    _officer(request)
    attachment = get_object_or_404(
        Attachment.objects.filter(initiative__in=visible_initiatives(user=request.user)), pk=pk
    )
    return file_download(attachment.file, name=attachment.original_name, content_type=attachment.content_type)


@login_required
def initiative_import(request: HttpRequest) -> HttpResponse:
    """Nhập từ Excel: all rows are checked first; any bad row and nothing is imported."""
    _writer(request)
    program = current_program()
    form = ImportForm(request.POST or None, request.FILES or None)
    token = once.FormToken.of(request)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        if program is None:
            errors = [_("No programme is open at the moment.")]
        elif token.expired:
            errors = [_("This form has expired: choose the file and send it again.")]
        else:
            try:
                with once_only_for(token, request, FormSubmission.Purpose.IMPORT) as submission:
                    result = import_initiatives(form.cleaned_data["file"], user=request.user, program=program)
                    once.record_result(submission, reverse("initiatives:list"))
            except once.AlreadySent as sent:
                return _already_sent(request, sent, reverse("initiatives:list"))
            except SpreadsheetError as error:
                errors = error.messages
            else:
                messages.success(
                    request,
                    ngettext(
                        "Imported %(count)s initiative; it has been submitted.",
                        "Imported %(count)s initiatives; they have been submitted.",
                        result.created,
                    )
                    % {"count": result.created},
                )
                return redirect("initiatives:list")
    return render(request, "initiatives/import.html", {"form": form, "errors": errors, "once": token})


@login_required
def initiative_import_template(request: HttpRequest) -> HttpResponse:
    return file_response(import_template(), name="mau-nhap-sang-kien.xlsx", content_type=XLSX_CONTENT_TYPE)


@login_required
@require_POST
def attachment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a file from an initiative the officer may still edit."""
    _writer(request)
    attachment = get_object_or_404(
        Attachment.objects.select_related("initiative").filter(initiative__in=visible_initiatives(user=request.user)),
        pk=pk,
    )
    try:
        attachment_remove(attachment=attachment, by=request.user)
    except InitiativeStateError as error:
        messages.error(request, str(error))
        return redirect(attachment.initiative)
    messages.success(request, _("“%(name)s” has been removed.") % {"name": attachment.original_name})
    return redirect("initiatives:edit", pk=attachment.initiative_id)


@login_required
def question_list(request: HttpRequest) -> HttpResponse:
    """The questions of the officer's units, with the board's answers."""
    _officer(request)
    questions = visible_questions(user=request.user).select_related("unit", "asked_by")
    page = Paginator(questions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "initiatives/questions/list.html", {"page": page})


@login_required
def question_create(request: HttpRequest) -> HttpResponse:
    _writer(request)
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
            _form_expired(request)
        else:
            attachments = form.cleaned_data["attachment"]
            try:
                with once_only_for(token, request, FormSubmission.Purpose.QUESTION) as submission:
                    question = question_ask(
                        unit=request.user.unit,
                        by=request.user,
                        subject=form.cleaned_data["subject"],
                        body=form.cleaned_data["body"],
                        initiative=form.cleaned_data["initiative"],
                        attachment=attachments[0] if attachments else None,
                    )
                    once.record_result(submission, question.get_absolute_url())
            except once.AlreadySent as sent:
                return _already_sent(request, sent, reverse("initiatives:questions"))
            messages.success(request, _("Your question has been sent to the review board."))
            return redirect(question)
    linked = parse_id(str(form["initiative"].value() or ""))
    about = initiatives.filter(pk=linked).first() if linked is not None else None
    return render(request, "initiatives/questions/form.html", {"form": form, "about": about, "once": token})


@login_required
def question_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _officer(request)
    question = get_object_or_404(
        visible_questions(user=request.user).select_related("unit", "asked_by", "answered_by", "initiative"), pk=pk
    )
    question_mark_seen(question=question, by=request.user)
    return render(request, "initiatives/questions/detail.html", {"question": question})


@login_required
def question_attachment(request: HttpRequest, pk: int) -> FileResponse:
    _officer(request)
    question = get_object_or_404(visible_questions(user=request.user).exclude(attachment=""), pk=pk)
    return file_download(question.attachment, name=question.attachment_name, content_type=question.attachment_type)


def faq(request: HttpRequest) -> HttpResponse:
    """Hỏi đáp: public answers, without the askers' names or units."""
    search = FaqSearchForm(request.GET or None)
    term = search.cleaned_data["q"] if search.is_valid() else ""
    page = Paginator(public_faq(term=term), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "initiatives/questions/faq.html", {"page": page, "search": search, "term": term})


def public_list(request: HttpRequest) -> HttpResponse:
    """The programme's valid initiatives, for everyone; confidential ones show little."""
    program = current_program()
    filters = PublicFilterForm(request.GET or None)
    cleaned = {}
    if filters.is_bound:
        filters.is_valid()
        cleaned = filters.cleaned_data
    rows = public_initiatives(program=program, filters=cleaned) if program else Initiative.objects.none()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "initiatives/public_list.html", {"page": page, "filters": filters, "query": query.urlencode()}
    )


def page(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "initiatives/page.html", {"page": get_object_or_404(Page, slug=slug)})


def _duration(value: dt.timedelta | None) -> str:
    if value is None:
        return "–"
    hours = int(value.total_seconds() // 3600)
    return _("%(days)s days %(hours)s hours") % {"days": hours // 24, "hours": hours % 24}


@staff_member_required
def board_metrics_view(request: HttpRequest) -> HttpResponse:
    """The board's figures: backlog by status, median times over the last 30 days."""
    if not may_see_board_metrics(request.user):
        raise PermissionDenied(_("The board metrics are for the board and leadership."))
    metrics = board_metrics(since=timezone.now() - dt.timedelta(days=30), unit=board_scope(request.user))
    context = {
        **admin.site.each_context(request),
        "title": _("Board metrics"),
        "metrics": metrics,
        "backlog": [(label, metrics.backlog[value]) for value, label in Initiative.Status.choices],
        "median_review": _duration(metrics.median_review),
        "median_answer": _duration(metrics.median_answer),
    }
    return render(request, "admin/board_metrics.html", context)
