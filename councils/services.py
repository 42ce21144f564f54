"""The steps of a selection round (issue 20): set it up with its rubric and council, take
nominations (and forwarded ones), start the scoring, score, declare conflicts, assign third
scorers, mark absentees, close. Each step checks the one access policy (unions.permissions), runs
in one transaction on the round's row (locked, so two steps never interleave), and is written to
the admin's history of the round (django.contrib.admin's LogEntry) with who did it and what, the
points of every sheet included.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from councils.models import (
    Band,
    Conflict,
    Criterion,
    ExtraScorer,
    Member,
    Nomination,
    Score,
    ScoreSheet,
    SelectionRound,
)
from councils.tasks import enqueue_documents
from initiatives.models import Author, Initiative, Program
from notifications.models import Notification
from notifications.services import notify_many
from sangkien.public_pages import forget_public_pages
from sangkien.text import clean_text, fold_key
from unions.models import Union, User
from unions.permissions import (
    can_act_in,
    may_chair,
    may_manage_round,
    may_nominate_to,
    may_run_rounds,
    may_sit_on_council,
    may_write_on_site,
)


class Refused(Exception):
    """The step may not be taken: the message says why, in the user's language."""


class TieAtQuota(Refused):
    """Closing needs the chair to choose `places` of the `tied` nominations, level on the mean and on
    every criterion at the quota."""

    def __init__(self, tied: list[Nomination], places: int) -> None:
        self.tied, self.places = tied, places
        super().__init__(
            _(
                "%(count)s nominations are level at the quota, on the mean and on every criterion, for "
                "%(places)s remaining places: the chair chooses which."
            )
            % {"count": len(tied), "places": places}
        )


@dataclass(frozen=True)
class BandSpec:
    low: int
    high: int
    label: str


@dataclass(frozen=True)
class CriterionSpec:
    name: str
    max_points: int
    bands: tuple[BandSpec, ...] = field(default=())


def default_rubric() -> list[CriterionSpec]:
    """The rubric provincial councils use: novelty /30, effect /40, replicability /30, in bands."""
    return [
        CriterionSpec(
            _("Novelty and creativity"),
            30,
            (
                BandSpec(21, 30, _("Entirely new in the unit, sector or province")),
                BandSpec(11, 20, _("A substantial improvement on what was applied")),
                BandSpec(0, 10, _("A small improvement")),
            ),
        ),
        CriterionSpec(
            _("Effect and benefit"),
            40,
            (
                BandSpec(31, 40, _("Large benefit, measured and certified")),
                BandSpec(16, 30, _("Clear benefit within the unit")),
                BandSpec(0, 15, _("Limited benefit")),
            ),
        ),
        CriterionSpec(
            _("Replicability"),
            30,
            (
                BandSpec(21, 30, _("Can be applied across the sector or the country")),
                BandSpec(11, 20, _("Can be applied in similar units")),
                BandSpec(0, 10, _("Applies to the unit only")),
            ),
        ),
    ]


# ---------------------------------------------------------------------------------------------
# Helpers


def _log(user: User, selection_round: SelectionRound, flag: int, message: str) -> None:
    LogEntry.objects.log_actions(user.pk, [selection_round], flag, change_message=message, single_object=True)


def _locked(selection_round: SelectionRound | int) -> SelectionRound:
    pk = selection_round if isinstance(selection_round, int) else selection_round.pk
    found = SelectionRound.objects.select_for_update().select_related("unit", "program").filter(pk=pk).first()
    if found is None:
        raise Refused(_("This round no longer exists."))
    return found


def _not_closed(selection_round: SelectionRound) -> None:
    if selection_round.is_closed:
        raise Refused(_("This round is closed: nothing of it can change any more."))


def _clean(text: str, limit: int, *, multiline: bool = False) -> str:
    return clean_text(text, multiline=multiline).strip()[:limit]


def _full_name(account: User) -> str:
    return account.get_full_name().strip() or account.get_username()


def _check_rubric(criteria: Sequence[CriterionSpec]) -> None:
    if not criteria:
        raise Refused(_("A round needs at least one criterion."))
    for spec in criteria:
        if not spec.name.strip():
            raise Refused(_("Every criterion needs a name."))
        if not 1 <= spec.max_points <= 1000:
            raise Refused(_("A criterion is worth between 1 and 1000 points: %(name)s.") % {"name": spec.name})
        ordered = sorted(spec.bands, key=lambda band: band.low)
        for band in ordered:
            if not 0 <= band.low <= band.high <= spec.max_points:
                raise Refused(
                    _("A band of %(name)s must lie between 0 and %(max)s points.")
                    % {"name": spec.name, "max": spec.max_points}
                )
            if not band.label.strip():
                raise Refused(_("Every band of %(name)s needs a description.") % {"name": spec.name})
        for lower, upper in itertools.pairwise(ordered):
            if upper.low <= lower.high:
                raise Refused(_("The bands of %(name)s overlap.") % {"name": spec.name})


def _write_rubric(selection_round: SelectionRound, criteria: Sequence[CriterionSpec]) -> None:
    Criterion.objects.filter(round=selection_round).delete()
    for position, spec in enumerate(criteria, start=1):
        criterion = Criterion.objects.create(
            round=selection_round, position=position, name=_clean(spec.name, 200), max_points=spec.max_points
        )
        Band.objects.bulk_create(
            [Band(criterion=criterion, low=b.low, high=b.high, label=_clean(b.label, 300)) for b in spec.bands]
        )


