"""Honours proposals from a snapshot (issue 19, item 2), on a hand-computed tree: per level block and
per emulation cluster, the leading units of the period (ties shared), and whether each is above its
own target for the period by the programme's margin."""

from __future__ import annotations

import datetime as dt

import pytest

from initiatives.models import Program, Target
from initiatives.quarters import Quarter
from leaderboard.honours import NoSuchPeriod, Period, propose
from leaderboard.models import HonourRule
from leaderboard.snapshots import leaderboard_snapshot
from tests.factories import (
    InitiativeFactory,
    PhaseFactory,
    ProgramFactory,
    UnionFactory,
)
from tests.honour_tree import Q3, on
from unions.models import EmulationCluster, Union

pytestmark = pytest.mark.django_db


def table(proposal) -> dict[tuple[str, str | None], list[tuple[str, int, int, bool]]]:
    names: dict[int | None, str | None] = {None: None}
    names.update(EmulationCluster.objects.values_list("pk", "name"))
    return {
        (group.level, names[group.cluster_id]): [(c.unit.code, c.count, c.target, c.meets) for c in group.leaders]
        for group in proposal.groups
    }


def test_a_quarter_s_leaders_per_block_and_cluster_with_ties_and_the_target_rule(tree) -> None:
    proposal = propose(tree["snapshot"], period=Period(quarter=Q3))
    assert (proposal.count, proposal.margin) == ("submitted", 1)  # the guidance's defaults
    assert table(proposal) == {
        # Gang thép 4 + Rạng Đông 3, against Hà Nội's 6; with no target, it cannot be above it.
        ("tier2", None): [("CTVN", 7, None, False)],
        ("superior", None): [("CTVN-THEP", 4, None, False)],
        # A tie for the block and for cluster A: both listed, by name. Bia is exactly at its target
        # (4 of 4): not above it. Gang thép is 3 above its share (1).
        ("grassroots", None): [("HN-BIA", 4, 4, False), ("THEP-TISCO", 4, 1, True)],
        ("grassroots", "Cụm A"): [("HN-BIA", 4, 4, False), ("THEP-TISCO", 4, 1, True)],
        ("grassroots", "Cụm B"): [("CTVN-RANGDONG", 3, None, False)],
    }


def test_the_next_quarter_a_leader_below_its_target_is_proposed_but_not_honoured(tree) -> None:
    proposal = propose(tree["snapshot"], period=Period(quarter=Quarter(2022, 4)))
    assert table(proposal)[("grassroots", "Cụm A")] == [("THEP-TISCO", 1, 1, False)]  # 1 is not above 1


def test_the_rule_s_count_and_margin_are_the_programme_s(tree, program) -> None:
    HonourRule.objects.create(program=program, count=HonourRule.Count.SUBMITTED, margin=3)
    proposal = propose(tree["snapshot"], period=Period(quarter=Q3))
    assert table(proposal)[("grassroots", "Cụm A")] == [("HN-BIA", 4, 4, False), ("THEP-TISCO", 4, 1, True)]
    assert table(proposal)[("grassroots", "Cụm B")] == [("CTVN-RANGDONG", 3, None, False)]
    HonourRule.objects.filter(program=program).update(count=HonourRule.Count.VALID)
    assert propose(tree["snapshot"], period=Period(quarter=Q3)).groups == []  # nothing valid yet


def test_a_subtree_s_proposal_and_the_whole_programme_s(tree) -> None:
    units = tree["units"]
    hanoi = table(propose(tree["snapshot"], period=Period(quarter=Q3), scope_id=units.ha_noi.pk))
    assert hanoi == {
        ("grassroots", None): [("HN-BIA", 4, 4, False)],
        ("grassroots", "Cụm A"): [("HN-BIA", 4, 4, False)],
    }
    whole = table(propose(tree["snapshot"], period=Period()))
    # Gang thép has 5 over the programme, its target 6: proposed, not above it.
    assert whole[("grassroots", "Cụm A")] == [("THEP-TISCO", 5, 6, False)]


def test_the_same_snapshot_gives_the_same_proposal_whatever_changed_since(tree, program) -> None:
    units = tree["units"]
    before = table(propose(tree["snapshot"], period=Period(quarter=Q3)))
    # After the snapshot: Bia submits three more dated in Q3, Rạng Đông moves to cluster A and Gang
    # thép's programme target grows; a later snapshot sees all of it.
    InitiativeFactory.create_batch(3, program=program, unit=units.bia, submitted_at=on(dt.date(2022, 8, 1)))
    Union.objects.filter(pk=units.rang_dong.pk).update(cluster=tree["a"])
    Target.objects.filter(unit=units.gang_thep).update(quantity=600)
    later, _ = leaderboard_snapshot(program=program, at=on(dt.date(2023, 1, 3)))
    assert table(propose(tree["snapshot"], period=Period(quarter=Q3))) == before
    assert table(propose(later, period=Period(quarter=Q3)))[("grassroots", "Cụm A")] == [("HN-BIA", 7, 4, True)]


def test_the_programme_s_dates_are_those_the_snapshot_saw(tree, program) -> None:
    """Gang thép's Q3 share of its target 6 is 1 over the programme's 602 days; started 600 days
    earlier, the programme would make it 6 × 92/1,202, which rounds to 0 (no target)."""
    Program.objects.filter(pk=program.pk).update(starts_on=program.starts_on - dt.timedelta(days=600))
    assert table(propose(tree["snapshot"], period=Period(quarter=Q3)))[("grassroots", "Cụm A")][1] == (
        "THEP-TISCO",
        4,
        1,
        True,
    )
    program.refresh_from_db()
    later, _ = leaderboard_snapshot(program=program, at=on(dt.date(2023, 1, 3)))
    assert table(propose(later, period=Period(quarter=Q3)))[("grassroots", "Cụm A")][1] == (
        "THEP-TISCO",
        4,
        None,
        False,
    )


def test_a_period_or_scope_the_snapshot_cannot_answer_for_is_refused(tree, program) -> None:
    snapshot = tree["snapshot"]
    with pytest.raises(NoSuchPeriod):
        propose(snapshot, period=Period(quarter=Quarter(2023, 4)))  # after the programme
    with pytest.raises(NoSuchPeriod):
        propose(snapshot, period=Period(phase=PhaseFactory(program=ProgramFactory(slug="khac"), number=1)))
    newer = UnionFactory(code="HN-MOI", parent=tree["units"].ha_noi)  # after the snapshot
    with pytest.raises(NoSuchPeriod):
        propose(snapshot, period=Period(quarter=Q3), scope_id=newer.pk)
