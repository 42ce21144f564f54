"""Submissions under load (issue 13): officers submitting initiatives at once through gunicorn, and
whether every accepted submission is stored exactly once.

    .venv/bin/python bench/submissions.py                              # 50 officers, 20 s, 3 workers
    .venv/bin/python bench/submissions.py --seconds 3 --officers 5     # a smoke run, about 15 s

It creates a PostgreSQL database of its own (or uses DATABASE_URL when given), migrates it, adds a
tier-2 unit with one superior-level union per officer (each with grassroots units under it) and the
officers, collects the static files, starts a redis-server of its own (cache and broker) and gunicorn
as docker-compose.yml does (DEBUG off, sync workers, 120 s timeout) on a free port of 127.0.0.1.
Requests carry `X-Forwarded-Proto: https`, as nginx's do. Each officer logs in through the login
form and fetches the form "Gửi sáng kiến"; then, in windows that alternate with a floor, each
officer submits initiatives one after another, each from a form page of its own (its one-time token
allows one initiative per form; `--journey browser` also follows the redirect after, as a browser
does). The floor is the same officers asking `/healthz/`
(one `SELECT 1` through gunicorn and Django's middleware) in the windows between, so the machine's
drift touches both alike. It prints submissions per second, p50/p95/p99 latency, the CPU each
request cost in gunicorn and in PostgreSQL, the CPU the machine's other processes used meanwhile, and
the same figures for the floor; then it checks in the database that the stored submitted
initiatives are exactly the accepted ones (a 302 to their detail page), once each, with their
authors and status changes. The exit status is 1 when they differ.
Everything it started (gunicorn, redis-server, the database) is removed at the end, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import ctypes
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "SangKien@2022"  # the demo's (README); these accounts live only in a bench database
REQUEST_TIMEOUT = 60.0  # seconds; gunicorn kills a worker after 120 s, a client gives up before
MAX_REQUESTS_PER_WINDOW = 20_000  # per officer: bounds a loop whatever the server answers
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ONCE = re.compile(r'name="once" value="([^"]+)"')
DETAIL = re.compile(r"^/initiatives/(\d+)/$")
FORM_ERROR = re.compile(r'class="(?:invalid-feedback|alert alert-(?:danger|block))[^"]*"[^>]*>(.*?)</', re.S)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
STOP = threading.Event()  # set on Ctrl-C: every client stops before its next request


# --- HTTP, as a browser behind nginx would speak it ------------------------------------------------


@dataclass
class Answer:
    status: int
    location: str
    body: str
    seconds: float


@dataclass
class Officer:
    number: int
    username: str
    units: list[int]  # the officer's superior-level union and the grassroots units under it
    cookies: dict[str, str] = field(default_factory=dict)
    token: str = ""
    once: str = ""  # the new-initiative form's one-time token: one form page per initiative
    sent: int = 0


class Site:
    """The gunicorn under test, addressed as https://127.0.0.1:<port> by a proxy's headers."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.origin = f"https://127.0.0.1:{port}"

    def request(
        self, method: str, path: str, *, officer: Officer | None = None, body: bytes = b"", content_type: str = ""
    ) -> Answer:
        headers = {"Host": f"127.0.0.1:{self.port}", "X-Forwarded-Proto": "https", "Connection": "close"}
        if officer is not None and officer.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in officer.cookies.items())
        if method == "POST":
            headers |= {"Origin": self.origin, "Referer": self.origin + path, "Content-Type": content_type}
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
        except (OSError, http.client.HTTPException) as error:
            return Answer(0, "", f"{type(error).__name__}: {error}", time.perf_counter() - started)
        finally:
            connection.close()
        seconds = time.perf_counter() - started
        if officer is not None:
            for header in response.headers.get_all("Set-Cookie") or ():
                for name, morsel in SimpleCookie(header).items():
                    if morsel["max-age"] == "0":
                        officer.cookies.pop(name, None)
                    else:
                        officer.cookies[name] = morsel.value
        return Answer(response.status, response.getheader("Location") or "", text, seconds)

    def post(self, path: str, officer: Officer, fields: dict[str, str]) -> Answer:
        """A multipart POST, as a browser sends a form with a file input."""
        boundary = uuid.uuid4().hex
        body = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        )
        body += f"--{boundary}--\r\n"
        content_type = f"multipart/form-data; boundary={boundary}"
        return self.request("POST", path, officer=officer, body=body.encode(), content_type=content_type)


