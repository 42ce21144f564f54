"""requirements.txt alone runs the portal, the worker and beat (issue 13, item 7): kombu's Redis
transport imports `packaging`, which used to come only with pytest.

Building a fresh virtualenv from PyPI takes minutes, so the runtime-only install is simulated: the
test's own virtualenv, with every distribution that requirements.txt does not pull in (pytest,
factory-boy, Playwright, ruff…) made unimportable. What requirements.txt pulls in is read from the
installed packages' own metadata, extras and markers included, as pip resolves it.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import time
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.redis_server import OwnRedis

ROOT = Path(__file__).resolve().parent.parent
ALWAYS_THERE = {"pip"}  # what `python -m venv` itself installs

# Run first in each process: importing a module of a hidden distribution fails as if it were absent.
HIDE = """
import importlib.abc, os, sys

class RuntimeOnly(importlib.abc.MetaPathFinder):
    hidden = frozenset(os.environ["HIDDEN_MODULES"].split(","))

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.hidden:
            raise ModuleNotFoundError(f"No module named {name!r} (not in requirements.txt)", name=name)
        return None

sys.meta_path.insert(0, RuntimeOnly())
"""


def runtime_requirements() -> list[Requirement]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [Requirement(line) for line in (raw.split("#")[0].strip() for raw in lines) if line]


def runtime_distributions() -> set[str]:
    """The distributions pip installs for requirements.txt: its lines and, recursively, what each
    requires (with the extras asked for, on this platform)."""
    extras: dict[str, set[str]] = {}
    todo = runtime_requirements()
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in extras and set(requirement.extras) <= extras[name]:
            continue
        wanted = extras.setdefault(name, set())
        wanted.update(requirement.extras)
        for spec in importlib.metadata.distribution(name).requires or []:
            dependency = Requirement(spec)
            marker = dependency.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in {"", *wanted}):
                todo.append(dependency)
    return set(extras) | ALWAYS_THERE


def top_level_modules(distribution: importlib.metadata.Distribution) -> set[str]:
    names = set()
    for file in distribution.files or []:
        first = file.parts[0]
        if first in ("..", "__pycache__") or first.endswith((".dist-info", ".egg-info", ".pth", ".data")):
            continue
        names.add(first.split(".")[0])
    return names


def hidden_modules() -> set[str]:
    runtime = runtime_distributions()
    kept, hidden = set(), set()
    for distribution in importlib.metadata.distributions():
        modules = top_level_modules(distribution)
        (kept if canonicalize_name(distribution.metadata["Name"]) in runtime else hidden).update(modules)
    return hidden - kept


def runtime_only_env(extra_env: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_", "CELERY_"))}
    env |= {"HIDDEN_MODULES": ",".join(sorted(hidden_modules())), "DJANGO_SETTINGS_MODULE": "sangkien.settings"}
    return env | extra_env


def runtime_only(code: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", HIDE + code]
    return subprocess.run(
        command, env=runtime_only_env(extra_env), cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_the_simulation_hides_the_test_packages_and_keeps_the_runtime_ones() -> None:
    hidden = hidden_modules()
    assert {"pytest", "_pytest", "factory", "playwright", "schemathesis", "polib"} <= hidden
    assert not {"django", "celery", "kombu", "redis", "environ", "gunicorn", "axes", "openpyxl"} & hidden
    assert "No module named 'pytest'" in runtime_only("import pytest").stderr


def test_the_installed_packages_are_the_ones_requirements_txt_pins() -> None:
    for requirement in runtime_requirements():
        installed = importlib.metadata.version(requirement.name)
        assert requirement.specifier.contains(installed, prereleases=True), (requirement, installed)


def test_a_runtime_only_install_checks_the_project_and_imports_the_redis_transport() -> None:
    result = runtime_only(
        "import runpy, sys; import kombu.transport.redis; "
        "sys.argv = ['manage.py', 'check']; runpy.run_path('manage.py', run_name='__main__')"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "System check identified no issues" in result.stdout


# `celery -A sangkien …`, as docker-compose.yml starts the worker and beat.
CELERY = """
import runpy
sys.argv = ["celery", "-A", "sangkien", *sys.argv[1:]]
runpy.run_module("celery", run_name="__main__")
"""


def test_a_runtime_only_install_starts_the_worker_and_beat(tmp_path: Path) -> None:
    """Both entry points, on a Redis of the test's own: the worker connects and reports ready;
    beat queues the resend job (every second here; the worker listens to another queue)."""
    redis = OwnRedis(tmp_path).start()
    env = runtime_only_env(
        {"CELERY_BROKER_URL": redis.url(0), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
         "NOTIFICATION_RESEND_SECONDS": "1"}
    )  # fmt: skip
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    arguments = {
        worker_log: ["worker", "--pool=solo", "--without-gossip", "--without-mingle", "-Q", "elsewhere"],
        beat_log: ["beat", "--schedule", str(tmp_path / "beat-schedule")],
    }
    processes = []
    try:
        for log, args in arguments.items():
            with log.open("w") as output:
                command = [sys.executable, "-c", HIDE + CELERY, *args, "--loglevel=INFO"]
                processes.append(subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=output))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and all(process.poll() is None for process in processes):
            if " ready." in worker_log.read_text() and redis.queued():
                break
            time.sleep(0.2)
        assert " ready." in worker_log.read_text(), worker_log.read_text()[-3000:]
        assert redis.queued() >= 1, beat_log.read_text()[-3000:]
        assert all(process.poll() is None for process in processes)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
        redis.stop()
