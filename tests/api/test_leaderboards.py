"""The leaderboards of published snapshots in the API (issue 21, item 1): the latest snapshot and
those kept as evidence, each block's ranking as the snapshot counted it, within a phase, a field or a
cluster; a filter that names nothing is refused in Vietnamese; the same as CSV and .xlsx, text never
read as a formula."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from initiatives.selectors import current_program
from leaderboard.snapshots import leaderboard_snapshot, pin
from tests.factories import InitiativeFactory
from unions.models import Union

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshots(program, unit_tree, field):
    """Three initiatives of Gang thép, two of Rạng Đông, one of Bia; an older snapshot (neither the
    latest nor kept), and the latest."""
    counts = {unit_tree.gang_thep: 3, unit_tree.rang_dong: 2, unit_tree.bia: 1}
    for unit, count in counts.items():
        InitiativeFactory.create_batch(
            count, program=program, unit=unit, field=field, status="submitted",
            submitted_at=timezone.now() - dt.timedelta(hours=3),
        )  # fmt: skip
    older, _ = leaderboard_snapshot(program=program, at=timezone.now() - dt.timedelta(hours=2))
    latest, _ = leaderboard_snapshot(program=program, at=timezone.now() - dt.timedelta(minutes=1))
    return older, latest


def rows_of(body: dict, level: str) -> list[tuple[int | None, str, int]]:
    block = next(block for block in body["blocks"] if block["level"] == level)
    return [(row["rank"], row["unit_code"], row["submitted"]) for row in block["rows"]]


def test_the_published_snapshots_are_the_latest_and_those_kept(client, snapshots) -> None:
    older, latest = snapshots
    assert [row["id"] for row in client.get(reverse("api:leaderboards")).json()] == [latest.pk]
    assert client.get(reverse("api:leaderboard", args=[older.pk])).status_code == 404
    pin(older, "Cuối quý 4/2022")
    listed = client.get(reverse("api:leaderboards"), {"limit": "1"}).json()  # a fresh key: not the cached answer
    assert [(row["id"], row["kept_because"]) for row in listed] == [(latest.pk, ""), (older.pk, "Cuối quý 4/2022")]
    assert client.get(reverse("api:leaderboard", args=[older.pk])).status_code == 200


def test_each_block_ranked_as_the_snapshot_counted(client, snapshots, unit_tree) -> None:
    body = client.get(reverse("api:leaderboard", args=[snapshots[1].pk])).json()
    assert body["snapshot"]["id"] == snapshots[1].pk and (body["phase"], body["field"], body["cluster"]) == (None,) * 3
    assert rows_of(body, Union.Level.TIER2) == [(1, "CTVN", 5), (2, "HN", 1)]
    assert rows_of(body, Union.Level.SUPERIOR)[0] == (1, "CTVN-THEP", 3)
    assert rows_of(body, Union.Level.GRASSROOTS)[:3] == [
        (1, "THEP-TISCO", 3),
        (2, "CTVN-RANGDONG", 2),
        (3, "HN-BIA", 1),
    ]
    block = next(block for block in body["blocks"] if block["level"] == "grassroots")
    assert block["name"] == "Khối công đoàn cơ sở"
    limited = client.get(reverse("api:leaderboard", args=[snapshots[1].pk]), {"limit": 1}).json()
    assert rows_of(limited, Union.Level.GRASSROOTS) == [(1, "THEP-TISCO", 3)]


def test_a_filter_that_names_nothing_is_refused_in_vietnamese(client, snapshots, program) -> None:
    url = reverse("api:leaderboard", args=[snapshots[1].pk])
    phase = program.phases.get(number=2)
    assert client.get(url, {"phase": phase.pk}).status_code == 200
    for params, message in (
        ({"phase": 999999}, "Không có giai đoạn nào của chương trình có mã số này."),
        ({"field": "abc"}, "Không có lĩnh vực nào có mã số này."),
        ({"cluster": 42}, "Không có cụm thi đua nào có mã số này."),
        ({"limit": 0}, "Số đơn vị mỗi khối là một số từ 1 đến 100."),
        ({"limit": 101}, "Số đơn vị mỗi khối là một số từ 1 đến 100."),
    ):
        response = client.get(url, params)
        assert (response.status_code, response.json()) == (400, {"detail": message}), params


def test_the_ranking_as_csv_and_xlsx_with_text_never_a_formula(client, snapshots, unit_tree) -> None:
    Union.objects.filter(pk=unit_tree.bia.pk).update(name='=HYPERLINK("http://x")')
    latest, _ = leaderboard_snapshot(program=snapshots[1].program, at=timezone.now())
    answer = client.get(reverse("api:leaderboard_csv", args=[latest.pk]))
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in answer["Content-Disposition"]
    text = answer.content.decode("utf-8")
    assert text.startswith("\ufeffKhối,Hạng,Hạng kỳ trước,Mã đơn vị,Đơn vị,")
    assert "Khối công đoàn cơ sở,1,1,THEP-TISCO,Công đoàn Công ty CP Gang thép Thái Nguyên,3," in text  # rank, previous
    assert "'=HYPERLINK" in text
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(reverse("api:leaderboard_xlsx", args=[latest.pk])).content))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][:5] == ("Khối", "Hạng", "Hạng kỳ trước", "Mã đơn vị", "Đơn vị")
    bia = next(row for row in rows if row[3] == "HN-BIA")
    assert bia[4] == '=HYPERLINK("http://x")'
    cell = next(c for row in workbook.active.iter_rows() for c in row if c.value == bia[4])
    assert cell.data_type == "s"  # text, not a formula


def test_a_leaderboard_runs_the_same_queries_for_ten_or_a_hundred_units_a_block(client, snapshots) -> None:
    current_program()
    url = reverse("api:leaderboard", args=[snapshots[1].pk])
    client.get(url, {"limit": 2})  # the snapshots and the filters' choices, cached as on a server up a minute
    counts = []
    for limit in (10, 100):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, {"limit": limit}).status_code == 200
        counts.append(len(captured))
    # the published snapshots (2), the history's check, the root as the snapshot saw it, each block's
    # rows and the previous ranks
    assert counts == [QUERIES_LEADERBOARD] * 2


QUERIES_LEADERBOARD = 9
