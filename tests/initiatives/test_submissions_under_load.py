"""bench/submissions.py's smoke run (issue 13): officers submitting at once through gunicorn lose
nothing and store nothing twice, and the bench leaves no server or database behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent


def running(pid: int) -> str:
    """The command line of process `pid`, empty when there is none."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.mark.slow
def test_under_load_every_accepted_submission_is_stored_once(tmp_path: Path) -> None:
    db = connection.settings_dict  # the test database's server: the bench makes a database of its own there
    server = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}"
    env = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    figures_file = tmp_path / "figures.json"
    command = [sys.executable, "bench/submissions.py", "--seconds", "2", "--officers", "5", "--rounds", "1",
               "--postgres", server, "--json", str(figures_file)]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)

    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    figures = json.loads(figures_file.read_text())
    check = figures["check"]
    assert check["stored"] == check["rows"] == check["accepted"] > 0
    assert (check["duplicate_titles"], check["missing"], check["unexpected"], check["wrong_page"]) == (0, 0, 0, 0)
    assert check["authors"] == 2 * check["accepted"] and check["status_changes"] == check["accepted"]
    assert figures["errors"] == {}
    assert figures["submissions"]["per_second"] > 0 and figures["floor"]["requests"] > 0
    assert "stored: " in result.stdout and ": OK" in result.stdout

    assert "gunicorn" not in running(figures["pids"]["gunicorn"])
    assert "redis-server" not in running(figures["pids"]["redis"])
    admin = psycopg2.connect(f"{server}/postgres")
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [figures["database"]])
            assert cursor.fetchone() == (0,)
    finally:
        admin.close()
