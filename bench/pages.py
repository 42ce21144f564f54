"""Every page under a real server (issue 17): gunicorn as production runs it, `wrk` as the load,
each page weighed against a bare page in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sangkien_scale .venv/bin/python bench/pages.py
    .venv/bin/python bench/pages.py --seconds 1 --rounds 1          # smoke run on the demo data

With DATABASE_URL (the national data set of `seed_scale`, bench/README §1) it uses that database and
keeps it; without, it creates a database of its own, migrates it, loads the demo data and drops it at
the end. Either way it adds what the pages need and the data set may lack (a leaderboard snapshot,
an answered question, the bench's three accounts: an officer of the tier-2 unit with the most
initiatives, a national reviewer and national leadership, password `SangKien@2022`), starts a
redis-server of its own (the cache and the broker) and gunicorn as docker-compose.yml does (DEBUG
off, `--workers` sync workers, default 2), logs each role in through the login form, and checks that
each page answers 200 with what that page shows. Then, page by page, it runs `wrk -t2 -c16` for
`--seconds` on the page and on the bare page (`/livez/`: Django's middleware and a small template,
no database) in alternating windows, `--rounds` times each way, so the machine's drift touches both
alike. The officer's submission is a POST that needs a form page of its own (a one-time token), so
it is driven by 16 client threads instead of wrk (the form's GET is timed apart and its cost is in
the rate); the initiatives it stores are checked (stored = accepted) and deleted again.

It prints, for each page: requests per second, p50 and p99, the CPU each request cost in gunicorn
and in PostgreSQL, the ratio of its rate to the bare page's, and the issue's target for the ratio.
The exit status is 1 when a page answered anything but 200 under load or a submission was lost.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import submissions as load  # the servers, the HTTP client and the submission of bench/submissions.py

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = load.PASSWORD
WRK_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


# --- the pages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    name: str
    role: str  # "anonymous", "officer", "reviewer" or "leadership"
    path: str
    shows: str  # a text the page must contain (so that a login page or an empty list is no success)
    target: float  # the floor for rate ÷ bare page rate
    group: str


@dataclass
class Targets:
    """What the pages are about in this data set."""

    officer_unit: str  # code
    officer_detail: int
    public_detail: int
    public_title: str
    field: int
    snapshot: int  # the latest leaderboard snapshot (published: the API's leaderboard)


def pages(t: Targets) -> list[Page]:
    public, dashboard, officer, admin = 0.40, 0.40, 0.20, 0.10
    return [
        Page("home (anonymous)", "anonymous", "/", "Sáng kiến", public, "public"),
        Page("public list", "anonymous", "/sang-kien/", "sáng kiến", public, "public"),
        Page("public search 'quy trinh'", "anonymous", "/sang-kien/?q=quy+trinh", "sáng kiến", public, "public"),
        Page("FAQ", "anonymous", "/hoi-dap/", "Hỏi", public, "public"),
        Page(
            "a public initiative", "anonymous", f"/sang-kien/{t.public_detail}/", t.public_title[:20], public, "public"
        ),
        # Not in the table: the cheapest page an account signed in sees (the session, the
        # account and the layout, one query of its own), the floor of every signed-in page below.
        Page("signed-in floor (guide page)", "officer", "/trang/huong-dan/", "Hướng dẫn", 0.0, "floor"),
        Page("national dashboard", "leadership", "/dashboard/", "Bảng", dashboard, "dashboard"),
        Page(
            "unit drill-down",
            "leadership",
            f"/dashboard/unit/{t.officer_unit}/",
            t.officer_unit,
            dashboard,
            "dashboard",
        ),
        Page("officer list (tier 2)", "officer", "/initiatives/", "sáng kiến", officer, "officer"),
        Page("officer search 'quy trinh'", "officer", "/initiatives/?q=quy+trinh", "sáng kiến", officer, "officer"),
        Page("officer's initiative", "officer", f"/initiatives/{t.officer_detail}/", "Tác giả", officer, "officer"),
        Page("exports page", "reviewer", "/exports/", "Xuất", officer, "officer"),
        Page("admin review queue", "reviewer", "/admin/initiatives/reviewqueue/", "result_list", admin, "admin"),
        Page(
            "review queue, one field",
            "reviewer",
            f"/admin/initiatives/reviewqueue/?field__id__exact={t.field}",
            "result_list",
            admin,
            "admin",
        ),
        Page("admin initiatives", "reviewer", "/admin/initiatives/initiative/", "result_list", admin, "admin"),
        Page(
            "admin initiatives, valid",
            "reviewer",
            "/admin/initiatives/initiative/?status__exact=valid",
            "result_list",
            admin,
            "admin",
        ),
        # The open-data API (issue 21): its public leaderboard, the public pages' target; the bench's
        # server lifts the per-address rate limit (every wrk connection comes from 127.0.0.1), whose
        # cache read and write each request still pays.
        Page("API: leaderboard", "anonymous", f"/api/v1/leaderboards/{t.snapshot}/", '"blocks"', public, "api"),
        Page(
            "API: leaderboard CSV",
            "anonymous",
            f"/api/v1/leaderboards/{t.snapshot}/bang-xep-hang.csv",
            "Khối",
            public,
            "api",
        ),
        Page("API: initiatives search", "anonymous", "/api/v1/initiatives/?q=quy+trinh", '"results"', public, "api"),
    ]


SUBMISSION = Page("officer's submission (POST)", "officer", "/initiatives/new/", "", 0.10, "write")
BARE = "/livez/"


# --- wrk ------------------------------------------------------------------------------------------


@dataclass
class Run:
    requests: int
    seconds: float
    p50: float  # seconds
    p99: float
    bad: int  # answers other than 2xx/3xx, and socket errors and timeouts
    server_cpu: float
    database_cpu: float


def wrk(site: load.Site, path: str, cookies: str, seconds: int, connections: int, cpu: load.CpuMeter) -> Run:
    command = [
        "wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--timeout", "60s", "--latency",
        "-H", f"Host: 127.0.0.1:{site.port}", "-H", "X-Forwarded-Proto: https",
    ]  # fmt: skip
    if cookies:
        command += ["-H", f"Cookie: {cookies}"]
    server_before, database_before = cpu.sample()
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{site.port}{path}"], capture_output=True, text=True, timeout=seconds + 120
    )
    drain(site)
    server_after, database_after = cpu.sample()
    if output.returncode != 0:
        raise RuntimeError(f"wrk failed: {output.stderr or output.stdout}")
    text = output.stdout
    found = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", text)
    if found is None:
        raise RuntimeError(f"wrk printed no count: {text}")

    def percent(q: str) -> float:
        match = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s|m)", text, re.M)
        return float(match[1]) * WRK_UNITS[match[2]] if match else float("nan")

    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return Run(
        requests=int(found[1]),
        seconds=float(found[2]) * WRK_UNITS[found[3]],
        p50=percent("50"),
        p99=percent("99"),
        bad=(int(non_2xx[1]) if non_2xx else 0) + (sum(int(n) for n in errors.groups()) if errors else 0),
        server_cpu=load.CpuMeter.spent(server_before, server_after),
        database_cpu=load.CpuMeter.spent(database_before, database_after),
    )


def drain(site: load.Site) -> None:
    """Wait until the requests a window left queued in gunicorn's backlog are answered (wrk stops
    sending at its deadline; the workers are still busy), so that they count against this window's
    CPU and not against the next window's rate."""
    for _ in range(2):
        site.request("GET", BARE)


