"""A closed round's documents (issue 20, item 4): the minutes of its council (biên bản: the round's
settings and rubric, the members present and absent, conflicts of interest, third scorers, every
submitted sheet per member and criterion, the means, the ranking and the result) and the cover
submission to the level above (tờ trình: the selected initiatives in rank order, each with its
particulars and summary), each as PDF and .docx in Vietnamese administrative style
(sangkien.official_documents).

A closed round never changes, so each document is built once and kept (MEDIA_ROOT/councils/<id>/),
in the background (the task councils.build_document, queue "exports"); one builder at a time holds
a lock beside the file.

A confidential initiative keeps to what the public site shows of it (its title, field and value
benefit): its unit, authors, summary and the nomination's reasons, which describe it, are written as
"confidential information". The minutes keep its title and scores, and the unit that nominated it
(the council knows who did).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from councils.models import Conflict, Criterion, ExtraScorer, Member, Nomination, ScoreSheet, SelectionRound
from initiatives.models import Author, Initiative
from sangkien.official_documents import (
    Block,
    OfficialDocument,
    Signatures,
    Table,
    Text,
    build_once,
    date_line,
    write_docx,
    write_pdf,
)
from sangkien.official_documents import Busy as Busy  # re-exported: the task and the views catch it here
from sangkien.text import format_vnd

MINUTES_PDF, MINUTES_DOCX = "minutes.pdf", "minutes.docx"
SUBMISSION_PDF, SUBMISSION_DOCX = "submission.pdf", "submission.docx"
PDF_TYPE = "application/pdf"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
KINDS = {
    MINUTES_PDF: PDF_TYPE,
    MINUTES_DOCX: DOCX_TYPE,
    SUBMISSION_PDF: PDF_TYPE,
    SUBMISSION_DOCX: DOCX_TYPE,
}

# Set by the task when a build failed: the page says so instead of waiting.
FAILED_KEY = "councils:document-failed:{pk}:{name}"

NOTHING = "–"  # a value not given


def folder(selection_round: SelectionRound) -> Path:
    return Path(settings.MEDIA_ROOT) / "councils" / str(selection_round.pk)


def path_of(selection_round: SelectionRound, name: str) -> Path:
    if name not in KINDS:
        raise ValueError(f"no such document: {name!r}")
    return folder(selection_round) / name


def download_name(selection_round: SelectionRound, name: str) -> str:
    """ "Biên bản hội đồng – Xét chọn năm 2023.pdf": a round name's slashes would read as folders."""
    stem, extension = name.split(".")
    round_name = selection_round.name.replace("/", "-").replace("\\", "-")
    if stem == "minutes":
        title = _("Council minutes – %(round)s") % {"round": round_name}
    else:
        title = _("Cover submission – %(round)s") % {"round": round_name}
    return f"{title}.{extension}"


def build(selection_round: SelectionRound, name: str) -> Path:
    """The document, built now if it is not there yet; Busy while another process builds it."""
    if not selection_round.is_closed:
        raise ValueError("only a closed round has documents")
    compose = compose_minutes if name.startswith("minutes") else compose_submission
    writer: Callable[[OfficialDocument, Path], None] = write_pdf if name.endswith(".pdf") else write_docx
    return build_once(path_of(selection_round, name), lambda partial: writer(compose(selection_round), partial))


def build_all(selection_round: SelectionRound) -> list[Path]:
    return [build(selection_round, name) for name in KINDS]


# -- What the documents say ----------------------------------------------------------------------


@dataclass(frozen=True)
class SheetRow:
    """A submitted sheet as the minutes list it: its points in the rubric's order."""

    member: Member
    points: list[int | None]
    total: int
    counted: bool
    note: str


@dataclass(frozen=True)
class Nominee:
    nomination: Nomination
    sheets: list[SheetRow]
    authors: list[Author]

    @property
    def initiative(self) -> Initiative:
        return self.nomination.initiative

    @property
    def confidential(self) -> bool:
        return self.initiative.is_confidential

    @property
    def selected(self) -> bool:
        return self.nomination.result == Nomination.Result.SELECTED


@dataclass(frozen=True)
class Facts:
    """Everything both documents say about a closed round, read in a handful of queries."""

    round: SelectionRound
    criteria: list[Criterion]
    members: list[Member]
    nominees: list[Nominee]  # by rank; at a level rank, the selected first
    conflicts: list[Conflict]
    extra_scorers: list[ExtraScorer]

    def member_named(self, role: str) -> str:
        return next((m.full_name for m in self.members if m.role == role), "")


