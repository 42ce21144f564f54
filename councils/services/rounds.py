"""Setting a round up: its settings and rubric, its council."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.contrib.admin.models import ADDITION, CHANGE
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from councils.models import (
    Member,
    SelectionRound,
)
from councils.services.common import (
    CriterionSpec,
    Refused,
    _check_rubric,
    _clean,
    _full_name,
    _locked,
    _log,
    _member,
    _normalised,
    _not_closed,
    _validate,
    _write_rubric,
    default_rubric,
    rubric_specs,
    rubric_text,
)
from councils.services.conflicts import _conflict_line, _find_conflicts
from initiatives.models import Program
from unions.models import Union, User
from unions.permissions import (
    may_manage_round,
    may_run_rounds,
    may_sit_on_council,
)


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
        member = _member(locked, member_id)
        if member.sheets.exists() or not locked.is_open:
            raise Refused(_("Once the scoring has started, members are not removed: the chair marks them absent."))
        member.delete()
        _log(user, locked, CHANGE, _("%(name)s taken off the council.") % {"name": member.full_name})
