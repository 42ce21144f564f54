"""The emulation-criteria workbook for every unit of the national data set: time and peak memory,
beside openpyxl's own write-only time for the same number of rows and columns of plain values.

Run against the database built by `manage.py seed_scale` (see bench/README.md):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sangkien_scale .venv/bin/python bench/emulation_export.py
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import _django  # noqa: F401  (the project on the path, Django set up)

# isort: split

import openpyxl
from django.db import connection
from django.utils import timezone

from demo.seed import ensure_criteria
from emulation.models import EmulationCriterion
from emulation.workbook import ExportRequest, write_workbook
from initiatives.models import Program
from unions.models import Union


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to the PostgreSQL database built by seed_scale.")
    program = Program.objects.get(is_active=True)
    if not EmulationCriterion.objects.filter(program=program).exists():
        ensure_criteria(program)  # the demo's four criteria
    root = Union.objects.get(parent=None)
    print(f"{Union.objects.count():,} units; peak RSS before: {peak_rss_mb():.0f} MB")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "thi-dua.xlsx"
        started = time.perf_counter()
        rows = write_workbook(ExportRequest(program, root, as_of=timezone.now(), requested_by="bench"), path)
        export_seconds = time.perf_counter() - started
        workbook = openpyxl.load_workbook(path, read_only=True)
        columns = len(next(workbook.worksheets[-1].iter_rows(max_row=1, values_only=True)))
        size = path.stat().st_size
        workbook.close()
        print(f"export: {rows:,} units × {columns} columns in {export_seconds:.1f} s, "
              f"{size / 1e6:.1f} MB file, peak RSS {peak_rss_mb():.0f} MB")  # fmt: skip

        # The floor: openpyxl alone writing as many rows of as many plain values (5 texts, the rest numbers).
        floor_path = Path(folder) / "floor.xlsx"
        started = time.perf_counter()
        floor = openpyxl.Workbook(write_only=True)
        sheet = floor.create_sheet("floor")
        text = ["G012345", "Công đoàn cơ sở Công ty số 12345", "Công đoàn cơ sở", "Công đoàn cấp trên 123", "Cụm 7"]
        for n in range(rows):
            sheet.append([*text, *(n + i for i in range(columns - 5))])
        floor.save(floor_path)
        floor_seconds = time.perf_counter() - started
    print(f"openpyxl write-only floor, {rows:,} rows × {columns} plain values: {floor_seconds:.1f} s")
    print(f"export / floor: {export_seconds / floor_seconds:.2f}   peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