def _normalised(criteria: Sequence[CriterionSpec]) -> list[CriterionSpec]:
    return [
        CriterionSpec(
            _clean(c.name, 200),
            c.max_points,
            tuple(BandSpec(b.low, b.high, _clean(b.label, 300)) for b in sorted(c.bands, key=lambda b: -b.high)),
        )
        for c in criteria
    ]


def rubric_specs(selection_round: SelectionRound) -> list[CriterionSpec]:
    """The round's rubric as written (bands highest first)."""
    return [
        CriterionSpec(c.name, c.max_points, tuple(BandSpec(b.low, b.high, b.label) for b in c.bands.all()))
        for c in selection_round.criteria.prefetch_related("bands")
    ]


def rubric_text(selection_round: SelectionRound) -> str:
    criteria = selection_round.criteria.prefetch_related("bands")
    return "; ".join(f"{c.name} /{c.max_points}" for c in criteria)


# ---------------------------------------------------------------------------------------------
# Setting up


def round_create(
    *,
    user: User,
    program: Program,
    unit: Union,
    name: str,
    quota: int,
    deadline: dt.date,
    spread_threshold: int,
    pass_mark: int | None = None,
    criteria: Sequence[CriterionSpec] | None = None,
) -> SelectionRound:
    """A round of `unit`, open for nominations until `deadline`, with its rubric (the default one
    when none is given). Its council is appointed next (`member_appoint`)."""
    if not may_run_rounds(user, unit):
        raise Refused(_("You may not set up rounds for this unit."))
    criteria = list(criteria) if criteria is not None else default_rubric()
    _check_rubric(criteria)
    if deadline < timezone.localdate():
        raise Refused(_("The deadline for nominations has already passed."))
    with transaction.atomic():
        selection_round = SelectionRound(
            program=program,
            unit=unit,
            unit_name=unit.name,
            level=unit.level,
            name=_clean(name, 300),
            quota=quota,
            deadline=deadline,
            spread_threshold=spread_threshold,
            pass_mark=pass_mark,
            created_by=user,
        )
        _validate(selection_round)
        selection_round.save()
        _write_rubric(selection_round, criteria)
        _log(
            user,
            selection_round,
            ADDITION,
            _("Round set up: quota %(quota)s, nominations until %(deadline)s, rubric %(rubric)s.")
            % {
                "quota": quota,
                "deadline": deadline.strftime("%d/%m/%Y"),
                "rubric": rubric_text(selection_round),
            },
        )
    return selection_round


def _validate(instance: SelectionRound | Nomination) -> None:
    try:
        instance.full_clean(validate_constraints=False)
    except ValidationError as error:
        raise Refused(" ".join(error.messages)) from error


def round_update(
    *,
    user: User,
    selection_round: SelectionRound,
    name: str,
    quota: int,
    deadline: dt.date,
    spread_threshold: int,
    pass_mark: int | None,
    criteria: Sequence[CriterionSpec],
) -> SelectionRound:
    """Change a round's settings; its rubric only while it is open (no sheet exists yet)."""
    with transaction.atomic():
        locked = _locked(selection_round)
        if not may_manage_round(user, locked):
            raise Refused(_("You may not change this round."))
        _not_closed(locked)
        _check_rubric(criteria)
        rubric_changed = rubric_specs(locked) != _normalised(criteria)
        if not locked.is_open and (
            rubric_changed
            or (quota, spread_threshold, pass_mark) != (locked.quota, locked.spread_threshold, locked.pass_mark)
        ):
            # The secretary sees scores once its own are in: the rules they are judged by stay put.
            raise Refused(
                _("Once the scoring has started, the rubric, the quota, the spread and the pass mark no longer change.")
            )
        locked.name, locked.quota, locked.deadline = _clean(name, 300), quota, deadline
        locked.spread_threshold, locked.pass_mark = spread_threshold, pass_mark
        _validate(locked)
        locked.save()
        if rubric_changed:
            _write_rubric(locked, criteria)
        _log(
            user,
            locked,
            CHANGE,
            _(
                "Settings changed: quota %(quota)s, nominations until %(deadline)s, spread %(spread)s, "
                "pass mark %(pass)s, rubric %(rubric)s."
            )
            % {
                "quota": quota,
                "deadline": deadline.strftime("%d/%m/%Y"),
                "spread": spread_threshold,
                "pass": pass_mark if pass_mark is not None else "–",
                "rubric": rubric_text(locked),
            },
        )
    return locked