def log_in(site: Site, officer: Officer) -> float:
    started = time.perf_counter()
    page = site.request("GET", "/accounts/login/", officer=officer)
    token = TOKEN.search(page.body)
    if page.status != 200 or token is None:
        raise RuntimeError(f"{officer.username}: the login page answered {page.status}: {page.body[:300]}")
    fields = {"csrfmiddlewaretoken": token[1], "username": officer.username, "password": PASSWORD}
    answer = site.post("/accounts/login/", officer, fields)
    if answer.status != 302 or "/accounts/login/" in answer.location:
        raise RuntimeError(f"{officer.username} could not log in: {answer.status} {answer.body[:300]}")
    fetch_form(site, officer)
    return time.perf_counter() - started


def fetch_form(site: Site, officer: Officer) -> Answer:
    page = site.request("GET", "/initiatives/new/", officer=officer)
    token, once = TOKEN.search(page.body), ONCE.search(page.body)
    if page.status == 200 and token is not None:
        officer.token = token[1]
        officer.once = once[1] if once else ""
    return page


# Syllables of the summaries: each submission's own draw, so that the national check for copies
# (initiatives.likeness), which runs on every submission, finds them unalike, as most are.
SYLLABLES = [
    "giảm",
    "thời",
    "gian",
    "dừng",
    "máy",
    "tiết",
    "kiệm",
    "điện",
    "năng",
    "nâng",
    "cao",
    "hiệu",
    "quả",
    "sản",
    "xuất",
    "an",
    "toàn",
    "lao",
    "động",
    "cải",
    "tiến",
    "quy",
    "trình",
    "bảo",
    "dưỡng",
    "thiết",
    "bị",
    "dự",
    "báo",
    "theo",
    "dữ",
    "liệu",
    "cảm",
    "biến",
    "tự",
    "động",
    "hóa",
    "kiểm",
    "tra",
    "chất",
    "lượng",
    "sản",
    "phẩm",
    "vận",
    "hành",
    "lò",
    "hơi",
    "băng",
    "tải",
    "máy",
    "nén",
    "khí",
    "hệ",
    "thống",
    "làm",
    "mát",
    "phân",
    "xưởng",
    "cán",
    "nguội",
    "nhà",
    "máy",
    "công",
    "nhân",
    "kỹ",
    "thuật",
]


def summary_of(title: str) -> str:
    draw = random.Random(title)
    return " ".join(draw.choice(SYLLABLES) for _ in range(30)).capitalize() + "."


def initiative_fields(officer: Officer, *, title: str, field_id: int, kind: str) -> dict[str, str]:
    """What an officer types, as tests/initiatives/test_views.py::form_data does, and "Gửi"."""
    return {
        "csrfmiddlewaretoken": officer.token,
        "once": officer.once,
        "title": title,
        "unit": str(officer.units[officer.sent % len(officer.units)]),
        "field": str(field_id),
        "kind": kind,
        "summary": summary_of(title),
        "description": "Thực trạng: dừng máy nhiều. Giải pháp: bảo dưỡng dự báo theo dữ liệu cảm biến.",
        "scope": "Phân xưởng cán nguội",
        "first_applied_on": "15/03/2022",
        "effectiveness": "Giảm 12 % thời gian dừng máy trong 6 tháng.",
        "value_vnd": "10.000.000",
        "recognition_number": "",
        "recognition_date": "",
        "recognition_level": "",
        "authors-TOTAL_FORMS": "2",
        "authors-INITIAL_FORMS": "0",
        "authors-MIN_NUM_FORMS": "0",
        "authors-MAX_NUM_FORMS": "1000",
        "authors-0-full_name": "Nguyễn Văn An",
        "authors-0-position": "Kỹ sư",
        "authors-0-workplace": "Phân xưởng cán nguội",
        "authors-0-share_percent": "60",
        "authors-1-full_name": "Trần Thị Bình",
        "authors-1-position": "Tổ trưởng sản xuất",
        "authors-1-workplace": "Phân xưởng cán nguội",
        "authors-1-share_percent": "40",
        "submit": "1",
    }


def error_text(answer: Answer) -> str:
    """What the page said was wrong, short enough for a report."""
    shown = [" ".join(re.sub(r"<[^>]+>", " ", match).split()) for match in FORM_ERROR.findall(answer.body)]
    text = "; ".join(message for message in shown if message) or " ".join(answer.body.split())
    return f"{answer.status} {answer.location} {text[:200]}".strip()


