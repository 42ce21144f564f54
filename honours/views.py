"""The honours pages: for leadership and the board, a proposal computed from a snapshot, the drafts
and decisions of their subtree and the steps of each (honours.services); for everyone, the issued
decisions ("Vinh danh")."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from honours import documents, selectors, services
from honours.forms import ExcludeForm, IssueForm, ProposalForm
from honours.models import HonourDecision, HonourEntry, group_name
from honours.tasks import BUILD_TIME_LIMIT, build_document
from initiatives import once
from initiatives.models import FormSubmission, Program
from initiatives.selectors import current_program
from leaderboard import evidence, history, honours
from leaderboard.models import LeaderboardSnapshot
from sangkien.downloads import file_response
from sangkien.public_pages import public_page
from sangkien.queueing import enqueue_on_commit
from sangkien.text import parse_id, vietnamese_sort_key
from unions.http import AuthenticatedHttpRequest
from unions.models import Union
from unions.permissions import honours_scope, may_decide_honours, sees_honours_of

LATEST_SNAPSHOTS = 3  # offered besides those kept as evidence
DECISIONS_PER_PAGE = 50
ENTRIES_PER_PAGE = 100


def _scope(request: AuthenticatedHttpRequest) -> Union:
    scope = honours_scope(request.user)
    if scope is None:
        raise PermissionDenied(_("Honours proposals and decisions are for leadership and the board."))
    return scope


def _program() -> Program:
    program = current_program()
    if program is None:
        raise Http404(_("No programme is open at the moment."))
    return program


def _snapshots(program: Program) -> list[LeaderboardSnapshot]:
    """Those kept as evidence (a quarter's end pins itself), then the latest others."""
    pinned = evidence.pinned(program.pk)
    latest = LeaderboardSnapshot.objects.filter(program=program, pinned_reason="").order_by("-taken_at")
    return pinned + list(latest[:LATEST_SNAPSHOTS])


def _default_period(snapshot: LeaderboardSnapshot, periods: list[services.PeriodChoice]) -> str:
    """The last quarter that ended before the snapshot (a quarter's end snapshot: that quarter)."""
    ended = [c for c in periods if c.period.quarter and c.ended_by(snapshot)]
    return ended[-1].token if ended else periods[0].token


@dataclass
class Shown:
    """A group's title and its rows, for the templates."""

    title: str
    rows: list[Any]


def _grouped(rows: list[Any], key: Any) -> list[Shown]:
    return [Shown(title, list(members)) for title, members in groupby(rows, key=key)]


@login_required
def proposal(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A proposal: the leading units of a period as a snapshot counted them, per level block and
    emulation cluster, and which meet the rule; those who decide may make it a draft decision."""
    scope, program = _scope(request), _program()
    snapshots = _snapshots(program)
    context: dict[str, Any] = {"program": program, "scope": scope, "snapshots": snapshots}
    if not snapshots:
        return render(request, "honours/proposal.html", context)
    by_pk = {snapshot.pk: snapshot for snapshot in snapshots}
    snapshot = by_pk.get(parse_id(request.GET.get("snapshot", "")) or 0, snapshots[0])
    periods = services.periods(program, snapshot)
    default = _default_period(snapshot, periods)
    initial = {"snapshot": snapshot.pk, "period": default}
    bound = any(name in request.GET for name in ProposalForm.base_fields)
    form = ProposalForm(request.GET if bound else None, initial=initial, snapshots=snapshots, periods=periods)
    token, code = default, ""
    if form.is_bound and form.is_valid():
        token, code = form.cleaned_data["period"] or default, form.cleaned_data["unit"].strip()
    unit = scope
    if code:
        found = Union.objects.filter(code=code).first()
        if found is None or not found.is_in_subtree_of(scope):
            form.add_error("unit", _("No unit with this code under the units you see."))
        else:
            unit = found
    choice = services.period_of(program, token, snapshot)
    assert choice is not None  # the form's choices are these periods
    context.update(form=form, snapshot=snapshot, choice=choice, unit=unit)
    if form.errors:  # nothing is computed for a choice that is not one (a mistyped or forged address)
        context["refused"] = _("Choose a snapshot, a period and units from the lists above.")
        return render(request, "honours/proposal.html", context)
    try:
        computed = honours.propose(snapshot, period=choice.period, scope_id=unit.pk)
    except (honours.NoSuchPeriod, history.NoMirror):
        context["refused"] = _("This snapshot cannot give the figures of this period for these units.")
        return render(request, "honours/proposal.html", context)
    names = services.cluster_names(snapshot)
    rows = [
        (group_name(group.level, names.get(group.cluster_id, "") if group.cluster_id else ""), candidate)
        for group in computed.groups
        for candidate in group.leaders
    ]
    context.update(
        proposal=computed,
        groups=[Shown(title, [row for _title, row in members]) for title, members in groupby(rows, key=lambda r: r[0])],
        ended=choice.ended_by(snapshot),
        decided=services.standing_decision(program_id=program.pk, scope=unit, token=choice.token),
        may_decide=may_decide_honours(request.user, unit),
        once=once.FormToken.of(request).value,
        rule=_rule_text(computed.count, computed.margin),
    )
    return render(request, "honours/proposal.html", context)


def _rule_text(count: str, margin: int) -> str:
    if count == "valid":
        return _(
            "the most initiatives found valid in the period, and at least %(margin)s above the unit's own target"
        ) % {"margin": margin}
    return _("the most initiatives submitted in the period, and at least %(margin)s above the unit's own target") % {
        "margin": margin
    }


@login_required
@require_POST
def prepare(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Make the proposal shown a draft decision: once per page, however often it is sent."""
    scope, program = _scope(request), _program()
    back = reverse("honours:proposal")
    snapshot = LeaderboardSnapshot.objects.filter(
        program=program, pk=parse_id(request.POST.get("snapshot", "")) or 0
    ).first()
    unit = Union.objects.filter(code=request.POST.get("unit", "")[:50]).first()
    choice = services.period_of(program, request.POST.get("period", "")[:30], snapshot) if snapshot else None
    if snapshot is None or unit is None or choice is None or not unit.is_in_subtree_of(scope):
        messages.error(request, _("This proposal can no longer be found: choose it again."))
        return redirect(back)
    back += "?" + urlencode({"snapshot": snapshot.pk, "period": choice.token, "unit": unit.code})
    token = once.FormToken.of(request)
    if token.expired:
        once.form_expired(request)
        return redirect(back)
    try:
        with once.once_only_for(token, request, FormSubmission.Purpose.HONOURS) as submission:
            decision = services.decision_prepare(user=request.user, snapshot=snapshot, choice=choice, scope=unit)
            url = reverse("honours:decision", args=[decision.pk])
            assert submission is not None
            once.record_result(submission, url)
    except once.AlreadySent as sent:
        return once.already_sent(request, sent, reverse("honours:decisions"))
    except services.Refused as refused:
        messages.error(request, str(refused))
        return redirect(back)
    messages.success(
        request, _("The draft decision has been prepared: review it, leave out units if needed, then issue it.")
    )
    return redirect(url)


@login_required
def decisions(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The drafts and decisions for the units the account sees."""
    scope = _scope(request)
    page = Paginator(selectors.decisions_under(scope), DECISIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "honours/decisions.html", {"scope": scope, "page": page})


ACTIONS = ("exclude", "include", "issue", "correct", "discard")


@login_required
def decision(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A draft (its entries, exclusions, the form that issues it) or an issued decision."""
    _scope(request)
    shown = get_object_or_404(
        HonourDecision.objects.select_related("scope", "snapshot", "corrects", "created_by", "issued_by"), pk=pk
    )
    if not sees_honours_of(request.user, shown.scope):
        raise PermissionDenied(_("This decision is for units outside your unit's subtree."))
    may_decide = may_decide_honours(request.user, shown.scope)
    issue_form = IssueForm()
    if request.method == "POST":
        if not may_decide:
            raise PermissionDenied(_("You may not decide honours for these units."))
        action = request.POST.get("action", "")
        if action not in ACTIONS:
            messages.error(request, _("Unknown action."))
            return redirect("honours:decision", pk=shown.pk)
        outcome = _act(request, shown, action)
        if isinstance(outcome, HttpResponse):
            return outcome
        issue_form = outcome or issue_form
    entries = list(shown.entries.order_by("position"))
    corrections = list(shown.corrections.order_by("-created_at"))
    context = {
        "decision": shown,
        "groups": _grouped(entries, key=lambda e: e.group_name),
        "honoured": sum(e.honoured for e in entries),
        "may_decide": may_decide,
        "editable": may_decide and not shown.is_issued,
        "superseded": any(correction.is_issued for correction in corrections),
        "issue_form": issue_form,
        "corrections": corrections,
        "once": once.FormToken.of(request).value,
        "rule": _rule_text(shown.count, shown.margin),
    }
    return render(request, "honours/decision.html", context)


def _act(request: AuthenticatedHttpRequest, shown: HonourDecision, action: str) -> HttpResponse | IssueForm | None:
    """A step on the decision: a redirect when done, or the issue form with its errors."""
    user, here = request.user, reverse("honours:decision", args=[shown.pk])
    try:
        if action == "exclude":
            exclusion = ExcludeForm(request.POST)
            if not exclusion.is_valid():
                raise services.Refused(_("Give the reason for leaving this unit out."))
            services.decision_exclude(
                user=user,
                decision=shown,
                entry_id=exclusion.cleaned_data["entry"],
                reason=exclusion.cleaned_data["reason"],
            )
            messages.success(request, _("The unit has been left out."))
        elif action == "include":
            services.decision_include(user=user, decision=shown, entry_id=parse_id(request.POST.get("entry", "")) or 0)
            messages.success(request, _("The unit has been put back."))
        elif action == "issue":
            form = IssueForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Please correct the errors below. What you typed has been kept."))
                return form
            try:
                services.decision_issue(user=user, decision=shown, **form.cleaned_data)
            except services.Refused as refused:
                messages.error(request, str(refused))
                return form  # what was typed stays in the form
            messages.success(request, _("The decision has been issued and published."))
        elif action == "correct":
            token = once.FormToken.of(request)
            if token.expired:
                once.form_expired(request)
                return redirect(here)
            with once.once_only_for(token, request, FormSubmission.Purpose.HONOURS) as submission:
                draft = services.decision_correct(user=user, decision=shown)
                here = reverse("honours:decision", args=[draft.pk])
                assert submission is not None
                once.record_result(submission, here)
            messages.success(request, _("A draft correction has been prepared."))
        else:
            services.decision_discard(user=user, decision=shown)
            messages.success(request, _("The draft has been discarded."))
            return redirect("honours:decisions")
    except once.AlreadySent as sent:
        return once.already_sent(request, sent, here)
    except services.Refused as refused:
        messages.error(request, str(refused))
    return redirect(here)


# ---------------------------------------------------------------------------------------------
# Public.


@public_page("period", "cluster", "page")
def public_list(request: HttpRequest) -> HttpResponse:
    """The issued decisions of a period (the latest decided by default), with the units they honour
    and their figures as of each decision's snapshot; a cluster may be chosen."""
    program = current_program()
    context: dict[str, Any] = {"program": program, "periods": [], "query": ""}
    if program is None:
        return render(request, "honours/public_list.html", context)
    periods = selectors.published_periods(program)
    token = request.GET.get("period", "")[:30] or (periods[0].token if periods else "")
    chosen = next((p for p in periods if p.token == token), None)
    context.update(periods=periods, period=chosen)
    if chosen is None:
        return render(request, "honours/public_list.html", context, status=404 if token and periods else 200)
    shown = list(selectors.published(program).filter(period_token=chosen.token))
    by_pk = {d.pk: d for d in shown}
    # The units of the decisions still standing: a correction's list replaces the one it corrects.
    entries = selectors.honoured_entries([d.pk for d in shown if not getattr(d, "superseded", False)])
    clusters = sorted(
        set(entries.exclude(cluster=None).values_list("cluster_id", "cluster_name").distinct().order_by()),
        key=lambda c: vietnamese_sort_key(c[1]),
    )
    cluster = parse_id(request.GET.get("cluster", "")) or None
    if cluster is not None:
        entries = entries.filter(cluster_id=cluster)
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    rows: list[HonourEntry] = list(page.object_list)
    for entry in rows:
        entry.decision = by_pk[entry.decision_id]
    context.update(
        decisions=shown,
        clusters=clusters,
        cluster=cluster,
        page=page,
        groups=_grouped(rows, key=lambda e: (e.decision, e.group_name)),
        query=urlencode({"period": chosen.token, **({"cluster": cluster} if cluster else {})}),
    )
    return render(request, "honours/public_list.html", context)


@public_page()
def public_decision(request: HttpRequest, pk: int) -> HttpResponse:
    """An issued decision: its particulars, the units it honours with their figures and targets, the
    snapshot they are counted from; the decision it corrects, or the one that corrected it."""
    shown = get_object_or_404(
        HonourDecision.objects.select_related("corrects").filter(status=HonourDecision.Status.ISSUED), pk=pk
    )
    entries = list(selectors.honoured_entries([shown.pk]))
    corrected_by = shown.corrections.filter(status=HonourDecision.Status.ISSUED).first()
    context = {
        "decision": shown,
        "groups": _grouped(entries, key=lambda e: e.group_name),
        "corrected_by": corrected_by,
        "rule": _rule_text(shown.count, shown.margin),
    }
    return render(request, "honours/public_decision.html", context)


# Queued once while it is being built (the task's own time limit).
BUILDING_KEY = "honours:building:{pk}:{kind}"


def document(request: HttpRequest, pk: int, kind: str) -> HttpResponse | FileResponse:
    """An issued decision's list as .xlsx or PDF, for everyone: built now when small, in the
    background when large (this page says so and reloads until it is there)."""
    if kind not in documents.KINDS:
        raise Http404
    shown = get_object_or_404(
        HonourDecision.objects.select_related("program", "corrects").filter(status=HonourDecision.Status.ISSUED), pk=pk
    )
    path = documents.path_of(shown, kind)
    if not path.exists():
        try:
            if documents.is_large(shown) and not build_document.app.conf.task_always_eager:
                raise documents.Busy(str(path))
            path = documents.build(shown, kind)
        except documents.Busy:
            if cache.get(documents.FAILED_KEY.format(pk=shown.pk, kind=kind)):
                return render(request, "honours/preparing.html", {"decision": shown, "failed": True}, status=503)
            if cache.add(BUILDING_KEY.format(pk=shown.pk, kind=kind), True, BUILD_TIME_LIMIT):
                enqueue_on_commit(build_document, shown.pk, kind)
            return render(request, "honours/preparing.html", {"decision": shown}, status=202)
    return file_response(path.open("rb"), name=documents.download_name(shown, kind), content_type=documents.KINDS[kind])
