"""A Redis server of a test's own, to stop, freeze and restart: never the machine's shared one."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import redis


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OwnRedis:
    """redis-server on a free port of 127.0.0.1, without persistence (a restart empties it, as a
    Redis that lost its data would be)."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None
        self._thaw: threading.Timer | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(port=self.port, db=db, socket_timeout=5, socket_connect_timeout=5)

    def start(self) -> OwnRedis:
        command = [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return self
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        """Down: the port refuses connections."""
        self.thaw()
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def freeze(self, *, at_most: float) -> None:
        """Hung: connections are accepted (by the kernel) and never answered, for `at_most` seconds
        at the longest (so that code that would wait for ever still lets the test end)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)
        self._thaw = threading.Timer(at_most, self.thaw)
        self._thaw.daemon = True
        self._thaw.start()

    def thaw(self) -> None:
        if self._thaw is not None:
            self._thaw.cancel()
            self._thaw = None
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)

    def queued(self) -> int:
        """Messages waiting in every queue (whatever the routing names them)."""
        client = self.client()
        return sum(client.llen(key) for key in client.scan_iter(_type="list"))
