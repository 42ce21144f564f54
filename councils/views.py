"""The councils' pages (issue 20): the rounds an account sees, setting one up, its page (council,
nominations, scoring progress, closing, the result and its documents), a nomination's page (the
initiative, the member's score sheet, the others' scores once allowed, conflicts, the third scorer),
nominating; and for everyone, the outstanding initiatives ("Sáng kiến tiêu biểu")."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from councils import documents, selectors, services
from councils.forms import (
    CloseForm,
    ConflictForm,
    CriterionFormSet,
    MemberForm,
    NominationForm,
    RoundForm,
    ScoreForm,
    rubric_initial,
    rubric_of,
)
from councils.models import Member, Nomination, ScoreSheet, SelectionRound
from councils.tasks import enqueue_document
from initiatives import once
from initiatives.models import FormSubmission, Initiative
from initiatives.selectors import current_program
from sangkien.downloads import file_response
from sangkien.paging import CappedPaginator
from sangkien.public_pages import public_page
from sangkien.text import parse_id
from unions.http import AuthenticatedHttpRequest
from unions.levels import LEVELS
from unions.models import Union, User
from unions.permissions import (
    can_act_in,
    may_chair,
    may_manage_round,
    may_nominate_to,
    may_run_rounds,
    may_write_on_site,
    sees_initiative_content,
    sees_scores,
    site_flags,
)

ROUNDS_PER_PAGE = 30
PUBLIC_PER_PAGE = 30


def _require_councils(user: User) -> None:
    if not site_flags(user)["councils"]:
        raise PermissionDenied(_("Your account does not belong to a union unit."))


@login_required
def rounds(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The rounds the account sees or sits on, and those it may nominate to now."""
    user = request.user
    _require_councils(user)
    page = CappedPaginator(selectors.visible_rounds(user), ROUNDS_PER_PAGE).get_page(request.GET.get("page"))
    sitting = set(Member.objects.filter(user=user, round__in=list(page)).values_list("round_id", "role"))
    roles = {round_id: Member.Role(role).label for round_id, role in sitting}
    context = {
        "page": page,
        "roles": roles,
        "open_to_me": services.rounds_open_to(user),
        "may_set_up": (home := _unit_of(user, "")) is not None and may_run_rounds(user, home),
    }
    return render(request, "councils/rounds.html", context)


@login_required
def round_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Set up a round: its settings and its rubric (the default one offered), once per form."""
    user = request.user
    _require_councils(user)
    program = current_program()
    if program is None:
        messages.error(request, _("No programme is open at the moment."))
        return redirect("councils:rounds")
    data = request.POST if request.method == "POST" else None
    form = RoundForm(data)
    criteria = CriterionFormSet(data, prefix="criteria", initial=rubric_initial(services.default_rubric()))
    if data is not None and form.is_valid() and criteria.is_valid():
        unit = _unit_of(user, form.cleaned_data["unit"])
        if unit is None:
            form.add_error("unit", _("No unit has this code."))
        else:
            token = once.FormToken.of(request)
            if token.expired:
                once.form_expired(request)
                return redirect("councils:new")
            try:
                with once.once_only_for(token, request, FormSubmission.Purpose.COUNCILS) as submission:
                    created = services.round_create(
                        user=user,
                        program=program,
                        unit=unit,
                        name=form.cleaned_data["name"],
                        quota=form.cleaned_data["quota"],
                        deadline=form.cleaned_data["deadline"],
                        spread_threshold=form.cleaned_data["spread_threshold"],
                        pass_mark=form.cleaned_data["pass_mark"],
                        criteria=rubric_of(criteria),
                    )
                    assert submission is not None
                    once.record_result(submission, created.get_absolute_url())
            except once.AlreadySent as sent:
                return once.already_sent(request, sent, reverse("councils:rounds"))
            except services.Refused as refused:
                messages.error(request, str(refused))
            else:
                messages.success(request, _("The round has been set up: appoint its council now."))
                return redirect(created)
    elif data is not None:
        messages.error(request, _("Please correct the errors below. What you typed has been kept."))
    context = {"form": form, "criteria": criteria, "once": once.FormToken.of(request).value, "editing": None}
    return render(request, "councils/round_form.html", context)


def _unit_of(user: User, code: str) -> Union | None:
    if not code.strip():
        return user.unit if user.unit_id else Union.objects.filter(parent=None).order_by("path").first()
    return Union.objects.filter(code=code.strip()).first()


@login_required
def round_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Change a round's settings (and its rubric while it is open)."""
    shown = selectors.round_for(request.user, pk)
    if not may_manage_round(request.user, shown) or shown.is_closed:
        raise PermissionDenied(_("You may not change this round."))
    data = request.POST if request.method == "POST" else None
    initial = {
        "name": shown.name,
        "unit": shown.unit.code,
        "quota": shown.quota,
        "deadline": shown.deadline,
        "spread_threshold": shown.spread_threshold,
        "pass_mark": shown.pass_mark,
    }
    form = RoundForm(data, initial=initial)
    form.fields["unit"].disabled = True
    criteria = CriterionFormSet(data, prefix="criteria", initial=rubric_initial(services.rubric_specs(shown)))
    if data is not None and form.is_valid() and criteria.is_valid():
        try:
            services.round_update(
                user=request.user,
                selection_round=shown,
                name=form.cleaned_data["name"],
                quota=form.cleaned_data["quota"],
                deadline=form.cleaned_data["deadline"],
                spread_threshold=form.cleaned_data["spread_threshold"],
                pass_mark=form.cleaned_data["pass_mark"],
                criteria=rubric_of(criteria),
            )
        except services.Refused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, _("The round's settings have been saved."))
            return redirect(shown)
    elif data is not None:
        messages.error(request, _("Please correct the errors below. What you typed has been kept."))
    context = {"form": form, "criteria": criteria, "once": "", "editing": shown}
    return render(request, "councils/round_form.html", context)


