"""What every step of a selection round shares: the refusal it raises, the rubric's shapes and the
default rubric, the round's row locked for a step, and the round's history."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from councils.models import (
    Band,
    Criterion,
    Member,
    Nomination,
    SelectionRound,
)
from sangkien.text import clean_text
from unions.models import User


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


def _log(user: User, selection_round: SelectionRound, flag: int, message: str) -> None:
    LogEntry.objects.log_actions(user.pk, [selection_round], flag, change_message=message, single_object=True)


def _locked(selection_round: SelectionRound | int) -> SelectionRound:
    pk = selection_round if isinstance(selection_round, int) else selection_round.pk
    found = SelectionRound.objects.select_for_update().select_related("unit", "program").filter(pk=pk).first()
    if found is None:
        raise Refused(_("This round no longer exists."))
    return found


def _member(selection_round: SelectionRound, member_id: int) -> Member:
    """A member of the round's council (with its account), or the refusal that it is none."""
    member = selection_round.members.select_related("user").filter(pk=member_id).first()
    if member is None:
        raise Refused(_("This account is not on the council."))
    return member


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


def _validate(instance: SelectionRound | Nomination) -> None:
    try:
        instance.full_clean(validate_constraints=False)
    except ValidationError as error:
        raise Refused(" ".join(error.messages)) from error
