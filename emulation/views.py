"""Exports from the site: the emulation-criteria workbook (leadership and the board) and an
officer's list of initiatives; ask for one, follow its progress, download it."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from emulation.forms import ExportForm
from emulation.initiative_lists import describe_filters, list_params, own_list_jobs
from emulation.kinds import kind_of
from emulation.models import ExportJob
from emulation.services import (
    ExportRefused,
    export_request,
    export_retry_request,
    list_export_request,
    reused_message,
)
from emulation.workbook import job_error, job_label
from initiatives.exports import initiative_list_export_refusal
from initiatives.forms import InitiativeFilterForm
from initiatives.selectors import current_program, initiative_list_rows
from sangkien.downloads import stored_file_response
from sangkien.spreadsheets import XLSX_CONTENT_TYPE
from unions.http import AuthenticatedHttpRequest
from unions.models import Union, User
from unions.permissions import export_scope, require_unit_pages, unit_pages_scope


def _scope(request: AuthenticatedHttpRequest) -> Union:
    scope = export_scope(request.user)
    if scope is None:
        raise PermissionDenied(_("Emulation exports are for leadership and the board."))
    return scope


def _jobs(scope: Union) -> QuerySet[ExportJob]:
    """The emulation exports a user may see: those of units in their subtree."""
    return ExportJob.objects.filter(kind=ExportJob.Kind.EMULATION, scope__path__startswith=scope.path).select_related(
        "scope", "phase", "cluster", "requested_by"
    )


def _followable(user: User) -> QuerySet[ExportJob]:
    """The jobs a user may follow, retry and download: the emulation exports of the subtree it may
    export, and the list exports it asked for (emulation.initiative_lists.own_list_jobs)."""
    allowed = Q(pk__in=own_list_jobs(user).values("pk"))
    scope = export_scope(user)
    if scope is not None:
        allowed |= Q(kind=ExportJob.Kind.EMULATION, scope__path__startswith=scope.path)
    return ExportJob.objects.filter(allowed).select_related("program", "scope", "phase", "cluster", "requested_by")


def _page_of(job: ExportJob) -> str:
    """The page that lists `job`."""
    return "list_exports" if job.kind == ExportJob.Kind.INITIATIVE_LIST else "exports"


@login_required
def exports(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Xuất tiêu chí thi đua: the request form and the latest exports with their progress."""
    scope = _scope(request)
    program = current_program()
    if program is None:
        raise Http404(_("No programme is open at the moment."))
    form = ExportForm(request.POST or None, scope=scope, program=program)
    status = 200
    if request.method == "POST" and form.is_valid():
        options = {name: form.cleaned_data[name] for name in ("level", "cluster", "phase")}
        try:
            job, created = export_request(
                user=request.user, program=program, scope=form.cleaned_data["unit"], **options
            )
        except ExportRefused as refusal:
            messages.error(request, str(refusal))
            status = 429  # Too Many Requests: the form stays filled in, with the reason above it
        else:
            if created:
                messages.success(request, _("The export has been queued: its progress shows below."))
            else:
                messages.info(request, reused_message(job))
            return redirect("exports")
    jobs = list(_jobs(scope)[:20])
    for job in jobs:
        job.label, job.error_text = job_label(job), job_error(job)
    return render(request, "emulation/exports.html", {"form": form, "jobs": jobs, "scope": scope}, status=status)


def _status(job: ExportJob) -> dict[str, object]:
    return {
        "status": job.status,
        "label": job_label(job),
        "done": job.rows_done,
        "total": job.total_rows,
        "percent": round(100 * job.rows_done / job.total_rows) if job.total_rows else 0,
        "error": job_error(job),
        "download": reverse("export_download", args=[job.pk])
        if job.status == ExportJob.Status.DONE and job.file
        else "",
        "retry": job.can_retry,
        "finished": job.is_settled,
    }


@login_required
def export_status(request: AuthenticatedHttpRequest, pk: int) -> JsonResponse:
    """The small status document the page polls while a job is queued or running."""
    job = get_object_or_404(_followable(request.user), pk=pk)
    return JsonResponse(_status(job))


@login_required
@require_POST
def export_retry(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(_followable(request.user), pk=pk)
    try:
        building, requeued = export_retry_request(job=job, user=request.user)
    except ExportRefused as refusal:
        messages.error(request, str(refusal))
    else:
        if requeued:
            messages.success(request, _("The export has been queued again."))
        else:
            messages.info(request, reused_message(building))
    return redirect(_page_of(job))


@login_required
def export_download(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    """A finished workbook, for those who may see its units (a list: its asker, as the policy
    lets it see the list's subtree now)."""
    job = get_object_or_404(_followable(request.user), pk=pk)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404(_("This export has no file to download."))
    name = kind_of(job.kind).file_name(job)  # the stored name also holds the job and claim
    return stored_file_response(job.file, name=name, content_type=XLSX_CONTENT_TYPE)


@login_required
def list_exports(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Xuất Excel of "Sáng kiến của đơn vị": a POST (its query string holds the list's filters)
    asks for the export of the list as filtered; the page lists the account's list exports with
    their progress and their files."""
    require_unit_pages(request.user)
    if request.method == "POST":
        return _ask_for_list(request)
    jobs = list(own_list_jobs(request.user).select_related("scope")[:20])
    for job, described in zip(jobs, describe_filters(jobs), strict=True):
        job.label, job.error_text, job.filters = job_label(job), job_error(job), described
    return render(request, "emulation/list_exports.html", {"jobs": jobs})


def _ask_for_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    scope = unit_pages_scope(request.user)
    if scope is None:  # a superuser on a site without units
        raise PermissionDenied(_("Your account does not belong to a union unit."))
    program = current_program()
    # The filters as the list validates them for this account now (a unit outside its subtree is
    # no filter); a refusal goes back to the list with the filters that apply.
    filters = InitiativeFilterForm(request.GET or None, user=request.user, program=program)
    params = list_params(filters)
    back = reverse("initiatives:list") + (f"?{urlencode(params)}" if params else "")
    rows = initiative_list_rows(user=request.user, filters=filters.cleaned_data if filters.is_bound else {})
    if refusal := initiative_list_export_refusal(rows):
        messages.error(request, refusal)
        return redirect(back)
    try:
        job, created = list_export_request(user=request.user, scope=scope, program=program, params=params)
    except ExportRefused as refusal:
        messages.error(request, str(refusal))
        return redirect(back)
    if created:
        messages.success(request, _("The export has been queued: its progress shows below."))
    else:
        messages.info(request, reused_message(job))
    return redirect("list_exports")
