from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection

from initiatives.models import Field, Program
from tests.factories import FieldFactory, PhaseFactory, ProgramFactory, UnionFactory, UserFactory
from tests.honour_tree import tree  # noqa: F401  (the honours tests' tree, a fixture)
from unions.models import Union, User
from unions.permissions import LEADERSHIP_GROUP, REVIEWERS_GROUP, ensure_role_groups

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def program(db: None) -> Program:
    """The open programme with its two phases, as in 2022–2023."""
    program = ProgramFactory(name="01 triệu sáng kiến", slug="01-trieu-sang-kien", target=1_000_000)
    PhaseFactory(
        program=program, number=1, name="Giai đoạn 1", starts_on=dt.date(2022, 1, 8), ends_on=dt.date(2022, 5, 31)
    )
    PhaseFactory(
        program=program, number=2, name="Giai đoạn 2", starts_on=dt.date(2022, 6, 1), ends_on=dt.date(2023, 9, 1)
    )
    return program


@pytest.fixture
def field(db: None) -> Field:
    return FieldFactory(name="Kỹ thuật – sản xuất")


@dataclass
class UnitTree:
    """TLĐ → Công Thương (tier 2) → Thép (superior) → Gang thép (grassroots); Rạng Đông under Công Thương;
    Hà Nội (tier 2) → Bia Hà Nội (grassroots) as a separate branch."""

    root: Union
    cong_thuong: Union
    thep: Union
    gang_thep: Union
    rang_dong: Union
    ha_noi: Union
    bia: Union


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Each test starts with an empty cache (cached figures would leak between tests)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path) -> None:
    """Uploaded files of a test go to its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def unit_tree(db: None) -> UnitTree:
    root = UnionFactory(
        code="TLD", name="Tổng Liên đoàn Lao động Việt Nam", level=Union.Level.CONFEDERATION, parent=None
    )
    cong_thuong = UnionFactory(code="CTVN", name="Công đoàn Công Thương Việt Nam", level=Union.Level.TIER2, parent=root)
    thep = UnionFactory(
        code="CTVN-THEP", name="Công đoàn Tổng Công ty Thép Việt Nam", level=Union.Level.SUPERIOR, parent=cong_thuong
    )
    gang_thep = UnionFactory(code="THEP-TISCO", name="Công đoàn Công ty CP Gang thép Thái Nguyên", parent=thep)
    rang_dong = UnionFactory(
        code="CTVN-RANGDONG", name="Công đoàn Công ty CP Bóng đèn - Phích nước Rạng Đông", parent=cong_thuong
    )
    ha_noi = UnionFactory(code="HN", name="Liên đoàn Lao động thành phố Hà Nội", level=Union.Level.TIER2, parent=root)
    bia = UnionFactory(code="HN-BIA", name="Công đoàn Công ty CP Bia Hà Nội", parent=ha_noi)
    return UnitTree(root, cong_thuong, thep, gang_thep, rang_dong, ha_noi, bia)


@pytest.fixture
def officer(unit_tree: UnitTree) -> User:
    """An officer of Công đoàn Tổng Công ty Thép: acts in Thép and Gang thép only."""
    return UserFactory(username="canbo.thep", unit=unit_tree.thep)


def role_group(name: str) -> Group:
    """A role group from the migration; a transactional test's flush removes it, so make it again."""
    ensure_role_groups(Group, Permission)
    return Group.objects.get(name=name)


@pytest.fixture
def reviewer(unit_tree: UnitTree) -> User:
    user = UserFactory(username="bancspl", unit=unit_tree.cong_thuong, is_staff=True)
    user.groups.add(role_group(REVIEWERS_GROUP))
    return user


@pytest.fixture
def leader(unit_tree: UnitTree) -> User:
    user = UserFactory(username="lanhdao", unit=unit_tree.cong_thuong, is_staff=True)
    user.groups.add(role_group(LEADERSHIP_GROUP))
    return user