# --- windows of load ------------------------------------------------------------------------------


@dataclass
class Tally:
    """What one officer saw in one window."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    accepted: list[tuple[str, int]] = field(default_factory=list)  # (title, pk of the detail page)
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)

    def time(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)

    def error(self, kind: str, answer: Answer) -> None:
        self.errors[f"{kind} {answer.status}"] += 1
        if len(self.samples) < 3:
            self.samples.append(f"{kind}: {error_text(answer)}")


@dataclass
class Window:
    kind: str  # "submit" or "floor"
    seconds: float  # from the start until the last answer (a request started before the end counts)
    tally: Tally
    client_cpu: float
    server_cpu: float
    database_cpu: float
    machine_cpu: float  # every process on the machine, the bench's own included


class Load:
    def __init__(
        self, site: Site, officers: list[Officer], *, run: str, fields: list[int], kinds: list[str], journey: str
    ) -> None:
        self.site, self.officers, self.run, self.fields, self.kinds = site, officers, run, fields, kinds
        self.journey = journey

    def title(self, officer: Officer) -> str:
        return f"Tải thử {self.run} {officer.number:03d}-{officer.sent:05d}: cải tiến dây chuyền cán nguội"

    def submit(self, officer: Officer, tally: Tally, deadline: float) -> None:
        for _ in range(MAX_REQUESTS_PER_WINDOW):
            if time.perf_counter() >= deadline or STOP.is_set():
                return
            if self.journey == "browser" or not officer.once:
                page = fetch_form(self.site, officer)
                tally.time("form", page.seconds)
                if page.status != 200:
                    tally.error("form", page)
                    continue
            title, n = self.title(officer), officer.sent
            fields = initiative_fields(officer, title=title, field_id=self.fields[n % len(self.fields)],
                                       kind=self.kinds[n % len(self.kinds)])  # fmt: skip
            answer = self.site.post("/initiatives/new/", officer, fields)
            officer.sent += 1
            tally.time("submit", answer.seconds)
            detail = DETAIL.match(answer.location) if answer.status == 302 else None
            if detail is None:
                tally.error("submit", answer)
                if answer.status == 403:  # a refused token: fetch a fresh one, as a reload would
                    fetch_form(self.site, officer)
                continue
            tally.accepted.append((title, int(detail[1])))
            officer.once = ""  # used: the next initiative is a new form
            if self.journey == "browser":
                page = self.site.request("GET", answer.location, officer=officer)
                tally.time("detail", page.seconds)
                if page.status != 200:
                    tally.error("detail", page)

    def floor(self, officer: Officer, tally: Tally, deadline: float) -> None:
        for _ in range(MAX_REQUESTS_PER_WINDOW):
            if time.perf_counter() >= deadline or STOP.is_set():
                return
            answer = self.site.request("GET", "/healthz/")
            tally.time("healthz", answer.seconds)
            if answer.status != 200:
                tally.error("healthz", answer)

    def window(self, kind: str, seconds: float, cpu: CpuMeter) -> Window:
        work: Callable[[Officer, Tally, float], None] = self.submit if kind == "submit" else self.floor
        tallies = [Tally() for _ in self.officers]
        machine_before, client_before = cpu.machine(), time.process_time()
        server_before, database_before = cpu.sample()
        started = time.perf_counter()
        deadline = started + seconds
        threads = [
            threading.Thread(target=work, args=(officer, tally, deadline), daemon=True)
            for officer, tally in zip(self.officers, tallies, strict=True)
        ]
        for thread in threads:
            thread.start()
        join_all(threads, deadline + REQUEST_TIMEOUT + 10)
        elapsed = time.perf_counter() - started
        server_after, database_after = cpu.sample()
        client_cpu, machine_cpu = time.process_time() - client_before, cpu.machine() - machine_before
        merged = Tally()
        for tally in tallies:
            for name, times in tally.latencies.items():
                merged.latencies.setdefault(name, []).extend(times)
            merged.accepted += tally.accepted
            merged.errors += tally.errors
            merged.samples += tally.samples[: max(0, 5 - len(merged.samples))]
        return Window(
            kind,
            elapsed,
            merged,
            client_cpu=client_cpu,
            server_cpu=cpu.spent(server_before, server_after),
            database_cpu=cpu.spent(database_before, database_after),
            machine_cpu=machine_cpu,
        )


def join_all(threads: list[threading.Thread], deadline: float) -> None:
    """Wait for the clients, in short joins so that Ctrl-C is seen at once; bounded by `deadline`."""
    while any(thread.is_alive() for thread in threads):
        if time.perf_counter() > deadline:
            STOP.set()
            raise RuntimeError("the clients did not finish within their request timeout")
        for thread in threads:
            thread.join(timeout=0.2)


# --- CPU spent by the server's processes ----------------------------------------------------------


class CpuMeter:
    """CPU seconds of gunicorn's workers and of the PostgreSQL backends serving the bench database,
    from /proc: unlike wall time, what a request costs does not grow when other work shares the
    machine (it does grow a little when the cores' caches are shared)."""

    def __init__(self, gunicorn_pid: int, database_pids: Callable[[], list[int]]) -> None:
        self.gunicorn_pid, self.database_pids = gunicorn_pid, database_pids

    @staticmethod
    def cpu(pid: int) -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime

    def workers(self) -> list[int]:
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with suppress(OSError, IndexError, ValueError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == self.gunicorn_pid:
                    children.append(int(stat.parent.name))
        return [self.gunicorn_pid, *children]

    def sample(self) -> tuple[dict[int, float], dict[int, float]]:
        def read(pids: list[int]) -> dict[int, float]:
            return {pid: seconds for pid in pids if (seconds := self.cpu(pid)) is not None}

        return read(self.workers()), read(self.database_pids())

    @staticmethod
    def machine() -> float:
        """CPU seconds the whole machine has spent busy since it booted (all cores)."""
        user, nice, system, _idle, _iowait, irq, softirq, steal = Path("/proc/stat").read_text().split()[1:9]
        return sum(int(ticks) for ticks in (user, nice, system, irq, softirq, steal)) / CLOCK_TICKS

    @staticmethod
    def spent(before: dict[int, float], after: dict[int, float]) -> float:
        return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


# --- the servers ---------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def die_with_parent() -> None:
    """In the child before exec: the kernel sends it SIGTERM if the bench dies, even by SIGKILL."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start(command: list[str], *, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    with log.open("w") as output:
        # A session of its own: Ctrl-C reaches the bench only, which then stops the server in order.
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=output, start_new_session=True,
            preexec_fn=die_with_parent,
        )  # fmt: skip


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def wait_until(ready: Callable[[], bool], process: subprocess.Popen, log: Path, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} stopped: {log.read_text()[-2000:]}")
        with suppress(Exception):
            if ready():
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer within {seconds:.0f} s: {log.read_text()[-2000:]}")


def start_redis(workdir: Path) -> tuple[subprocess.Popen, int]:
    """A redis-server of the bench's own: the shared one (6379) is left alone."""
    import redis

    port, log = free_port(), workdir / "redis.log"
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--dir", str(workdir)]  # fmt: skip
    process = start(command, log=log)
    try:
        wait_until(lambda: redis.Redis(port=port, socket_timeout=1).ping(), process, log, "redis-server", 10)
    except BaseException:
        stop(process)
        raise
    return process, port


def production_env(*, database_url: str, redis_port: int, workdir: Path) -> dict[str, str]:
    """docker-compose.yml's environment, pointed at the bench's database, Redis and folders."""
    redis_url = f"redis://127.0.0.1:{redis_port}"
    kept = {name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "CELERY_"))}
    return kept | {
        "DJANGO_SETTINGS_MODULE": "sangkien.settings",
        "DJANGO_DEBUG": "False",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "60",
        "CELERY_BROKER_URL": f"{redis_url}/0",
        "CELERY_RESULT_BACKEND": f"{redis_url}/1",
        "CACHE_URL": f"rediscache://127.0.0.1:{redis_port}/2",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",  # a submission sends none
        "DJANGO_STATIC_ROOT": str(workdir / "static"),
        "DJANGO_MEDIA_ROOT": str(workdir / "media"),
        "DJANGO_LOG_LEVEL": "WARNING",
        "TMPDIR": str(workdir),
    }