ROUND_ACTIONS = {"appoint", "remove", "start", "absent", "present", "close"}


@login_required
def round_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    shown = selectors.round_for(user, pk)
    member_form, close_form = MemberForm(), CloseForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in ROUND_ACTIONS:
            messages.error(request, _("Unknown action."))
            return redirect(shown)
        outcome = _round_act(request, shown, action)
        if isinstance(outcome, HttpResponse):
            return outcome
        member_form, close_form = outcome
        shown.refresh_from_db()
    return render(request, "councils/round.html", _round_context(request, shown, member_form, close_form))


def _round_context(
    request: AuthenticatedHttpRequest, shown: SelectionRound, member_form: MemberForm, close_form: CloseForm
) -> dict[str, Any]:
    user = request.user
    members = list(shown.members.select_related("user").order_by("pk"))
    mine = next((m for m in members if m.user_id == user.pk), None)
    rows = services.standings(shown)
    my_sheets = {}
    if mine is not None:
        my_sheets = dict(
            ScoreSheet.objects.filter(nomination__round=shown, member=mine).values_list("nomination_id", "status")
        )
    for row in rows:
        row.mine = my_sheets.get(row.nomination.pk, "")  # type: ignore[attr-defined]
        row.i_owe = mine is not None and any(m.pk == mine.pk for m in row.owed)  # type: ignore[attr-defined]
        row.shows_content = sees_initiative_content(user, row.nomination.initiative)  # type: ignore[attr-defined]
    # By rank; within a rank the chair split at the quota, the selected first.
    ranked = sorted(
        rows,
        key=lambda row: (
            row.nomination.rank or 10**9,
            row.nomination.result != Nomination.Result.SELECTED,
            row.nomination.pk,
        ),
    )
    criteria = list(shown.criteria.prefetch_related("bands"))
    manages = may_manage_round(user, shown)
    if shown.is_closed:
        means = selectors.criterion_means(shown)
        for row in rows:
            per_criterion = means.get(row.nomination.pk, {})
            row.criterion_means = [(c.name, per_criterion.get(c.pk)) for c in criteria]  # type: ignore[attr-defined]
    return {
        "round": shown,
        "criteria": criteria,
        "members": members,
        "mine": mine,
        "rows": ranked if shown.is_closed else rows,
        "manage": manages and not shown.is_closed,
        "forward": manages and shown.is_closed,
        "chair": may_chair(user, shown),
        "member_form": member_form,
        "close_form": close_form,
        "history": services.history_of(shown) if shown.is_closed else [],
        "documents": _documents(shown) if shown.is_closed else [],
        "targets": services.forward_targets_of(shown) if manages else {},
    }


def _documents(shown: SelectionRound) -> list[tuple[str, str]]:
    return [
        (_("Minutes (PDF)"), reverse("councils:document", args=[shown.pk, "minutes.pdf"])),
        (_("Minutes (Word)"), reverse("councils:document", args=[shown.pk, "minutes.docx"])),
        (_("Cover submission (PDF)"), reverse("councils:document", args=[shown.pk, "submission.pdf"])),
        (_("Cover submission (Word)"), reverse("councils:document", args=[shown.pk, "submission.docx"])),
    ]


