"""The minutes (biên bản) of a closed round: the round, its council, conflicts and third scorers,
every member's points, the means, the ranking and the result."""

from __future__ import annotations

from django.utils.translation import gettext as _

from councils.documents.facts import (
    NOTHING,
    Facts,
    _closed_date,
    _closed_on,
    _declared_by,
    _heading,
    _initiative_unit,
    facts_of,
    points_text,
)
from councils.documents.names import MINUTES_PDF, download_name
from councils.models import Member, SelectionRound
from sangkien.official_documents import (
    Block,
    OfficialDocument,
    Signatures,
    Table,
    Text,
)
from sangkien.official_documents import Busy as Busy  # re-exported: the task and the views catch it here


def compose_minutes(selection_round: SelectionRound) -> OfficialDocument:
    facts = facts_of(selection_round)
    found = facts.round
    blocks: list[Block] = [
        Text(_("MINUTES"), "B", "C", 14),
        Text(
            _("Meeting of the council selecting the outstanding initiatives of the round “%(round)s”")
            % {"round": found.name},
            "B",
            "C",
        ),
        Text(
            _(
                "On %(date)s, the council of the round “%(round)s” of %(unit)s completed the scoring of the "
                "nominated initiatives and closed the round, with the results below."
            )
            % {"date": _closed_date(found), "round": found.name, "unit": found.unit_name},
            before=4,
        ),
    ]
    blocks += _the_round(facts)
    blocks += _the_council(facts)
    blocks += _conflicts_and_thirds(facts)
    blocks += _scores(facts)
    blocks += _ranking(facts)
    blocks.append(
        Signatures(
            left=[Text(_("SECRETARY"), "B", "C"), Text(facts.member_named(Member.Role.SECRETARY), "B", "C", before=22)],
            right=[
                Text(_("CHAIR OF THE COUNCIL"), "B", "C"),
                Text(facts.member_named(Member.Role.CHAIR), "B", "C", before=22),
            ],
        )
    )
    return OfficialDocument(
        title=download_name(found, MINUTES_PDF).removesuffix(".pdf"),
        body=found.unit_name,
        reference="",
        dated=_closed_on(found),
        blocks=blocks,
    )


def _the_round(facts: Facts) -> list[Block]:
    found = facts.round
    pass_mark = (
        _("Pass mark: %(points)s points.") % {"points": found.pass_mark}
        if found.pass_mark is not None
        else _("Pass mark: none.")
    )
    return [
        _heading(_("I. THE ROUND")),
        Text(_("Programme: %(program)s.") % {"program": found.program.name}),
        Text(_("Level: %(level)s.") % {"level": found.get_level_display()}),
        Text(_("Quota: at most %(quota)s initiatives selected.") % {"quota": found.quota}),
        Text(
            _("A third scorer is called for where two totals are more than %(points)s points apart.")
            % {"points": found.spread_threshold}
        ),
        Text(pass_mark),
        Text(_("Rubric (out of %(total)s points):") % {"total": sum(c.max_points for c in facts.criteria)}),
        Table(
            headings=[_("No."), _("Criterion"), _("Maximum points"), _("Bands")],
            rows=[
                [
                    str(criterion.position),
                    criterion.name,
                    str(criterion.max_points),
                    "\n".join(f"{band.low}–{band.high}: {band.label}" for band in criterion.bands.all()) or NOTHING,
                ]
                for criterion in facts.criteria
            ],
            widths=(12, 45, 20, 88),
            align=("C", "L", "C", "L"),
        ),
    ]


def _member_rows(members: list[Member]) -> list[list[str]]:
    return [
        [str(number), member.full_name, str(member.get_role_display()), member.unit_name or NOTHING]
        for number, member in enumerate(members, start=1)
    ]


def _the_council(facts: Facts) -> list[Block]:
    present = [m for m in facts.members if not m.absent]
    absent = [m for m in facts.members if m.absent]
    headings = [_("No."), _("Full name"), _("Role"), _("Unit")]
    widths, align = (12, 50, 35, 68), ("C", "L", "L", "L")
    blocks: list[Block] = [
        _heading(_("II. THE COUNCIL")),
        Text(_("Members present (%(count)s):") % {"count": len(present)}),
        Table(headings, _member_rows(present), widths, align),
    ]
    if absent:
        blocks += [
            Text(_("Members absent (%(count)s):") % {"count": len(absent)}),
            Table(headings, _member_rows(absent), widths, align),
        ]
    else:
        blocks.append(Text(_("Members absent: none.")))
    return blocks


