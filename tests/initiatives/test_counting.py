"""The counting rule and the roll-up (initiatives.counting), on their edge cases, and the
dashboard, the leaderboard snapshot and the emulation workbook agreeing with them on a small
random tree."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import openpyxl
import pytest
from django.db import connection
from django.utils import timezone

from emulation.workbook import ExportRequest, write_workbook
from initiatives import counting
from initiatives.models import Initiative, Program
from leaderboard import dashboard as board
from leaderboard.snapshots import leaderboard_snapshot, rows_of
from tests.factories import FieldFactory, InitiativeFactory, UnionFactory
from unions.models import Union

pytestmark = pytest.mark.django_db

S = Initiative.Status
INSTANT = timezone.make_aware(dt.datetime(2022, 9, 30, 17, 0))
SECOND = dt.timedelta(seconds=1)


def figures_in_sql(program: Program, as_of: dt.datetime) -> tuple[int, int, int]:
    """The programme's figures counted with the raw SQL fragments, as the snapshot and the workbook do."""
    submitted, submitted_params = counting.submitted_sql(alias="i", by=as_of)
    valid, valid_params = counting.valid_sql(alias="i")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN {valid} THEN 1 ELSE 0 END), 0), "
            f"COALESCE(SUM(CASE WHEN {valid} THEN COALESCE(i.value_vnd, 0) ELSE 0 END), 0) "
            f"FROM {Initiative._meta.db_table} i WHERE i.program_id = %s AND {submitted}",
            [*valid_params, *valid_params, program.pk, *submitted_params],
        )
        return tuple(int(n) for n in cursor.fetchone())


def figures_in_orm(program: Program, as_of: dt.datetime) -> tuple[int, int, int]:
    counted = counting.counted_initiatives(program_id=program.pk, as_of=as_of).aggregate(**counting.figures())
    return counted["submitted"], counted["valid"], counted["value_vnd"]


def test_the_rule_counts_what_was_submitted_by_the_instant_and_the_value_of_the_valid_only(unit_tree, program):
    unit = unit_tree.gang_thep

    def add(status: str, submitted_at: dt.datetime | None, value: int | None = None) -> None:
        InitiativeFactory(program=program, unit=unit, status=status, submitted_at=submitted_at, value_vnd=value)

    add(S.DRAFT, None, 1)  # a draft never counts…
    add(S.DRAFT, INSTANT - SECOND, 2)  # …even one that was submitted once and came back as a draft
    add(S.SUBMITTED, INSTANT, 4)  # submitted at the very instant: counts, its value does not (not valid)
    add(S.VALID, INSTANT + SECOND, 8)  # after the instant: not yet
    add(S.VALID, INSTANT - SECOND, 16)  # valid: counts, and so does its value
    add(S.VALID, INSTANT - SECOND, None)  # valid without a value: counts as valid, adds nothing
    add(S.RETURNED, INSTANT - SECOND, 32)  # returned and rejected were submitted: counted, not their value
    add(S.REJECTED, INSTANT - SECOND, 64)

    expected = (5, 2, 16)
    assert figures_in_orm(program, INSTANT) == expected
    assert figures_in_sql(program, INSTANT) == expected
    assert figures_in_orm(program, INSTANT + SECOND) == figures_in_sql(program, INSTANT + SECOND) == (6, 3, 24)
    assert figures_in_orm(program, INSTANT - SECOND) == figures_in_sql(program, INSTANT - SECOND) == (4, 2, 16)
    # Without an instant (the home page's live count), every initiative that is not a draft counts.
    assert Initiative.objects.filter(counting.submitted()).count() == 6
    assert Initiative.objects.filter(counting.valid()).count() == 3


