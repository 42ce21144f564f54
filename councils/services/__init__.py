"""The steps of a selection round (issue 20): set it up with its rubric and council, take
nominations (and forwarded ones), start the scoring, score, declare conflicts, assign third
scorers, mark absentees, close. Each step checks the one access policy (unions.permissions), runs
in one transaction on the round's row (locked, so two steps never interleave), and is written to
the admin's history of the round (django.contrib.admin's LogEntry) with who did it and what, the
points of every sheet included."""

from __future__ import annotations

from councils.services.closing import Ranked, history_of, round_close
from councils.services.common import (
    BandSpec,
    CriterionSpec,
    Refused,
    TieAtQuota,
    default_rubric,
    rubric_specs,
    rubric_text,
)
from councils.services.conflicts import conflict_declare, conflict_lift, conflict_reason
from councils.services.nominations import (
    forward_targets,
    forward_targets_of,
    nomination_create,
    nomination_forward,
    nomination_withdraw,
    rounds_open_to,
)
from councils.services.rounds import member_appoint, member_remove, round_create, round_update
from councils.services.scoring import (
    QUORUM,
    Standing,
    extra_scorer_assign,
    member_mark_absent,
    must_score,
    round_start_scoring,
    scorers_of,
    sheet_save,
    standings,
)

__all__ = [
    "QUORUM",
    "BandSpec",
    "CriterionSpec",
    "Ranked",
    "Refused",
    "Standing",
    "TieAtQuota",
    "conflict_declare",
    "conflict_lift",
    "conflict_reason",
    "default_rubric",
    "extra_scorer_assign",
    "forward_targets",
    "forward_targets_of",
    "history_of",
    "member_appoint",
    "member_mark_absent",
    "member_remove",
    "must_score",
    "nomination_create",
    "nomination_forward",
    "nomination_withdraw",
    "round_close",
    "round_create",
    "round_start_scoring",
    "round_update",
    "rounds_open_to",
    "rubric_specs",
    "rubric_text",
    "scorers_of",
    "sheet_save",
    "standings",
]
