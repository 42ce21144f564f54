"""The steps of an honours decision: prepare a draft from a proposal, exclude an entry (or take the
exclusion back), issue it, correct an issued one with a new draft, discard a draft. Each step checks
the one access policy (unions.permissions.may_decide_honours), runs in one transaction on the
decision's row, and is written to the admin's history of the decision (django.contrib.admin's
LogEntry) with who did it and what.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from honours.models import HonourDecision, HonourEntry
from initiatives.models import Phase, Program
from initiatives.quarters import programme_quarters
from leaderboard import history, honours, programme, snapshots
from leaderboard.models import LeaderboardSnapshot
from notifications.models import Notification
from notifications.services import notify_many
from sangkien.public_pages import forget_public_pages
from sangkien.text import clean_text
from unions.models import Union, User
from unions.permissions import may_decide_honours

PROGRAMME = "programme"


class Refused(Exception):
    """The step may not be taken: the message says why, in the user's language."""


@dataclass(frozen=True)
class PeriodChoice:
    """A period one may decide for: its token in a form or a URL ("2022-3", "phase-4",
    "programme"), its name, and the period leaderboard.honours counts."""

    token: str
    label: str
    kind: str
    period: honours.Period
    ends_on: dt.date  # its last day

    @property
    def quarter_key(self) -> int | None:
        return self.period.quarter.key if self.period.quarter else None

    def ended_by(self, snapshot: LeaderboardSnapshot) -> bool:
        """Whether the period had ended when the snapshot was taken (its last day was over, local
        time): only then can its honours be decided from it. A quarter's or a phase's end snapshot,
        taken at the next midnight, is the first that may."""
        return self.ends_on < timezone.localdate(snapshot.taken_at)


def _phase_label(phase: Phase) -> str:
    return _("%(phase)s (%(start)s – %(end)s)") % {
        "phase": phase.name,
        "start": phase.starts_on.strftime("%d/%m/%Y"),
        "end": phase.ends_on.strftime("%d/%m/%Y"),
    }


def periods(program: Program, snapshot: LeaderboardSnapshot | None = None) -> list[PeriodChoice]:
    """The quarters, the phases and the whole programme, with the programme's dates and phases as
    `snapshot` saw them (as they are now without one)."""
    seen = programme.as_seen(snapshot.programme, program_id=program.pk) if snapshot is not None else None
    dated, phases = (seen.program, seen.phases) if seen else (program, list(program.phases.order_by("number")))
    choices = [
        PeriodChoice(
            f"{quarter.year}-{quarter.number}",
            capfirst(quarter.label()),
            "quarter",
            honours.Period(quarter=quarter),
            min(quarter.last_day, dated.ends_on),
        )
        for quarter in programme_quarters(dated)
    ]
    choices += [
        PeriodChoice(f"phase-{phase.pk}", _phase_label(phase), "phase", honours.Period(phase=phase), phase.ends_on)
        for phase in phases
    ]
    choices.append(PeriodChoice(PROGRAMME, _("The whole programme"), PROGRAMME, honours.Period(), dated.ends_on))
    return choices


def period_of(program: Program, token: str, snapshot: LeaderboardSnapshot | None = None) -> PeriodChoice | None:
    return next((choice for choice in periods(program, snapshot) if choice.token == token), None)


def _log(user: User, decision: HonourDecision, flag: int, message: str) -> None:
    LogEntry.objects.log_actions(user.pk, [decision], flag, change_message=message, single_object=True)


def _require(user: User, scope: Union) -> None:
    if not may_decide_honours(user, scope):
        raise Refused(_("You may not decide honours for these units."))


def _locked(user: User, decision: HonourDecision) -> HonourDecision:
    """The decision's row, locked for the step; refused when it is gone (a draft discarded meanwhile)
    or not the user's to decide."""
    locked = HonourDecision.objects.select_for_update().select_related("scope", "snapshot").filter(pk=decision.pk)
    found = locked.first()
    if found is None:
        raise Refused(_("This draft no longer exists: it was discarded."))
    _require(user, found.scope)
    return found


def _locked_draft(user: User, decision: HonourDecision) -> HonourDecision:
    """The decision's row, locked for the step; refused when it is issued, gone or not the user's to decide."""
    locked = _locked(user, decision)
    if locked.is_issued:
        raise Refused(_("This decision has been issued: it can no longer be changed. Prepare a correction instead."))
    return locked


