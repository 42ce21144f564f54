"""bench/pages.py as a smoke check on the demo data (issue 17): it starts gunicorn as production
runs it, logs every role in and measures every page against the bare page with wrk; here in its
smoke mode (one-second windows, four connections), so the figures mean nothing but every page must
answer 200 under load, the submissions must all be stored, and the report must be whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "home (anonymous)", "public list", "public search 'quy trinh'", "FAQ", "a public initiative",
    "national dashboard", "unit drill-down", "officer list (tier 2)", "officer search 'quy trinh'",
    "officer's initiative", "exports page", "admin review queue", "review queue, one field", "admin initiatives",
    "admin initiatives, valid", "officer's submission (POST)", "signed-in floor (guide page)",
    "API: leaderboard", "API: leaderboard CSV", "API: initiatives search",
}  # fmt: skip


@pytest.mark.slow
def test_the_page_bench_runs_every_page_on_the_demo_data(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "TEST_"))}
    report = tmp_path / "pages.json"
    run = subprocess.run(
        [sys.executable, "bench/pages.py", "--smoke", "--json", str(report)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "write paths through the services (rolled back): review, ms each" in run.stdout
    figures = {row["page"]["name"]: row for row in json.loads(report.read_text())}
    assert set(figures) == PAGES
    for name, row in figures.items():
        assert not row["failed"] and row["rate"] > 0 and row["bare_rate"] > 0, (name, row)
    submission = figures["officer's submission (POST)"]["extra"]
    assert submission["stored"] == submission["accepted"] > 0