def test_the_roll_up_sums_each_units_children_level_by_level(unit_tree):
    """Own figures at several levels and under two keys; after the roll-up a unit's rows add up
    to its whole subtree's, at every level, and nothing is added above `top`."""
    tree = unit_tree
    own = {  # unit: {key: figure}
        tree.gang_thep: {1: 1, 2: 10},
        tree.rang_dong: {1: 100},
        tree.thep: {1: 1000},  # a superior-level union's own initiatives
        tree.bia: {2: 10000},
    }
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE t_up (unit_id bigint, k integer, n bigint, depth integer)")
        for unit, by_key in own.items():
            for key, n in by_key.items():
                cursor.execute("INSERT INTO t_up VALUES (%s, %s, %s, %s)", [unit.pk, key, n, unit.depth])
        cursor.execute("SELECT MAX(depth) FROM t_up")
        counting.roll_up(cursor, table="t_up", keys=["k"], sums=["n"], deepest=cursor.fetchone()[0], top=1)
        cursor.execute("SELECT unit_id, k, SUM(n) FROM t_up GROUP BY unit_id, k")
        rolled = {(unit_id, key): int(n) for unit_id, key, n in cursor.fetchall()}
        cursor.execute("DROP TABLE t_up")
    assert rolled == {
        (tree.gang_thep.pk, 1): 1,
        (tree.gang_thep.pk, 2): 10,
        (tree.thep.pk, 1): 1001,
        (tree.thep.pk, 2): 10,
        (tree.rang_dong.pk, 1): 100,
        (tree.cong_thuong.pk, 1): 1101,
        (tree.cong_thuong.pk, 2): 10,
        (tree.bia.pk, 2): 10000,
        (tree.ha_noi.pk, 2): 10000,
        (tree.root.pk, 1): 1101,
        (tree.root.pk, 2): 10010,
    }


def test_the_roll_up_stops_at_top(unit_tree):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE t_up (unit_id bigint, n bigint, depth integer)")
        cursor.execute("INSERT INTO t_up VALUES (%s, 1, %s)", [unit_tree.gang_thep.pk, unit_tree.gang_thep.depth])
        counting.roll_up(cursor, table="t_up", keys=[], sums=["n"], deepest=4, top=2)
        cursor.execute("SELECT unit_id FROM t_up ORDER BY depth")
        reached = [unit_id for (unit_id,) in cursor.fetchall()]
        cursor.execute("DROP TABLE t_up")
    assert reached == [unit_tree.cong_thuong.pk, unit_tree.thep.pk, unit_tree.gang_thep.pk]


# -- agreement on a random tree ------------------------------------------------------------------


def random_tree(rng: random.Random, root: Union) -> list[Union]:
    """Tier-2 units, superior-level unions and grassroots unions under them, some grassroots
    unions straight under a tier-2 unit; returns every unit, the root first."""
    units = [root]
    for t in range(rng.randint(2, 3)):
        tier2 = UnionFactory(code=f"R{t}", level=Union.Level.TIER2, parent=root)
        units.append(tier2)
        for s in range(rng.randint(0, 2)):
            superior = UnionFactory(code=f"R{t}-S{s}", level=Union.Level.SUPERIOR, parent=tier2)
            units.append(superior)
            units += [UnionFactory(code=f"R{t}-S{s}-G{g}", parent=superior) for g in range(rng.randint(1, 3))]
        units += [UnionFactory(code=f"R{t}-G{g}", parent=tier2) for g in range(rng.randint(0, 2))]
    return units


def random_initiatives(rng: random.Random, program: Program, units: list[Union], fields: list) -> list[Initiative]:
    """Initiatives of random status, value, field and time around the instant, most of them in
    grassroots unions, a few in the units above."""
    grassroots = [unit for unit in units if unit.level == Union.Level.GRASSROOTS]
    made = []
    for _ in range(80):
        status = rng.choice(list(S))
        when = INSTANT + rng.choice([-86400, -60, -1, 0, 0, 1, 3600]) * SECOND
        made.append(
            InitiativeFactory(
                program=program,
                unit=rng.choice(grassroots if rng.random() < 0.85 else units),
                field=rng.choice(fields),
                phase=rng.choice([None, *program.phases.all()]),
                status=status,
                submitted_at=None if status == S.DRAFT and rng.random() < 0.7 else when,
                value_vnd=rng.choice([None, 0, rng.randrange(1, 10**9)]),
            )
        )
    return made