@dataclass
class Measured:
    page: Page
    runs: list[Run] = field(default_factory=list)
    bare: list[Run] = field(default_factory=list)
    checked: str = ""  # what went wrong outside wrk's counts (a page that changed under load)
    extra: dict[str, object] = field(default_factory=dict)

    @staticmethod
    def rate(runs: list[Run]) -> float:
        seconds = sum(r.seconds for r in runs)
        return sum(r.requests for r in runs) / seconds if seconds else 0.0

    @property
    def ratio(self) -> float:
        bare = self.rate(self.bare)
        return self.rate(self.runs) / bare if bare else 0.0

    def p(self, which: str) -> float:
        """The worst window's percentile: wrk gives no samples to merge."""
        return max((getattr(r, which) for r in self.runs), default=float("nan"))

    def cpu_ms(self, which: str, runs: list[Run] | None = None) -> float:
        runs = self.runs if runs is None else runs
        return 1000 * sum(getattr(r, which) for r in runs) / max(1, sum(r.requests for r in runs))

    @property
    def ok(self) -> bool:
        return not self.checked and not any(r.bad for r in self.runs) and self.ratio >= self.page.target

    @property
    def failed(self) -> bool:
        """Errors, not slowness: a page below its target still has its figures."""
        return bool(self.checked or any(r.bad for r in self.runs))