def member_appoint(*, user: User, selection_round: SelectionRound, account: User, role: str) -> Member:
    """Put an account on the council. Chair, secretary and members are appointed while the round is
    open; reserve scorers (third scorers) also while it is scored."""
    if role not in Member.Role.values:
        raise Refused(_("Choose the member's role."))
    with transaction.atomic():
        locked = _locked(selection_round)
        if not may_manage_round(user, locked):
            raise Refused(_("You may not change this round's council."))
        _not_closed(locked)
        if not locked.is_open and role != Member.Role.RESERVE:
            raise Refused(_("Once the scoring has started, only reserve scorers can be added."))
        if not may_sit_on_council(account, locked.unit):
            raise Refused(
                _(
                    "%(name)s may not sit on this council: only accounts of %(unit)s and of the units under it, "
                    "or of the board over it."
                )
                % {"name": _full_name(account), "unit": locked.unit_name}
            )
        if locked.members.filter(user=account).exists():
            raise Refused(_("%(name)s is already on the council.") % {"name": _full_name(account)})
        if role in (Member.Role.CHAIR, Member.Role.SECRETARY) and locked.members.filter(role=role).exists():
            raise Refused(_("The council already has a %(role)s.") % {"role": Member.Role(role).label.lower()})
        member = Member.objects.create(
            round=locked,
            user=account,
            role=role,
            full_name=_full_name(account)[:300],
            unit_name=account.unit.name if account.unit_id and account.unit else "",
        )
        found = _find_conflicts(
            members=[member], nominations=list(locked.nominations.select_related("initiative__unit"))
        )
        _log(
            user,
            locked,
            CHANGE,
            _("%(name)s appointed %(role)s.") % {"name": member.full_name, "role": member.get_role_display().lower()}
            + "".join(" " + _conflict_line(conflict) for conflict in found),
        )
    return member


def member_remove(*, user: User, selection_round: SelectionRound, member_id: int) -> None:
    """Take an account off the council while the round is open."""
    with transaction.atomic():
        locked = _locked(selection_round)
        if not may_manage_round(user, locked):
            raise Refused(_("You may not change this round's council."))
        _not_closed(locked)
        member = locked.members.filter(pk=member_id).first()
        if member is None:
            raise Refused(_("This account is not on the council."))
        if member.sheets.exists() or not locked.is_open:
            raise Refused(_("Once the scoring has started, members are not removed: the chair marks them absent."))
        member.delete()
        _log(user, locked, CHANGE, _("%(name)s taken off the council.") % {"name": member.full_name})


# ---------------------------------------------------------------------------------------------
# Conflicts of interest


def conflict_reason(member: Member, nomination: Nomination, authors: list[tuple[str, str]] | None = None) -> str | None:
    """Why the portal itself keeps `member` from scoring `nomination`, or None: the member is one of
    its authors; or the member comes from a unit under the round's unit that is (or holds) the
    initiative's unit, or is an author's workplace. A member of the round's own unit, or of the
    board over it, judges everything under it: a grassroots council is made of the unit's people."""
    initiative = nomination.initiative
    if authors is None:
        authors = list(initiative.authors.values_list("full_name", "workplace"))
    name = fold_key(member.full_name)
    if name and any(fold_key(author) == name for author, _workplace in authors):
        return _("is one of its authors")
    home = member.user.unit if member.user.unit_id else None
    round_unit = nomination.round.unit
    if home is None or home.pk == round_unit.pk or not home.is_in_subtree_of(round_unit):
        return None
    if initiative.unit.is_in_subtree_of(home):
        return _("belongs to the initiative's unit")
    unit_names = {fold_key(home.name), fold_key(home.short_name)} - {""}
    if any(fold_key(workplace) in unit_names for _author, workplace in authors):
        return _("belongs to an author's unit")
    return None


def _find_conflicts(*, members: Iterable[Member], nominations: Iterable[Nomination]) -> list[Conflict]:
    """The conflicts the portal finds between these members and nominations, written (declared by
    the portal itself); in a few queries whatever their number."""
    members, nominations = list(members), list(nominations)
    if not members or not nominations:
        return []
    known = set(
        Conflict.objects.filter(nomination__in=nominations, member__in=members).values_list(
            "nomination_id", "member_id"
        )
    )
    authors: dict[int, list[tuple[str, str]]] = {n.initiative_id: [] for n in nominations}
    rows = Author.objects.filter(initiative_id__in=list(authors)).values_list("initiative_id", "full_name", "workplace")
    for initiative_id, full_name, workplace in rows:
        authors[initiative_id].append((full_name, workplace))
    found = []
    for member in members:
        for nomination in nominations:
            reason = conflict_reason(member, nomination, authors[nomination.initiative_id])
            if reason and (nomination.pk, member.pk) not in known:
                found.append(Conflict(nomination=nomination, member=member, reason=reason[:300]))
    return Conflict.objects.bulk_create(found)


def _conflict_line(conflict: Conflict) -> str:
    return _("Conflict of interest: %(member)s on “%(title)s” (%(reason)s).") % {
        "member": conflict.member.full_name,
        "title": conflict.nomination.initiative.title,
        "reason": conflict.reason,
    }


