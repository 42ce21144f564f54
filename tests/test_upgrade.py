"""The upgrade from UPGRADE_FROM, the last commit before the models left `initiatives` for apps of
their own (questions, notifications, leaderboard, emulation), to this checkout loses nothing.

A database is built by the OLD code (git archive of UPGRADE_FROM, run in a subprocess):
`migrate`, `seed_demo`, then tests/upgrade_scripts/seed_old.py (questions, the outbox, an export
job, direct and group grants, admin history for a row of every model). Its state is read in plain
SQL, the NEW code (this checkout) runs `migrate` on it, and the state is read again. Then:

- no table is lost and none gains or loses rows (only migrate's own bookkeeping tables may grow);
- every content type keeps its id and resolves, with the new code, to an installed model with the
  same name and table (so no content type is left behind under an app label its model has left);
- every permission keeps its id, content type and codename; every group and user grant stays (the
  role groups gain only the permissions of models added since);
- every admin LogEntry keeps its content type and object and still finds its object;
- every leaderboard partition (and partition index) stays attached;
- the old snapshots are numbered (seq 1, 2, …) in the order of their instants, each pointing at the
  one before it as its `previous`;
- every old snapshot is given a history (leaderboard migration 0004) whose versions, ranked, are
  exactly its rows;
- the dashboard, found by its path, still renders the latest old snapshot for seed_demo's
  leadership account.

No check names a model that moves: the same test proves the move, and any later one.

Run it by hand (about 10 s; it needs PostgreSQL and a clone whose history holds UPGRADE_FROM, and
skips in a shallow one):

    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/sangkien_mine \\
        .venv/bin/python -m pytest tests/test_upgrade.py -m slow

It makes, and always drops, a database named after the test database: sangkien_mine_upgrade_<pid>.

The tests of the history migration at the end of the file need no old code: they make old snapshots
in the test database and run that one migration forwards and backwards (a second or so, on
PostgreSQL or SQLite).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.test import Client
from django.utils import timezone

from initiatives.models import Initiative, Target
from leaderboard import history
from leaderboard import snapshots as snapshots_service
from leaderboard.models import (
    OPEN,
    LeaderboardCounted,
    LeaderboardFigure,
    LeaderboardScale,
    LeaderboardSnapshot,
    LeaderboardState,
    LeaderboardUnitVersion,
    LeaderboardWeekFigure,
)
from leaderboard.snapshots import leaderboard_snapshot
from tests.factories import EmulationClusterFactory, FieldFactory, InitiativeFactory, TargetFactory
from tests.upgrade import (
    GROWING_TABLES,
    USER_GROUPS_TABLE,
    USER_PERMISSIONS_TABLE,
    DatabaseState,
    Server,
    code_at,
    django_environment,
    has_commit,
    latest_snapshot,
    manage,
    read_state,
    run_script,
    scratch_database,
    scratch_name,
)
from unions.models import Union

pytestmark = pytest.mark.slow

UPGRADE_FROM = "f6d5b850f511f768e486c6cd994d3e6075c666d2"

DASHBOARD_PATH = "/dashboard/"  # paths never change, whichever app serves them
LEADERSHIP_USER = "lanhdao"  # seed_demo's leadership account (its dashboard is its unit's subtree)
# Tables keep their names through the move (db_table): the latest snapshot and what it ranks.
SNAPSHOTS_TABLE = "initiatives_leaderboardsnapshot"
ROWS_TABLE = "initiatives_leaderboardrow"
UNITS_TABLE = "unions_union"
# Without rows in these, the proof would prove nothing about them.
MUST_HAVE_ROWS = (
    SNAPSHOTS_TABLE,
    "initiatives_exportjob",
    "initiatives_question",
    "initiatives_notification",
    "django_admin_log",
    USER_PERMISSIONS_TABLE,
    USER_GROUPS_TABLE,
)


@dataclass
class Upgrade:
    old: DatabaseState  # read before the new code's migrate
    new: DatabaseState  # read after it
    old_view: dict[str, Any]  # tests/upgrade_scripts/probe.py's answer with the old code, before
    new_view: dict[str, Any]  # ... and with the new code, after
    snapshot: dict[str, Any]  # the latest old snapshot: its instant and the units it ranks
    numbering: list[tuple[Any, ...]]  # every snapshot after the upgrade: (programme, id, seq, previous id), by instant
    # every old snapshot's rows against those rebuilt from the history it was given (none when the same)
    history: dict[int, list[tuple[Any, ...]]]


def _probe_question(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {"dashboard": {"path": DASHBOARD_PATH, "username": LEADERSHIP_USER, **snapshot}}


def _with_int_keys(answer: dict[str, Any]) -> dict[str, Any]:
    """JSON made the probe's ids strings."""
    return {
        **answer,
        "content_types": {int(pk): value for pk, value in answer["content_types"].items()},
        "log_entries": {int(pk): value for pk, value in answer["log_entries"].items()},
    }


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory: pytest.TempPathFactory) -> Upgrade:
    """The old code's database, upgraded by this checkout's migrations, seen before and after."""
    repository = Path(settings.BASE_DIR)
    if not has_commit(repository, UPGRADE_FROM):
        pytest.skip(f"the clone does not hold {UPGRADE_FROM} (a shallow clone?): `git fetch --unshallow` to run it")
    database = settings.DATABASES["default"]
    server = Server.from_settings(database)
    name = scratch_name(database["NAME"], os.getpid())
    media_root = tmp_path_factory.mktemp("upgrade") / "media"
    with code_at(repository, UPGRADE_FROM) as old_code, scratch_database(server, name):
        env = django_environment(server.url(name), media_root)
        manage(old_code, "migrate", "--no-input", "-v0", env=env)
        manage(old_code, "seed_demo", env=env)
        run_script(old_code, "seed_old.py", env, {})
        snapshot = latest_snapshot(server, name, SNAPSHOTS_TABLE, ROWS_TABLE, UNITS_TABLE)
        old_view = run_script(old_code, "probe.py", env, _probe_question(snapshot))
        old = read_state(server, name)  # after the probe: its login wrote a session

        manage(repository, "migrate", "--no-input", "-v0", env=env)
        new = read_state(server, name)
        numbering = _numbering(server, name)
        history = _history_differences(server, name)
        new_view = run_script(repository, "probe.py", env, _probe_question(snapshot))
    return Upgrade(old, new, _with_int_keys(old_view), _with_int_keys(new_view), snapshot, numbering, history)


