"""Closing a round: ranking by the mean, ties, the quota and the pass mark, the freeze, the units told."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from councils.models import (
    Nomination,
    Score,
    ScoreSheet,
    SelectionRound,
)
from councils.services.common import Refused, TieAtQuota, _clean, _locked, _log
from councils.services.scoring import Standing, standings
from councils.tasks import enqueue_documents
from notifications.models import Notification
from notifications.services import notify_many
from sangkien.public_pages import forget_public_pages
from unions.models import User
from unions.permissions import (
    may_chair,
)


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
