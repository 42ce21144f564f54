"""Migration leaderboard 0005 on the embedded SQLite database (`make run`): the figure versions lose
their quarter keys and the primary key its quarter column, every other version stays; back to 0004,
the column returns (0 everywhere) in the primary key again. (tests/test_upgrade.py checks it on
PostgreSQL, with the history a snapshot service wrote.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
