"""Real servers for the tests that must see what a client on the network sees: the portal under
gunicorn (as docker-compose.yml runs it) and, optionally, the committed nginx config in front of it."""

from __future__ import annotations

import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
NGINX_CONF = ROOT / "deploy" / "nginx.conf"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped: {log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer on port {port}: {log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@dataclass
class Gunicorn:
    port: int
    upload_dir: Path  # the temporary directory Django writes large uploads to (FILE_UPLOAD_TEMP_DIR unset)
    log: Path


@contextmanager
def run_gunicorn(workdir: Path, *, workers: int = 1, **env: str) -> Iterator[Gunicorn]:
    """gunicorn serving the portal on the test database, as docker-compose.yml starts it (sync
    workers; docker-compose runs 3)."""
    db = connection.settings_dict  # pytest-django has switched NAME to the test database
    upload_dir, heartbeat_dir = workdir / "tmp", workdir / "heartbeat"
    upload_dir.mkdir()
    heartbeat_dir.mkdir()
    port, log = free_port(), workdir / "gunicorn.log"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sangkien.settings_test",
        "TEST_DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "TEST_MEDIA_ROOT": str(workdir / "media"),
        "TMPDIR": str(upload_dir),
        **env,
    }
    command = [
        sys.executable, "-m", "gunicorn", "sangkien.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--timeout", "30", "--worker-tmp-dir", str(heartbeat_dir),
    ]  # fmt: skip
    with log.open("w") as output:
        process = subprocess.Popen(command, env=environment, cwd=settings.BASE_DIR, stdout=output, stderr=output)
    try:
        wait_for_port(port, process, log)
        # The worker's first request loads the URLs, views and templates: not what the tests time.
        raw_request(port, "GET /healthz/ HTTP/1.1\nHost: 127.0.0.1\nConnection: close\n")
        yield Gunicorn(port=port, upload_dir=upload_dir, log=log)
    finally:
        stop(process)


def nginx_site(upstream_port: int, http_port: int, https_port: int, certs: Path) -> str:
    """The committed site config, pointed at this machine's ports and a throwaway certificate."""
    site = NGINX_CONF.read_text()
    site = site.replace("server web:8000", f"server 127.0.0.1:{upstream_port}")
    site = re.sub(r"listen 80\b", f"listen 127.0.0.1:{http_port}", site)
    site = re.sub(r"listen 443\b", f"listen 127.0.0.1:{https_port}", site)
    return site.replace("/etc/nginx/certs", str(certs))


def make_certificate(directory: Path) -> Path:
    directory.mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(directory / "privkey.pem"), "-out", str(directory / "fullchain.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return directory


def nginx_main_config(workdir: Path, site: Path) -> Path:
    """What the official nginx image's /etc/nginx/nginx.conf provides around conf.d/*.conf."""
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / name).mkdir(exist_ok=True)
    main = workdir / "nginx.conf"
    # Workers as root: as nobody they could not reach pytest's private temporary directory.
    main.write_text(f"""
user root;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log info;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log {workdir}/access.log;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    include {site};
}}
""")
    return main


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


@dataclass
class Nginx:
    http_port: int
    https_port: int
    body_dir: Path  # where nginx buffers request bodies


@contextmanager
def run_nginx(workdir: Path, upstream_port: int) -> Iterator[Nginx]:
    http_port, https_port = free_port(), free_port()
    site = workdir / "site.conf"
    site.write_text(nginx_site(upstream_port, http_port, https_port, make_certificate(workdir / "certs")))
    main = nginx_main_config(workdir, site)
    log = workdir / "error.log"
    log.touch()
    process = subprocess.Popen([nginx_binary(), "-c", str(main), "-g", "daemon off; master_process on;"])
    try:
        wait_for_port(https_port, process, log)
        yield Nginx(http_port=http_port, https_port=https_port, body_dir=workdir / "body")
    finally:
        stop(process)


@dataclass
class Answer:
    status: int
    body: str
    seconds: float  # from the first byte sent to the end of the answer's headers


def raw_request(
    port: int, head: str, body: bytes = b"", *, more: bytes = b"", times: int = 0, tls: bool = False
) -> Answer:
    """Send `head` and `body` over a raw socket, then `more` `times` over while the answer is read,
    as an uploading client would: one thread waits on the socket for either, so a TLS connection is
    never read and written from two threads at once (OpenSSL does not allow it)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    if tls:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        raw = context.wrap_socket(raw, server_hostname="localhost")
    started = time.monotonic()
    deadline = started + 30
    raw.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
    raw.setblocking(False)
    received, seconds = b"", None
    to_send, left = memoryview(b""), times
    with raw:
        while (remaining := deadline - time.monotonic()) > 0:
            sending = bool(to_send) or left > 0
            buffered = tls and raw.pending() > 0  # decrypted already, so select would not wake for it
            readable, writable, _ = select.select([raw], [raw] if sending else [], [], 0 if buffered else remaining)
            if readable or buffered:
                try:
                    part = raw.recv(65536)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                    part = None
                except OSError:
                    break  # reset by the server, after or instead of its answer
                if part == b"":
                    break
                if part:
                    received += part
                    if seconds is None and b"\r\n\r\n" in received:
                        seconds = time.monotonic() - started
                    if seconds is not None and _complete(received):
                        break
            if writable:
                if not to_send:
                    to_send, left = memoryview(more), left - 1
                try:
                    to_send = to_send[raw.send(to_send) :]
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                    pass  # the same bytes again when the socket next takes them
                except OSError:
                    to_send, left = memoryview(b""), 0  # the server answered and closed: a refusal
    head_part, _, body_part = received.partition(b"\r\n\r\n")
    status = int(head_part.split(b" ", 2)[1]) if head_part.startswith(b"HTTP/") else 0
    return Answer(status=status, body=body_part.decode(errors="replace"), seconds=seconds or float("inf"))


def _complete(received: bytes) -> bool:
    head, _, body = received.partition(b"\r\n\r\n")
    if head.startswith(b"HTTP/1.1 1"):  # 100 Continue: the server now waits for the body
        return True
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return body.endswith(b"0\r\n\r\n")  # chunked