def _round_act(
    request: AuthenticatedHttpRequest, shown: SelectionRound, action: str
) -> HttpResponse | tuple[MemberForm, CloseForm]:
    user, here = request.user, shown.get_absolute_url()
    member_form, close_form = MemberForm(), CloseForm()
    try:
        if action == "appoint":
            member_form = MemberForm(request.POST)
            if not member_form.is_valid():
                messages.error(request, _("Please correct the errors below. What you typed has been kept."))
                return member_form, close_form
            account = (
                User.objects.select_related("unit")
                .filter(username=member_form.cleaned_data["username"].strip(), is_active=True)
                .first()
            )
            if account is None:
                member_form.add_error("username", _("No active account has this user name."))
                return member_form, close_form
            try:
                member = services.member_appoint(
                    user=user, selection_round=shown, account=account, role=member_form.cleaned_data["role"]
                )
            except services.Refused as refused:
                messages.error(request, str(refused))
                return member_form, close_form
            messages.success(request, _("%(name)s is on the council.") % {"name": member.full_name})
        elif action == "remove":
            services.member_remove(
                user=user, selection_round=shown, member_id=parse_id(request.POST.get("member", "")) or 0
            )
            messages.success(request, _("The account has been taken off the council."))
        elif action == "start":
            services.round_start_scoring(user=user, selection_round=shown)
            messages.success(request, _("Nominations are closed: the council may score."))
        elif action in ("absent", "present"):
            services.member_mark_absent(
                user=user,
                selection_round=shown,
                member_id=parse_id(request.POST.get("member", "")) or 0,
                absent=action == "absent",
            )
            messages.success(request, _("Recorded."))
        else:
            return _close(request, shown)
    except services.Refused as refused:
        messages.error(request, str(refused))
    return redirect(here)


def _close(request: AuthenticatedHttpRequest, shown: SelectionRound) -> HttpResponse | tuple[MemberForm, CloseForm]:
    tied_ids = [parse_id(value) for value in request.POST.getlist("tied")]
    tied = [
        (n.pk, n.initiative.title)
        for n in shown.nominations.select_related("initiative").filter(pk__in=[t for t in tied_ids if t])
    ]
    form = CloseForm(request.POST, tied=tied)
    if not form.is_valid():
        messages.error(request, _("Please correct the errors below. What you typed has been kept."))
        return MemberForm(), form
    try:
        services.round_close(
            user=request.user,
            selection_round=shown,
            prefer=form.cleaned_data.get("prefer", []),
            tie_note=form.cleaned_data.get("tie_note", ""),
            place=form.cleaned_data["place"],
            submission_number=form.cleaned_data["submission_number"],
        )
    except services.TieAtQuota as tie:
        messages.warning(request, str(tie))
        choice = CloseForm(
            initial={
                "place": form.cleaned_data["place"],
                "submission_number": form.cleaned_data["submission_number"],
            },
            tied=[(n.pk, n.initiative.title) for n in tie.tied],
        )
        choice.places = tie.places  # type: ignore[attr-defined]
        return MemberForm(), choice
    except services.Refused as refused:
        messages.error(request, str(refused))
        return MemberForm(), form
    messages.success(request, _("The round is closed: its result is published and the units are told."))
    return redirect(shown)


NOMINATION_ACTIONS = {"save", "submit", "conflict", "lift", "assign", "withdraw", "forward"}