def run_queues() -> list[str]:
    """This test run's queues: its default one, then those the tasks are routed to."""
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    return [settings.CELERY_TASK_DEFAULT_QUEUE, *sorted(routed)]


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup: None, django_db_blocker: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[subprocess.Popen]:
    """A real Celery worker (a separate process) on this run's own Redis queues (the default one and
    each routed one: mail, exports, snapshots), test database and media folder (`worker.media_root`)."""
    db = connection.settings_dict  # pytest-django has switched NAME to the test database
    media_root = tmp_path_factory.mktemp("worker-media")
    env = {
        **os.environ,
        "TEST_MEDIA_ROOT": str(media_root),
        "DJANGO_SETTINGS_MODULE": "sangkien.settings_test",
        "TEST_CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "TEST_DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "sangkien", "worker", "--pool=solo", "--loglevel=WARNING",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-Q", ",".join(run_queues()), "-n", f"test-{os.getpid()}@%h",
    ]  # fmt: skip
    worker = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)
    worker.media_root = media_root
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()


# The roles of the access matrix (issue 12): the data the tests attack lies in Công Thương's
# subtree; the scoped reviewer of another subtree is Hà Nội's board.
ROLES = (
    "anonymous",
    "officer",
    "ancestor_officer",
    "other_reviewer",
    "own_reviewer",
    "national_reviewer",
    "province_leadership",
    "national_leadership",
    "superuser",
)


@pytest.fixture
def roles(unit_tree: UnitTree) -> dict[str, User | None]:
    """One account per role; `anonymous` is None."""
    reviewers, leadership = role_group(REVIEWERS_GROUP), role_group(LEADERSHIP_GROUP)

    def staff(username: str, unit: Union | None, group: Group) -> User:
        user = UserFactory(username=username, unit=unit, is_staff=True)
        user.groups.add(group)
        return user

    return {
        "anonymous": None,
        "officer": UserFactory(username="canbo.thep", unit=unit_tree.thep),
        "ancestor_officer": UserFactory(username="canbo.congthuong", unit=unit_tree.cong_thuong),
        "other_reviewer": staff("ban.hanoi", unit_tree.ha_noi, reviewers),
        "own_reviewer": staff("ban.congthuong", unit_tree.cong_thuong, reviewers),
        "national_reviewer": staff("ban.tld", None, reviewers),
        "province_leadership": staff("lanhdao.congthuong", unit_tree.cong_thuong, leadership),
        "national_leadership": staff("lanhdao.tld", None, leadership),
        "superuser": UserFactory(username="quantri", is_staff=True, is_superuser=True),
    }


@pytest.fixture(scope="session")
def office_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every office file the tests build (tests/test_office_spreadsheets.py and
    tests/test_office_values.py) as .xlsx, and as LibreOffice saves them: .xls, .ods and .xlsm,
    with one soffice call per format for the whole session."""
    from tests import test_office_spreadsheets, test_office_values
    from tests.office_sheets import convert, soffice

    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    folder = tmp_path_factory.mktemp("office")
    sources = [*test_office_spreadsheets.office_sources(folder), *test_office_values.office_sources(folder)]
    files = {path.name: path for path in sources}
    profile = tmp_path_factory.mktemp("soffice-profile")
    for target in ("xls", "ods", "xlsm"):
        out = tmp_path_factory.mktemp(target)
        files.update({path.name: path for path in convert(sources, target, out, profile)})
    return files


def run_outside(args: list[str], extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `args` in the project with its own settings (sangkien.settings) and `extra_env`: nothing of
    the test run's own Django, database or Celery settings leaks in."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_", "CELERY_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "sangkien.settings", **extra_env})
    return subprocess.run(args, env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedded SQLite database migrated as `make run` migrates it, once per run (5 to 13 s
    here): a test that runs code against one takes a copy (`sqlite_copy`), and its own `migrate`
    then finds nothing to do."""
    path = tmp_path_factory.mktemp("sqlite-template") / "db.sqlite3"
    result = run_outside(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"], {"DATABASE_URL": f"sqlite:///{path}"}
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return path


def sqlite_copy(template: Path, folder: Path) -> str:
    """DATABASE_URL of a copy of the migrated SQLite database in `folder`."""
    copy = folder / "db.sqlite3"
    shutil.copyfile(template, copy)
    return f"sqlite:///{copy}"
