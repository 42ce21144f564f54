"""Scoring: the council starts, each member's sheets, where each nomination stands, the third scorer, absentees."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.admin.models import CHANGE
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from councils.models import (
    ExtraScorer,
    Member,
    Nomination,
    Score,
    ScoreSheet,
    SelectionRound,
)
from councils.services.common import Refused, _clean, _locked, _log, _member, _not_closed
from unions.models import User
from unions.permissions import (
    may_chair,
    may_manage_round,
)


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
        member = _member(locked, member_id)
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
