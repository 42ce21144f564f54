"""Conflicts of interest: found by the portal, declared by a member or the chair, lifted by the chair."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.admin.models import CHANGE
from django.db import transaction
from django.utils.translation import gettext as _

from councils.models import (
    Conflict,
    Member,
    Nomination,
    ScoreSheet,
)
from councils.services.common import Refused, _clean, _locked, _log, _member, _not_closed
from initiatives.models import Author
from sangkien.text import fold_key
from unions.models import User
from unions.permissions import (
    may_chair,
)


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
        member = _member(locked, member_id)
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
