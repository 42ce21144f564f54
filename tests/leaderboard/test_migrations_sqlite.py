"""Leaderboard migrations on the embedded SQLite database (`make run`). 0005: the figure versions
lose their quarter keys and the primary key its quarter column, every other version stays; back to
0004, the column returns (0 everywhere) in the primary key again. 0006: back to 0005, the snapshots
read from the current rows get their ranked rows back. (tests/test_upgrade.py checks both on
PostgreSQL, with the history a snapshot service wrote.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import run_outside, sqlite_copy

ROOT = Path(__file__).resolve().parent.parent.parent

SCRIPT = """
import json
import django
django.setup()
from django.core.management import call_command
from django.db import connection

TABLE = "leaderboard_leaderboardfigure"


def state():
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA table_info({TABLE})")
        columns = cursor.fetchall()
        cursor.execute(f"SELECT * FROM {TABLE} ORDER BY unit_id, phase_key, field_key")
        rows = cursor.fetchall()
    key = [name for _cid, name, _type, _notnull, _default, pk in sorted(columns, key=lambda c: c[5]) if pk]
    return {"columns": [c[1] for c in columns], "key": key, "rows": rows}


call_command("migrate", "leaderboard", "0004", verbosity=0)
with connection.cursor() as cursor:
    cursor.executemany(
        f"INSERT INTO {TABLE} (program_id, unit_id, phase_key, field_key, quarter_key, first_seq, last_seq, "
        f"submitted, valid, participating, value_vnd) VALUES (1, %s, %s, %s, %s, 1, 2147483647, %s, 1, 1, 5000000)",
        [(7, 0, 0, 0, 3), (7, 0, 0, 20221, 2), (7, 2, 0, 0, 1), (8, 0, 4, 0, 2)],
    )
before = state()
call_command("migrate", "leaderboard", verbosity=0)
after = state()
call_command("migrate", "leaderboard", "0004", verbosity=0)
print(json.dumps({"before": before, "after": after, "back": state()}))
"""


def test_0005_drops_the_quarter_keys_on_sqlite_and_gives_the_column_back(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "TEST_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env["DJANGO_SETTINGS_MODULE"] = "sangkien.settings"
    run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-4000:]
    states = json.loads(run.stdout.strip().splitlines()[-1])
    before, after, back = states["before"], states["after"], states["back"]
    assert before["key"] == ["program_id", "unit_id", "phase_key", "field_key", "quarter_key", "first_seq"]
    assert after["key"] == ["program_id", "unit_id", "phase_key", "field_key", "first_seq"]
    assert "quarter_key" not in after["columns"]
    # Every version but the quarter's, each column as it was.
    kept = [row for row in before["rows"] if row[4] == 0]
    assert after["rows"] == [[*row[:4], *row[5:]] for row in kept]
    assert back["key"] == before["key"] and back["columns"] == before["columns"]
    assert back["rows"] == kept


CURRENT_ROWS_SCRIPT = """
import json
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from leaderboard.models import LeaderboardSnapshot
from leaderboard.snapshots import rows_of

COLUMNS = ("unit_id, phase_key, field_key, level, cluster_id, submitted, valid, value_vnd, participating, target, "
           "rank, cluster_rank")
call_command("seed_demo", verbosity=0)
snapshots = list(LeaderboardSnapshot.objects.order_by("seq"))
read = {s.pk: sorted(map(list, rows_of(s).values_list(*COLUMNS.split(", ")))) for s in snapshots}
hot = [s.pk for s in snapshots if s.hot]
call_command("migrate", "leaderboard", "0005", verbosity=0)
ranked = {}
with connection.cursor() as cursor:
    for pk in read:
        cursor.execute(f"SELECT {COLUMNS} FROM initiatives_leaderboardrow WHERE snapshot_id = %s", [pk])
        ranked[pk] = sorted(map(list, cursor.fetchall()))
    cursor.execute("SELECT COUNT(*) FROM leaderboard_leaderboardstate")
    states = cursor.fetchone()[0]
call_command("migrate", "leaderboard", verbosity=0)
again = [s.hot for s in LeaderboardSnapshot.objects.order_by("seq")]
print(json.dumps({"read": read, "hot": hot, "ranked": ranked, "states": states, "again": again}))
"""


def test_0006_gives_the_snapshots_of_the_current_rows_their_ranked_rows_back_on_sqlite(
    tmp_path: Path, migrated_sqlite: Path
) -> None:
    """seed_demo's snapshots (`make run`) are read from the current rows; back to 0005, whose code
    reads ranked rows, each gets them rebuilt from its versions, equal to what the pages read,
    ranks included, and the history state goes (the next snapshot counts everything); forwards
    again, no snapshot is in the (new, empty) current rows."""
    run = run_outside(
        [sys.executable, "-c", CURRENT_ROWS_SCRIPT],
        {"DATABASE_URL": sqlite_copy(migrated_sqlite, tmp_path), "DJANGO_DEMO_DATA": "1"},
    )
    assert run.returncode == 0, run.stderr[-4000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(found["hot"]) == len(found["read"]) == 2, "seed_demo's two snapshots, both in the current rows"
    assert all(found["read"].values()), "snapshots with no rows prove nothing"
    assert found["ranked"] == found["read"]
    assert found["states"] == 0 and found["again"] == [False, False]