def facts_of(selection_round: SelectionRound) -> Facts:
    found = SelectionRound.objects.select_related("program", "unit__parent").get(pk=selection_round.pk)
    criteria = list(found.criteria.prefetch_related("bands").order_by("position"))
    members = list(found.members.order_by("pk"))
    by_id = {member.pk: member for member in members}
    nominations = list(
        found.nominations.select_related("initiative__unit", "initiative__field").prefetch_related(
            Prefetch("initiative__authors", queryset=Author.objects.order_by("order", "pk")),
            Prefetch("conflicts", queryset=Conflict.objects.select_related("declared_by").order_by("member_id")),
            Prefetch("extra_scorers", queryset=ExtraScorer.objects.order_by("assigned_at", "pk")),
            Prefetch(
                "sheets",
                queryset=ScoreSheet.objects.filter(status=ScoreSheet.Status.SUBMITTED)
                .order_by("member_id")
                .prefetch_related("scores"),
            ),
        )
    )
    nominations.sort(
        key=lambda n: (n.rank if n.rank is not None else 1 << 31, n.result != Nomination.Result.SELECTED, n.pk)
    )
    nominees, conflicts, extra = [], [], []
    for nomination in nominations:
        conflicted = {conflict.member_id for conflict in nomination.conflicts.all()}
        thirds = {scorer.member_id for scorer in nomination.extra_scorers.all()}
        rows = []
        for sheet in nomination.sheets.all():
            points = {score.criterion_id: score.points for score in sheet.scores.all()}
            counted = sheet.member_id not in conflicted
            note = "" if counted else _("not counted: conflict of interest")
            if counted and sheet.member_id in thirds:
                note = _("third scorer")
            rows.append(
                SheetRow(
                    member=by_id[sheet.member_id],
                    points=[points.get(criterion.pk) for criterion in criteria],
                    total=sheet.total,
                    counted=counted,
                    note=note,
                )
            )
        nominees.append(Nominee(nomination, rows, list(nomination.initiative.authors.all())))
        for conflict in nomination.conflicts.all():
            conflict.member = by_id[conflict.member_id]
            conflicts.append(conflict)
        for scorer in nomination.extra_scorers.all():
            scorer.member = by_id[scorer.member_id]
            extra.append(scorer)
    return Facts(found, criteria, members, nominees, conflicts, extra)


def points_text(value: Decimal | None) -> str:
    """A mean as Vietnamese writes it: 82,50."""
    return NOTHING if value is None else f"{value:.2f}".replace(".", ",")


def share_text(value: Decimal) -> str:
    """An author's share: 100%, 33,3%."""
    return f"{value.normalize():f}".replace(".", ",") + "%"


def _closed_on(selection_round: SelectionRound) -> str:
    assert selection_round.closed_at is not None  # a closed round's constraint
    return date_line(timezone.localdate(selection_round.closed_at), selection_round.place)


def _closed_date(selection_round: SelectionRound) -> str:
    assert selection_round.closed_at is not None
    return timezone.localdate(selection_round.closed_at).strftime("%d/%m/%Y")


def _initiative_unit(nominee: Nominee) -> str:
    return _("Confidential information") if nominee.confidential else nominee.initiative.unit.name


def _declared_by(conflict: Conflict, members: list[Member]) -> str:
    if conflict.declared_by_id is None or conflict.declared_by is None:
        return capfirst(_("found by the portal"))
    named = next((m.full_name for m in members if m.user_id == conflict.declared_by_id), "")
    return named or conflict.declared_by.get_full_name().strip() or conflict.declared_by.get_username()


def _heading(text: str) -> Text:
    return Text(text, "B", "L", before=3)


# -- The minutes ---------------------------------------------------------------------------------


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


# -- The cover submission ------------------------------------------------------------------------


def submission_reference(selection_round: SelectionRound) -> str:
    """ "Số: 15/TTr-CĐTCT" as given; a bare "15" becomes "15/TTr"; none yet leaves a blank to fill."""
    number = selection_round.submission_number.strip()
    if not number:
        number = "......"
    elif "/" not in number:
        number = f"{number}/TTr"
    return _("No.: %(number)s") % {"number": number}