def cluster_names(snapshot: LeaderboardSnapshot) -> dict[int, str]:
    seen = programme.as_seen(snapshot.programme, program_id=snapshot.program_id)
    if seen is not None:
        return {cluster.pk: cluster.name for cluster in seen.clusters}
    from unions.models import EmulationCluster

    return dict(EmulationCluster.objects.values_list("pk", "name"))


def decision_prepare(
    *, user: User, snapshot: LeaderboardSnapshot, choice: PeriodChoice, scope: Union
) -> HonourDecision:
    """A draft decision holding the proposal computed from `snapshot` for the period and the scope
    (the root for the whole tree), with the rule it used. Refused (Refused) when the account may not decide
    for the scope or the snapshot cannot answer for the period or the scope."""
    _require(user, scope)
    if not choice.ended_by(snapshot):
        raise Refused(
            _("%(period)s had not ended when this snapshot was taken: its honours are decided from a later one.")
            % {"period": choice.label}
        )
    decided = standing_decision(program_id=snapshot.program_id, scope=scope, token=choice.token)
    if decided is not None:
        raise _decided_already(decided)
    try:
        proposal = honours.propose(snapshot, period=choice.period, scope_id=scope.pk)
    except (honours.NoSuchPeriod, history.NoMirror) as error:
        raise Refused(_("This snapshot cannot give the figures of this period for these units.")) from error
    names = cluster_names(snapshot)
    with transaction.atomic():
        decision = HonourDecision(
            program_id=snapshot.program_id,
            snapshot=snapshot,
            taken_at=snapshot.taken_at,
            period_kind=choice.kind,
            quarter_key=choice.quarter_key,
            phase_id=choice.period.phase.pk if choice.period.phase else None,
            period_label=choice.label,
            period_token=choice.token,
            scope=scope,
            scope_name=proposal.scope_name or scope.name,
            count=proposal.count,
            margin=proposal.margin,
            created_by=user,
        )
        decision.full_clean(validate_constraints=False)  # the constraints are the database's to enforce
        decision.save()
        entries = [
            HonourEntry(
                decision=decision,
                position=position,
                level=group.level,
                cluster_id=group.cluster_id,
                cluster_name=names.get(group.cluster_id, "") if group.cluster_id is not None else "",
                unit_id=candidate.unit.unit_id,
                unit_code=candidate.unit.code,
                unit_name=candidate.unit.name,
                count=candidate.count,
                target=candidate.target,
                meets=candidate.meets,
            )
            for position, (group, candidate) in enumerate(
                ((group, candidate) for group in proposal.groups for candidate in group.leaders), start=1
            )
        ]
        HonourEntry.objects.bulk_create(entries, batch_size=2000)
        if not snapshot.pinned_reason:  # a draft cites it too: pruning must pass it by
            snapshots.pin(snapshot, draft_reason())
        _log(
            user,
            decision,
            ADDITION,
            _("Draft prepared from the snapshot of %(as_of)s: %(entries)s leading units, %(meeting)s meeting the rule.")
            % {
                "as_of": timezone.localtime(snapshot.taken_at).strftime("%d/%m/%Y %H:%M"),
                "entries": len(entries),
                "meeting": sum(entry.meets for entry in entries),
            },
        )
    return decision


def draft_reason() -> str:
    """Why a snapshot only drafts cite is kept: discarding the last of them lets it go."""
    return _("Cited by a draft honours decision")


def _decided_already(decided: HonourDecision) -> Refused:
    return Refused(
        _("Decision %(number)s already decides %(period)s for these units: prepare a correction of it instead.")
        % {"number": decided.number, "period": decided.period_label}
    )


def standing_decision(*, program_id: int, scope: Union, token: str) -> HonourDecision | None:
    """The issued decision for the period and units that no correction replaced (the latest of its
    chain), if any."""
    issued = HonourDecision.objects.filter(
        program_id=program_id, scope=scope, period_token=token, status=HonourDecision.Status.ISSUED
    )
    return issued.exclude(corrections__status=HonourDecision.Status.ISSUED).order_by("-issued_at").first()