def start_gunicorn(env: dict[str, str], workers: int, workdir: Path) -> tuple[subprocess.Popen, Site]:
    # Production serves the collected, hashed static files (CompressedManifestStaticFilesStorage):
    # without them every page with a {% static %} fails.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=300
    )
    port, log = free_port(), workdir / "gunicorn.log"
    command = [
        sys.executable, "-m", "gunicorn", "sangkien.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--timeout", "120", "--worker-tmp-dir", str(workdir),
    ]  # fmt: skip
    process = start(command, log=log, env=env)
    site = Site(port)
    try:
        wait_until(lambda: site.request("GET", "/healthz/").status == 200, process, log, "gunicorn")
    except BaseException:
        stop(process)
        raise
    return process, site


# --- the database --------------------------------------------------------------------------------


@contextmanager
def bench_database(server: str, given: str | None) -> Iterator[tuple[str, str]]:
    """(DATABASE_URL, name): the one given, or a new database on `server`, dropped at the end."""
    if given:
        yield given, given.rsplit("/", 1)[1].split("?")[0]
        return
    import psycopg2

    name = f"sangkien_load_{os.getpid()}_{secrets.token_hex(3)}"

    def admin(statement: str) -> None:
        connection = psycopg2.connect(f"{server.rstrip('/')}/postgres", connect_timeout=10)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            connection.close()

    admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server.rstrip('/')}/{name}", name
    finally:
        from django.db import connections

        connections.close_all()
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Seeded:
    officers: list[Officer]
    fields: list[int]
    kinds: list[str]


