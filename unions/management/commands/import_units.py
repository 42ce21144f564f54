from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from sangkien.spreadsheets import SpreadsheetError, import_failed
from unions.imports import import_units


class Command(BaseCommand):
    help = (
        "Import union units from a spreadsheet (.xlsx, .xlsm, .xls or .ods) with the columns "
        "Mã đơn vị | Tên đơn vị | Cấp | Mã đơn vị cấp trên | Số đoàn viên | Cụm thi đua. "
        "Nothing is imported if any row is wrong; re-importing updates units in place."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("%(path)s: no such file.") % {"path": path})
        started = time.perf_counter()
        try:
            result = import_units(path)
        except SpreadsheetError as error:
            raise import_failed(self.stderr, error) from None
        for line in result.layout.summary() if result.layout else ():
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Imported %(created)s new units and updated %(updated)s (%(moved)s moved, "
                    "%(clusters)s new emulation clusters) in %(seconds).1f s."
                )
                % {
                    "created": result.created,
                    "updated": result.updated,
                    "moved": result.moved,
                    "clusters": result.clusters_created,
                    "seconds": time.perf_counter() - started,
                }
            )
        )
