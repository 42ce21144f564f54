"""Time `import_units` on a national-size spreadsheet: first import, then the same file again.

Writes a synthetic units workbook (the shape of seed_scale: 63 provinces + 20 sector unions,
~1,500 superior-level unions, the rest grassroots) and imports it into the database named by
DATABASE_URL, which must hold no units (use a database of its own):

    createdb -h 127.0.0.1 -U postgres sangkien_import
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sangkien_import .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sangkien_import .venv/bin/python bench/import_units.py
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import _django  # noqa: F401  (the project on the path, Django set up)

# isort: split

from django.conf import settings

settings.DEBUG = False  # DEBUG keeps every SQL statement in memory: not what production does

import openpyxl  # noqa: E402

from demo.scale import _build_tree  # noqa: E402
from unions.imports import HEADER, import_units  # noqa: E402
from unions.models import Union  # noqa: E402

LEVEL_LABELS = {
    Union.Level.CONFEDERATION: "Tổng Liên đoàn",
    Union.Level.TIER2: "Cấp tỉnh/ngành",
    Union.Level.SUPERIOR: "Cấp trên cơ sở",
    Union.Level.GRASSROOTS: "Cơ sở",
}


def write_workbook(path: Path, units: int, *, extra_members: int = 0) -> None:
    tree = _build_tree(random.Random(7), units, [None], first_pk=1)
    rng = random.Random(8)
    rng.shuffle(tree)  # children before parents, as real files come
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Don vi")
    sheet.append(HEADER)
    for unit in tree:
        cluster = f"Cụm thi đua số {unit.pk % 30 + 1:02d}" if unit.level != Union.Level.CONFEDERATION else ""
        parent = unit.parent.code if unit.parent else ""
        members = unit.members + extra_members
        sheet.append((unit.code, unit.name, LEVEL_LABELS[unit.level], parent, members, cluster))
    book.save(path)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=130_000)
    args = parser.parse_args()
    if Union.objects.exists():
        sys.exit("The database already has units: use an empty database (see the docstring).")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "don-vi.xlsx"
        started = time.perf_counter()
        write_workbook(path, args.units)
        print(
            f"Wrote {args.units:,} rows ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s"
        )
        changed = Path(folder) / "don-vi-moi.xlsx"
        write_workbook(changed, args.units, extra_members=1)
        for label, source in (
            ("first import", path),
            ("re-import of the same file", path),
            ("re-import, every count changed", changed),
        ):
            started = time.perf_counter()
            result = import_units(source)
            print(
                f"{label:<32} {time.perf_counter() - started:6.1f} s  peak RSS {peak_mb():5.0f} MB  "
                f"(created {result.created:,}, updated {result.updated:,}, moved {result.moved})"
            )


if __name__ == "__main__":
    main()