def seed(*, officers: int, grassroots: int) -> Seeded:
    """The demo's programme, and one superior-level union per officer under a tier-2 unit "LOAD",
    each with `grassroots` units: an officer acts in its own subtree only. Safe to run again."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from demo.seed import ensure_program
    from initiatives.models import Initiative
    from unions.models import Union, User
    from unions.services import union_create

    def unit(code: str, name: str, level: str, parent: Union | None) -> Union:
        found = Union.objects.filter(code=code).first()
        return found or union_create(code=code, name=name, level=level, parent=parent, member_count=500)

    with transaction.atomic():
        _program, _phases, fields = ensure_program()
        root = Union.objects.filter(parent=None, level=Union.Level.CONFEDERATION).first()
        root = root or unit("TLD", "Tổng Liên đoàn Lao động Việt Nam", Union.Level.CONFEDERATION, None)
        load = unit("LOAD", "Công đoàn ngành thử tải", Union.Level.TIER2, root)
        password = make_password(PASSWORD)  # the production hasher, once: each login checks it
        result = []
        for number in range(1, officers + 1):
            code = f"LOAD-{number:03d}"
            superior = unit(code, f"Công đoàn Tổng công ty thử tải {number}", Union.Level.SUPERIOR, load)
            units = [superior.pk] + [
                unit(f"{code}-{g}", f"Công đoàn Công ty thử tải {number}.{g}", Union.Level.GRASSROOTS, superior).pk
                for g in range(1, grassroots + 1)
            ]
            username = f"thutai.{number:03d}"
            User.objects.update_or_create(
                username=username,
                defaults={"unit_id": superior.pk, "password": password, "is_active": True, "last_name": "Cán bộ",
                          "first_name": f"thử tải {number}"},
            )  # fmt: skip
            result.append(Officer(number, username, units))
    return Seeded(result, [f.pk for f in fields if f.is_active], [kind.value for kind in Initiative.Kind])


@dataclass
class Check:
    accepted: int
    stored: int  # submitted initiatives carrying this run's titles
    rows: int  # every initiative carrying this run's titles, whatever its status
    duplicate_titles: int
    missing: int  # accepted, not stored
    unexpected: int  # stored, never accepted
    wrong_page: int  # accepted with a detail page that is not the stored initiative's
    authors: int
    status_changes: int

    @property
    def ok(self) -> bool:
        return (
            self.stored == self.accepted == self.rows
            and not (self.duplicate_titles or self.missing or self.unexpected or self.wrong_page)
            and self.authors == 2 * self.stored
            and self.status_changes == self.stored
        )


def check_stored(run: str, accepted: list[tuple[str, int]]) -> Check:
    from django.db.models import Count

    from initiatives.models import Author, Initiative, StatusChange

    mine = Initiative.objects.filter(title__startswith=f"Tải thử {run} ")
    stored = set(mine.filter(status=Initiative.Status.SUBMITTED).values_list("title", "pk"))
    stored_titles = {title for title, _pk in stored}
    accepted_pk = dict(accepted)
    return Check(
        accepted=len(accepted),
        stored=len(stored),
        rows=mine.count(),
        duplicate_titles=mine.values("title").annotate(n=Count("pk")).filter(n__gt=1).count()
        + (len(accepted) - len(accepted_pk)),
        missing=len(accepted_pk.keys() - stored_titles),
        unexpected=len(stored_titles - accepted_pk.keys()),
        wrong_page=sum(1 for pair in accepted_pk.items() if pair[0] in stored_titles and pair not in stored),
        authors=Author.objects.filter(initiative__in=mine).count(),
        status_changes=StatusChange.objects.filter(initiative__in=mine, to_status=Initiative.Status.SUBMITTED).count(),
    )


# --- the report ----------------------------------------------------------------------------------


def percentile(samples: list[float], q: int) -> float:
    if not samples:
        return float("nan")
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


@dataclass
class Figures:
    requests: int
    seconds: float
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    server_cpu_ms: float  # per request, gunicorn's workers
    database_cpu_ms: float  # per request, PostgreSQL's backends
    client_cpu_s: float
    others_cores: float  # CPU of everything else on the machine (other engineers' work), in cores


def figures(windows: list[Window], kind: str, counted: int | None = None) -> Figures:
    """Over the windows of one kind: `counted` (default: every request timed as `kind`) per second."""
    timed = [t for w in windows for t in w.tally.latencies.get(kind, [])]
    count = len(timed) if counted is None else counted
    seconds = sum(w.seconds for w in windows)
    return Figures(
        requests=count,
        seconds=seconds,
        per_second=count / seconds if seconds else 0.0,
        p50_ms=percentile(timed, 50) * 1000,
        p95_ms=percentile(timed, 95) * 1000,
        p99_ms=percentile(timed, 99) * 1000,
        server_cpu_ms=1000 * sum(w.server_cpu for w in windows) / max(1, count),
        database_cpu_ms=1000 * sum(w.database_cpu for w in windows) / max(1, count),
        client_cpu_s=sum(w.client_cpu for w in windows),
        others_cores=sum(w.machine_cpu - w.client_cpu - w.server_cpu - w.database_cpu for w in windows) / seconds,
    )


def line(name: str, f: Figures) -> str:
    return (
        f"{name:28} {f.requests:7,} in {f.seconds:5.1f} s {f.per_second:8.1f}/s   {latencies(f)}   CPU each: "
        f"gunicorn {f.server_cpu_ms:5.1f} ms, PostgreSQL {f.database_cpu_ms:4.1f} ms   client {f.client_cpu_s:4.1f} s, "
        f"other processes {f.others_cores:.2f} cores"
    )


def latencies(f: Figures) -> str:
    return f"p50 {f.p50_ms:7.1f}  p95 {f.p95_ms:7.1f}  p99 {f.p99_ms:7.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officers", type=int, default=50, help="concurrent officers, each a client thread")
    parser.add_argument("--seconds", type=float, default=20, help="seconds of submitting, as many of the floor")
    parser.add_argument("--rounds", type=int, default=4, help="windows of each kind, alternating")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (docker-compose: 3)")
    parser.add_argument("--grassroots", type=int, default=5, help="grassroots units under each officer's union")
    parser.add_argument(
        "--journey",
        choices=("post", "browser"),
        default="post",
        help="post: the form and the POST for each initiative; browser: also the detail page after each",
    )
    parser.add_argument(
        "--postgres",
        default="postgres://postgres@127.0.0.1:5432",
        help="the server to create the bench's own database on (unless DATABASE_URL is set)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if min(args.officers, args.rounds, args.workers) < 1 or args.seconds <= 0:
        parser.error("--officers, --rounds and --workers must be at least 1, --seconds above 0")

    for number in (signal.SIGINT, signal.SIGTERM):  # both clean up (SIGINT even when started in the background)
        signal.signal(number, interrupt)
    try:
        with ExitStack() as cleanup:  # undone last to first: the servers stop before the database goes
            workdir = Path(tempfile.mkdtemp(prefix="sangkien-load-"))
            cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
            database_url, database_name = cleanup.enter_context(
                bench_database(args.postgres, os.environ.get("DATABASE_URL"))
            )
            os.environ["DATABASE_URL"] = database_url
            os.environ["DJANGO_SETTINGS_MODULE"] = "sangkien.settings"  # not a caller's test settings
            import django

            django.setup()
            from django.core.management import call_command
            from django.db import connection

            started = time.perf_counter()
            call_command("migrate", verbosity=0)
            seeded = seed(officers=args.officers, grassroots=args.grassroots)
            setup = time.perf_counter() - started
            redis_server, redis_port = start_redis(workdir)
            cleanup.callback(stop, redis_server)
            env = production_env(database_url=database_url, redis_port=redis_port, workdir=workdir)
            gunicorn, site = start_gunicorn(env, args.workers, workdir)
            cleanup.callback(stop, gunicorn)
            servers = time.perf_counter() - started - setup
            cleanup.callback(quiet)  # first of all: stop the clients, and a second Ctrl-C waits

            def database_pids() -> list[int]:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pid FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                    return [pid for (pid,) in cursor.fetchall()]

            cpu = CpuMeter(gunicorn.pid, database_pids)
            officers = seeded.officers
            logins = [0.0] * len(officers)
            threads = [
                threading.Thread(target=lambda i=i: logins.__setitem__(i, log_in(site, officers[i])), daemon=True)
                for i in range(len(officers))
            ]
            login_started = time.perf_counter()
            for thread in threads:
                thread.start()
            join_all(threads, time.perf_counter() + 300)
            if not all(officer.token for officer in officers):
                raise RuntimeError(f"{sum(not o.token for o in officers)} officers could not open the form")
            login_seconds = time.perf_counter() - login_started

            run = secrets.token_hex(3)
            load = Load(site, officers, run=run, fields=seeded.fields, kinds=seeded.kinds, journey=args.journey)
            slice_seconds = args.seconds / args.rounds
            windows = []
            for round_number in range(args.rounds):
                # floor, submit, submit, floor, floor, …: each kind runs as often early as late.
                kinds = ("floor", "submit") if round_number % 2 == 0 else ("submit", "floor")
                for kind in kinds:
                    windows.append(load.window(kind, slice_seconds, cpu))
            check = check_stored(run, [pair for w in windows for pair in w.tally.accepted])

            submit_windows = [w for w in windows if w.kind == "submit"]
            floor_windows = [w for w in windows if w.kind == "floor"]
            submitted = figures(submit_windows, "submit", counted=check.accepted)
            floor = figures(floor_windows, "healthz")
            errors = sum((w.tally.errors for w in windows), Counter())
            samples = [s for w in windows for s in w.tally.samples][:5]

            print(
                f"{args.officers} officers, gunicorn with {args.workers} sync workers, {args.rounds} rounds of "
                f"{slice_seconds:.1f} s each way, journey '{args.journey}', {os.cpu_count()} cores; database "
                f"{database_name} set up in {setup:.1f} s, servers started in {servers:.1f} s, "
                f"{len(officers)} logins and forms in {login_seconds:.1f} s"
            )
            print(line("submissions (accepted)", submitted))
            if args.journey == "browser":
                for kind, name in (("form", "the form page before"), ("detail", "the detail page after")):
                    print(f"  {name:26}{' ' * 33}{latencies(figures(submit_windows, kind))}")
            print(line("floor: /healthz/", floor))
            print(
                f"submissions / floor: rate {submitted.per_second / floor.per_second:.3f}, "
                f"p50 {submitted.p50_ms / floor.p50_ms:.1f}×, p99 {submitted.p99_ms / floor.p99_ms:.1f}×, "
                f"gunicorn CPU each {submitted.server_cpu_ms / floor.server_cpu_ms:.1f}×"
            )
            print(f"errors: {dict(errors) or 'none'}" + "".join(f"\n  {sample}" for sample in samples))
            print(
                f"stored: {check.stored:,} submitted initiatives ({check.rows:,} rows) for {check.accepted:,} "
                f"accepted; {check.duplicate_titles} duplicated, {check.missing} missing, {check.unexpected} "
                f"never accepted, {check.wrong_page} on another detail page; {check.authors:,} authors, "
                f"{check.status_changes:,} status changes: " + ("OK" if check.ok else "MISMATCH")
            )
            if args.json:
                args.json.write_text(
                    json.dumps(
                        {
                            "submissions": asdict(submitted),
                            "floor": asdict(floor),
                            "errors": dict(errors),
                            "check": asdict(check) | {"ok": check.ok},
                            "database": database_name,
                            "pids": {"gunicorn": gunicorn.pid, "redis": redis_server.pid},
                        },
                        indent=2,
                    )
                )
            return 0 if check.ok else 1
    except KeyboardInterrupt:
        print("interrupted: the servers were stopped and the database removed", file=sys.stderr)
        return 130


def interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def quiet() -> None:
    STOP.set()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


if __name__ == "__main__":
    sys.exit(main())