# --- the data set ---------------------------------------------------------------------------------


def prepare(own_database: bool) -> Targets:
    """Accounts, a snapshot and an answered question where the data set lacks them; the targets."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Count
    from django.utils import timezone

    from initiatives.models import Initiative
    from initiatives.selectors import current_program
    from leaderboard.models import LeaderboardSnapshot
    from leaderboard.tasks import snapshot_leaderboard
    from questions.models import Question
    from unions.models import Union, User
    from unions.permissions import LEADERSHIP_GROUP, REVIEWERS_GROUP, ensure_role_groups

    if own_database:
        from django.core.management import call_command

        call_command("seed_demo", "--allow-production", verbosity=0)
    program = current_program()
    if program is None:
        raise RuntimeError("the database has no programme: build it with seed_scale (bench/README §1)")
    # The tier-2 unit with the most initiatives under it: the officer's heaviest list.
    tier2 = list(Union.objects.filter(level=Union.Level.TIER2).only("pk", "path", "code"))
    counts = {u.code: Initiative.objects.filter(unit__path__startswith=u.path).count() for u in tier2}
    code = max(counts, key=counts.__getitem__)
    unit = Union.objects.get(code=code)
    ensure_role_groups(Group, Permission)
    password = make_password(PASSWORD)
    accounts = {
        "officer": ("bench.canbo", unit, None),
        "reviewer": ("bench.bancspl", None, REVIEWERS_GROUP),
        "leadership": ("bench.lanhdao", None, LEADERSHIP_GROUP),
    }
    for username, home, group in accounts.values():
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={"unit": home, "password": password, "is_active": True, "is_staff": group is not None,
                      "first_name": "Đo tải", "last_name": "Bench"},
        )  # fmt: skip
        user.groups.set(Group.objects.filter(name=group))
    if not LeaderboardSnapshot.objects.filter(program=program).exists():
        snapshot_leaderboard()
    if not Question.objects.filter(is_public=True, answered_at__isnull=False).exists():
        asker = User.objects.get(username="bench.canbo")
        Question.objects.create(
            unit=unit, asked_by=asker, subject="Sáng kiến đã áp dụng ở đơn vị khác có được gửi lại không?",
            body="Đơn vị chúng tôi áp dụng lại một giải pháp của đơn vị bạn.", answer="Không, trừ khi có cải tiến mới.",
            answered_at=timezone.now(), is_public=True,
        )  # fmt: skip
    mine = Initiative.objects.filter(unit__path__startswith=unit.path).exclude(status=Initiative.Status.DRAFT)
    detail = mine.order_by("-pk").values_list("pk", flat=True).first()
    public = (
        Initiative.objects.filter(program=program, status=Initiative.Status.VALID, is_confidential=False)
        .order_by("-pk")
        .values_list("pk", "title")
        .first()
    )
    field_id = Initiative.objects.filter(program=program).values("field").annotate(n=Count("pk")).order_by("-n")[0]
    if detail is None or public is None:
        raise RuntimeError("the data set has no initiative to show")
    latest = LeaderboardSnapshot.objects.filter(program=program).order_by("-taken_at").values_list("pk", flat=True)
    return Targets(officer_unit=code, officer_detail=detail, public_detail=public[0], public_title=public[1],
                   field=field_id["field"], snapshot=latest[0])  # fmt: skip


@contextmanager
def database(args: argparse.Namespace) -> Iterator[tuple[str, bool]]:
    given = os.environ.get("DATABASE_URL")
    with load.bench_database(args.postgres, given) as (url, _name):
        yield url, not given


# --- the roles ------------------------------------------------------------------------------------


def log_in(site: load.Site, username: str) -> load.Officer:
    account = load.Officer(0, username, [])
    page = site.request("GET", "/accounts/login/", officer=account)
    token = load.TOKEN.search(page.body)
    if page.status != 200 or token is None:
        raise RuntimeError(f"{username}: the login page answered {page.status}")
    fields = {"csrfmiddlewaretoken": token[1], "username": username, "password": PASSWORD}
    answer = site.post("/accounts/login/", account, fields)
    if answer.status != 302 or "/accounts/login/" in answer.location:
        raise RuntimeError(f"{username} could not log in: {answer.status} {answer.body[:300]}")
    return account


def cookie_header(account: load.Officer | None) -> str:
    return "; ".join(f"{k}={v}" for k, v in account.cookies.items()) if account else ""


def check_page(site: load.Site, page: Page, account: load.Officer | None) -> str:
    """'' when the page answers 200 with what it shows, else what it answered."""
    answer = site.request("GET", page.path, officer=account)
    if answer.status != 200:
        return f"{page.path} answered {answer.status} {answer.location}"
    if page.shows.lower() not in answer.body.lower():
        return f"{page.path} does not show {page.shows!r}"
    return ""


# --- the submission -------------------------------------------------------------------------------


def prefetch_forms(site: load.Site, officers: list[load.Officer], count: int) -> dict[int, list[tuple[str, str]]]:
    """Each client's `count` form pages, fetched before a window and untimed: the window then
    measures the POST alone (each initiative still comes from a form page of its own)."""
    forms: dict[int, list[tuple[str, str]]] = {o.number: [] for o in officers}

    def fetch(officer: load.Officer) -> None:
        for _ in range(count):
            page = load.fetch_form(site, officer)
            if page.status == 200 and officer.once:
                forms[officer.number].append((officer.token, officer.once))

    threads = [threading.Thread(target=fetch, args=(officer,), daemon=True) for officer in officers]
    for thread in threads:
        thread.start()
    load.join_all(threads, time.perf_counter() + 600)
    return forms


def submit_window(
    site: load.Site,
    officers: list[load.Officer],
    seconds: int,
    cpu: load.CpuMeter,
    run: str,
    seeded: dict,
    forms: dict[int, list[tuple[str, str]]],
) -> tuple[Run, list[tuple[str, int]], Counter[str]]:
    """`officers` (one account, a client thread each) post the new-initiative form for `seconds`,
    each POST with a form page fetched before (`forms`); a client that used them all fetches more in
    the window (counted as "form pages in the window")."""
    drain(site)
    server_before, database_before = cpu.sample()
    accepted: list[tuple[str, int]] = []
    errors: Counter[str] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def work(officer: load.Officer) -> None:
        mine = forms[officer.number]
        for _ in range(load.MAX_REQUESTS_PER_WINDOW):
            if time.perf_counter() >= deadline or load.STOP.is_set():
                return
            if mine:
                officer.token, officer.once = mine.pop()
            else:
                page = load.fetch_form(site, officer)
                with lock:
                    errors["form pages in the window"] += 1
                if page.status != 200:
                    with lock:
                        errors[f"form {page.status}"] += 1
                    continue
            title = f"Tải thử {run} {officer.number:03d}-{officer.sent:05d}: cải tiến quy trình"
            n = officer.sent
            fields = load.initiative_fields(officer, title=title, field_id=seeded["fields"][n % len(seeded["fields"])],
                                            kind=seeded["kinds"][n % len(seeded["kinds"])])  # fmt: skip
            answer = site.post("/initiatives/new/", officer, fields)
            officer.sent += 1
            detail = load.DETAIL.match(answer.location) if answer.status == 302 else None
            with lock:
                latencies.append(answer.seconds)
                if detail is None:
                    errors[f"submit {answer.status}"] += 1
                else:
                    accepted.append((title, int(detail[1])))

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(officer,), daemon=True) for officer in officers]
    for thread in threads:
        thread.start()
    load.join_all(threads, deadline + load.REQUEST_TIMEOUT + 10)
    elapsed = time.perf_counter() - started
    drain(site)
    server_after, database_after = cpu.sample()
    run_figures = Run(
        requests=len(accepted),
        seconds=elapsed,
        p50=load.percentile(latencies, 50),
        p99=load.percentile(latencies, 99),
        bad=sum(n for kind, n in errors.items() if kind != "form pages in the window"),
        server_cpu=load.CpuMeter.spent(server_before, server_after),
        database_cpu=load.CpuMeter.spent(database_before, database_after),
    )
    return run_figures, accepted, errors


def submission_accounts(site: load.Site, officer_unit: str, count: int) -> tuple[list[load.Officer], dict]:
    """`count` clients sharing the bench officer's account, each with its own session and form."""
    from initiatives.forms import MAX_UNIT_OPTIONS
    from initiatives.models import Field, Initiative
    from unions.models import Union

    unit = Union.objects.get(code=officer_unit)
    subtree = Union.objects.filter(path__startswith=unit.path)
    # The form offers a drop-down of ids for a small subtree, a box for the code for a large one.
    by = "code" if subtree.count() > MAX_UNIT_OPTIONS else "pk"
    grassroots = list(subtree.filter(level=Union.Level.GRASSROOTS).values_list(by, flat=True)[:20])
    clients = []
    for number in range(count):
        client = log_in(site, "bench.canbo")
        client.number, client.units = number, grassroots or [getattr(unit, by)]
        clients.append(client)
    seeded = {
        "fields": list(Field.objects.filter(is_active=True).values_list("pk", flat=True)),
        "kinds": [kind.value for kind in Initiative.Kind],
    }
    return clients, seeded