@login_required
def nomination_detail(request: AuthenticatedHttpRequest, pk: int, nomination_id: int) -> HttpResponse:
    user = request.user
    shown = selectors.round_for(user, pk)
    nomination = (
        shown.nominations.select_related("initiative__unit", "initiative__field", "forwarded_from__round")
        .filter(pk=nomination_id)
        .first()
    )
    if nomination is None:
        raise Http404
    criteria = list(shown.criteria.prefetch_related("bands"))
    members = list(shown.members.select_related("user").order_by("pk"))
    mine = next((m for m in members if m.user_id == user.pk), None)
    sheet = ScoreSheet.objects.filter(nomination=nomination, member=mine).first() if mine else None
    score_form = ScoreForm(criteria=criteria, initial=_sheet_initial(sheet))
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in NOMINATION_ACTIONS:
            messages.error(request, _("Unknown action."))
            return redirect("councils:nomination", pk=shown.pk, nomination_id=nomination.pk)
        outcome = _nomination_act(request, shown, nomination, action, criteria)
        if isinstance(outcome, HttpResponse):
            return outcome
        score_form = outcome
        sheet = ScoreSheet.objects.filter(nomination=nomination, member=mine).first() if mine else None
    submitted_own = sheet is not None and sheet.is_submitted
    conflicts = list(nomination.conflicts.select_related("member", "declared_by"))
    i_score = mine is not None and shown.is_scoring and services.must_score(mine, nomination)
    visible = sees_scores(user, shown, submitted_own=submitted_own)
    sheets = []
    if visible:
        conflicted = {c.member_id for c in conflicts}
        submitted = nomination.sheets.filter(status=ScoreSheet.Status.SUBMITTED).select_related("member")
        for other in submitted.prefetch_related("scores").order_by("member_id"):
            points = {score.criterion_id: score.points for score in other.scores.all()}
            sheets.append(
                {
                    "member": other.member,
                    "points": [points.get(c.pk) for c in criteria],
                    "total": other.total,
                    "comment": other.comment,
                    "excluded": other.member_id in conflicted,
                }
            )
    standing = services.standings(shown, only=nomination)[0]
    context = {
        "round": shown,
        "nomination": nomination,
        "initiative": nomination.initiative,
        "shows_content": sees_initiative_content(user, nomination.initiative),
        "authors": list(nomination.initiative.authors.all()),
        "criteria": criteria,
        "mine": mine,
        "sheet": sheet,
        "i_score": i_score and not submitted_own,
        "score_form": score_form,
        "sees_scores": visible,
        "sheets": sheets,
        "standing": standing,
        "conflicts": conflicts,
        "chair": may_chair(user, shown),
        "members": [m for m in members if not any(c.member_id == m.pk for c in conflicts)],
        "reserves": [m for m in members if m.role == Member.Role.RESERVE],
        "extra": list(nomination.extra_scorers.select_related("member")),
        "withdraw": shown.is_open and may_write_on_site(user) and user.unit_id == nomination.from_unit_id,
        "chain": _chain(nomination),
    }
    return render(request, "councils/nomination.html", context)


def _chain(nomination: Nomination) -> list[Nomination]:
    """The rounds below it came from, nearest first."""
    chain: list[Nomination] = []
    step = nomination.forwarded_from
    while step is not None:
        chain.append(step)
        above = step.forwarded_from_id
        step = Nomination.objects.select_related("round").filter(pk=above).first() if above else None
    return chain


def _sheet_initial(sheet: ScoreSheet | None) -> dict[str, Any]:
    if sheet is None:
        return {}
    initial: dict[str, Any] = {"comment": sheet.comment}
    for score in sheet.scores.all():
        initial[f"points_{score.criterion_id}"] = score.points
        initial[f"comment_{score.criterion_id}"] = score.comment
    return initial


def _nomination_act(
    request: AuthenticatedHttpRequest,
    shown: SelectionRound,
    nomination: Nomination,
    action: str,
    criteria: list[Any],
) -> HttpResponse | ScoreForm:
    user = request.user
    here = reverse("councils:nomination", args=[shown.pk, nomination.pk])
    try:
        if action in ("save", "submit"):
            form = ScoreForm(request.POST, criteria=criteria)
            if not form.is_valid():
                messages.error(request, _("Please correct the errors below. What you typed has been kept."))
                return form
            try:
                services.sheet_save(
                    user=user,
                    nomination=nomination,
                    points=form.points(),
                    comments=form.comments(),
                    comment=form.cleaned_data["comment"],
                    submit=action == "submit",
                )
            except services.Refused as refused:
                messages.error(request, str(refused))
                return form  # what was typed stays
            messages.success(
                request, _("Your scores are submitted.") if action == "submit" else _("Your draft has been saved.")
            )
        elif action == "conflict":
            conflict = ConflictForm(request.POST)
            if not conflict.is_valid():
                raise services.Refused(_("Give the reason for the conflict of interest."))
            services.conflict_declare(
                user=user,
                nomination=nomination,
                member_id=conflict.cleaned_data["member"],
                reason=conflict.cleaned_data["reason"],
            )
            messages.success(request, _("The conflict of interest is recorded: that member does not score it."))
        elif action == "lift":
            lift = ConflictForm(request.POST)
            if not lift.is_valid():
                raise services.Refused(_("Give the reason for lifting the conflict of interest."))
            services.conflict_lift(
                user=user,
                nomination=nomination,
                member_id=lift.cleaned_data["member"],
                reason=lift.cleaned_data["reason"],
            )
            messages.success(request, _("The conflict of interest has been lifted: that member scores it."))
        elif action == "assign":
            services.extra_scorer_assign(
                user=user, nomination=nomination, member_id=parse_id(request.POST.get("member", "")) or 0
            )
            messages.success(request, _("The third scorer has been assigned."))
        elif action == "withdraw":
            services.nomination_withdraw(user=user, nomination=nomination)
            messages.success(request, _("The nomination has been withdrawn."))
            return redirect(shown)
        else:
            target = SelectionRound.objects.filter(pk=parse_id(request.POST.get("to", "")) or 0).first()
            if target is None:
                raise services.Refused(_("Choose the round of the level above."))
            forwarded = services.nomination_forward(user=user, nomination=nomination, to_round=target)
            messages.success(request, _("Forwarded to the round “%(round)s”.") % {"round": forwarded.round.name})
            return redirect(shown)
    except services.Refused as refused:
        messages.error(request, str(refused))
    return redirect(here)


