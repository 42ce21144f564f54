"""The cover submission (tờ trình) of a closed round to the unit above: the initiatives selected,
in rank order, with their summaries (confidential ones masked)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from councils.documents.facts import (
    NOTHING,
    Nominee,
    _closed_date,
    _closed_on,
    _heading,
    _initiative_unit,
    facts_of,
    points_text,
    share_text,
)
from councils.documents.names import SUBMISSION_PDF, download_name
from councils.models import Member, SelectionRound
from sangkien.official_documents import (
    Block,
    OfficialDocument,
    Signatures,
    Table,
    Text,
)
from sangkien.official_documents import Busy as Busy  # re-exported: the task and the views catch it here
from sangkien.text import format_vnd


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
