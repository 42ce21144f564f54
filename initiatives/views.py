from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from initiatives import likeness, once
from initiatives.forms import (
    ADD_AUTHOR,
    MAX_AUTHORS,
    AuthorFormSet,
    ImportForm,
    InitiativeFilterForm,
    InitiativeForm,
    PublicFilterForm,
    author_initial,
    shown_as_typed,
    with_one_more_author,
)
from initiatives.imports import import_initiatives, import_template
from initiatives.models import Attachment, FormSubmission, Initiative
from initiatives.selectors import (
    current_program,
    initiative_detail,
    initiative_list_rows,
    public_initiative,
    public_initiatives,
    visible_initiatives,
)
from initiatives.services import (
    InitiativeStateError,
    attachment_remove,
    initiative_save_draft,
    initiative_submit,
    submission_doubts,
)
from sangkien.downloads import file_response, stored_file_response
from sangkien.paging import CappedPaginator
from sangkien.public_pages import public_page
from sangkien.spreadsheets import XLSX_CONTENT_TYPE, SpreadsheetError
from unions.http import AuthenticatedHttpRequest
from unions.permissions import in_scope, require_unit_pages, require_writer, sees_initiative_content

PAGE_SIZE = 25


@login_required
def initiative_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Sáng kiến của đơn vị: the officer's subtree, filtered, searchable without diacritics."""
    require_unit_pages(request.user)
    program = current_program()
    filters = InitiativeFilterForm(request.GET or None, user=request.user, program=program)
    cleaned = {}
    if filters.is_bound:
        filters.is_valid()  # a bad filter (a unit outside the subtree) shows its error; the valid ones apply
        cleaned = filters.cleaned_data
    # The columns the page shows (the export job reads the same rows with every column).
    rows = (
        initiative_list_rows(user=request.user, filters=cleaned)
        .select_related(None)
        .select_related("unit", "field")
        .only("pk", "title", "status", "submitted_at", "updated_at", "unit__name", "field__name")
    )
    page = CappedPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)  # the old "Xuất Excel" link: the export is now asked for with a POST
    return render(
        request,
        "initiatives/list.html",
        {
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "program": program,
            # Narrowed to one import's initiatives: the page says so and how to see them all.
            "import_token": cleaned.get("import"),
        },
    )


@login_required
def initiative_detail_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    require_unit_pages(request.user)
    initiative = initiative_detail(user=request.user, pk=pk)
    changes = list(initiative.status_changes.all())
    decision = next((c for c in reversed(changes) if c.to_status == initiative.status and c.reason), None)
    original = decision.duplicate_of if decision is not None else None
    return render(
        request,
        "initiatives/detail.html",
        {
            "initiative": initiative,
            "changes": changes,
            "decision": decision,
            # "Trùng lặp": the original, its title and unit only if this account may see them.
            "original": original,
            "original_shown": original is not None and sees_initiative_content(request.user, original),
            "original_linked": original is not None and in_scope(request.user, original.unit),
        },
    )


@login_required
def initiative_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_writer(request.user)
    program = current_program()
    if program is None:
        messages.error(request, _("No programme is open at the moment."))
        return redirect("initiatives:list")
    return _edit(request, Initiative(program=program, unit=request.user.unit))


@login_required
def initiative_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    require_writer(request.user)
    initiative = get_object_or_404(visible_initiatives(user=request.user).select_related("program"), pk=pk)
    if not initiative.is_editable:
        messages.warning(request, _("This initiative has been submitted and can no longer be edited."))
        return redirect(initiative)
    return _edit(request, initiative)


class _AskFirst(Exception):
    """The unit already submitted this title: nothing is written until the officer confirms."""


