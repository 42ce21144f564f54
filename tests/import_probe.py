"""Runs imports of one file in a process of its own, so that a test can read that process's peak
memory (`os.wait4`) without the test runner's own:
`python -m tests.import_probe FILE USERNAME [SITE_FILE]`.

Against the database named by TEST_DATABASE_URL (the test database, whose rows the calling test
committed), it imports FILE three ways, in this order, and prints one JSON line per way with the
seconds the import took and what the user was shown:
  command  `manage.py import_units FILE` (CommandError's message and stderr);
  admin    the units upload page of the admin, as a superuser;
  site     the officers' "Nhập từ Excel" page, as USERNAME (SITE_FILE if given: an initiatives file).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stderr
from dataclasses import dataclass
from pathlib import Path

WAYS = ("command", "admin", "site")


def main(path: Path, username: str, site_path: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sangkien.settings_test")
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import CommandError, call_command
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    setup_test_environment()  # the test client's host, as under pytest

    from tests.forms import once_field
    from unions.models import User

    contents = {"command": b"", "admin": path.read_bytes(), "site": site_path.read_bytes()}
    officer = User.objects.get(username=username)
    superuser = User.objects.filter(is_superuser=True).first()

    for way in WAYS:
        started = time.perf_counter()
        if way == "command":
            stderr = io.StringIO()
            try:
                with redirect_stderr(stderr):
                    call_command("import_units", str(path), stderr=stderr)
                shown = "ok"
            except CommandError as error:
                shown = f"{stderr.getvalue()}\n{error}"
        else:
            client = Client()
            client.force_login(superuser if way == "admin" else officer)
            url = reverse("admin:unions_union_import" if way == "admin" else "initiatives:import")
            data = {"file": SimpleUploadedFile(path.name, contents[way])}
            if way != "admin":
                data.update(once_field(client, url))  # the officers' page carries a one-time token
            response = client.post(url, data, follow=True)
            shown = response.content.decode()
        seconds = time.perf_counter() - started
        print(json.dumps({"way": way, "seconds": seconds, "shown": shown}), flush=True)


@dataclass
class ProbeResult:
    exit_code: int
    peak_rss_mb: float
    imports: dict[str, dict]  # way → {"seconds": …, "shown": …}


def probe(
    path: Path, *, username: str, database_url: str, site_path: Path | None = None, timeout: float = 300
) -> ProbeResult:
    """Run `main` in a child process and read its peak RSS from wait4: the child's own rusage,
    which RUSAGE_CHILDREN would mix with every other child the test run has had."""
    env = {**os.environ, "TEST_DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "sangkien.settings_test"}
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryFile() as output:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.import_probe", str(path), username, str(site_path or path)],
            cwd=root,
            env=env,
            stdout=output,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                child.kill()
                pid, status, usage = os.wait4(child.pid, 0)
                break
            time.sleep(0.05)
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        output.seek(0)
        lines = [json.loads(line) for line in output.read().decode().splitlines() if line.startswith("{")]
    return ProbeResult(
        exit_code=child.returncode,
        peak_rss_mb=usage.ru_maxrss / 1024,
        imports={line["way"]: line for line in lines},
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3] if len(sys.argv) > 3 else sys.argv[1]))
