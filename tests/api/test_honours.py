"""Honours decisions in the public API: the issued ones only, with the units they honour (never a
unit left out or below its target), the rule and the instant of their figures, and which were
corrected."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from honours.models import HonourDecision, HonourEntry
from leaderboard.models import LeaderboardSnapshot

pytestmark = pytest.mark.django_db


def decision(program, snapshot, unit_tree, **values) -> HonourDecision:
    fields = {
        "program": program, "snapshot": snapshot, "taken_at": snapshot.taken_at, "period_kind": "phase",
        "period_label": "Giai đoạn 1", "period_token": "phase-1", "scope": unit_tree.cong_thuong,
        "scope_name": unit_tree.cong_thuong.name, "count": "submitted", "margin": 1,
    }  # fmt: skip
    fields.update(values)
    return HonourDecision.objects.create(**fields)


@pytest.fixture
def decisions(program, unit_tree, roles):
    snapshot = LeaderboardSnapshot.objects.create(program=program, taken_at=timezone.now(), seq=1)
    issued = {
        "status": "issued", "number": "01/QĐ-CĐCT", "signed_on": dt.date(2022, 6, 10), "signed_year": 2022,
        "signer": "Phạm Đức Thanh", "issuer": unit_tree.cong_thuong, "issuer_name": unit_tree.cong_thuong.name,
        "place": "Hà Nội",
    }  # fmt: skip
    first = decision(program, snapshot, unit_tree)
    rows = [
        ("superior", "", "CTVN-THEP", "Thép", 40, 30, True, False, ""),
        ("grassroots", "Cụm 1", "THEP-TISCO", "Gang thép", 25, 20, True, True, "Đã khen đợt trước"),
        ("grassroots", "Cụm 2", "CTVN-RANGDONG", "Rạng Đông", 10, 12, False, False, ""),
    ]
    HonourEntry.objects.bulk_create(
        HonourEntry(
            decision=first, position=n, level=level, cluster_name=cluster, unit_code=code, unit_name=name,
            count=count, target=target, meets=meets, excluded=excluded, reason=reason,
        )
        for n, (level, cluster, code, name, count, target, meets, excluded, reason) in enumerate(rows, start=1)
    )  # fmt: skip
    HonourDecision.objects.filter(pk=first.pk).update(**issued, issued_at=timezone.now())
    correction = decision(program, snapshot, unit_tree, corrects=first)
    HonourDecision.objects.filter(pk=correction.pk).update(
        **{**issued, "number": "02/QĐ-CĐCT"}, issued_at=timezone.now()
    )
    draft = decision(program, snapshot, unit_tree, period_token="phase-2", period_label="Giai đoạn 2")
    return first, correction, draft


def test_the_issued_decisions_with_their_rule_figures_and_corrections(client, decisions) -> None:
    first, _correction, draft = decisions
    rows = client.get(reverse("api:honours")).json()["results"]
    assert [(r["number"], r["corrects"], r["superseded"]) for r in rows] == [
        ("02/QĐ-CĐCT", first.pk, False),
        ("01/QĐ-CĐCT", None, True),
    ]
    assert (rows[1]["signed_on"], rows[1]["count_by"], rows[1]["margin"], rows[1]["place"]) == (
        "2022-06-10", "submitted", 1, "Hà Nội",
    )  # fmt: skip
    assert rows[1]["pdf"] == f"http://testserver/vinh-danh/{first.pk}/quyet-dinh.pdf"
    assert client.get(reverse("api:honour", args=[draft.pk])).status_code == 404


def test_a_decision_lists_the_units_it_honours_only(client, decisions) -> None:
    first = decisions[0]
    body = client.get(reverse("api:honour", args=[first.pk])).json()
    assert body["honoured"] == [
        {
            "group": "Khối công đoàn cấp trên trực tiếp cơ sở",
            "level": "superior", "cluster_name": "", "unit_code": "CTVN-THEP", "unit_name": "Thép", "count": 40,
            "target": 30,
        }
    ]  # fmt: skip
    assert "Đã khen đợt trước" not in str(body) and "Rạng Đông" not in str(body)