def conflict_declare(*, user: User, nomination: Nomination, member_id: int, reason: str) -> Conflict:
    """A member declares a conflict of interest on a nomination (or the chair declares it for
    another member). The member's sheet for it, if any, is no longer counted."""
    reason = _clean(reason, 300)
    if not reason:
        raise Refused(_("Give the reason for the conflict of interest."))
    with transaction.atomic():
        locked = _locked(nomination.round_id)
        _not_closed(locked)
        member = locked.members.select_related("user").filter(pk=member_id).first()
        if member is None:
            raise Refused(_("This account is not on the council."))
        if member.user_id != user.pk and not may_chair(user, locked):
            raise Refused(_("Only the member concerned or the chair declares a conflict of interest."))
        nomination = locked.nominations.select_related("initiative").get(pk=nomination.pk)
        if Conflict.objects.filter(nomination=nomination, member=member).exists():
            raise Refused(_("This conflict of interest is already declared."))
        if nomination.sheets.filter(member=member, status=ScoreSheet.Status.SUBMITTED).exists():
            # Declared after seeing the others' scores, it would take a submitted sheet out of the
            # mean (and out of the spread that calls for a third scorer): too late.
            raise Refused(
                _("%(name)s has already submitted scores for this nomination: a conflict is declared before scoring.")
                % {"name": member.full_name}
            )
        ScoreSheet.objects.filter(nomination=nomination, member=member, status=ScoreSheet.Status.DRAFT).delete()
        conflict = Conflict.objects.create(nomination=nomination, member=member, reason=reason, declared_by=user)
        _log(user, locked, CHANGE, _conflict_line(conflict))
    return conflict


def conflict_lift(*, user: User, nomination: Nomination, member_id: int, reason: str) -> None:
    """The chair lifts a conflict the portal found (two people of the same name, an author's
    workplace written like the member's unit), with the reason; one a member declared stays."""
    reason = _clean(reason, 300)
    if not reason:
        raise Refused(_("Give the reason for lifting the conflict of interest."))
    with transaction.atomic():
        locked = _locked(nomination.round_id)
        if not may_chair(user, locked):
            raise Refused(_("Only the chair lifts a conflict of interest."))
        _not_closed(locked)
        conflict = (
            Conflict.objects.select_related("member", "nomination__initiative")
            .filter(nomination_id=nomination.pk, member_id=member_id, nomination__round=locked)
            .first()
        )
        if conflict is None:
            raise Refused(_("There is no such conflict of interest."))
        if conflict.declared_by_id is not None:
            raise Refused(_("A conflict a member declared is not lifted."))
        conflict.delete()
        _log(
            user,
            locked,
            CHANGE,
            _("Conflict of interest lifted: %(member)s on “%(title)s” (%(found)s): %(reason)s")
            % {
                "member": conflict.member.full_name,
                "title": conflict.nomination.initiative.title,
                "found": conflict.reason,
                "reason": reason,
            },
        )


# ---------------------------------------------------------------------------------------------
# Nominations


def nomination_create(
    *,
    user: User,
    selection_round: SelectionRound,
    initiative: Initiative,
    justification: str,
    recognition_number: str,
    recognition_date: dt.date | None,
    forwarded_from: Nomination | None = None,
) -> Nomination:
    """Nominate a valid initiative of the user's subtree to a round of its unit or of the unit
    directly above (or forward one selected in a round of the level below: `forwarded_from`)."""
    justification = _clean(justification, 2000, multiline=True)
    recognition_number = _clean(recognition_number, 100)
    if not justification:
        raise Refused(_("Say in a few lines why this initiative is nominated."))
    if not recognition_number or recognition_date is None:
        raise Refused(_("Give the number and date of the decision that recognised the initiative."))
    with transaction.atomic():
        locked = _locked(selection_round)
        if forwarded_from is None:
            if not may_nominate_to(user, locked.unit) or not can_act_in(user, initiative.unit):
                raise Refused(_("You may not nominate this initiative to this round."))
            from_unit = user.unit
        else:
            from_unit = forwarded_from.round.unit
        assert from_unit is not None
        if not locked.takes_nominations:
            raise Refused(_("This round no longer takes nominations."))
        initiative = Initiative.objects.select_related("unit").get(pk=initiative.pk)
        if initiative.status != Initiative.Status.VALID:
            raise Refused(_("Only initiatives the board has found valid can be nominated."))
        if initiative.program_id != locked.program_id:
            raise Refused(_("This initiative belongs to another programme."))
        if not initiative.unit.is_in_subtree_of(locked.unit):
            raise Refused(_("This initiative is not from a unit under the round's unit."))
        if recognition_date > timezone.localdate():
            raise Refused(_("The recognition decision's date cannot be in the future."))
        if locked.nominations.filter(initiative=initiative).exists():
            raise Refused(_("This initiative is already nominated to this round."))
        nomination = Nomination(
            round=locked,
            initiative=initiative,
            from_unit=from_unit,
            from_unit_name=from_unit.name,
            nominated_by=user,
            justification=justification,
            recognition_number=recognition_number,
            recognition_date=recognition_date,
            forwarded_from=forwarded_from,
        )
        _validate(nomination)
        try:
            with transaction.atomic():
                nomination.save()
        except IntegrityError as error:  # the same initiative nominated at this moment by another account
            raise Refused(_("This initiative is already nominated to this round.")) from error
        found = _find_conflicts(members=locked.members.select_related("user__unit"), nominations=[nomination])
        message = _("“%(title)s” nominated by %(unit)s.") % {"title": initiative.title, "unit": from_unit.name}
        if forwarded_from is not None:
            message = _("“%(title)s” forwarded from the round “%(round)s” (rank %(rank)s).") % {
                "title": initiative.title,
                "round": forwarded_from.round.name,
                "rank": forwarded_from.rank,
            }
        _log(user, locked, ADDITION, " ".join([message, *(_conflict_line(c) for c in found)]))
    return nomination