def decision_exclude(*, user: User, decision: HonourDecision, entry_id: int, reason: str) -> HonourEntry:
    """Leave an entry of a draft out of the decision, with the reason (required)."""
    reason = clean_text(reason).strip()
    if not reason:
        raise Refused(_("Give the reason for leaving this unit out."))
    with transaction.atomic():
        locked = _locked_draft(user, decision)
        entry = _entry(locked, entry_id)
        HonourEntry.objects.filter(pk=entry.pk).update(excluded=True, reason=reason[:300])
        _log(
            user,
            locked,
            CHANGE,
            _("Left out %(unit)s (%(group)s): %(reason)s")
            % {"unit": entry.unit_name, "group": entry.group_name, "reason": reason},
        )
    entry.excluded, entry.reason = True, reason[:300]
    return entry


def decision_include(*, user: User, decision: HonourDecision, entry_id: int) -> HonourEntry:
    """Take back the exclusion of an entry of a draft."""
    with transaction.atomic():
        locked = _locked_draft(user, decision)
        entry = _entry(locked, entry_id)
        HonourEntry.objects.filter(pk=entry.pk).update(excluded=False, reason="")
        _log(
            user,
            locked,
            CHANGE,
            _("Put %(unit)s (%(group)s) back") % {"unit": entry.unit_name, "group": entry.group_name},
        )
    entry.excluded, entry.reason = False, ""
    return entry


def _entry(decision: HonourDecision, entry_id: int) -> HonourEntry:
    entry = HonourEntry.objects.filter(decision=decision, pk=entry_id).first()
    if entry is None:
        raise Refused(_("This unit is not in the decision."))
    return entry


def issuer_of(user: User, scope: Union) -> Union:
    """The body that issues a decision: the decider's own unit; for the national leadership and
    board (no unit), the root of the tree the units belong to."""
    if user.unit_id is not None and user.unit is not None:
        return user.unit
    root_code = scope.path.split("/", 1)[0]
    return Union.objects.filter(code=root_code).first() or scope


def decision_issue(
    *,
    user: User,
    decision: HonourDecision,
    number: str,
    signed_on: dt.date,
    signer: str,
    note: str = "",
    place: str = "",
) -> HonourDecision:
    """Issue a draft: give it its number, place, date and signer, and freeze it. Its snapshot is kept
    for good as its evidence; the officers of each unit it honours are told (through the outbox; for
    a correction, those of the units the corrected decision did not honour). Issuing again with the
    same number (a second click) changes nothing."""
    number, signer, place = (clean_text(value).strip() for value in (number, signer, place))
    note = clean_text(note, multiline=True).strip()
    if not number or not signer:
        raise Refused(_("A decision needs its number, its date and its signer."))
    with transaction.atomic():
        locked = _locked(user, decision)
        if locked.is_issued and locked.number == number[:50]:
            return locked  # sent twice: the first one issued it
        locked = _locked_draft(user, decision)
        first, today = timezone.localdate(locked.taken_at), timezone.localdate()
        if not first <= signed_on <= today:
            raise Refused(
                _("The decision's date must lie between the day of its figures (%(first)s) and today (%(today)s).")
                % {"first": first.strftime("%d/%m/%Y"), "today": today.strftime("%d/%m/%Y")}
            )
        if locked.corrects_id is not None:
            corrected = HonourDecision.objects.select_for_update().get(pk=locked.corrects_id)
            if corrected.corrections.filter(status=HonourDecision.Status.ISSUED).exists():
                raise Refused(_("That decision has already been corrected: correct the correction instead."))
        else:
            decided = standing_decision(program_id=locked.program_id, scope=locked.scope, token=locked.period_token)
            if decided is not None:
                raise _decided_already(decided)
        issuer = issuer_of(user, locked.scope)
        taken = HonourDecision.objects.filter(
            issuer=issuer, signed_year=signed_on.year, number=number[:50], status=HonourDecision.Status.ISSUED
        )
        if taken.exists():
            raise Refused(
                _("%(body)s has already issued a decision numbered %(number)s in %(year)s.")
                % {"body": issuer.name, "number": number, "year": signed_on.year}
            )
        locked.status = HonourDecision.Status.ISSUED
        locked.number, locked.signer, locked.note = number[:50], signer[:200], note
        locked.place, locked.signed_on, locked.signed_year = place[:100], signed_on, signed_on.year
        locked.issuer, locked.issuer_name = issuer, issuer.name
        locked.issued_by, locked.issued_at = user, timezone.now()
        try:
            locked.full_clean(validate_constraints=False)
        except ValidationError as error:  # a field too long for its column, as the form would say
            raise Refused(" ".join(error.messages)) from error
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError as error:  # the same number, or the same period, issued at this moment by another account
            raise Refused(
                _("Another decision was issued at the same moment with this number or for this period.")
            ) from error
        if locked.snapshot.pinned_reason in ("", draft_reason()):
            snapshots.pin(locked.snapshot, _("Honours decision %(number)s") % {"number": locked.number})
        _tell_the_honoured(locked)
        transaction.on_commit(forget_public_pages)  # the home page and the honour roll show it at once
        _log(
            user,
            locked,
            CHANGE,
            _("Issued as decision %(number)s of %(date)s, signed by %(signer)s.")
            % {"number": locked.number, "date": signed_on.strftime("%d/%m/%Y"), "signer": locked.signer},
        )
    return locked


