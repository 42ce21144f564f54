"""Helpers for tests/test_upgrade.py: an older commit's code in a folder of its own, a scratch
PostgreSQL database, Django run by either code in a subprocess, and the database's state read in
plain SQL, so that what is recorded depends on neither code's models."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
from psycopg2 import sql

SCRIPTS = Path(__file__).parent / "upgrade_scripts"
# What a script run by run_script prints before its JSON answer (the rest of stdout is ignored).
ANSWER_MARK = "UPGRADE-ANSWER "
COMMAND_TIMEOUT = 300  # seconds; each step takes a few

# Tables that `migrate` itself writes to: their rows may grow (new migrations, the content types
# and permissions of new models) but never disappear; their old rows are compared one by one.
# (auth_group_permissions: the role groups are granted the permissions of the models added since,
# by the migration that adds each: unions.permissions.grant_roles_in_migration.)
GROWING_TABLES = frozenset({"django_migrations", "django_content_type", "auth_permission", "auth_group_permissions"})
# The custom user model (AUTH_USER_MODEL = unions.User) stays where it is: its grant tables.
USER_GROUPS_TABLE = "unions_user_groups"
USER_PERMISSIONS_TABLE = "unions_user_user_permissions"


# --- The code ------------------------------------------------------------------------------------


def _git(repository: Path, *args: str, **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(repository), *args], capture_output=True, check=False, **kwargs)


def has_commit(repository: Path, commit: str) -> bool:
    """Whether the clone holds the commit (a shallow clone may not)."""
    try:
        return _git(repository, "cat-file", "-e", f"{commit}^{{commit}}").returncode == 0
    except FileNotFoundError:  # no git at all
        return False


@contextmanager
def code_at(repository: Path, commit: str) -> Iterator[Path]:
    """The commit's files (git archive) in a temporary folder, removed afterwards."""
    archive = _git(repository, "archive", "--format=tar", commit)
    if archive.returncode != 0:
        raise RuntimeError(f"git archive {commit} failed: {archive.stderr.decode(errors='replace')}")
    with tempfile.TemporaryDirectory(prefix="sangkien-upgrade-") as folder:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(folder, filter="data")
        yield Path(folder)


# --- The database --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """Where the scratch database is made: the test settings' PostgreSQL server and account."""

    host: str
    port: str
    user: str
    password: str

    @classmethod
    def from_settings(cls, database: dict[str, Any]) -> Server:
        return cls(
            str(database.get("HOST") or "127.0.0.1"),
            str(database.get("PORT") or "5432"),
            str(database.get("USER") or ""),
            str(database.get("PASSWORD") or ""),
        )

    def connect(self, name: str) -> Any:
        return psycopg2.connect(host=self.host, port=self.port, user=self.user, password=self.password, dbname=name)

    def url(self, name: str) -> str:
        account = self.user + (f":{self.password}" if self.password else "")
        return f"postgres://{account}@{self.host}:{self.port}/{name}"


def scratch_name(test_database: str, pid: int) -> str:
    """A database name of this run's own, next to the test database's name (pytest-django's
    "test_" prefix dropped, its xdist suffix kept) so that parallel runs never share one."""
    base = test_database.removeprefix("test_")
    suffix = f"_upgrade_{pid}"
    return base[: 63 - len(suffix)] + suffix  # PostgreSQL's limit on a name