def nomination_withdraw(*, user: User, nomination: Nomination) -> None:
    """The nominating unit takes its nomination back while the round takes nominations."""
    with transaction.atomic():
        locked = _locked(nomination.round_id)
        found = locked.nominations.select_related("initiative", "from_unit").filter(pk=nomination.pk).first()
        if found is None:
            raise Refused(_("This nomination no longer exists."))
        if not locked.is_open:
            raise Refused(_("Once the scoring has started, a nomination stays."))
        if not may_write_on_site(user) or user.unit_id != found.from_unit_id:
            raise Refused(_("Only the unit that nominated it takes a nomination back."))
        found.delete()
        _log(user, locked, DELETION, _("“%(title)s” withdrawn.") % {"title": found.initiative.title})


def forward_targets(nomination: Nomination) -> list[SelectionRound]:
    """The rounds of the level above a selected nomination may be forwarded to: those of the parent
    of its round's unit, in the same programme, still taking nominations, without it yet."""
    parent_id = nomination.round.unit.parent_id
    if parent_id is None or nomination.result != Nomination.Result.SELECTED:
        return []
    rounds = SelectionRound.objects.filter(
        unit_id=parent_id,
        program_id=nomination.round.program_id,
        status=SelectionRound.Status.OPEN,
        deadline__gte=timezone.localdate(),
    ).exclude(nominations__initiative_id=nomination.initiative_id)
    return list(rounds.order_by("deadline", "pk"))


def forward_targets_of(selection_round: SelectionRound) -> dict[int, list[SelectionRound]]:
    """`forward_targets` of each selected nomination of a closed round, in two queries."""
    if not selection_round.is_closed or selection_round.unit.parent_id is None:
        return {}
    rounds = list(
        SelectionRound.objects.filter(
            unit_id=selection_round.unit.parent_id,
            program_id=selection_round.program_id,
            status=SelectionRound.Status.OPEN,
            deadline__gte=timezone.localdate(),
        ).order_by("deadline", "pk")
    )
    taken = set(Nomination.objects.filter(round__in=rounds).values_list("round_id", "initiative_id"))
    selected = selection_round.nominations.filter(result=Nomination.Result.SELECTED).only("pk", "initiative_id")
    return {n.pk: [r for r in rounds if (r.pk, n.initiative_id) not in taken] for n in selected}


def nomination_forward(
    *, user: User, nomination: Nomination, to_round: SelectionRound, justification: str = ""
) -> Nomination:
    """Forward a nomination the round selected to a round of the level above, keeping its history
    (the new nomination names it). Those who manage the closed round forward it."""
    nomination = Nomination.objects.select_related("round__unit", "initiative").get(pk=nomination.pk)
    if not may_manage_round(user, nomination.round):
        raise Refused(_("You may not forward this round's nominations."))
    if not nomination.round.is_closed or nomination.result != Nomination.Result.SELECTED:
        raise Refused(_("Only a nomination the round selected, once it is closed, is forwarded."))
    if Nomination.objects.filter(forwarded_from=nomination).exists():
        raise Refused(_("This nomination has already been forwarded."))
    if to_round.pk not in {r.pk for r in forward_targets(nomination)}:
        raise Refused(_("It can be forwarded only to a round of the unit directly above that still takes nominations."))
    text = justification or nomination.justification
    return nomination_create(
        user=user,
        selection_round=to_round,
        initiative=nomination.initiative,
        justification=text,
        recognition_number=nomination.recognition_number,
        recognition_date=nomination.recognition_date,
        forwarded_from=nomination,
    )


# ---------------------------------------------------------------------------------------------
# Scoring


def scorers_of(selection_round: SelectionRound) -> list[Member]:
    return [m for m in selection_round.members.all() if m.scores_every_nomination]


def round_start_scoring(*, user: User, selection_round: SelectionRound) -> SelectionRound:
    """Close the nominations and open the scoring: the council needs a chair, a secretary and at
    least two scorers, and the round at least one nomination."""
    with transaction.atomic():
        locked = _locked(selection_round)
        if not may_manage_round(user, locked):
            raise Refused(_("You may not change this round."))
        if locked.is_scoring:
            return locked  # a second click
        _not_closed(locked)
        roles = set(locked.members.values_list("role", flat=True))
        if Member.Role.CHAIR not in roles or Member.Role.SECRETARY not in roles:
            raise Refused(_("Appoint the council's chair and secretary first."))
        if locked.members.exclude(role=Member.Role.RESERVE).count() < 2:
            raise Refused(_("A council needs at least two scorers."))
        count = locked.nominations.count()
        if count == 0:
            raise Refused(_("There is nothing to score: the round has no nomination."))
        locked.status, locked.scoring_started_at = SelectionRound.Status.SCORING, timezone.now()
        locked.save()
        _log(user, locked, CHANGE, _("Nominations closed (%(count)s); scoring started.") % {"count": count})
    return locked


def _member_of(selection_round: SelectionRound, user: User) -> Member:
    member = selection_round.members.filter(user=user).first()
    if member is None:
        raise Refused(_("You are not on this round's council."))
    return member


