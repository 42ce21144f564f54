"""Real Celery workers for the tests of queues and redelivery: a Redis of the test's own (so a short
visibility timeout, or a worker that is killed, never touches another run's tasks on the shared
Redis), workers laid out as docker-compose.yml lays them out, and a mail server that never answers."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import yaml
from celery import Celery
from django.conf import settings
from django.db import connection

from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def own_redis(workdir: Path) -> Iterator[str]:
    """A redis-server of the test's own on a free port; yields its URL."""
    port, folder = free_port(), workdir / "redis"
    folder.mkdir()
    command = [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--dir", str(folder)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.kill()
        process.wait(timeout=10)


@dataclass
class SilentSmtp:
    port: int
    connections: list[socket.socket]


@contextmanager
def silent_smtp_server() -> Iterator[SilentSmtp]:
    """A mail server that accepts every connection and never says a word (not even its greeting)."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    listener.settimeout(0.2)
    server = SilentSmtp(port=listener.getsockname()[1], connections=[])
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server.connections.append(conn)  # held open, unanswered

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in server.connections:
            conn.close()
        listener.close()


@dataclass
class ComposeWorker:
    service: str
    queues: list[str]  # as docker-compose.yml names them ("celery" is the default queue)
    concurrency: int


def compose_workers() -> list[ComposeWorker]:
    """The Celery worker services of docker-compose.yml, with the queues and concurrency each runs."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    workers = []
    for name, service in services.items():
        command = service.get("command") or []
        if command[:4] != ["celery", "-A", "sangkien", "worker"]:
            continue
        queues, concurrency = ["celery"], 1
        for index, argument in enumerate(command):
            if argument in ("-Q", "--queues"):
                queues = command[index + 1].split(",")
            elif argument.startswith(("--queues=", "-Q=")):
                queues = argument.split("=", 1)[1].split(",")
            elif argument.startswith("--concurrency="):
                concurrency = int(argument.split("=", 1)[1])
            elif argument in ("-c", "--concurrency"):
                concurrency = int(command[index + 1])
        workers.append(ComposeWorker(name, queues, concurrency))
    return workers


def run_queue(name: str) -> str:
    """This run's name for a queue of docker-compose.yml (sangkien/settings_test.py prefixes them)."""
    default = settings.CELERY_TASK_DEFAULT_QUEUE
    return default if name == "celery" else f"{default}-{name}"


def isolated_app(broker_url: str) -> Celery:
    """The project's Celery configuration (its routes included) on another broker: what the web
    process does when it queues a task, sent to the test's own Redis."""
    app = Celery("isolated", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=broker_url, result_backend=broker_url)
    return app


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    log: Path

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker {self.name} stopped: {self.log.read_text()[-3000:]}")
            if " ready." in self.log.read_text():
                return
            time.sleep(0.1)
        raise RuntimeError(f"worker {self.name} not ready: {self.log.read_text()[-3000:]}")

    def pool_processes(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def kill_all(self) -> None:
        """kill -9 the worker and its pool processes at once, as a host or container dies."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill_all()


def start_worker(name: str, queues: list[str], *, workdir: Path, concurrency: int = 1, **env: str) -> Worker:
    """A prefork worker of the test's own (in a process group of its own, so it can be killed whole)
    on the test database, consuming `queues` (this run's names)."""
    db = connection.settings_dict  # pytest-django has switched NAME to the test database
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sangkien.settings_test",
        "TEST_CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "TEST_DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        **env,
    }
    log = workdir / f"{name}.log"
    command = [
        sys.executable, "-m", "celery", "-A", "sangkien", "worker", "--pool=prefork", f"--concurrency={concurrency}",
        "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-Q", ",".join(queues), "-n", f"{name}-{os.getpid()}@%h",
    ]  # fmt: skip
    with log.open("w") as output:
        process = subprocess.Popen(
            command, env=environment, cwd=ROOT, stdout=output, stderr=output, start_new_session=True
        )
    return Worker(name, process, log)