def _edit(request: AuthenticatedHttpRequest, initiative: Initiative) -> HttpResponse:
    submitting = "submit" in request.POST
    data: QueryDict | None = request.POST if request.method == "POST" else None
    # "Thêm dòng tác giả" without the page's script: the same form again, one author row longer.
    adding_author = data is not None and ADD_AUTHOR in data
    if adding_author and data is not None:
        data = with_one_more_author(data)
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
    duplicates: list[Initiative] = []
    similar: list[likeness.Likeness] = []
    if adding_author:
        shown_as_typed(form)
        shown_as_typed(authors)
    elif data is not None and form.is_valid() and authors.is_valid():
        if token is not None and token.expired:
            once.form_expired(request)
        else:
            service = initiative_submit if submitting else initiative_save_draft
            try:
                # The token first: a second POST of this form waits here for the first one, then is
                # sent to its result (instead of being warned about the title the first one took).
                with once.once_only_for(token, request, FormSubmission.Purpose.INITIATIVE) as submission:
                    if submitting and not form.cleaned_data["confirm_duplicate"]:
                        # The unit's same title, and the national check for copies.
                        doubts = submission_doubts(initiative=form.instance, viewer=request.user)
                        duplicates, similar = doubts.same_title, doubts.alike
                        if doubts:
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
                return once.already_sent(request, sent, reverse("initiatives:list"))
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
        and (adding_author or duplicates or similar or form.errors or authors.errors or authors.non_form_errors())
    ):
        messages.warning(request, _("Browsers cannot keep chosen files after an error: choose them again."))
    return render(
        request,
        "initiatives/form.html",
        {
            "form": form,
            "authors": authors,
            "max_authors": MAX_AUTHORS,
            "initiative": initiative,
            "duplicates": duplicates,
            "similar": similar,
            "once": token,
        },
    )


def _edit_url(initiative: Initiative) -> str:
    return reverse("initiatives:edit", args=[initiative.pk])


@login_required
def attachment_download(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    """Only people who may see the initiative get its files."""
    require_unit_pages(request.user)
    attachment = get_object_or_404(
        Attachment.objects.filter(initiative__in=visible_initiatives(user=request.user)), pk=pk
    )
    return stored_file_response(attachment.file, name=attachment.original_name, content_type=attachment.content_type)


@login_required
def initiative_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Nhập từ Excel: all rows are checked first; any bad row and nothing is imported."""
    require_writer(request.user)
    program = current_program()
    form = ImportForm(request.POST or None, request.FILES or None)
    token = once.FormToken.of(request)
    file_error = ""  # the file as a whole cannot be imported: one message
    errors: list[str] = []  # these rows are wrong
    if request.method == "POST" and form.is_valid():
        if program is None:
            file_error = _("No programme is open at the moment.")
        elif token.expired:
            file_error = _("This form has expired: choose the file and send it again.")
        else:
            try:
                with once.once_only_for(token, request, FormSubmission.Purpose.IMPORT) as submission:
                    assert submission is not None  # claimed with the form's token
                    result = import_initiatives(
                        form.cleaned_data["file"], user=request.user, program=program, token=submission.token
                    )
                    # The list of this import's initiatives, for this POST and any repeat of it.
                    imported = f"{reverse('initiatives:list')}?{urlencode({'import': str(submission.token)})}"
                    once.record_result(submission, imported)
            except once.AlreadySent as sent:
                return once.already_sent(request, sent, reverse("initiatives:list"))
            except SpreadsheetError as error:
                file_error, errors = error.file_error, [str(issue) for issue in error.issues]
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
                for line in result.layout.summary():
                    messages.info(request, line)
                return redirect(imported)
    return render(
        request, "initiatives/import.html", {"form": form, "file_error": file_error, "errors": errors, "once": token}
    )


@login_required
def initiative_import_template(request: AuthenticatedHttpRequest) -> HttpResponse:
    return file_response(import_template(), name="mau-nhap-sang-kien.xlsx", content_type=XLSX_CONTENT_TYPE)


@login_required
@require_POST
def attachment_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Remove a file from an initiative the officer may still edit."""
    require_writer(request.user)
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


@public_page("q", "field", "unit", "page")
def public_list(request: HttpRequest) -> HttpResponse:
    """The programme's valid initiatives, for everyone; confidential ones show little."""
    program = current_program()
    filters = PublicFilterForm(request.GET or None)
    cleaned = {}
    if filters.is_bound:
        filters.is_valid()
        cleaned = filters.cleaned_data
    rows = public_initiatives(program=program, filters=cleaned) if program else Initiative.objects.none()
    # The page shows how many match, up to LIST_COUNT_CAP: "more than 1,000" beyond.
    page = CappedPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "initiatives/public_list.html", {"page": page, "filters": filters, "query": query.urlencode()}
    )


@public_page()
def public_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A valid initiative's public page: a confidential one shows only its name, field and benefit."""
    program = current_program()
    if program is None:
        raise Http404
    shown = public_initiative(program=program, pk=pk)
    return render(
        request,
        "initiatives/public_detail.html",
        {"initiative": shown.initiative, "authors": shown.authors, "program": program},
    )