def _history_differences(server: Server, name: str) -> dict[int, list[tuple[Any, ...]]]:
    connection = server.connect(name)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, program_id, seq FROM {SNAPSHOTS_TABLE}")
            found = {}
            for snapshot, program, seq in cursor.fetchall():
                cursor.execute(REBUILT_AGAINST_ROWS_SQL, {"program": program, "seq": seq, "snapshot": snapshot})
                found[snapshot] = cursor.fetchall()
            return found
    finally:
        connection.close()


def _numbering(server: Server, name: str) -> list[tuple[Any, ...]]:
    connection = server.connect(name)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT program_id, id, seq, previous_id FROM {SNAPSHOTS_TABLE} ORDER BY program_id, taken_at"
            )
            return cursor.fetchall()
    finally:
        connection.close()


def test_old_database_holds_everything_the_upgrade_must_keep(upgrade: Upgrade) -> None:
    empty = [table for table in MUST_HAVE_ROWS if not upgrade.old.row_counts.get(table)]
    assert not empty, f"the old database has no rows in {empty}: the proof would prove nothing about them"
    assert any(parent == ROWS_TABLE for parent, _child in upgrade.old.inheritance), "no leaderboard partition"
    assert upgrade.old.log_entries and all(error is None for error in upgrade.old_view["log_entries"].values())
    assert all(upgrade.old_view["content_types"].values()), "content types the old code itself cannot resolve"


def test_no_table_is_lost_and_none_changes_its_row_count(upgrade: Upgrade) -> None:
    old, new = upgrade.old.row_counts, upgrade.new.row_counts
    lost = sorted(set(old) - set(new))
    assert not lost, f"tables lost: {lost}"
    changed = {
        table: (count, new[table])
        for table, count in old.items()
        if (new[table] < count if table in GROWING_TABLES else new[table] != count)
    }
    assert not changed, f"row counts changed (old, new): {changed}"


