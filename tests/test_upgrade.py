"""The upgrade from UPGRADE_FROM, the last commit before the models left `initiatives` for apps of
their own (questions, notifications, leaderboard, emulation), to this checkout loses nothing.

A database is built by the OLD code (git archive of UPGRADE_FROM, run in a subprocess):
`migrate`, `seed_demo`, then tests/upgrade_scripts/seed_old.py (questions, the outbox, an export
job, direct and group grants, admin history for a row of every model). Its state is read in plain
SQL, the NEW code (this checkout) runs `migrate` on it, and the state is read again. Then:

- no table is lost and none gains or loses rows (only migrate's own bookkeeping tables may grow);
- every content type keeps its id and resolves, with the new code, to an installed model with the
  same name and table (so no content type is left behind under an app label its model has left);
- every permission keeps its id, content type and codename; every group and user grant stays;
- every admin LogEntry keeps its content type and object and still finds its object;
- every leaderboard partition (and partition index) stays attached;
- the old snapshots are numbered (seq 1, 2, …) in the order of their instants, each pointing at the
  one before it as its `previous`;
- the dashboard, found by its path, still renders the latest old snapshot for seed_demo's
  leadership account.

No check names a model that moves: the same test proves the move, and any later one.

Run it by hand (about 10 s; it needs PostgreSQL and a clone whose history holds UPGRADE_FROM, and
skips in a shallow one):

    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/sangkien_mine \\
        .venv/bin/python -m pytest tests/test_upgrade.py -m slow

It makes, and always drops, a database named after the test database: sangkien_mine_upgrade_<pid>.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

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
        new_view = run_script(repository, "probe.py", env, _probe_question(snapshot))
    return Upgrade(old, new, _with_int_keys(old_view), _with_int_keys(new_view), snapshot, numbering)


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


def test_group_and_user_grants_are_unchanged(upgrade: Upgrade) -> None:
    assert upgrade.new.group_permissions == upgrade.old.group_permissions
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