def compose_submission(selection_round: SelectionRound) -> OfficialDocument:
    facts = facts_of(selection_round)
    found = facts.round
    above = found.unit.parent or found.unit  # the root's rounds go to its own board
    selected = [nominee for nominee in facts.nominees if nominee.selected]
    blocks: list[Block] = [
        Text(_("COVER SUBMISSION"), "B", "C", 14),
        Text(_("On proposing the outstanding initiatives for selection"), "B", "C"),
        Text(_("To: %(unit)s") % {"unit": above.name}, "", "C", before=4),
        Text(
            _("Based on the round “%(round)s” of the programme “%(program)s”, held by %(unit)s;")
            % {"round": found.name, "program": found.program.name, "unit": found.unit_name},
            before=4,
        ),
        Text(
            _(
                "Based on the minutes of the selection council of %(date)s, chaired by %(chair)s, which scored "
                "%(count)s nominated initiatives;"
            )
            % {
                "date": _closed_date(found),
                "chair": facts.member_named(Member.Role.CHAIR),
                "count": len(facts.nominees),
            }
        ),
        Text(
            _(
                "The selection council respectfully submits to %(unit)s the %(selected)s outstanding initiatives "
                "below, for its consideration:"
            )
            % {"unit": above.name, "selected": len(selected)}
        ),
        _heading(_("I. THE INITIATIVES PROPOSED")),
    ]
    if selected:
        blocks.append(
            Table(
                headings=[_("No."), _("Initiative"), _("Unit"), _("Mean score")],
                rows=[
                    [
                        str(number),
                        nominee.initiative.title,
                        _initiative_unit(nominee),
                        points_text(nominee.nomination.mean),
                    ]
                    for number, nominee in enumerate(selected, start=1)
                ],
                widths=(12, 78, 55, 20),
                align=("C", "L", "L", "C"),
            )
        )
        blocks.append(_heading(_("II. SUMMARY OF EACH INITIATIVE")))
        for number, nominee in enumerate(selected, start=1):
            blocks += _summary(number, nominee)
    else:
        blocks.append(Text(_("The council selected no initiative in this round.")))
    blocks += [
        Text(
            _("The selection council respectfully submits this to %(unit)s for its consideration and decision.")
            % {"unit": above.name},
            before=2,
        ),
        Signatures(
            left=[
                Text(_("Sent to:"), "BI", "L", 12),
                Text(_("- As above;"), "", "L", 11),
                Text(_("- Kept on file."), "", "L", 11),
            ],
            right=[
                Text(_("ON BEHALF OF THE COUNCIL"), "B", "C"),
                Text(_("CHAIR"), "B", "C"),
                Text(facts.member_named(Member.Role.CHAIR), "B", "C", before=22),
            ],
        ),
    ]
    return OfficialDocument(
        title=download_name(found, SUBMISSION_PDF).removesuffix(".pdf"),
        body=found.unit_name,
        reference=submission_reference(found),
        dated=_closed_on(found),
        blocks=blocks,
    )


def _summary(number: int, nominee: Nominee) -> list[Block]:
    initiative, nomination = nominee.initiative, nominee.nomination
    hidden = _("Confidential information")
    authors = "; ".join(f"{author.full_name} ({share_text(author.share_percent)})" for author in nominee.authors)
    value = format_vnd(initiative.value_vnd) if initiative.value_vnd is not None else NOTHING
    lines = [
        _("Unit: %(unit)s") % {"unit": _initiative_unit(nominee)},
        _("Authors: %(authors)s") % {"authors": hidden if nominee.confidential else authors or NOTHING},
        _("Field: %(field)s") % {"field": initiative.field.name if initiative.field else NOTHING},
        _("Value benefit: %(value)s") % {"value": value},
        _("Recognition decision: No. %(number)s of %(date)s")
        % {"number": nomination.recognition_number, "date": nomination.recognition_date.strftime("%d/%m/%Y")},
        _("Mean score: %(mean)s points (rank %(rank)s)")
        % {"mean": points_text(nomination.mean), "rank": nomination.rank or NOTHING},
        _("Summary: %(text)s") % {"text": hidden if nominee.confidential else initiative.summary.strip() or NOTHING},
        _("Reasons for the nomination: %(text)s")
        % {"text": hidden if nominee.confidential else nomination.justification},
    ]
    return [
        Text(f"{number}. {initiative.title}", "B", "L", before=2),
        *(Text(f"- {line}") for line in lines),
    ]