def must_score(member: Member, nomination: Nomination) -> bool:
    """Whether `member` scores `nomination`: a regular member does unless in conflict or absent; a
    reserve scorer only when the chair assigned it."""
    if member.absent or nomination.conflicts.filter(member=member).exists():
        return False
    return member.scores_every_nomination or nomination.extra_scorers.filter(member=member).exists()


def sheet_save(
    *,
    user: User,
    nomination: Nomination,
    points: dict[int, int | None],
    comments: dict[int, str] | None = None,
    comment: str = "",
    submit: bool = False,
) -> ScoreSheet:
    """Save the user's sheet for a nomination (points per criterion id, within its bounds and bands;
    a comment per criterion and one for the sheet), as a draft or submitted. A submitted sheet is
    final; submitting the same points again (a second click) changes nothing."""
    comments = comments or {}
    with transaction.atomic():
        locked = _locked(nomination.round_id)
        member = _member_of(locked, user)
        if not locked.is_scoring:
            raise Refused(_("This round is not being scored."))
        nomination = locked.nominations.get(pk=nomination.pk)
        if not must_score(member, nomination):
            raise Refused(_("You do not score this nomination."))
        criteria = list(locked.criteria.prefetch_related("bands"))
        checked: dict[int, int] = {}
        problems = []
        for criterion in criteria:
            value = points.get(criterion.pk)
            if value is None:
                problems.append(_("Give the points for %(name)s.") % {"name": criterion.name})
                continue
            if not 0 <= value <= criterion.max_points:
                problems.append(
                    _("%(name)s is scored between 0 and %(max)s points.")
                    % {"name": criterion.name, "max": criterion.max_points}
                )
                continue
            bands = list(criterion.bands.all())
            if bands and not any(band.low <= value <= band.high for band in bands):
                problems.append(
                    _("%(points)s points for %(name)s fall in none of its bands.")
                    % {"points": value, "name": criterion.name}
                )
                continue
            checked[criterion.pk] = value
        if problems:
            raise Refused(" ".join(problems))
        sheet = ScoreSheet.objects.select_for_update().filter(nomination=nomination, member=member).first()
        total = sum(checked.values())
        texts = {pk: _clean(comments.get(pk, ""), 500) for pk in checked}
        comment = _clean(comment, 2000, multiline=True)
        if sheet is not None and sheet.is_submitted:
            same = dict(sheet.scores.values_list("criterion_id", "points")) == checked
            if submit and same:
                return sheet  # sent twice: the first one submitted it
            raise Refused(_("Your scores for this nomination are submitted: they no longer change."))
        now = timezone.now()
        if sheet is None:
            sheet = ScoreSheet(nomination=nomination, member=member)
        sheet.total, sheet.comment, sheet.updated_at = total, comment, now
        if submit:
            sheet.status, sheet.submitted_at = ScoreSheet.Status.SUBMITTED, now
        sheet.save()
        Score.objects.filter(sheet=sheet).delete()
        Score.objects.bulk_create(
            [Score(sheet=sheet, criterion_id=pk, points=value, comment=texts[pk]) for pk, value in checked.items()]
        )
        names = {criterion.pk: criterion.name for criterion in criteria}
        _log(
            user,
            locked,
            CHANGE,
            (
                _("%(member)s submitted the scores for “%(title)s”: %(points)s; total %(total)s.")
                if submit
                else _("%(member)s saved draft scores for “%(title)s”: %(points)s; total %(total)s.")
            )
            % {
                "member": member.full_name,
                "title": nomination.initiative.title,
                "points": ", ".join(f"{names[pk]} {value}" for pk, value in checked.items()),
                "total": total,
            },
        )
    return sheet


# The fewest counted sheets a nomination is closed with (where as many regular members may score it).
QUORUM = 2


@dataclass
class Standing:
    """Where a nomination stands in the scoring: the sheets still owed, the totals counted (visible
    to whom the policy lets see them), the spread and whether a third scorer is owed."""

    nomination: Nomination
    owed: list[Member]
    totals: list[int]
    regular_totals: list[int]
    extra_counted: int
    needs_third: bool
    eligible: int = 0  # the regular members not in conflict on it, absent or not

    @property
    def spread(self) -> int | None:
        return max(self.regular_totals) - min(self.regular_totals) if len(self.regular_totals) >= 2 else None

    @property
    def short_of_quorum(self) -> bool:
        """Fewer than two counted sheets where two regular members could score it: one member's
        view is not a council's."""
        return len(self.totals) < min(QUORUM, self.eligible)

    @property
    def complete(self) -> bool:
        return not self.owed and bool(self.totals) and not self.needs_third and not self.short_of_quorum


