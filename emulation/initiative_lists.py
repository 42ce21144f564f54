"""The officer's list of initiatives ("Sáng kiến của đơn vị", "Xuất Excel") as an export job.

The list page's filters become the job's `params`; the job's `scope` is the subtree the officer
saw when asking. The access policy (unions.permissions) is asked three times:
- when the export is asked for: the filters are validated as the list validates them (a unit
  outside the officer's subtree is no filter at all);
- when the worker builds it: the rows are those the asker may see *then*, and if the asker lost the
  subtree or a filter's unit since, the job fails instead of exporting another list;
- at download: only the asker, while it still may see the job's subtree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from emulation.kinds import BuildRefused, ExportKind, Progress
from emulation.models import ExportJob
from initiatives.exports import initiative_list_export_refusal, initiative_list_workbook
from initiatives.forms import InitiativeFilterForm
from initiatives.models import Field, Initiative, Phase
from initiatives.selectors import initiative_list_rows
from unions.models import Union, User
from unions.permissions import in_scope, may_use_unit_pages, restrict

FILTERS = ("q", "unit", "field", "status", "phase", "import")


def list_params(filters: InitiativeFilterForm) -> dict[str, str]:
    """The filters that apply to the list (the valid, non-empty ones), as a query string gives
    them: the same filters give the same params, whichever order or blanks the URL had."""
    if not filters.is_bound:
        return {}
    filters.is_valid()
    params = {}
    for name in FILTERS:
        value = filters.cleaned_data.get(name)
        if value:
            params[name] = str(value.pk if hasattr(value, "pk") else value)
    return params


def filters_of(job: ExportJob, user: User) -> dict[str, Any]:
    """The job's filters as the list applies them, validated for `user` now; BuildRefused if one
    no longer is (its unit left the asker's subtree)."""
    filters = InitiativeFilterForm(job.params, user=user, program=job.program)
    if not filters.is_valid():
        raise BuildRefused(_("Your access changed since this export was asked for: ask for it again."))
    return filters.cleaned_data


def may_build(job: ExportJob) -> User:
    """The asker, if it still may see the list it asked for; BuildRefused otherwise."""
    user = job.requested_by
    if user is None or not may_use_unit_pages(user) or not in_scope(user, job.scope):
        raise BuildRefused(_("Your access changed since this export was asked for: ask for it again."))
    return user


def _write(job: ExportJob, path: Path, progress: Progress) -> int:
    user = may_build(job)
    rows = initiative_list_rows(user=user, filters=filters_of(job, user))
    if refusal := initiative_list_export_refusal(rows):
        raise BuildRefused(refusal)
    total = rows.order_by().count()  # at most the limit, checked just above
    progress(0, total)
    with path.open("wb") as output:
        return initiative_list_workbook(rows, output, progress=lambda done: progress(done, total))


def file_name(job: ExportJob) -> str:
    return f"sang-kien-{job.scope.code}-{timezone.localtime(job.as_of):%Y%m%d-%H%M}.xlsx"


INITIATIVE_LIST_KIND = ExportKind(
    write=_write,
    file_name=file_name,
    running=lambda done, total: (
        _("Running: %(done)s of %(total)s initiatives") % {"done": intcomma(done), "total": intcomma(total)}
    ),
    done=lambda rows, seconds: (
        ngettext("Done: %(n)s initiative in %(seconds)s s", "Done: %(n)s initiatives in %(seconds)s s", rows)
        % {"n": intcomma(rows), "seconds": seconds}
    ),
    related=("program", "scope", "requested_by__unit"),
)


def describe_filters(jobs: list[ExportJob]) -> list[str]:
    """Each job's filters as the list page names them ("Unit: Thép Thái Nguyên · Status: Valid"),
    or "" for the whole list: one query per kind of filter named, whatever the number of jobs."""
    wanted: dict[str, set[int]] = {"unit": set(), "field": set(), "phase": set()}
    for job in jobs:
        for name, ids in wanted.items():
            if str(job.params.get(name, "")).isdecimal():
                ids.add(int(job.params[name]))
    models: dict[str, QuerySet[Any]] = {
        "unit": Union.objects.all(),
        "field": Field.objects.all(),
        "phase": Phase.objects.all(),
    }
    names = {
        name: dict(models[name].filter(pk__in=ids).values_list("pk", "name")) if ids else {}
        for name, ids in wanted.items()
    }
    statuses = dict(Initiative.Status.choices)
    labels = {name: InitiativeFilterForm.base_fields[name].label for name in FILTERS}
    described = []
    for job in jobs:
        parts = []
        for name in FILTERS:
            value = str(job.params.get(name, ""))
            if not value:
                continue
            if name in names:
                shown = names[name].get(int(value), "—") if value.isdecimal() else "—"
            elif name == "status":
                shown = str(statuses.get(value, value))
            else:
                shown = f"“{value}”"
            parts.append(f"{labels[name]}: {shown}")
        described.append(" · ".join(parts))
    return described


def own_list_jobs(user: User) -> QuerySet[ExportJob]:
    """The list exports `user` may see, follow and download: those it asked for, of a subtree it
    still sees (an officer moved to a unit below its old one loses its old unit's lists)."""
    if not may_use_unit_pages(user):
        return ExportJob.objects.none()
    jobs = ExportJob.objects.filter(kind=ExportJob.Kind.INITIATIVE_LIST, requested_by=user)
    return restrict(jobs, user, path="scope__path")
