"""Hostile spreadsheets against the import (issue 12): what each costs, and whether the other
workers stay responsive.

First, each file (a tiny valid one, the red team's three and three variants that pass a ratio
check) is imported in a process of its own on the command line, in the admin and on the site
(tests/import_probe.py): the seconds of each and the process's peak RSS. Then it starts
gunicorn as production does (3 sync workers, 120 s timeout) on a free port of 127.0.0.1, logs in
as an officer, posts the red team's three files to "Nhập từ Excel" at the same time and polls
/healthz/ meanwhile; prints each upload's time and answer and the worst /healthz/ latency.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sangkien_sheets .venv/bin/python bench/hostile_uploads.py

The database needs the demo's officer `canbo.thep` and an open programme: the script runs
`seed_demo` when the officer is missing. `--code DIR` serves another checkout (e.g. the code
before the guard) with gunicorn, and skips the first part. The test
`test_hostile_uploads_leave_the_other_workers_responsive` runs the second part on the test database.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import spreadsheet_bombs as bombs  # noqa: E402

UPLOAD_TIMEOUT = 200  # seconds; more than gunicorn's 120 s, so a killed worker shows as such
HEALTH_TIMEOUT = 60


@dataclass
class Upload:
    name: str
    seconds: float = 0.0
    answer: str = ""


@dataclass
class Measurement:
    uploads: list[Upload]
    health_checks: int = 0
    worst_health_seconds: float = 0.0
    failed_health_checks: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(port: int, *, code: Path, env: dict[str, str]) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "gunicorn", "sangkien.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", "3", "--timeout", "120", "--chdir", str(code),
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=5) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not answer /healthz/ within 30 s")


def logged_in(base: str, username: str, password: str) -> urllib.request.OpenerDirector:
    """An opener holding the session of `username`, logged in through the login form."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(f"{base}/accounts/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    data = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    request = urllib.request.Request(f"{base}/accounts/login/", data=data.encode(), headers={"Referer": base})
    response = opener.open(request, timeout=30)
    if "/accounts/login/" in response.geturl():
        raise RuntimeError(f"could not log in as {username}")
    return opener


def post_file(opener: urllib.request.OpenerDirector, base: str, path: Path, upload: Upload) -> None:
    url = f"{base}/initiatives/import/"
    started = time.perf_counter()
    try:
        page = opener.open(url, timeout=30).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        once = re.search(r'name="once" value="([^"]+)"', page)  # the form's one-time token, if it has one
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{token}\r\n'
                + (f'--{boundary}\r\nContent-Disposition: form-data; name="once"\r\n\r\n{once[1]}\r\n' if once else "")
                + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
                "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n"
            ).encode()
            + path.read_bytes()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        request = urllib.request.Request(
            url, data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Referer": url}
        )
        answer = opener.open(request, timeout=UPLOAD_TIMEOUT).read().decode()
        refused = re.search(r"(Tệp bị từ chối[^<]*|Việc đọc tệp[^<]*|Trang tính có hơn[^<]*)", answer)
        upload.answer = refused[1].strip() if refused else "no refusal shown: " + " ".join(answer.split())[:200]
    except (urllib.error.URLError, OSError) as error:
        upload.answer = f"no answer: {error}"
    upload.seconds = time.perf_counter() - started


def measure(base: str, files: dict[str, Path], *, username: str, password: str) -> Measurement:
    """Post every file at once, from its own session, while /healthz/ is polled every 0.1 s."""
    openers = {name: logged_in(base, username, password) for name in files}
    measurement = Measurement(uploads=[Upload(name) for name in files])
    threads = [
        threading.Thread(target=post_file, args=(openers[upload.name], base, files[upload.name], upload))
        for upload in measurement.uploads
    ]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(f"{base}/healthz/", timeout=HEALTH_TIMEOUT) as response:
                response.read()
        except OSError as error:
            measurement.failed_health_checks.append(str(error))
        elapsed = time.perf_counter() - started
        measurement.health_checks += 1
        measurement.worst_health_seconds = max(measurement.worst_health_seconds, elapsed)
        time.sleep(0.1)
    for thread in threads:
        thread.join()
    return measurement


def run(files: dict[str, Path], *, env: dict[str, str], code: Path, username: str, password: str) -> Measurement:
    port = free_port()
    server = start_gunicorn(port, code=code, env=env)
    try:
        return measure(f"http://127.0.0.1:{port}", files, username=username, password=password)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def build_red_team(folder: Path) -> dict[str, Path]:
    from initiatives.imports import HEADER

    return {name: build(folder / name.replace(" ", "-"), HEADER) for name, build in bombs.BOMBS.items()}


def per_file(folder: Path, files: dict[str, Path], database_url: str) -> None:
    import openpyxl

    from tests.import_probe import probe
    from unions.imports import HEADER

    tiny = folder / "tiny.xlsx"
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    book.active.append(("TLD", "Tổng Liên đoàn Lao động Việt Nam", "Tổng Liên đoàn", "", 1, ""))
    book.save(tiny)
    variants = {
        "one-row-4M-cells": bombs.wide_row_bomb(folder / "wide.xlsx", HEADER),
        "xml-entities": bombs.entity_bomb(folder / "entity.xlsx", HEADER),
        "lying-sizes": bombs.lying_size_bomb(folder / "lying.xlsx", HEADER),
    }
    print(f"{'file':22} {'KiB':>6} {'command':>8} {'admin':>8} {'site':>8} {'peak RSS':>9}  answer")
    for name, path in {"tiny valid file": tiny, **files, **variants}.items():
        result = probe(path, username="canbo.thep", database_url=database_url)
        seconds = "".join(f"{result.imports[way]['seconds']:7.2f}s" for way in ("command", "admin", "site"))
        shown = result.imports["command"]["shown"].strip().splitlines()[0][:90]
        print(f"{name:22} {path.stat().st_size / 1024:6.0f} {seconds} {result.peak_rss_mb:6.0f} MB  {shown}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout gunicorn serves")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sangkien.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from unions.models import User

    if not User.objects.filter(username="canbo.thep").exists():
        call_command("seed_demo")
    from django.db import connection

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sangkien.settings"}
    with tempfile.TemporaryDirectory() as folder:
        files = build_red_team(Path(folder))
        if args.code == ROOT:
            db = connection.settings_dict
            per_file(
                Path(folder), files, f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
            )
        print("\ngunicorn, 3 sync workers: the three files posted at once to Nhập từ Excel")
        measurement = run(files, env=env, code=args.code, username="canbo.thep", password="SangKien@2022")
    for upload in measurement.uploads:
        print(f"upload {upload.name:24} {upload.seconds:7.2f} s   {upload.answer[:150]}")
    print(
        f"/healthz/: {measurement.health_checks} checks, worst {measurement.worst_health_seconds:.2f} s, "
        f"{len(measurement.failed_health_checks)} failed {measurement.failed_health_checks[:3]}"
    )


if __name__ == "__main__":
    main()
