"""Nominations up the tree: nominating, withdrawing, forwarding to the round above."""

from __future__ import annotations

import datetime as dt

from django.contrib.admin.models import ADDITION, DELETION
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from councils.models import (
    Nomination,
    SelectionRound,
)
from councils.services.common import Refused, _clean, _locked, _log, _validate
from councils.services.conflicts import _conflict_line, _find_conflicts
from initiatives.models import Initiative
from unions.models import User
from unions.permissions import (
    can_act_in,
    may_manage_round,
    may_nominate_to,
    may_write_on_site,
)


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


def rounds_open_to(user: User) -> list[SelectionRound]:
    """The rounds an officer may nominate to now: those of its unit and of the unit above, open."""
    if user.unit_id is None or user.unit is None:
        return []
    units = [user.unit_id] + ([user.unit.parent_id] if user.unit.parent_id else [])
    rounds = SelectionRound.objects.filter(
        Q(unit_id__in=units), status=SelectionRound.Status.OPEN, deadline__gte=timezone.localdate()
    ).select_related("unit")
    return [r for r in rounds.order_by("deadline", "pk") if may_nominate_to(user, r.unit)]
