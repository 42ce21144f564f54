"""Vietnamese alphabetical order: the Python key, PostgreSQL's "vi-x-icu" and the SQLite collation
built on the key sort names alike."""

from __future__ import annotations

import itertools
import sqlite3
import sys
import unicodedata
from pathlib import Path

import pytest
from django.db import connection

from demo import scale, seed
from sangkien.collation import compare_vietnamese
from sangkien.text import VIETNAMESE_COLLATION, vietnamese_sort_key
from tests.conftest import run_outside as run
from tests.conftest import sqlite_copy

# The issue's examples, each list in the order a Vietnamese reader expects.
EXAMPLES = (
    ["Cần Thơ", "Đà Nẵng", "Hà Nội", "Hải Phòng", "Huế"],
    ["Bạc Liêu", "Bình Định"],
    ["Dầu khí", "Duyên Hải", "Đồng Tháp", "Gia Lai", "Yên Bái"],
)
# Tones (unmarked, huyền, hỏi, ngã, sắc, nặng), letters with marks, case, spaces and punctuation.
AWKWARD = [
    "Ba", "Bà", "Bả", "Bã", "Bá", "Bạ", "ba", "BA", "Ba Bà", "Bà Ba", "ba bà", "Ba-Bà", "Ba.Bà", "Ba (Bà)",
    "On", "Ôn", "Ơn", "Ốn", "Ộn", "Ờn", "Uu", "Ưu", "Ứng", "Ửng", "Ăn", "Ắn", "Ân", "Ẩn", "Ên", "Ễn",
    "Kỹ", "Ký", "Kỳ", "Kỷ", "Kĩ", "Kí", "Kì", "Kỉ", "Ki", "Kị", "Hòa", "Hoà", "Thủy", "Thuỷ",
    "CĐ 1", "CĐ 10", "CĐ 2", "Công đoàn", "CÔNG ĐOÀN", "công đoàn", "Cong doan", "D", "dd", "Đ", "đ",
    "TP. Hồ Chí Minh", "TP Hồ Chí Minh", "Tp Hồ Chí Minh", "“Xanh”", '"Xanh"', "Xanh", "fa", "ja", "wa", "za",
]  # fmt: skip


def real_names() -> list[str]:
    """A few thousand real names: provinces, sectors, units, fields, people, initiatives."""
    names = {*scale.PROVINCES, *scale.SECTORS, *scale.CITIES, *seed.FIELDS, *seed.POSITIONS, *seed.PLACES}
    names |= {unit[1] for unit in seed.UNITS} | {unit[2] for unit in seed.UNITS if unit[2]}
    names |= {" ".join(parts) for parts in itertools.product(seed.SURNAMES, seed.MIDDLE, seed.GIVEN)}
    names |= {f"{action} {thing}" for action, thing in itertools.product(seed.ACTIONS, seed.OBJECTS)}
    names |= set(AWKWARD) | {name for example in EXAMPLES for name in example}
    # Pasted text may come decomposed (NFD): the same order, ties broken as PostgreSQL breaks them.
    names |= {unicodedata.normalize("NFD", name) for name in sorted(names)[::40]}
    return sorted(names)


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_key_sorts_the_issues_examples_in_vietnamese_order(example: list[str]) -> None:
    assert sorted(reversed(example), key=vietnamese_sort_key) == example


def test_the_key_sorts_tones_after_letters_and_case_last() -> None:
    assert sorted(["Bạ", "BA", "Bá", "Bà Ba", "ba", "Bã", "Ba Bà", "Bả", "Bà"], key=vietnamese_sort_key) == [
        "ba", "BA", "Bà", "Bả", "Bã", "Bá", "Bạ", "Ba Bà", "Bà Ba",
    ]  # fmt: skip


@pytest.mark.django_db
def test_the_key_sorts_as_postgresql_vi_x_icu_does() -> None:
    names = real_names()
    assert len(names) > 3000
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT x FROM unnest(%s::text[]) x ORDER BY x COLLATE "{VIETNAMESE_COLLATION}"', [names])
        in_postgresql = [row[0] for row in cursor.fetchall()]
    assert sorted(names, key=vietnamese_sort_key) == in_postgresql


def test_sqlite_orders_by_the_collation_of_the_same_name() -> None:
    db = sqlite3.connect(":memory:")
    db.create_collation(VIETNAMESE_COLLATION, compare_vietnamese)
    db.execute(f'CREATE TABLE unit (name varchar(255) COLLATE "{VIETNAMESE_COLLATION}")')
    names = real_names()
    db.executemany("INSERT INTO unit VALUES (?)", [(name,) for name in reversed(names)])
    assert [row[0] for row in db.execute("SELECT name FROM unit ORDER BY name")] == sorted(
        names, key=vietnamese_sort_key
    )
    assert db.execute("SELECT COUNT(*) FROM unit WHERE name = 'Hà Nội'").fetchone() == (1,)
    assert db.execute("SELECT COUNT(*) FROM unit WHERE name LIKE 'Hà N%'").fetchone() == (2,)  # Hà Nam, Hà Nội


SQLITE_ORDER = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from leaderboard.dashboard import filter_choices
from tests.factories import EmulationClusterFactory, UnionFactory
from unions.models import EmulationCluster, Union

for number, name in enumerate(["Huế", "Đà Nẵng", "Hải Phòng", "Cần Thơ", "Hà Nội", "Bình Định", "Bạc Liêu"]):
    UnionFactory(code=f"P{number}", name=name, level=Union.Level.TIER2)
    EmulationClusterFactory(name=f"Cụm {name}")
print(list(Union.objects.filter(level="tier2").order_by("name").values_list("name", flat=True)))
print([cluster.name for cluster in EmulationCluster.objects.all()] == [c.name for c in filter_choices()[1]])
"""


def test_the_embedded_sqlite_database_sorts_names_in_vietnamese_order(tmp_path: Path, migrated_sqlite: Path) -> None:
    """`make run` uses SQLite: its name columns carry the collation the connection registers."""
    result = run([sys.executable, "-c", SQLITE_ORDER], {"DATABASE_URL": sqlite_copy(migrated_sqlite, tmp_path)})
    assert result.returncode == 0, result.stderr
    *_, names, same = result.stdout.strip().splitlines()
    assert names == str(["Bạc Liêu", "Bình Định", "Cần Thơ", "Đà Nẵng", "Hà Nội", "Hải Phòng", "Huế"])
    assert same == "True"