def standings(selection_round: SelectionRound, *, only: Nomination | None = None) -> list[Standing]:
    """Every nomination's standing (or `only` that one's), in a handful of queries."""
    members = list(selection_round.members.all())
    rows = selection_round.nominations.all() if only is None else selection_round.nominations.filter(pk=only.pk)
    nominations = list(
        rows.select_related("initiative__unit", "initiative__field").prefetch_related(
            "conflicts", "extra_scorers", "sheets"
        )
    )
    result = []
    for nomination in nominations:
        conflicted = {c.member_id for c in nomination.conflicts.all()}
        extra = {e.member_id for e in nomination.extra_scorers.all()}
        submitted = {s.member_id: s.total for s in nomination.sheets.all() if s.is_submitted}
        owed, totals, regular, extra_counted = [], [], [], 0
        for member in members:
            if member.pk in conflicted:
                continue
            scores = member.scores_every_nomination or member.pk in extra
            if not scores:
                continue
            if member.pk in submitted:
                totals.append(submitted[member.pk])
                if member.scores_every_nomination:
                    regular.append(submitted[member.pk])
                else:
                    extra_counted += 1
            elif not member.absent:
                owed.append(member)
        spread_over = len(regular) >= 2 and max(regular) - min(regular) > selection_round.spread_threshold
        result.append(
            Standing(
                nomination=nomination,
                owed=owed,
                totals=totals,
                regular_totals=regular,
                extra_counted=extra_counted,
                needs_third=spread_over and extra_counted == 0,
                eligible=sum(1 for m in members if m.scores_every_nomination and m.pk not in conflicted),
            )
        )
    return result


def extra_scorer_assign(*, user: User, nomination: Nomination, member_id: int) -> ExtraScorer:
    """The chair asks a reserve scorer to score a nomination (the third scorer)."""
    with transaction.atomic():
        locked = _locked(nomination.round_id)
        if not may_chair(user, locked):
            raise Refused(_("Only the chair assigns a third scorer."))
        if not locked.is_scoring:
            raise Refused(_("This round is not being scored."))
        member = locked.members.filter(pk=member_id, role=Member.Role.RESERVE).first()
        if member is None:
            raise Refused(_("Choose one of the council's reserve scorers (appoint one first)."))
        nomination = locked.nominations.select_related("initiative").get(pk=nomination.pk)
        if nomination.conflicts.filter(member=member).exists():
            raise Refused(_("%(name)s has a conflict of interest on this nomination.") % {"name": member.full_name})
        if member.absent:
            raise Refused(_("%(name)s is marked absent.") % {"name": member.full_name})
        extra, created = ExtraScorer.objects.get_or_create(
            nomination=nomination, member=member, defaults={"assigned_by": user}
        )
        if created:
            _log(
                user,
                locked,
                CHANGE,
                _("%(name)s assigned as third scorer of “%(title)s”.")
                % {"name": member.full_name, "title": nomination.initiative.title},
            )
    return extra


def member_mark_absent(*, user: User, selection_round: SelectionRound, member_id: int, absent: bool = True) -> Member:
    """The chair records that a member takes no further part: the sheets it has not submitted are no
    longer owed (those it submitted still count), and the minutes list it as absent."""
    with transaction.atomic():
        locked = _locked(selection_round)
        if not may_chair(user, locked):
            raise Refused(_("Only the chair marks a member absent."))
        _not_closed(locked)
        member = locked.members.filter(pk=member_id).first()
        if member is None:
            raise Refused(_("This account is not on the council."))
        if member.role == Member.Role.CHAIR:
            raise Refused(_("The chair closes the round: the chair is present."))
        member.absent = absent
        member.save()
        _log(
            user,
            locked,
            CHANGE,
            (_("%(name)s marked absent.") if absent else _("%(name)s marked present.")) % {"name": member.full_name},
        )
    return member


# ---------------------------------------------------------------------------------------------
# Closing


@dataclass(frozen=True)
class Ranked:
    nomination: Nomination
    mean: Fraction
    criterion_means: tuple[Fraction, ...]

    @property
    def key(self) -> tuple[Fraction, ...]:
        return (self.mean, *self.criterion_means)