def expected_figures(initiatives: list[Initiative], unit: Union, *, field=None) -> tuple[int, int, int]:
    """The rule, written out in Python over the unit's subtree."""
    counted = [
        i
        for i in initiatives
        if i.status != S.DRAFT
        and i.submitted_at <= INSTANT
        and i.unit.path.startswith(unit.path)
        and (field is None or i.field_id == field.pk)
    ]
    valid = [i for i in counted if i.status == S.VALID]
    return len(counted), len(valid), sum(i.value_vnd or 0 for i in valid)


def workbook_figures(path: Path) -> dict[str, tuple[int, int, int]]:
    """Each unit's submitted, valid and value columns, by code (the columns' places, whatever the language)."""
    result = {}
    for sheet in openpyxl.load_workbook(path).worksheets[1:]:
        for row in list(sheet.iter_rows(values_only=True))[1:]:
            result[row[0]] = (int(row[6]), int(row[7]), int(row[12]))
    return result


@pytest.mark.parametrize("seed", [14, 2022])
def test_the_dashboard_the_snapshot_and_the_workbook_count_by_the_same_rule(unit_tree, program, seed, tmp_path):
    rng = random.Random(seed)
    fields = [FieldFactory(name="Kỹ thuật", position=1), FieldFactory(name="Quản lý", position=2)]
    units = random_tree(rng, unit_tree.root)
    initiatives = random_initiatives(rng, program, units, fields)
    everything = [*units, *Union.objects.exclude(pk__in=[unit.pk for unit in units])]

    # The snapshot: each unit's stored figures, whole programme and all fields.
    snapshot, _created = leaderboard_snapshot(program=program, at=INSTANT)
    stored = {
        unit_id: (submitted, valid, value)
        for unit_id, submitted, valid, value in rows_of(snapshot)
        .filter(phase_key=0, field_key=0)
        .values_list("unit_id", "submitted", "valid", "value_vnd")
    }
    for unit in everything:
        assert stored.get(unit.pk, (0, 0, 0)) == expected_figures(initiatives, unit), unit.code

    # The workbook: every unit under the Confederation.
    path = tmp_path / "thi-dua.xlsx"
    write_workbook(ExportRequest(program=program, scope=unit_tree.root, as_of=INSTANT), path)
    written = workbook_figures(path)
    assert set(written) == {unit.code for unit in everything if unit.parent_id is not None}
    for unit in everything:
        if unit.parent_id is not None:
            assert written[unit.code] == expected_figures(initiatives, unit), unit.code

    # The dashboard, narrowed to a field: the blocks above grassroots read the snapshot's rows,
    # grassroots units are counted live from the initiatives.
    snaps = board.Snapshots(snapshot, None)
    for field in fields:
        rankings = board.block_rankings(snaps=snaps, scope=unit_tree.root, filters=board.Filters(field=field), limit=99)
        shown = {s.unit.pk: (s.submitted, s.valid, s.value_vnd) for block in rankings.values() for s in block}
        for unit in everything:
            if unit.parent_id is not None:
                assert shown.get(unit.pk, (0, 0, 0)) == expected_figures(initiatives, unit, field=field), unit.code
    # A unit's page: its whole-programme line and its figures by field (live for grassroots units).
    for unit in everything:
        figures = board.unit_figures(snaps=snaps, unit=unit, filters=board.Filters(), fields=fields)
        overall = figures.overall
        assert (overall.submitted, overall.valid, overall.value_vnd) == expected_figures(initiatives, unit)
        by_field = {field.pk: (submitted, valid) for field, submitted, valid in figures.by_field}
        for field in fields:
            assert by_field[field.pk] == expected_figures(initiatives, unit, field=field)[:2], (unit.code, field)
