"""The leaderboard's tests share one small tree with hand-computed figures (see test_leaderboard.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from initiatives.models import Initiative
from tests.factories import EmulationClusterFactory, FieldFactory, InitiativeFactory, TargetFactory, UnionFactory
from unions.models import Union

S = Initiative.Status
MILLION = 1_000_000


@pytest.fixture
def data(unit_tree, program):
    phase1, phase2 = program.phases.order_by("number")
    technical, management = FieldFactory(name="Kỹ thuật", position=1), FieldFactory(name="Quản lý", position=2)
    cluster_a, cluster_b = EmulationClusterFactory(name="Cụm A"), EmulationClusterFactory(name="Cụm B")
    Union.objects.filter(pk__in=[unit_tree.gang_thep.pk, unit_tree.bia.pk]).update(cluster=cluster_a)
    Union.objects.filter(pk=unit_tree.rang_dong.pk).update(cluster=cluster_b)
    dien = UnionFactory(code="HN-DIEN", name="Công đoàn Điện lực Hà Nội", parent=unit_tree.ha_noi)
    TargetFactory(program=program, unit=unit_tree.cong_thuong, quantity=10)
    TargetFactory(program=program, unit=unit_tree.rang_dong, quantity=8)
    at = timezone.make_aware(dt.datetime(2022, 3, 1, 9))
    later = timezone.make_aware(dt.datetime(2022, 7, 1, 9))

    def add(unit, n, phase, field, status=S.SUBMITTED, value=None, when=None):
        InitiativeFactory.create_batch(
            n,
            program=program,
            unit=unit,
            phase=phase,
            field=field,
            status=status,
            value_vnd=value,
            submitted_at=None if status == S.DRAFT else (when or (at if phase == phase1 else later)),
        )

    add(unit_tree.gang_thep, 1, phase1, technical, S.VALID, 10 * MILLION)
    add(unit_tree.gang_thep, 1, phase1, technical, S.RETURNED, 99 * MILLION)
    add(unit_tree.gang_thep, 1, phase1, technical, S.REJECTED, 99 * MILLION)
    add(unit_tree.gang_thep, 1, phase2, management)
    add(unit_tree.gang_thep, 1, phase2, management, S.DRAFT)
    add(unit_tree.rang_dong, 1, phase2, technical, S.VALID, 5 * MILLION)
    add(unit_tree.rang_dong, 1, phase2, technical, S.VALID, 7 * MILLION)
    add(unit_tree.rang_dong, 2, phase2, management)
    add(unit_tree.bia, 2, phase1, management)
    for unit in Union.objects.all():
        unit.refresh_from_db()
    return {
        "program": program,
        "phase1": phase1,
        "phase2": phase2,
        "technical": technical,
        "management": management,
        "cluster_a": cluster_a,
        "cluster_b": cluster_b,
        "dien": dien,
        "now": timezone.make_aware(dt.datetime(2023, 1, 2, 8)),
    }
