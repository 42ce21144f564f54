from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from emulation.workbook import ExportRequest, export_to
from initiatives.models import Program
from unions.levels import BLOCKS
from unions.models import EmulationCluster, Union


class Command(BaseCommand):
    help = "Write the emulation-criteria workbook (the same service as the site's export jobs), synchronously."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", required=True, help="The programme's slug.")
        parser.add_argument("--phase", type=int, help="The phase's number (default: the whole programme).")
        parser.add_argument("--scope", help="The code of the unit whose subtree is exported (default: all units).")
        parser.add_argument("--level", choices=[str(level) for level in BLOCKS], default="", help="One level block.")
        parser.add_argument("--cluster", help="The name of an emulation cluster (default: all).")
        parser.add_argument("--out", required=True, type=Path, help="The .xlsx file to write.")

    def handle(self, *args: Any, **options: Any) -> None:
        program = Program.objects.filter(slug=options["program"]).first()
        if program is None:
            raise CommandError(f"No programme with the slug “{options['program']}”.")
        phase = None
        if options["phase"] is not None:
            phase = program.phases.filter(number=options["phase"]).first()
            if phase is None:
                raise CommandError(f"The programme has no phase {options['phase']}.")
        if options["scope"]:
            scope = Union.objects.filter(code=options["scope"]).first()
            if scope is None:
                raise CommandError(f"No unit with the code “{options['scope']}”.")
        else:
            scope = Union.objects.filter(parent=None).order_by("path").first()
            if scope is None:
                raise CommandError("There are no units.")
        cluster = None
        if options["cluster"]:
            cluster = EmulationCluster.objects.filter(name=options["cluster"]).first()
            if cluster is None:
                raise CommandError(f"No emulation cluster named “{options['cluster']}”.")
        out: Path = options["out"]
        if out.suffix.lower() != ".xlsx":
            raise CommandError("--out must name an .xlsx file.")
        if not out.parent.is_dir():
            raise CommandError(f"The folder {out.parent} does not exist.")
        request = ExportRequest(
            program, scope, phase, options["level"], cluster, timezone.now(), "manage.py export_emulation"
        )
        started = time.perf_counter()
        rows = export_to(request, out)
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {rows:,} units to {out} in {time.perf_counter() - started:.1f} s.")
        )
