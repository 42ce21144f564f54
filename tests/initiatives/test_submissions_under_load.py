"""bench/submissions.py's smoke run (issue 13): officers submitting at once through gunicorn lose
nothing and store nothing twice, and the bench leaves no server or database behind."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from bench.submissions import check_stored
from initiatives.models import Initiative
from initiatives.services import AuthorData, initiative_submit

ROOT = Path(__file__).resolve().parent.parent.parent


def running(pid: int) -> str:
    """The command line of process `pid`, empty when there is none."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def submitted(title: str, *, program, field, officer) -> int:
    initiative = Initiative(
        program=program, unit=officer.unit, title=title, field=field, kind="technical", summary="Tóm tắt.",
        description="Mô tả.", first_applied_on=dt.date(2022, 3, 15),
    )  # fmt: skip
    authors = [AuthorData("Nguyễn Văn An", Decimal(60)), AuthorData("Trần Thị Bình", Decimal(40))]
    return initiative_submit(initiative=initiative, authors=authors, by=officer).pk


def test_the_bench_finds_each_accepted_submission_stored_once(program, field, officer) -> None:
    first = submitted("Tải thử abc 001-00000: một", program=program, field=field, officer=officer)
    second = submitted("Tải thử abc 001-00001: hai", program=program, field=field, officer=officer)
    submitted("Tải thử khác 001-00000: một", program=program, field=field, officer=officer)  # another run

    check = check_stored("abc", [("Tải thử abc 001-00000: một", first), ("Tải thử abc 001-00001: hai", second)])

    assert (check.accepted, check.stored, check.rows, check.authors, check.status_changes) == (2, 2, 2, 4, 2)
    assert check.ok


def test_the_bench_reports_lost_duplicated_unaccepted_and_misdirected_submissions(program, field, officer) -> None:
    one = submitted("Tải thử abc 001-00000: một", program=program, field=field, officer=officer)
    two = submitted("Tải thử abc 001-00001: hai", program=program, field=field, officer=officer)
    submitted("Tải thử abc 001-00001: hai", program=program, field=field, officer=officer)  # stored twice
    submitted("Tải thử abc 001-00002: ba", program=program, field=field, officer=officer)  # its answer was lost

    check = check_stored(
        "abc",
        [
            ("Tải thử abc 001-00000: một", two),  # redirected to another initiative's page
            ("Tải thử abc 001-00001: hai", two),
            ("Tải thử abc 001-00003: bốn", one + 1000),  # accepted, never stored
        ],
    )

    assert (check.accepted, check.stored, check.rows) == (3, 4, 4)
    assert (check.duplicate_titles, check.missing, check.unexpected, check.wrong_page) == (1, 1, 1, 1)
    assert not check.ok


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