def remove_run(run: str) -> int:
    from initiatives.models import Initiative

    deleted, _ = Initiative.objects.filter(title__startswith=f"Tải thử {run} ").delete()
    return deleted


# --- the write paths in the database ----------------------------------------------------------------


def write_paths(officer_unit: str, *, reviews: int = 50, rows: int = 200) -> dict[str, float]:
    """Milliseconds per review decision and per imported row, through the services and on this data
    set, each in a transaction rolled back: what an insert or an update costs with 2.5 million rows
    beside it (an index or a trigger that scanned would show here, against the demo data's figure)."""
    import openpyxl
    from django.db import transaction

    from initiatives.imports import HEADER, import_initiatives
    from initiatives.models import Field, Initiative
    from initiatives.selectors import current_program
    from initiatives.services import initiatives_review
    from unions.models import Union, User

    class Undo(Exception):
        pass

    program = current_program()
    reviewer = User.objects.get(username="bench.bancspl")
    officer = User.objects.get(username="bench.canbo")
    unit = Union.objects.get(code=officer_unit)
    grassroots = list(
        Union.objects.filter(path__startswith=unit.path, level=Union.Level.GRASSROOTS).values_list("code", flat=True)[
            :20
        ]
    )
    field = Field.objects.filter(is_active=True).values_list("name", flat=True).first()
    waiting = list(
        Initiative.objects.filter(status=Initiative.Status.SUBMITTED).order_by("submitted_at", "pk").values_list(
            "pk", flat=True)[:reviews]
    )  # fmt: skip
    figures: dict[str, float] = {}
    try:
        with transaction.atomic():
            started = time.perf_counter()
            for pk in waiting:  # one by one, as from the review page
                initiatives_review(ids=[pk], decision=Initiative.Status.VALID, by=reviewer)
            figures["review, ms each"] = 1000 * (time.perf_counter() - started) / max(1, len(waiting))
            raise Undo
    except Undo:
        pass
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(HEADER))
    for n in range(rows):
        sheet.append([grassroots[n % len(grassroots)] if grassroots else officer_unit,
                      f"Nhập thử {n}: cải tiến quy trình bảo dưỡng", field, "Giải pháp kỹ thuật",
                      "Nguyễn Văn An (60%); Trần Thị Bình (40%)", "Giảm thời gian dừng máy.", "15/03/2022",
                      "10.000.000"])  # fmt: skip
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as sheet_file:
        book.save(sheet_file.name)
        try:
            with transaction.atomic():
                started = time.perf_counter()
                result = import_initiatives(sheet_file.name, user=officer, program=program)
                figures["import, ms a row"] = 1000 * (time.perf_counter() - started) / max(1, rows)
                figures["imported rows"] = float(getattr(result, "created", rows))
                raise Undo
        except Undo:
            pass
    return figures