def test_content_types_keep_their_ids_and_resolve_to_the_same_models(upgrade: Upgrade) -> None:
    lost = sorted(set(upgrade.old.content_types) - set(upgrade.new.content_types))
    assert not lost, f"content types deleted: {[upgrade.old.content_types[pk] for pk in lost]}"
    unresolved = {
        upgrade.new.content_types[pk]: pk for pk, model in upgrade.new_view["content_types"].items() if model is None
    }
    assert not unresolved, f"content types that no installed model answers to (app label, model → id): {unresolved}"
    moved_elsewhere = {
        upgrade.old.content_types[pk]: (model, upgrade.new_view["content_types"][pk])
        for pk, model in upgrade.old_view["content_types"].items()
        if upgrade.new_view["content_types"][pk] != model
    }
    assert not moved_elsewhere, f"content types now meaning another model or table (old, new): {moved_elsewhere}"


def test_permissions_keep_their_ids_content_types_and_codenames(upgrade: Upgrade) -> None:
    changed = {
        pk: (permission, upgrade.new.permissions.get(pk))
        for pk, permission in upgrade.old.permissions.items()
        if upgrade.new.permissions.get(pk) != permission
    }
    assert not changed, f"permissions changed or lost (old, new): {changed}"


def test_group_and_user_grants_are_kept_and_groups_gain_only_the_new_models(upgrade: Upgrade) -> None:
    old, new = upgrade.old.group_permissions, upgrade.new.group_permissions
    assert old <= new, f"group grants lost: {sorted(old - new)}"
    # A migration that adds a model grants its permissions to the role groups (quarter targets, the
    # honours rule): only permissions the old database did not have may be granted anew.
    added = {permission for _group, permission in new - old}
    existing = set(upgrade.old.permissions)
    assert not added & existing, f"permissions of the old database granted anew: {sorted(added & existing)}"
    assert upgrade.new.user_permissions == upgrade.old.user_permissions
    assert upgrade.new.user_groups == upgrade.old.user_groups


def test_admin_history_keeps_and_finds_its_objects(upgrade: Upgrade) -> None:
    assert upgrade.new.log_entries == upgrade.old.log_entries
    resolved_before = {pk for pk, error in upgrade.old_view["log_entries"].items() if error is None}
    broken = {
        upgrade.old.content_types[upgrade.old.log_entries[pk][0]]: error
        for pk, error in upgrade.new_view["log_entries"].items()
        if pk in resolved_before and error is not None
    }
    assert not broken, f"admin history that no longer finds its object: {broken}"


def test_leaderboard_partitions_stay_attached(upgrade: Upgrade) -> None:
    detached = sorted(upgrade.old.inheritance - upgrade.new.inheritance)
    assert not detached, f"partitions or partition indexes no longer attached (parent, child): {detached}"


def test_old_snapshots_are_numbered_in_the_order_of_their_instants(upgrade: Upgrade) -> None:
    assert len(upgrade.numbering) >= 2, "seed_demo's two snapshots are missing: the proof would prove nothing"
    expected: list[tuple[Any, ...]] = []
    previous: dict[int, tuple[int, int | None]] = {}
    for program, pk, _seq, _previous in upgrade.numbering:
        number, before = previous.get(program, (0, None))
        expected.append((program, pk, number + 1, before))
        previous[program] = (number + 1, pk)
    assert upgrade.numbering == expected


def test_old_snapshots_are_given_a_history_that_shows_them_as_they_were(upgrade: Upgrade) -> None:
    assert upgrade.history, "no old snapshot: the proof would prove nothing"
    assert upgrade.history == {snapshot: [] for snapshot in upgrade.history}


def test_dashboard_still_renders_the_latest_old_snapshot(upgrade: Upgrade) -> None:
    for code, view in (("old", upgrade.old_view["dashboard"]), ("new", upgrade.new_view["dashboard"])):
        assert view["status"] == 200, (
            f"{DASHBOARD_PATH} ({view['view']}) answered {view['status']} with the {code} code"
        )
        assert view["as_of"] and view["when"] in view["as_of"] and view["day"] in view["as_of"], (
            f"the {code} code's dashboard is not as of the latest snapshot ({view['when']} {view['day']}): "
            f"{view['as_of']!r}"
        )
        assert view["unit_names_shown"], f"the {code} code's dashboard shows none of the snapshot's units"


# --- The history of old snapshots (leaderboard migration 0004) -----------------------------------
#
# Snapshots taken before the history (migration 0003) kept ranked rows and weekly rows only. They are
# made here the way the service made them then (every snapshot a full recount, into its own
# partition) with the history the service now writes alongside erased, which leaves exactly what
# the old service left; then the migration executor runs 0004 forwards and backwards on them. The
# tests are transactional: migrations run outside a test's transaction, as they do in a deploy (and
# SQLite's schema editor refuses to run inside one).