def _drop(server: Server, name: str) -> None:
    connection = server.connect("postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        connection.close()


@contextmanager
def scratch_database(server: Server, name: str) -> Iterator[str]:
    """A new, empty database (one left over by a killed run is replaced), dropped afterwards
    whatever happened; yields its name."""
    _drop(server, name)
    connection = server.connect("postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()
    try:
        yield name
    finally:
        _drop(server, name)


# --- Running either code ------------------------------------------------------------------------

# What the child's environment keeps from ours; everything the settings read is set explicitly
# (a developer's DATABASE_URL or CELERY_BROKER_URL must not leak in, nor pytest's test settings).
_KEPT_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")


def django_environment(database_url: str, media_root: Path) -> dict[str, str]:
    """sangkien.settings for a scratch database: DEBUG (seed_demo refuses to run without it), no
    broker (tasks run eagerly in the process: no Celery message is ever sent), a local cache and
    mail kept in memory."""
    kept = {name: os.environ[name] for name in _KEPT_VARIABLES if name in os.environ}
    return kept | {
        "DJANGO_SETTINGS_MODULE": "sangkien.settings",
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "1",
        "CELERY_BROKER_URL": "",
        "CELERY_RESULT_BACKEND": "",
        "CACHE_URL": "locmemcache://",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "DJANGO_MEDIA_ROOT": str(media_root),
        "DJANGO_STATIC_ROOT": str(media_root.parent / "static"),
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _run(code: Path, args: list[str], env: dict[str, str], stdin: str = "") -> str:
    """Run this Python (sys.executable: the same virtualenv) in the code's folder; its stdout, or
    an AssertionError carrying the end of what it said."""
    done = subprocess.run(
        [sys.executable, *args], cwd=code, env=env, input=stdin, capture_output=True, text=True,
        timeout=COMMAND_TIMEOUT, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        said = (done.stdout[-3000:] + "\n" + done.stderr[-6000:]).strip()
        raise AssertionError(f"{' '.join(args)} in {code} exited with {done.returncode}:\n{said}")
    return done.stdout


def manage(code: Path, *args: str, env: dict[str, str]) -> str:
    return _run(code, ["manage.py", *args], env)


def run_script(code: Path, script: str, env: dict[str, str], question: dict[str, Any]) -> dict[str, Any]:
    """Run tests/upgrade_scripts/<script> with the given code (it puts that folder first on its
    path and sets Django up), the question as JSON on its stdin; its JSON answer."""
    out = _run(code, [str(SCRIPTS / script)], env, stdin=json.dumps(question))
    answers = [line.removeprefix(ANSWER_MARK) for line in out.splitlines() if line.startswith(ANSWER_MARK)]
    if not answers:
        raise AssertionError(f"{script} gave no answer; it printed:\n{out[-3000:]}")
    return json.loads(answers[-1])


# --- The state, in plain SQL ---------------------------------------------------------------------


@dataclass
class DatabaseState:
    row_counts: dict[str, int] = field(default_factory=dict)  # table → rows (partitions included)
    content_types: dict[int, tuple[str, str]] = field(default_factory=dict)  # id → (app_label, model)
    permissions: dict[int, tuple[int, str]] = field(default_factory=dict)  # id → (content_type_id, codename)
    group_permissions: set[tuple[int, int]] = field(default_factory=set)  # (group_id, permission_id)
    user_permissions: set[tuple[int, int]] = field(default_factory=set)  # (user_id, permission_id)
    user_groups: set[tuple[int, int]] = field(default_factory=set)  # (user_id, group_id)
    log_entries: dict[int, tuple[int | None, str]] = field(default_factory=dict)  # id → (content_type_id, object_id)
    # (parent, child) for every partition and partition index (pg_inherits)
    inheritance: set[tuple[str, str]] = field(default_factory=set)


def _tables(cursor: Any) -> list[str]:
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname"
    )
    return [name for (name,) in cursor.fetchall()]


def _count(cursor: Any, table: str) -> int:
    cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
    return cursor.fetchone()[0]


def read_state(server: Server, name: str) -> DatabaseState:
    """Everything the upgrade must keep, as the database holds it."""
    state = DatabaseState()
    connection = server.connect(name)
    try:
        with connection.cursor() as cursor:
            state.row_counts = {table: _count(cursor, table) for table in _tables(cursor)}
            cursor.execute("SELECT id, app_label, model FROM django_content_type")
            state.content_types = {id_: (app, model) for id_, app, model in cursor.fetchall()}
            cursor.execute("SELECT id, content_type_id, codename FROM auth_permission")
            state.permissions = {id_: (ct, codename) for id_, ct, codename in cursor.fetchall()}
            cursor.execute("SELECT group_id, permission_id FROM auth_group_permissions")
            state.group_permissions = set(cursor.fetchall())
            cursor.execute(
                sql.SQL("SELECT user_id, permission_id FROM {}").format(sql.Identifier(USER_PERMISSIONS_TABLE))
            )
            state.user_permissions = set(cursor.fetchall())
            cursor.execute(sql.SQL("SELECT user_id, group_id FROM {}").format(sql.Identifier(USER_GROUPS_TABLE)))
            state.user_groups = set(cursor.fetchall())
            cursor.execute("SELECT id, content_type_id, object_id FROM django_admin_log")
            state.log_entries = {id_: (ct, object_id) for id_, ct, object_id in cursor.fetchall()}
            cursor.execute("SELECT inhparent::regclass::text, inhrelid::regclass::text FROM pg_inherits")
            state.inheritance = set(cursor.fetchall())
    finally:
        connection.close()
    return state


def latest_snapshot(server: Server, name: str, snapshots_table: str, rows_table: str, units_table: str) -> dict:
    """The newest leaderboard snapshot's instant (ISO, UTC) and the names of the units ranked in it:
    what its dashboard shows."""
    connection = server.connect(name)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("SELECT id, taken_at FROM {} ORDER BY taken_at DESC LIMIT 1").format(
                    sql.Identifier(snapshots_table)
                )
            )
            snapshot_id, taken_at = cursor.fetchone()
            cursor.execute(
                sql.SQL(
                    "SELECT DISTINCT u.name FROM {} r JOIN {} u ON u.id = r.unit_id WHERE r.snapshot_id = %s"
                ).format(sql.Identifier(rows_table), sql.Identifier(units_table)),
                [snapshot_id],
            )
            names = sorted(name for (name,) in cursor.fetchall())
    finally:
        connection.close()
    return {"taken_at": taken_at.isoformat(), "unit_names": names}