def _two_places(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def round_close(
    *,
    user: User,
    selection_round: SelectionRound,
    prefer: Sequence[int] = (),
    tie_note: str = "",
    place: str = "",
    submission_number: str = "",
) -> SelectionRound:
    """Rank the nominations by the mean of their counted totals (ties broken by the criteria's means
    in the rubric's order), select up to the quota those at or above the pass mark, and freeze the
    round. Refused while a sheet is owed or a third scorer is; TieAtQuota when nominations level on
    everything straddle the quota and `prefer` (the chair's choice among them) does not settle it."""
    with transaction.atomic():
        locked = _locked(selection_round)
        if not may_chair(user, locked):
            raise Refused(_("Only the chair closes the round."))
        if locked.is_closed:
            return locked  # a second click
        if not locked.is_scoring:
            raise Refused(_("This round is not being scored."))
        problems = []
        rows = standings(locked)
        for row in rows:
            title = row.nomination.initiative.title
            if row.owed:
                problems.append(
                    _("“%(title)s” still awaits the scores of %(names)s.")
                    % {"title": title, "names": ", ".join(m.full_name for m in row.owed)}
                )
            elif not row.totals:
                problems.append(_("“%(title)s” has no score that counts.") % {"title": title})
            elif row.short_of_quorum:
                problems.append(
                    _("“%(title)s” has only one score that counts: at least two members must score it.")
                    % {"title": title}
                )
            elif row.needs_third:
                problems.append(
                    _("The totals for “%(title)s” are %(spread)s points apart: assign a third scorer.")
                    % {"title": title, "spread": row.spread}
                )
        if problems:
            raise Refused(" ".join(problems))
        ranked = _rank(locked, rows)
        selected, tie_text = _select(locked, ranked, prefer, tie_note)
        rank_of = {}
        for item in ranked:
            rank_of[item.nomination.pk] = 1 + sum(1 for other in ranked if other.key > item.key)
        for item in ranked:
            Nomination.objects.filter(pk=item.nomination.pk).update(
                mean=_two_places(item.mean),
                rank=rank_of[item.nomination.pk],
                result=Nomination.Result.SELECTED if item.nomination.pk in selected else Nomination.Result.NOT_SELECTED,
            )
        ScoreSheet.objects.filter(nomination__round=locked, status=ScoreSheet.Status.DRAFT).delete()
        SelectionRound.objects.filter(pk=locked.pk).update(
            status=SelectionRound.Status.CLOSED,
            closed_at=timezone.now(),
            closed_by=user,
            tie_break=tie_text,
            place=_clean(place, 100) or settings.HONOURS_DEFAULT_PLACE,
            submission_number=_clean(submission_number, 50),
        )
        locked.refresh_from_db()
        notify_many(
            kind=Notification.Kind.NOMINATION,
            owed=[(item.nomination.pk, item.nomination.from_unit_id) for item in ranked],
        )
        transaction.on_commit(forget_public_pages)  # the outstanding initiatives page shows them at once
        enqueue_documents(locked)  # the minutes and the cover submission, there when first asked for
        _log(
            user,
            locked,
            CHANGE,
            _("Round closed: %(selected)s of %(count)s nominations selected (quota %(quota)s).")
            % {"selected": len(selected), "count": len(ranked), "quota": locked.quota}
            + (" " + tie_text if tie_text else ""),
        )
    return locked


def _rank(selection_round: SelectionRound, rows: list[Standing]) -> list[Ranked]:
    criteria = list(selection_round.criteria.values_list("pk", flat=True))
    counted: dict[int, set[int]] = {}
    for row in rows:
        conflicted = {c.member_id for c in row.nomination.conflicts.all()}
        counted[row.nomination.pk] = {
            s.pk for s in row.nomination.sheets.all() if s.is_submitted and s.member_id not in conflicted
        }
    sheet_ids = set().union(*counted.values()) if counted else set()
    per_sheet: dict[int, dict[int, int]] = {}
    for sheet_id, criterion_id, value in Score.objects.filter(sheet_id__in=sheet_ids).values_list(
        "sheet_id", "criterion_id", "points"
    ):
        per_sheet.setdefault(sheet_id, {})[criterion_id] = value
    ranked = []
    for row in rows:
        sheets = sorted(counted[row.nomination.pk])
        n = len(sheets)
        means = tuple(Fraction(sum(per_sheet[s].get(c, 0) for s in sheets), n) for c in criteria)
        mean = Fraction(sum(sum(per_sheet[s].values()) for s in sheets), n)
        ranked.append(Ranked(row.nomination, mean, means))
    ranked.sort(key=lambda item: (item.key, -item.nomination.pk), reverse=True)
    return ranked


def _select(
    selection_round: SelectionRound, ranked: list[Ranked], prefer: Sequence[int], tie_note: str
) -> tuple[set[int], str]:
    eligible = [item for item in ranked if selection_round.pass_mark is None or item.mean >= selection_round.pass_mark]
    selected: set[int] = set()
    places, tie_text = selection_round.quota, ""
    index = 0
    while index < len(eligible) and places > 0:
        group = [item for item in eligible[index:] if item.key == eligible[index].key]
        if len(group) <= places:
            selected.update(item.nomination.pk for item in group)
            places -= len(group)
        else:
            chosen = [item for item in group if item.nomination.pk in set(prefer)]
            if len(chosen) != places:
                raise TieAtQuota([item.nomination for item in group], places)
            selected.update(item.nomination.pk for item in chosen)
            note = _clean(tie_note, 1000, multiline=True)
            tie_text = _("The chair chose %(chosen)s among %(tied)s, level at the quota.") % {
                "chosen": "; ".join(f"“{item.nomination.initiative.title}”" for item in chosen),
                "tied": "; ".join(f"“{item.nomination.initiative.title}”" for item in group),
            } + (f" {note}" if note else "")
            places = 0
        index += len(group)
    return selected, tie_text


def history_of(selection_round: SelectionRound) -> list[LogEntry]:
    """The round's audit history, oldest first."""
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(SelectionRound)
    return list(
        LogEntry.objects.filter(content_type=content_type, object_id=str(selection_round.pk))
        .select_related("user")
        .order_by("action_time", "pk")
    )


def rounds_open_to(user: User) -> list[SelectionRound]:
    """The rounds an officer may nominate to now: those of its unit and of the unit above, open."""
    if user.unit_id is None or user.unit is None:
        return []
    units = [user.unit_id] + ([user.unit.parent_id] if user.unit.parent_id else [])
    rounds = SelectionRound.objects.filter(
        Q(unit_id__in=units), status=SelectionRound.Status.OPEN, deadline__gte=timezone.localdate()
    ).select_related("unit")
    return [r for r in rounds.order_by("deadline", "pk") if may_nominate_to(user, r.unit)]