# --- the report -----------------------------------------------------------------------------------


def report_line(m: Measured) -> str:
    rate, bare = Measured.rate(m.runs), Measured.rate(m.bare)
    verdict = "FAILED" if m.failed else ("ok" if m.ok else "below") if m.page.target else ""
    return (
        f"{m.page.name:30} {rate:8.1f}/s  p50 {m.p('p50') * 1000:7.1f}  p99 {m.p('p99') * 1000:7.1f} ms  "
        f"CPU {m.cpu_ms('server_cpu'):5.1f} + {m.cpu_ms('database_cpu'):5.1f} ms  "
        f"bare {bare:7.1f}/s ({m.cpu_ms('server_cpu', m.bare):3.1f} ms)  "
        f"ratio {m.ratio:6.3f} (target {m.page.target:.2f}) {verdict}"
        + (f"  {m.checked}" if m.checked else "")
        + (f"  {m.extra}" if m.extra else "")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="seconds of each window (wrk -d)")
    parser.add_argument("--rounds", type=int, default=2, help="windows of each kind per page, alternating")
    parser.add_argument("--connections", type=int, default=16, help="wrk -c, and the submitting threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--only", help="measure only the pages whose name contains this text")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a check that every page answers under load, not a measurement: one window of 1 s per page, "
        "one bare window for all, 4 connections",
    )
    parser.add_argument(
        "--postgres",
        default="postgres://postgres@127.0.0.1:5432",
        help="the server to create the bench's own database on (unless DATABASE_URL is set)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.smoke:
        args.seconds, args.rounds, args.connections = 1, 1, 4
    if min(args.rounds, args.connections, args.workers) < 1 or args.seconds < 1:
        parser.error("--rounds, --connections and --workers must be at least 1, --seconds at least 1")
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed: `make system-deps` installs it (Debian's package wrk)")

    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, load.interrupt)
    try:
        with ExitStack() as cleanup:
            workdir = Path(tempfile.mkdtemp(prefix="sangkien-pages-"))
            cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
            database_url, own = cleanup.enter_context(database(args))
            os.environ["DATABASE_URL"] = database_url
            os.environ["DJANGO_SETTINGS_MODULE"] = "sangkien.settings"
            os.environ.setdefault("DJANGO_DEMO_DATA", "1")  # seed_demo for the bench's own database
            import django

            django.setup()
            from django.core.management import call_command
            from django.db import connection

            started = time.perf_counter()
            if own:
                call_command("migrate", verbosity=0)
            targets = prepare(own)
            setup = time.perf_counter() - started
            writes = write_paths(targets.officer_unit)
            print("write paths through the services (rolled back): "
                  + ", ".join(f"{name} {value:,.1f}" for name, value in writes.items()), flush=True)  # fmt: skip
            redis_server, redis_port = load.start_redis(workdir)
            cleanup.callback(load.stop, redis_server)
            env = load.production_env(database_url=database_url, redis_port=redis_port, workdir=workdir)
            env["DJANGO_DEMO_DATA"] = "0"
            env["API_PUBLIC_RATE"] = "100000000/min"  # the load comes from one address
            gunicorn, site = load.start_gunicorn(env, args.workers, workdir)
            cleanup.callback(load.stop, gunicorn)
            cleanup.callback(load.quiet)

            def database_pids() -> list[int]:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pid FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                    return [pid for (pid,) in cursor.fetchall()]

            cpu = load.CpuMeter(gunicorn.pid, database_pids)
            accounts: dict[str, load.Officer | None] = {"anonymous": None}
            for role, username in (("officer", "bench.canbo"), ("reviewer", "bench.bancspl"),
                                   ("leadership", "bench.lanhdao")):  # fmt: skip
                accounts[role] = log_in(site, username)
            chosen = [p for p in [*pages(targets), SUBMISSION] if not args.only or args.only in p.name]
            print(
                f"gunicorn with {args.workers} sync workers, wrk -t2 -c{args.connections}, {args.rounds} rounds of "
                f"{args.seconds:g} s each way, {os.cpu_count()} cores; data set set up in {setup:.1f} s; officer of "
                f"{targets.officer_unit}; bare page {BARE}",
                flush=True,
            )
            results: list[Measured] = []
            for page in chosen:
                measured = Measured(page)
                account = accounts[page.role]
                if page is not SUBMISSION:
                    measured.checked = check_page(site, page, account)
                    if measured.checked:
                        results.append(measured)
                        print(report_line(measured), flush=True)
                        continue
                    # Warm it before timing (a worker's first request of a page loads templates);
                    # a smoke run (1 s windows) measures nothing worth warming for.
                    if args.seconds > 1:
                        wrk(site, page.path, cookie_header(account), 1, args.connections, cpu)
                else:
                    clients, seeded = submission_accounts(site, targets.officer_unit, args.connections)
                    run, accepted, errors = secrets.token_hex(3), [], Counter()
                for round_number in range(args.rounds):
                    order = ("bare", "page") if round_number % 2 == 0 else ("page", "bare")
                    if args.smoke and results:  # one bare window serves the whole smoke run
                        measured.bare = results[0].bare
                        order = ("page",)
                    for kind in order:
                        if kind == "bare":
                            measured.bare.append(wrk(site, BARE, "", args.seconds, args.connections, cpu))
                        elif page is SUBMISSION:
                            # Enough form pages for a rate above the target (0.10 of the bare page); a
                            # client that runs out fetches more in the window, which is then counted.
                            bare_rate = Measured.rate(measured.bare) if measured.bare else 100.0
                            per_client = max(4, int(bare_rate * 0.12 * args.seconds / len(clients)))
                            per_client = 10 if args.smoke else per_client
                            forms = prefetch_forms(site, clients, per_client)
                            figures, ok, bad = submit_window(site, clients, args.seconds, cpu, run, seeded, forms)
                            measured.runs.append(figures)
                            accepted += ok
                            errors += bad
                        else:
                            measured.runs.append(
                                wrk(site, page.path, cookie_header(account), args.seconds, args.connections, cpu)
                            )
                if page is SUBMISSION:
                    check = load.check_stored(run, accepted)
                    measured.extra = {"stored": check.stored, "accepted": check.accepted, "errors": dict(errors)}
                    if not check.ok:
                        measured.checked = "MISMATCH: stored ≠ accepted"
                    removed = remove_run(run)
                    measured.extra["removed rows"] = removed
                elif again := check_page(site, page, account):
                    measured.checked = f"after the load: {again}"
                results.append(measured)
                print(report_line(measured), flush=True)
            failed = [m.page.name for m in results if m.failed]
            below = [m.page.name for m in results if not m.failed and not m.ok]
            print(f"errors: {', '.join(failed) or 'none'}; below target: {', '.join(below) or 'none'}")
            if args.json:
                args.json.write_text(json.dumps([
                    {"page": asdict(m.page), "rate": Measured.rate(m.runs), "bare_rate": Measured.rate(m.bare),
                     "ratio": m.ratio, "p50_ms": m.p("p50") * 1000, "p99_ms": m.p("p99") * 1000,
                     "gunicorn_cpu_ms": m.cpu_ms("server_cpu"), "postgres_cpu_ms": m.cpu_ms("database_cpu"),
                     "bare_gunicorn_cpu_ms": m.cpu_ms("server_cpu", m.bare), "ok": m.ok, "failed": m.failed,
                     "checked": m.checked, "extra": m.extra, "runs": [asdict(r) for r in m.runs]}
                    for m in results
                ], indent=2, ensure_ascii=False, default=str))  # fmt: skip
            return 1 if failed else 0
    except KeyboardInterrupt:
        print("interrupted: the servers were stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
