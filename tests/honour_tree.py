"""The hand-computed tree the honours tests share (leaderboard.honours and the honours app).

Cluster A: Gang thép, Bia and Điện (Hà Nội); cluster B: Rạng Đông. Q3/2022: Gang thép 4, Bia 4,
Điện 2, Rạng Đông 3 (and a draft of Điện's, not counted); Q4/2022: Gang thép 1. Targets: Gang
thép's programme target 6 (a Q3 share of 6 × 92/602 = 0.92, so 1; Q4 the same); Bia's Q3 target
assigned, 4; Rạng Đông none. The snapshot is taken on 02/01/2023."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from initiatives.models import Initiative, QuarterTarget
from initiatives.quarters import Quarter
from leaderboard.snapshots import leaderboard_snapshot
from tests.factories import EmulationClusterFactory, InitiativeFactory, TargetFactory, UnionFactory
from unions.models import Union

Q3 = Quarter(2022, 3)


def on(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9)))


@pytest.fixture
def tree(program, unit_tree):
    """Cluster A: Gang thép, Bia and Điện (Hà Nội); cluster B: Rạng Đông.

    Q3/2022: Gang thép 4, Bia 4, Điện 2, Rạng Đông 3 (and a draft of Điện's, not counted);
    Q4/2022: Gang thép 1. Targets: Gang thép's programme target 6 (a Q3 share of 6 × 92/602 = 0.92,
    so 1; Q4 the same); Bia's Q3 target assigned, 4; Rạng Đông none."""
    cluster_a, cluster_b = EmulationClusterFactory(name="Cụm A"), EmulationClusterFactory(name="Cụm B")
    dien = UnionFactory(code="HN-DIEN", name="Công đoàn Điện lực Hà Nội", parent=unit_tree.ha_noi)
    Union.objects.filter(pk__in=[unit_tree.gang_thep.pk, unit_tree.bia.pk, dien.pk]).update(cluster=cluster_a)
    Union.objects.filter(pk=unit_tree.rang_dong.pk).update(cluster=cluster_b)
    july = on(dt.date(2022, 7, 15))
    for unit, n in ((unit_tree.gang_thep, 4), (unit_tree.bia, 4), (dien, 2), (unit_tree.rang_dong, 3)):
        InitiativeFactory.create_batch(n, program=program, unit=unit, submitted_at=july)
    InitiativeFactory(program=program, unit=dien, submitted_at=july, status=Initiative.Status.DRAFT)
    InitiativeFactory(program=program, unit=unit_tree.gang_thep, submitted_at=on(dt.date(2022, 11, 2)))
    TargetFactory(program=program, unit=unit_tree.gang_thep, quantity=6)
    QuarterTarget.objects.create(program=program, unit=unit_tree.bia, year=2022, quarter=3, quantity=4)
    snapshot, _ = leaderboard_snapshot(program=program, at=on(dt.date(2023, 1, 2)))
    return {"snapshot": snapshot, "a": cluster_a, "b": cluster_b, "dien": dien, "units": unit_tree}