def _tell_the_honoured(decision: HonourDecision) -> None:
    """An e-mail owed to each unit honoured (once, whatever the groups it leads); for a correction,
    only to those the corrected decision did not honour."""
    already: set[int] = set()
    if decision.corrects_id is not None:
        already = set(
            HonourEntry.objects.filter(decision_id=decision.corrects_id, meets=True, excluded=False)
            .exclude(unit=None)
            .values_list("unit_id", flat=True)
        )
    owed: dict[int, int] = {}  # unit → its first entry
    honoured = decision.entries.filter(meets=True, excluded=False).exclude(unit=None).order_by("position")
    for entry_id, unit_id in honoured.values_list("pk", "unit_id"):
        if unit_id not in already:
            owed.setdefault(unit_id, entry_id)
    notify_many(kind=Notification.Kind.HONOUR, owed=[(entry_id, unit_id) for unit_id, entry_id in owed.items()])


def decision_correct(*, user: User, decision: HonourDecision) -> HonourDecision:
    """A new draft correcting an issued decision: the same snapshot, period, scope, rule and figures,
    with its exclusions, to be changed and issued in its turn."""
    with transaction.atomic():
        original = HonourDecision.objects.select_for_update().select_related("scope").get(pk=decision.pk)
        _require(user, original.scope)
        if not original.is_issued:
            raise Refused(_("Only an issued decision can be corrected; a draft can still be changed."))
        if original.corrections.filter(status=HonourDecision.Status.ISSUED).exists():
            raise Refused(_("That decision has already been corrected: correct the correction instead."))
        draft = HonourDecision.objects.create(
            **{
                field: getattr(original, field)
                for field in (
                    "program_id",
                    "snapshot_id",
                    "taken_at",
                    "period_kind",
                    "quarter_key",
                    "phase_id",
                    "period_label",
                    "period_token",
                    "scope_id",
                    "scope_name",
                    "count",
                    "margin",
                )
            },
            corrects=original,
            created_by=user,
        )
        HonourEntry.objects.bulk_create(
            [
                HonourEntry(
                    decision=draft,
                    **{
                        field: getattr(entry, field)
                        for field in (
                            "position",
                            "level",
                            "cluster_id",
                            "cluster_name",
                            "unit_id",
                            "unit_code",
                            "unit_name",
                            "count",
                            "target",
                            "meets",
                            "excluded",
                            "reason",
                        )
                    },
                )
                for entry in original.entries.all()
            ],
            batch_size=2000,
        )
        _log(user, draft, ADDITION, _("Draft correction of decision %(number)s.") % {"number": original.number})
        _log(user, original, CHANGE, _("A correction was prepared (draft #%(id)s).") % {"id": draft.pk})
    return draft


def decision_discard(*, user: User, decision: HonourDecision) -> None:
    """Delete a draft (an issued decision is never deleted). The history keeps that it was."""
    with transaction.atomic():
        locked = _locked_draft(user, decision)
        _log(user, locked, DELETION, _("Draft discarded."))
        locked.entries.all().delete()
        locked.delete()
        snapshot = locked.snapshot
        cited = HonourDecision.objects.filter(snapshot=snapshot).exists()
        if snapshot.pinned_reason == draft_reason() and not cited:
            snapshots.pin(snapshot, "")  # no decision cites it any more: pruning may take it