def _conflicts_and_thirds(facts: Facts) -> list[Block]:
    titles = {nominee.nomination.pk: nominee.initiative.title for nominee in facts.nominees}
    blocks: list[Block] = [_heading(_("III. CONFLICTS OF INTEREST AND THIRD SCORERS"))]
    if facts.conflicts:
        blocks += [
            Text(_("Conflicts of interest (the member's sheet for the nomination is not counted):")),
            Table(
                headings=[_("No."), _("Council member"), _("Initiative"), _("Reason"), _("Declared by")],
                rows=[
                    [
                        str(number),
                        conflict.member.full_name,
                        titles[conflict.nomination_id],
                        conflict.reason,
                        _declared_by(conflict, facts.members),
                    ]
                    for number, conflict in enumerate(facts.conflicts, start=1)
                ],
                widths=(12, 35, 48, 40, 30),
                align=("C", "L", "L", "L", "L"),
            ),
        ]
    else:
        blocks.append(Text(_("Conflicts of interest: none.")))
    if facts.extra_scorers:
        blocks += [
            Text(_("Third scorers assigned by the chair:")),
            Table(
                headings=[_("No."), _("Council member"), _("Initiative")],
                rows=[
                    [str(number), scorer.member.full_name, titles[scorer.nomination_id]]
                    for number, scorer in enumerate(facts.extra_scorers, start=1)
                ],
                widths=(12, 55, 98),
                align=("C", "L", "L"),
            ),
        ]
    else:
        blocks.append(Text(_("Third scorers: none needed.")))
    return blocks


def _scores(facts: Facts) -> list[Block]:
    blocks: list[Block] = [
        _heading(_("IV. SCORES")),
        Text(
            _(
                "Only submitted score sheets are listed. The sheet of a member with a conflict of interest on "
                "the nomination is shown but not counted."
            )
        ),
    ]
    count = len(facts.criteria)
    # The criteria share what the number, name, total and note leave of the page.
    widths = (12, 38, *([max(12.0, 75 / count)] * count), 14, 26)
    align = ("C", "L", *(["C"] * count), "C", "L")
    headings = [
        _("No."),
        _("Council member"),
        *(f"{criterion.name} (/{criterion.max_points})" for criterion in facts.criteria),
        _("Total"),
        _("Note"),
    ]
    for number, nominee in enumerate(facts.nominees, start=1):
        nomination = nominee.nomination
        counted = [row for row in nominee.sheets if row.counted]
        blocks += [
            Text(f"{number}. {nominee.initiative.title}", "B", "L", before=2),
            Text(
                _("Nominated by: %(unit)s. Unit of the initiative: %(initiative_unit)s.")
                % {"unit": nomination.from_unit_name, "initiative_unit": _initiative_unit(nominee)}
            ),
            Table(
                headings,
                [
                    [
                        str(index),
                        row.member.full_name,
                        *(NOTHING if value is None else str(value) for value in row.points),
                        str(row.total),
                        row.note,
                    ]
                    for index, row in enumerate(nominee.sheets, start=1)
                ],
                widths,
                align,
            ),
            Text(
                _("Mean score: %(mean)s points, over %(count)s counted sheets.")
                % {"mean": points_text(nomination.mean), "count": len(counted)}
            ),
        ]
    return blocks


def _ranking(facts: Facts) -> list[Block]:
    found = facts.round
    selected = [nominee for nominee in facts.nominees if nominee.selected]
    blocks: list[Block] = [
        _heading(_("V. RANKING AND RESULT")),
        Table(
            headings=[_("Rank"), _("Initiative"), _("Nominated by"), _("Mean score"), _("Result")],
            rows=[
                [
                    str(nominee.nomination.rank or NOTHING),
                    nominee.initiative.title,
                    nominee.nomination.from_unit_name,
                    points_text(nominee.nomination.mean),
                    str(nominee.nomination.get_result_display()),
                ]
                for nominee in facts.nominees
            ],
            widths=(14, 58, 50, 18, 25),
            align=("C", "L", "L", "C", "L"),
        ),
    ]
    if found.tie_break:
        blocks.append(Text(_("The chair's decision on a tie: %(text)s") % {"text": found.tie_break}))
    blocks += [
        Text(
            _("The council selected %(selected)s of %(count)s nominations (quota %(quota)s).")
            % {"selected": len(selected), "count": len(facts.nominees), "quota": found.quota}
        ),
        Text(_("These minutes were drawn up when the round closed and agreed by the council.")),
    ]
    return blocks