@login_required
@require_POST
def withdraw(request: AuthenticatedHttpRequest, nomination_id: int) -> HttpResponse:
    """The nominating unit takes its nomination back (from the initiative's page) while the round is open."""
    nomination = Nomination.objects.select_related("initiative__unit").filter(pk=nomination_id).first()
    if nomination is None or not can_act_in(request.user, nomination.initiative.unit):
        raise Http404
    try:
        services.nomination_withdraw(user=request.user, nomination=nomination)
    except services.Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("The nomination has been withdrawn."))
    return redirect("initiatives:detail", pk=nomination.initiative_id)


@login_required
def nominate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Nominate an initiative (its id in the address, from its page) to a round the user may nominate to."""
    user = request.user
    shown = SelectionRound.objects.select_related("unit").filter(pk=pk).first()
    if shown is None or not may_nominate_to(user, shown.unit):
        raise Http404
    data = request.POST if request.method == "POST" else None
    initiative_id = parse_id((data or request.GET).get("initiative", "")) or 0
    initiative = Initiative.objects.select_related("unit", "field").filter(pk=initiative_id).first()
    if initiative is None or not can_act_in(user, initiative.unit):
        raise Http404
    initial = {
        "initiative": initiative.pk,
        "recognition_number": initiative.recognition_number,
        "recognition_date": initiative.recognition_date,
    }
    form = NominationForm(data, initial=initial)
    if data is not None and form.is_valid():
        existing = shown.nominations.filter(initiative=initiative).first()
        if existing is not None:  # a second click, or nominated meanwhile
            messages.info(request, _("This initiative is already nominated to this round."))
            return redirect("initiatives:detail", pk=initiative.pk)
        try:
            services.nomination_create(
                user=user,
                selection_round=shown,
                initiative=initiative,
                justification=form.cleaned_data["justification"],
                recognition_number=form.cleaned_data["recognition_number"],
                recognition_date=form.cleaned_data["recognition_date"],
            )
        except services.Refused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, _("The initiative has been nominated to “%(round)s”.") % {"round": shown.name})
            return redirect("initiatives:detail", pk=initiative.pk)
    elif data is not None:
        messages.error(request, _("Please correct the errors below. What you typed has been kept."))
    return render(request, "councils/nominate.html", {"round": shown, "initiative": initiative, "form": form})


@public_page("level", "page")
def public_list(request: HttpRequest) -> HttpResponse:
    """The initiatives selected as outstanding by closed rounds, at each level."""
    level = request.GET.get("level", "")
    if level not in LEVELS:
        level = ""
    program = current_program()
    rows = selectors.published(program, level) if program else Nomination.objects.none()
    page = CappedPaginator(rows, PUBLIC_PER_PAGE).get_page(request.GET.get("page"))
    levels = [(value, Union.Level(value).label) for value in LEVELS]
    context = {"page": page, "level": level, "levels": levels, "query": f"level={level}" if level else ""}
    return render(request, "councils/public_list.html", context)


# ---------------------------------------------------------------------------------------------
# Documents: built by the worker when the round closes (councils.tasks), downloaded by whoever sees it.


@login_required
def document(request: AuthenticatedHttpRequest, pk: int, name: str) -> HttpResponse | FileResponse:
    if name not in documents.KINDS:
        raise Http404
    shown = selectors.round_for(request.user, pk)
    if not shown.is_closed:
        raise Http404
    path = documents.path_of(shown, name)
    if path.exists():
        return file_response(
            path.open("rb"), name=documents.download_name(shown, name), content_type=documents.KINDS[name]
        )
    failed = bool(cache.get(documents.FAILED_KEY.format(pk=shown.pk, name=name)))
    if not failed:
        enqueue_document(shown, name)
    context = {"round": shown, "failed": failed, "since": timezone.now()}
    return render(request, "councils/preparing.html", context, status=503 if failed else 202)
