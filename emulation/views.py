"""Emulation-criteria exports from the site: ask for one, follow its progress, download it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from emulation.forms import ExportForm
from emulation.models import ExportJob
from emulation.services import ExportRefused, export_request, export_retry_request, reused_message
from emulation.workbook import ExportRequest, export_file_name, job_error, job_label
from initiatives.selectors import current_program
from sangkien.downloads import stored_file_response
from sangkien.spreadsheets import XLSX_CONTENT_TYPE
from unions.http import AuthenticatedHttpRequest
from unions.models import Union
from unions.permissions import export_scope


def _scope(request: AuthenticatedHttpRequest) -> Union:
    scope = export_scope(request.user)
    if scope is None:
        raise PermissionDenied(_("Emulation exports are for leadership and the board."))
    return scope


def _jobs(scope: Union) -> QuerySet[ExportJob]:
    """The jobs a user may see: those of units in their subtree."""
    return ExportJob.objects.filter(scope__path__startswith=scope.path).select_related(
        "scope", "phase", "cluster", "requested_by"
    )


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
    job = get_object_or_404(_jobs(_scope(request)), pk=pk)
    return JsonResponse(_status(job))


@login_required
@require_POST
def export_retry(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(_jobs(_scope(request)).select_related("program"), pk=pk)
    try:
        building, requeued = export_retry_request(job=job, user=request.user)
    except ExportRefused as refusal:
        messages.error(request, str(refusal))
    else:
        if requeued:
            messages.success(request, _("The export has been queued again."))
        else:
            messages.info(request, reused_message(building))
    return redirect("exports")


@login_required
def export_download(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    """A finished workbook, for those who may see its units."""
    job = get_object_or_404(_jobs(_scope(request)).select_related("program"), pk=pk)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404(_("This export has no file to download."))
    name = export_file_name(ExportRequest.of(job))  # the stored name also holds the job and claim
    return stored_file_response(job.file, name=name, content_type=XLSX_CONTENT_TYPE)
