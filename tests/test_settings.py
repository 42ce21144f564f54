"""The settings module as a fresh clone, a developer and production each see it."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_outside as run
from tests.conftest import sqlite_copy
from tests.workers import compose_workers

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json, django
django.setup()
from django.conf import settings
from sangkien.celery import app, ping
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "eager": app.conf.task_always_eager,
    "language": settings.LANGUAGE_CODE,
    "time_zone": settings.TIME_ZONE,
    "ping": ping.delay("eager?").get(timeout=5) if app.conf.task_always_eager else None,
}))
"""
PRODUCTION = {
    "DJANGO_DEBUG": "False",
    "DJANGO_SECRET_KEY": "a-long-production-secret-" + "x" * 40,
    "DJANGO_ALLOWED_HOSTS": "sangkien.congdoan.vn",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/sangkien",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
}


def probe(extra_env: dict[str, str]) -> dict:
    result = run([sys.executable, "-c", PROBE], extra_env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_fresh_clone_uses_sqlite_and_runs_tasks_eagerly() -> None:
    found = probe({})
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["eager"] is True
    assert found["ping"]["payload"] == "eager?"
    assert (found["language"], found["time_zone"]) == ("vi", "Asia/Ho_Chi_Minh")


def test_database_url_and_broker_switch_to_postgresql_and_redis() -> None:
    found = probe({"DATABASE_URL": PRODUCTION["DATABASE_URL"], "CELERY_BROKER_URL": PRODUCTION["CELERY_BROKER_URL"]})
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["eager"] is False


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


CSP_PROBE = """
import django
django.setup()
from django.test import Client
response = Client().get("/healthz/", secure=True, headers={"host": "sangkien.congdoan.vn"})
print(response.status_code, response.headers.get("Content-Security-Policy"))
"""


def test_production_answers_with_the_content_security_policy(tmp_path: Path) -> None:
    env = {**PRODUCTION, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = run([sys.executable, "-c", CSP_PROBE], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "200 default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def test_production_collects_and_fingerprints_the_static_files(tmp_path: Path) -> None:
    """WhiteNoise's manifest storage fails on any missing reference (e.g. a vendored source map)."""
    env = {**PRODUCTION, "DJANGO_STATIC_ROOT": str(tmp_path)}
    result = run([sys.executable, "manage.py", "collectstatic", "--noinput"], env)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    assert {"vendor/bootstrap/bootstrap.min.css", "css/site.css", "favicon.svg"} <= set(manifest)
    assert (tmp_path / (manifest["vendor/bootstrap/bootstrap.min.css"] + ".gz")).exists()


def test_production_without_a_secret_key_refuses_to_start() -> None:
    env = {key: value for key, value in PRODUCTION.items() if key != "DJANGO_SECRET_KEY"}
    result = run([sys.executable, "manage.py", "check"], env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_docker_compose_describes_the_production_shape() -> None:
    assert shutil.which("docker-compose"), "make test installs Debian's docker-compose"
    result = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "DJANGO_SECRET_KEY": "x", "POSTGRES_PASSWORD": "x"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) >= {"web", "worker", "beat", "db", "redis"}
    assert "gunicorn" in " ".join(services["web"]["command"])
    for name in ("web", "db", "redis", "worker"):
        assert "healthcheck" in services[name], name
    assert any("media" in str(volume) for volume in services["web"]["volumes"])
    assert services["web"]["environment"]["DJANGO_DEBUG"] == "False"


def test_docker_compose_puts_nginx_in_front_of_gunicorn_and_trusts_only_it() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    proxy, web = services["proxy"], services["web"]
    assert proxy["image"].startswith("nginx:")
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in proxy["volumes"]
    assert (ROOT / "deploy" / "nginx.conf").is_file()
    assert set(proxy["ports"]) == {"80:80", "443:443"}
    assert "ports" not in web, "gunicorn is reached only through nginx"
    assert web["environment"]["TRUSTED_PROXY_COUNT"] == "1"
    # The header is read only from nginx: its fixed address, on a subnet where no other container may take it.
    proxy_address = ipaddress.ip_address(proxy["networks"]["default"]["ipv4_address"])
    assert web["environment"]["TRUSTED_PROXY_ADDRESSES"] == str(proxy_address)
    (network,) = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["networks"]["default"]["ipam"]["config"]
    assert proxy_address in ipaddress.ip_network(network["subnet"])
    assert proxy_address not in ipaddress.ip_network(network["ip_range"])
    assert web["environment"]["DJANGO_DEBUG"] == "False"
    for name in ("worker", "beat"):
        assert "ports" not in services[name], name


QUEUES_PROBE = """
import django, json
django.setup()
from django.conf import settings
print(json.dumps({"routes": settings.CELERY_TASK_ROUTES, "transport": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
                  "smtp_timeout": settings.MAILERS["default"]["OPTIONS"]["timeout"]}))
"""


def test_mail_exports_and_snapshots_each_have_a_queue_and_a_worker_in_docker_compose() -> None:
    result = run([sys.executable, "-c", QUEUES_PROBE], PRODUCTION)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    routes = {task: route["queue"] for task, route in found["routes"].items()}
    assert routes == {
        "initiatives.send_notification": "mail",
        "initiatives.resend_pending_notifications": "mail",
        "initiatives.build_emulation_export": "exports",
        "initiatives.clean_emulation_exports": "exports",
        "initiatives.snapshot_leaderboard": "snapshots",
        "leaderboard.materialize": "snapshots",
        "honours.build_document": "exports",
        "councils.build_document": "exports",
        "initiatives.group_similar": "exports",
    }
    assert found["smtp_timeout"] == 5  # seconds, EMAIL_TIMEOUT: a silent mail server costs this per step
    # A worker killed mid-task gives its task back after an export's stale period, not kombu's hour.
    assert found["transport"]["visibility_timeout"] == 300
    assert found["transport"]["unacked_restore_interval"] * found["transport"]["unacked_restore_throttle"] <= 10
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    consumers: dict[str, list[str]] = {}
    for worker in compose_workers():
        assert "healthcheck" in services[worker.service], worker.service
        for queue in worker.queues:
            consumers.setdefault(queue, []).append(worker.service)
    assert set(consumers) == {"celery", *routes.values()}
    assert all(len(services) == 1 for services in consumers.values()), consumers
    # No worker that takes mail takes anything else: a silent mail server holds up nothing else.
    mail_workers = [worker for worker in compose_workers() if "mail" in worker.queues]
    assert [worker.queues for worker in mail_workers] == [["mail"]]


def test_the_smtp_timeout_and_the_stale_period_come_from_the_environment() -> None:
    result = run([sys.executable, "-c", QUEUES_PROBE], {**PRODUCTION, "EMAIL_TIMEOUT": "2.5",
                                                        "EXPORT_STALE_SECONDS": "120"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["smtp_timeout"] == 2.5
    assert found["transport"]["visibility_timeout"] == 120


def test_the_login_lockout_and_body_caps_come_from_the_environment() -> None:
    found = probe_settings(
        {"LOGIN_FAILURE_LIMIT": "7", "LOGIN_FAILURE_LIMIT_PER_ADDRESS": "40", "LOGIN_COOLOFF_MINUTES": "45",
         "TRUSTED_PROXY_COUNT": "2", "TRUSTED_PROXY_ADDRESSES": "172.30.12.2,10.0.0.0/8",
         "REQUEST_BODY_MAX_BYTES": "2097152"},
        "AXES_FAILURE_LIMIT", "LOGIN_FAILURE_LIMIT_PER_ADDRESS", "AXES_COOLOFF_TIME", "TRUSTED_PROXY_COUNT",
        "TRUSTED_PROXY_ADDRESSES", "REQUEST_BODY_MAX_BYTES", "AXES_HANDLER",
    )  # fmt: skip
    assert found == ["7", "40", "0:45:00", "2", "['172.30.12.2', '10.0.0.0/8']", "2097152",
                     "sangkien.lockout.PortalAxesHandler"]  # fmt: skip
    defaults = probe_settings({}, "AXES_FAILURE_LIMIT", "LOGIN_FAILURE_LIMIT_PER_ADDRESS", "AXES_COOLOFF_TIME",
                              "TRUSTED_PROXY_COUNT", "TRUSTED_PROXY_ADDRESSES", "REQUEST_BODY_MAX_BYTES")  # fmt: skip
    assert defaults == ["5", "20", "0:30:00", "0", "[]", "1048576"]


@pytest.mark.parametrize(
    ("addresses", "complaint"),
    [("", "set TRUSTED_PROXY_ADDRESSES"), ("172.30.12.2,nginx", "'nginx' is not an IP address or network")],
)
def test_a_proxy_count_without_valid_proxy_addresses_refuses_to_start(addresses: str, complaint: str) -> None:
    """Trusting X-Forwarded-For from anyone would let a direct client pick its address."""
    result = run(
        [sys.executable, "manage.py", "check"], {"TRUSTED_PROXY_COUNT": "1", "TRUSTED_PROXY_ADDRESSES": addresses}
    )
    assert result.returncode != 0
    assert complaint in result.stderr


def probe_settings(extra_env: dict[str, str], *names: str) -> list[str]:
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps([str(getattr(settings, name)) for name in {names!r}]))"
    )
    result = run([sys.executable, "-c", code], extra_env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_dockerfile_uses_a_python_that_django_6_1_supports() -> None:
    match = re.search(r"^FROM python:(\d+)\.(\d+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert match, "the Dockerfile starts from an official python image"
    assert (int(match[1]), int(match[2])) >= (3, 12)


SQLITE_IMPORT = """
import django, io, openpyxl
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from unions.imports import HEADER, import_units
from unions.models import Union

def book(members, parent):
    workbook = openpyxl.Workbook()
    for row in (HEADER, ("TLD", "Tổng Liên đoàn", "Tổng Liên đoàn", "", members, ""),
                ("HN", "LĐLĐ Hà Nội", "Cấp tỉnh/ngành", "TLD", 1, ""), ("A", "CĐ A", "Cơ sở", parent, 2, "Cụm 1")):
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer

import_units(book(5, "TLD"))
result = import_units(book(7, "HN"))
print(result.updated, result.moved, sorted(Union.objects.values_list("code", "member_count", "path")))
"""


def test_imports_update_units_on_the_embedded_sqlite_too(tmp_path: Path, migrated_sqlite: Path) -> None:
    """`make run` uses SQLite: the importer's UPDATE … FROM VALUES must work there as well."""
    result = run([sys.executable, "-c", SQLITE_IMPORT], {"DATABASE_URL": sqlite_copy(migrated_sqlite, tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "2 1 [('A', 2, 'TLD/HN/A/'), ('HN', 1, 'TLD/HN/'), ('TLD', 7, 'TLD/')]"
    )


def test_the_pre_commit_hook_runs_the_ruff_that_ci_runs() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"]
    ruff = next(repo for repo in hooks if repo["repo"].endswith("/ruff-pre-commit"))
    pinned = next(
        line.split("==")[1].strip()
        for line in (ROOT / "requirements-dev.txt").read_text().splitlines()
        if line.startswith("ruff==")
    )
    assert ruff["rev"] == f"v{pinned}"
    assert {hook["id"] for hook in ruff["hooks"]} == {"ruff-check", "ruff-format"}
