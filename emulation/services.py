"""Asking for exports (the emulation workbook, an officer's list of initiatives), within limits.

A national workbook keeps a worker busy for over a minute, so a burst of requests must not turn
into a burst of builds (30 requests in 1.5 s once queued 30 workbooks). Three rules:
- an export identical to one already queued or running is that one: the asker follows its
  progress instead of starting another. For the emulation workbook, identical means the same
  programme, units, level, cluster and phase, whoever asked for it (the asker may see it: the
  form only takes units of the asker's subtree, and the jobs page lists every job of the
  subtree); for an officer's list, the same account and the same filters (a list is what its
  asker may see, so nobody else's is the same);
- an account has at most EXPORT_MAX_ACTIVE_PER_USER builds queued or running that it started;
- and starts at most EXPORT_MAX_PER_HOUR builds (new or retried) in any hour.
Both kinds count together: they take the same worker queue ("exports"), and an officer who is also
leadership would otherwise have twice the share of it.
A job whose worker stopped, or that no worker took, counts for neither: it is waiting for a retry.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from emulation.models import ExportJob, ExportStart
from emulation.tasks import build_emulation_export
from emulation.workbook import requeue
from initiatives.models import Phase, Program
from sangkien.queueing import enqueue_on_commit
from unions.models import EmulationCluster, Union, User


class ExportRefused(Exception):
    """The export was not started; the message says why and what to do, in the user's language."""


def live_jobs() -> QuerySet[ExportJob]:
    """Jobs a worker is building or soon will: queued lately, or running with a recent heartbeat
    (the complement of `ExportJob.can_retry` among queued and running jobs)."""
    stale = timezone.now() - dt.timedelta(seconds=settings.EXPORT_STALE_SECONDS)
    queued = Q(status=ExportJob.Status.QUEUED, requested_at__gte=stale)
    running = Q(status=ExportJob.Status.RUNNING) & ~Q(heartbeat_at__lt=stale)
    return ExportJob.objects.filter(queued | running)


def _lock(*, user: User, program: Program | None) -> None:
    """Serialise the requests this one could race with, until the transaction ends:
    - the asker's row: two requests of one account (two tabs, a script) count the limits one
      after the other, so the second sees the first's job;
    - the programme's row: an identical export asked for by a colleague at the same instant is
      found, not built twice.
    Always in this order. FOR NO KEY UPDATE: new rows referencing them (initiatives, jobs) only
    take KEY SHARE locks and are never held up; a request holds these for milliseconds."""
    User.objects.select_for_update(no_key=True).only("pk").get(pk=user.pk)
    if program is not None:  # an officer's list: only its asker's own requests are identical
        Program.objects.select_for_update(no_key=True).only("pk").get(pk=program.pk)


def _identical(fields: dict[str, object], *, other_than: int | None = None) -> ExportJob | None:
    jobs = live_jobs().filter(**fields)
    if other_than is not None:
        jobs = jobs.exclude(pk=other_than)
    return jobs.order_by("-requested_at", "-pk").first()


def _check_limits(user: User) -> None:
    active = live_jobs().filter(starts__user=user).distinct().count()
    if active >= settings.EXPORT_MAX_ACTIVE_PER_USER:
        raise ExportRefused(
            ngettext(
                "You already have %(count)s export being built: wait until it is done before asking for another.",
                "You already have %(count)s exports being built: wait until one is done before asking for another.",
                active,
            )
            % {"count": active}
        )
    window = dt.timedelta(hours=1)
    starts = ExportStart.objects.filter(user=user, at__gte=timezone.now() - window)
    recent = list(starts.order_by("at").values_list("at", flat=True))
    if len(recent) >= settings.EXPORT_MAX_PER_HOUR:
        # Another start is allowed once enough of the hour's starts have left the window.
        again = recent[len(recent) - settings.EXPORT_MAX_PER_HOUR] + window
        raise ExportRefused(
            _(
                "You have asked for %(count)s exports in the last hour, the most allowed: "
                "you can ask again from %(time)s."
            )
            % {"count": len(recent), "time": f"{timezone.localtime(again):%H:%M}"}
        )


@transaction.atomic
def export_request(
    *,
    user: User,
    program: Program,
    scope: Union,
    level: str,
    cluster: EmulationCluster | None,
    phase: Phase | None,
) -> tuple[ExportJob, bool]:
    """Xuất tiêu chí thi đua: the job that builds this export, and whether it was started now
    (False: an identical one was already queued or running). Raises ExportRefused at a limit."""
    _lock(user=user, program=program)
    fields = {"program": program, "scope": scope, "level": level, "cluster": cluster, "phase": phase}
    if (same := _identical({"kind": ExportJob.Kind.EMULATION, **fields})) is not None:
        return same, False
    _check_limits(user)
    job = ExportJob(**fields, requested_by=user)
    job.full_clean()
    job.save()
    ExportStart.objects.create(user=user, job=job)
    enqueue_on_commit(build_emulation_export, job.pk)
    return job, True


@transaction.atomic
def export_retry_request(*, job: ExportJob, user: User) -> tuple[ExportJob, bool]:
    """Build a failed, stopped or long-waiting job again: the job that builds this export, and
    whether it was queued again now (False: an identical one is already queued or running).
    Raises ExportRefused when the job cannot be retried or at a limit: a retry costs as much as a
    new export."""
    _lock(user=user, program=job.program)
    job.refresh_from_db()
    if not job.can_retry:
        raise ExportRefused(_("This export cannot be retried: it is done or still being built."))
    if (same := _identical(_identity(job), other_than=job.pk)) is not None:
        return same, False
    _check_limits(user)
    if not requeue(job):  # a worker took it over meanwhile (its message was delivered again)
        raise ExportRefused(_("This export cannot be retried: it is done or still being built."))
    ExportStart.objects.create(user=user, job=job)
    enqueue_on_commit(build_emulation_export, job.pk)
    job.refresh_from_db()
    return job, True


def _identity(job: ExportJob) -> dict[str, object]:
    """What makes another job the same export as `job` (the rules at the top)."""
    if job.kind == ExportJob.Kind.INITIATIVE_LIST:
        return {"kind": job.kind, "requested_by": job.requested_by_id, "scope": job.scope_id, "params": job.params}
    identity: dict[str, object] = {"kind": job.kind, "program": job.program_id, "scope": job.scope_id}
    identity["level"] = job.level
    return identity | {"cluster": job.cluster_id, "phase": job.phase_id}


@transaction.atomic
def list_export_request(
    *, user: User, scope: Union, program: Program | None, params: dict[str, str]
) -> tuple[ExportJob, bool]:
    """Xuất Excel of an officer's list: the job that builds it, and whether it was started now
    (False: the same account's export of the same filters was already queued or running).
    `scope` is the subtree the officer sees, `params` the list's filters as validated for it
    (emulation.initiative_lists). Raises ExportRefused at a limit."""
    _lock(user=user, program=None)
    job = ExportJob(kind=ExportJob.Kind.INITIATIVE_LIST, requested_by=user, scope=scope, program=program, params=params)
    if (same := _identical(_identity(job))) is not None:
        return same, False
    _check_limits(user)
    job.full_clean()
    job.save()
    ExportStart.objects.create(user=user, job=job)
    enqueue_on_commit(build_emulation_export, job.pk)
    return job, True


def reused_message(job: ExportJob) -> str:
    """What the page says when an identical export was already being built."""
    return _("The same export was asked for at %(time)s and is still being built: its progress shows below.") % {
        "time": f"{timezone.localtime(job.requested_at):%H:%M}"
    }