HISTORY_MIGRATION = ("leaderboard", "0004_history_of_old_snapshots")
BEFORE_HISTORY = ("leaderboard", "0003_history")
WITHOUT_QUARTERS = ("leaderboard", "0005_figures_without_quarters")
LATEST = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes("leaderboard")[0]
# What a snapshot's rows hold, but their ids (which only number them).
ROW_COLUMNS = (
    "unit_id, phase_key, field_key, level, cluster_id, submitted, valid, value_vnd, participating, target, rank, "
    "cluster_rank"
)
HOT_WINDOW = 3  # the snapshots whose partitions later code keeps


def _migrate(target: tuple[str, str]) -> None:
    """Migrate the test database to `target` as `migrate` would."""
    MigrationExecutor(connection).migrate([target])


def _fetch(sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _rows(snapshot_id: int) -> list[tuple[Any, ...]]:
    return sorted(_fetch(f"SELECT {ROW_COLUMNS} FROM {ROWS_TABLE} WHERE snapshot_id = %s", [snapshot_id]), key=repr)


def _weeks(snapshot_id: int) -> list[tuple[Any, ...]]:
    return sorted(
        _fetch(
            "SELECT unit_id, week, field_id, submitted FROM initiatives_leaderboardweek WHERE snapshot_id = %s",
            [snapshot_id],
        ),
        key=repr,
    )


# A snapshot's rows rebuilt from the versions visible at its seq, ranked as the snapshot service
# ranks; compared with the rows it holds, EXCEPT both ways. (REBUILT_AT_0004_SQL: the same between
# 0004 and 0005, where the figure versions still hold the quarters' keys.)
_REBUILT_AGAINST_ROWS = f"""
WITH f AS (
    SELECT unit_id, phase_key, field_key, submitted, valid, value_vnd, participating
    FROM leaderboard_leaderboardfigure v
    WHERE v.program_id = %(program)s AND {{quarters}}v.first_seq <= %(seq)s AND v.last_seq >= %(seq)s
), u AS (
    SELECT unit_id, level, cluster_id, target FROM leaderboard_leaderboardunitversion v
    WHERE v.program_id = %(program)s AND v.first_seq <= %(seq)s AND v.last_seq >= %(seq)s
), rebuilt AS (
    SELECT f.unit_id, f.phase_key, f.field_key, u.level, u.cluster_id, f.submitted, f.valid, f.value_vnd,
           f.participating, u.target,
           RANK() OVER (PARTITION BY f.phase_key, f.field_key, u.level ORDER BY f.submitted DESC) AS rank,
           CASE WHEN u.cluster_id IS NOT NULL THEN RANK() OVER (
               PARTITION BY f.phase_key, f.field_key, u.level, u.cluster_id ORDER BY f.submitted DESC
           ) END AS cluster_rank
    FROM f JOIN u ON u.unit_id = f.unit_id
), old AS (
    SELECT {ROW_COLUMNS} FROM {ROWS_TABLE} WHERE snapshot_id = %(snapshot)s
)
SELECT 'only rebuilt', x.* FROM (SELECT * FROM rebuilt EXCEPT SELECT * FROM old) x
UNION ALL
SELECT 'only old', y.* FROM (SELECT * FROM old EXCEPT SELECT * FROM rebuilt) y
"""
REBUILT_AGAINST_ROWS_SQL = _REBUILT_AGAINST_ROWS.format(quarters="")
REBUILT_AT_0004_SQL = _REBUILT_AGAINST_ROWS.format(quarters="v.quarter_key = 0 AND ")


def _weeks_at(program_id: int, seq: int) -> list[tuple[Any, ...]]:
    return sorted(
        _fetch(
            "SELECT unit_id, week, CASE WHEN field_key = 0 THEN NULL ELSE field_key END, submitted "
            "FROM leaderboard_leaderboardweekfigure v "
            "WHERE v.program_id = %s AND v.first_seq <= %s AND v.last_seq >= %s",
            [program_id, seq, seq],
        ),
        key=repr,
    )


def _runs(values: list[Any]) -> int:
    """How many versions a key whose values, snapshot after snapshot, are `values` (None: no row)
    should have: one per run of equal values."""
    runs, before = 0, None
    for value in values:
        if value is not None and value != before:
            runs += 1
        before = value
    return runs


# The history's tables in 0003's shape, as the service of that time wrote them; a quarter key of 0
# in the figures (the service of 0005 and after writes none).
_HISTORY_TABLES = (
    ("leaderboard_leaderboardfigure", "program_id, unit_id, phase_key, field_key, first_seq, last_seq, submitted, "
     "valid, participating, value_vnd"),
    ("leaderboard_leaderboardweekfigure", "program_id, unit_id, week, field_key, first_seq, last_seq, submitted"),
    ("leaderboard_leaderboardunitversion", "program_id, unit_id, first_seq, last_seq, code, name, short_name, "
     "parent_id, level, cluster_id, depth, target"),
    ("leaderboard_leaderboardcounted", "program_id, initiative_id, first_seq, last_seq, unit_id, phase_key, "
     "field_key, week, quarter_key, valid, value_vnd"),
    ("leaderboard_leaderboardscale", "snapshot_id, level, submitted, rank"),
    ("leaderboard_leaderboardstate", "program_id, seq"),
)  # fmt: skip


def _old_snapshots(unit_tree: Any, program: Any, *, new_service: bool) -> Iterator[dict[str, Any]]:
    """Five snapshots as the service took them before the history: initiatives submitted and
    reviewed, a unit moved to another emulation cluster and targets changed between them, and one
    that nothing changed; every one keeps its rows, as before the hot window. Today's service takes
    them (each a full recount, as the old one counted) and rebuilds each one's ranked rows and
    weekly rows (materialize: the old service's ranking), then the database goes back to 0003,
    where 0004's reverse leaves exactly what the old service left: rows and weeks, no history.
    `new_service`: then a sixth, as the service of 0003's time took it with its history begun
    (a full recount after the old ones: every version from its seq), its history put back at 0003.
    The database goes back to the latest migration afterwards."""
    try:
        S = Initiative.Status
        phase1, phase2 = program.phases.order_by("number")
        technical, management = FieldFactory(name="Kỹ thuật"), FieldFactory(name="Quản lý")
        cluster_a, cluster_b = EmulationClusterFactory(name="Cụm A"), EmulationClusterFactory(name="Cụm B")
        Union.objects.filter(pk__in=[unit_tree.gang_thep.pk, unit_tree.bia.pk]).update(cluster=cluster_a)
        Union.objects.filter(pk=unit_tree.rang_dong.pk).update(cluster=cluster_b)
        TargetFactory(program=program, unit=unit_tree.cong_thuong, quantity=10)
        TargetFactory(program=program, unit=unit_tree.rang_dong, quantity=8)
        start = timezone.make_aware(dt.datetime(2022, 3, 1, 9))

        def add(unit: Any, n: int, phase: Any, field: Any, when: dt.datetime, status: str = S.SUBMITTED) -> list:
            return InitiativeFactory.create_batch(
                n, program=program, unit=unit, phase=phase, field=field, status=status, submitted_at=when,
                value_vnd=3_000_000 if status == S.VALID else None,
            )  # fmt: skip

        def snapshot(days: int) -> Any:
            return leaderboard_snapshot(program=program, at=start + dt.timedelta(days=days), full=True)[0]

        reviewed = add(unit_tree.gang_thep, 3, phase1, technical, start)
        add(unit_tree.bia, 2, phase1, management, start)
        add(unit_tree.rang_dong, 1, phase1, technical, start, S.VALID)
        taken = [snapshot(1)]
        # Rạng Đông submits two more, one of Gang thép's is found valid, Gang thép joins cluster B, and
        # Công Thương's target grows.
        add(unit_tree.rang_dong, 2, phase1, management, start + dt.timedelta(days=8))
        reviewed[0].status, reviewed[0].value_vnd = S.VALID, 10_000_000
        reviewed[0].save()
        Union.objects.filter(pk=unit_tree.gang_thep.pk).update(cluster=cluster_b)
        Target.objects.filter(program=program, unit=unit_tree.cong_thuong).update(quantity=12)
        taken.append(snapshot(10))
        # Bia submits in phase 2, Rạng Đông's target is withdrawn.
        add(unit_tree.bia, 1, phase2, technical, start + dt.timedelta(days=100))
        Target.objects.filter(program=program, unit=unit_tree.rang_dong).delete()
        taken.append(snapshot(120))
        # Another of Gang thép's is found valid.
        reviewed[1].status, reviewed[1].value_vnd = S.VALID, 2_000_000
        reviewed[1].save()
        taken.append(snapshot(121))
        taken.append(snapshot(122))  # nothing changed
        began: list[tuple[str, str, list[tuple[Any, ...]]]] = []
        new = None
        if new_service:
            # The service of 0003's time began its history with a full recount: no version before it.
            for model in (
                LeaderboardFigure, LeaderboardWeekFigure, LeaderboardUnitVersion, LeaderboardCounted, LeaderboardScale,
                LeaderboardState,
            ):  # fmt: skip
                model.objects.all().delete()
            InitiativeFactory(
                program=program, unit=unit_tree.bia, phase=phase2, field=technical, submitted_at=taken[-1].taken_at
            )
            new = leaderboard_snapshot(program=program, at=taken[-1].taken_at + dt.timedelta(days=1))[0]
            began = [(table, columns, _fetch(f"SELECT {columns} FROM {table}")) for table, columns in _HISTORY_TABLES]
        for kept in [*taken, *([new] if new else [])]:
            snapshots_service.materialize(kept)
        _migrate(BEFORE_HISTORY)  # 0004's reverse deletes the history, every snapshot keeps its rows
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {LeaderboardFigure._meta.db_table} ALTER COLUMN quarter_key SET DEFAULT 0")
            for table, columns, rows in began:
                marks = ", ".join(["%s"] * len(columns.split(",")))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
        yield {
            "program": program,
            "snapshots": taken,
            "new": new,
            "rows": {s.pk: _rows(s.pk) for s in taken},
            "weeks": {s.pk: _weeks(s.pk) for s in taken},
            "clusters": (cluster_a, cluster_b),
        }
    finally:
        _migrate(LATEST)


@pytest.fixture
def old_snapshots(unit_tree: Any, program: Any) -> Iterator[dict[str, Any]]:
    yield from _old_snapshots(unit_tree, program, new_service=False)


@pytest.fixture
def old_snapshots_and_a_new_one(unit_tree: Any, program: Any) -> Iterator[dict[str, Any]]:
    yield from _old_snapshots(unit_tree, program, new_service=True)


@pytest.mark.django_db(transaction=True)
def test_the_history_migration_keeps_every_old_snapshot_and_gives_it_back(
    old_snapshots: dict[str, Any], unit_tree: Any, leader: Any
) -> None:
    program, snapshots = old_snapshots["program"], old_snapshots["snapshots"]
    old_rows, old_weeks = old_snapshots["rows"], old_snapshots["weeks"]
    assert all(old_rows.values()) and all(old_weeks.values()), "old snapshots with nothing in them prove nothing"
    assert len({tuple(rows) for rows in old_rows.values()}) == 4, "the snapshots must differ (but the last)"

    _migrate(HISTORY_MIGRATION)

    # Every old snapshot is what the versions it sees say, ranks included; its weeks too.
    for snapshot in snapshots:
        differences = _fetch(REBUILT_AT_0004_SQL, {"program": program.pk, "seq": snapshot.seq, "snapshot": snapshot.pk})
        assert not differences, f"snapshot {snapshot.seq}: {differences}"
        assert _weeks_at(program.pk, snapshot.seq) == old_weeks[snapshot.pk], f"snapshot {snapshot.seq}"

    # One version per run of equal figures: a key that did not change keeps its version.
    figures: dict[tuple[int, int, int], list[Any]] = {}
    for i, snapshot in enumerate(snapshots):
        for unit, phase, field, _level, _cluster, *sums in old_rows[snapshot.pk]:
            figures.setdefault((unit, phase, field), [None] * len(snapshots))[i] = tuple(sums[:4])
    versions = Counter(LeaderboardFigure.objects.values_list("unit_id", "phase_key", "field_key"))
    assert versions == {key: _runs(values) for key, values in figures.items()}
    bia = LeaderboardFigure.objects.get(unit_id=unit_tree.bia.pk, phase_key=0, field_key=0, first_seq=1)
    assert bia.last_seq == 2  # Bia's figures stayed the same through snapshots 1 and 2
    unchanged = LeaderboardFigure.objects.filter(unit_id=unit_tree.rang_dong.pk, phase_key=0, field_key=0)
    assert list(unchanged.values_list("first_seq", "last_seq")) == [(1, 1), (2, OPEN)]

    # Units: a version when the cluster or the target changed, one otherwise.
    cluster_a, cluster_b = old_snapshots["clusters"]

    def unit_versions(unit: Any) -> list[tuple[Any, ...]]:
        return list(
            LeaderboardUnitVersion.objects.filter(unit_id=unit.pk)
            .order_by("first_seq")
            .values_list("first_seq", "last_seq", "cluster_id", "target")
        )

    assert unit_versions(unit_tree.gang_thep) == [(1, 1, cluster_a.pk, 0), (2, OPEN, cluster_b.pk, 0)]
    assert unit_versions(unit_tree.cong_thuong) == [(1, 1, None, 10), (2, OPEN, None, 12)]
    assert unit_versions(unit_tree.rang_dong) == [(1, 2, cluster_b.pk, 8), (3, OPEN, cluster_b.pk, 0)]
    assert unit_versions(unit_tree.thep) == [(1, OPEN, None, 0)]

    # Each snapshot's rank scale, from its own ranks; no state, so the next snapshot is a full recount.
    for snapshot in snapshots:
        scale = set(LeaderboardScale.objects.filter(snapshot=snapshot).values_list("level", "submitted", "rank"))
        expected: dict[tuple[str, int], int] = {}
        for _unit, phase, field, level, _cluster, submitted, *_rest, rank, _cluster_rank in old_rows[snapshot.pk]:
            if (phase, field) == (0, 0):
                expected[level, submitted] = min(rank, expected.get((level, submitted), rank))
        assert scale == {(level, submitted, rank) for (level, submitted), rank in expected.items()}
    assert not LeaderboardState.objects.exists()

    # Later code keeps the rows of the hot window only: the older snapshots lose theirs, and their weeks.
    older = snapshots[:-HOT_WINDOW]
    with connection.cursor() as cursor:
        for snapshot in older:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TABLE {ROWS_TABLE}_s{snapshot.pk}")
            else:
                cursor.execute(f"DELETE FROM {ROWS_TABLE} WHERE snapshot_id = %s", [snapshot.pk])
            cursor.execute("DELETE FROM initiatives_leaderboardweek WHERE snapshot_id = %s", [snapshot.pk])
    assert not any(_rows(snapshot.pk) for snapshot in older)

    _migrate(BEFORE_HISTORY)
    for snapshot in snapshots:
        assert _rows(snapshot.pk) == old_rows[snapshot.pk], f"snapshot {snapshot.seq}"
        assert _weeks(snapshot.pk) == old_weeks[snapshot.pk], f"snapshot {snapshot.seq}"
    assert not LeaderboardFigure.objects.exists() and not LeaderboardScale.objects.exists()
    if connection.vendor == "postgresql":
        # Rebuilt partitions are attached, with the same indexes as the partitions the service made.
        def indexes(snapshot: Any) -> list[str]:
            found = _fetch("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [f"{ROWS_TABLE}_s{snapshot.pk}"])
            # Names differ (PostgreSQL truncates a long one and numbers it): compare the rest.
            return sorted(re.sub(r"INDEX \S+ ON \S+", "INDEX · ON ·", definition) for (definition,) in found)

        expected = indexes(snapshots[-1])
        assert [indexes(snapshot) for snapshot in older] == [expected] * len(older)
        assert len(indexes(snapshots[-1])) == 3  # the primary key and the model's two indexes

    # Forwards again, and the dashboard renders the latest snapshot for the leadership (from its
    # ranked rows: it was taken before the current rows).
    _migrate(LATEST)
    client = Client()
    client.force_login(leader)
    response = client.get(DASHBOARD_PATH)
    assert response.status_code == 200
    page = response.content.decode()
    assert f"{timezone.localtime(snapshots[-1].taken_at):%d/%m/%Y}" in page
    assert unit_tree.rang_dong.name in page


@pytest.mark.django_db(transaction=True)
def test_the_history_migration_leaves_the_history_the_new_service_began_as_it_is(
    old_snapshots_and_a_new_one: dict[str, Any], unit_tree: Any
) -> None:
    """A database that took snapshots with the new service before 0004 ran (its first one a full
    recount, which began the history): the old snapshots get versions closed before it, the
    service's are left as they were."""
    program, snapshots = old_snapshots_and_a_new_one["program"], old_snapshots_and_a_new_one["snapshots"]
    new = old_snapshots_and_a_new_one["new"]
    began = set(LeaderboardFigure.objects.values_list("unit_id", "phase_key", "field_key", "first_seq"))
    assert {first_seq for *_key, first_seq in began} == {new.seq}

    _migrate(HISTORY_MIGRATION)
    for snapshot in [*snapshots, new]:
        differences = _fetch(REBUILT_AT_0004_SQL, {"program": program.pk, "seq": snapshot.seq, "snapshot": snapshot.pk})
        assert not differences, f"snapshot {snapshot.seq}: {differences}"
        assert _weeks_at(program.pk, snapshot.seq) == _weeks(snapshot.pk), f"snapshot {snapshot.seq}"
    kept = LeaderboardFigure.objects.filter(first_seq=new.seq)
    assert set(kept.values_list("unit_id", "phase_key", "field_key", "first_seq")) == began
    assert not LeaderboardFigure.objects.filter(first_seq__lt=new.seq, last_seq__gte=new.seq).exists()
    assert LeaderboardState.objects.get(program=program).seq == new.seq

    # 0005: the quarters' versions (the code of 0004's time wrote one per unit and quarter) go, the
    # primary key loses its quarter column, and every other version stays as it was.
    figure = LeaderboardFigure._meta.db_table
    columns = (
        "program_id, unit_id, phase_key, field_key, first_seq, last_seq, submitted, valid, participating, value_vnd"
    )
    versions = _fetch(f"SELECT {columns} FROM {figure} WHERE quarter_key = 0 ORDER BY 1, 2, 3, 4, 5")
    _fetch(
        f"INSERT INTO {figure} (program_id, unit_id, phase_key, field_key, quarter_key, first_seq, last_seq, "
        f"submitted, valid, participating, value_vnd) "
        f"SELECT program_id, unit_id, 0, 0, 20224, first_seq, last_seq, 1, 0, 1, 0 "
        f"FROM {figure} WHERE phase_key = 0 AND field_key = 0 RETURNING 1"
    )
    _migrate(WITHOUT_QUARTERS)
    assert _fetch(f"SELECT {columns} FROM {figure} ORDER BY 1, 2, 3, 4, 5") == versions
    assert _fetch(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)",
        [figure],
    ) == [("program_id",), ("unit_id",), ("phase_key",), ("field_key",), ("first_seq",)]
    # 0006: the snapshots taken before keep their ranked rows; the next counts everything into the
    # current rows, and the one after it counts incrementally.
    _migrate(LATEST)
    assert not LeaderboardSnapshot.objects.filter(hot=True).exists()
    first = leaderboard_snapshot(program=program, at=new.taken_at + dt.timedelta(hours=1))[0]
    hourly = leaderboard_snapshot(program=program, at=new.taken_at + dt.timedelta(hours=2))[0]
    assert (first.mode, hourly.mode) == ("full", "incremental")
    # A quarter's figures come from the mirror: the service's snapshots have one, the old ones none.
    quarter = LeaderboardCounted.objects.values_list("quarter_key", flat=True).first()
    counted = LeaderboardCounted.objects.filter(program_id=program.pk, quarter_key=quarter, last_seq=OPEN).count()
    assert history.quarter_figures(hourly, quarter_key=quarter)[unit_tree.root.pk][0] == counted > 0
    with pytest.raises(history.NoMirror):
        history.quarter_figures(snapshots[-1], quarter_key=quarter)

    # Back to 0005: the snapshots in the current rows are given their ranked rows and weekly rows
    # again (the code of that time reads them), exactly as they were, and the state goes.
    _migrate(WITHOUT_QUARTERS)
    assert not LeaderboardState.objects.exists()
    for snapshot in (first, hourly):
        differences = _fetch(
            REBUILT_AGAINST_ROWS_SQL, {"program": program.pk, "seq": snapshot.seq, "snapshot": snapshot.pk}
        )
        assert not differences and _rows(snapshot.pk), f"snapshot {snapshot.seq}: {differences}"
        assert _weeks_at(program.pk, snapshot.seq) == _weeks(snapshot.pk), f"snapshot {snapshot.seq}"
    # Back to 0004: its code would add an hour's change to quarter figures it no longer has, so the
    # state goes and its next snapshot counts everything.
    _migrate(HISTORY_MIGRATION)
    assert not LeaderboardState.objects.exists()
    assert _fetch(f"SELECT COUNT(*) FROM {figure} WHERE quarter_key <> 0") == [(0,)]
