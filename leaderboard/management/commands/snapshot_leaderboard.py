from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from initiatives.models import Program
from leaderboard.snapshots import SnapshotOutOfOrder, leaderboard_prune, leaderboard_snapshot, snapshot_instant


class Command(BaseCommand):
    help = (
        "Take the leaderboard snapshot of the active programmes (or one) now, as the hourly beat job does; "
        "a second run for the same minute changes nothing, and an instant before the latest snapshot is refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", help="Slug of one programme (default: every active programme).")
        parser.add_argument("--at", help='The instant, local time, "dd/mm/yyyy HH:MM" (default: now).')
        parser.add_argument("--prune", action="store_true", help="Also prune old hourly snapshots.")
        counting = parser.add_mutually_exclusive_group()
        counting.add_argument(
            "--full", action="store_true", help="Count everything again instead of what changed since the last one."
        )
        counting.add_argument(
            "--verify",
            action="store_true",
            help="Count what changed, then everything, and report (and repair) any difference, as at midnight.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        programs = Program.objects.filter(is_active=True)
        if options["program"]:
            programs = Program.objects.filter(slug=options["program"])
            if not programs:
                raise CommandError(f"No programme has the slug {options['program']!r}.")
        at = snapshot_instant()
        if options["at"]:
            try:
                at = timezone.make_aware(dt.datetime.strptime(options["at"], "%d/%m/%Y %H:%M"))
            except ValueError:
                raise CommandError('--at must look like "24/11/2026 09:00".') from None
        for program in programs:
            try:
                snapshot, created = leaderboard_snapshot(
                    program=program, at=at, full=options["full"], verify=options["verify"]
                )
            except SnapshotOutOfOrder as refused:
                raise CommandError(
                    _(
                        "%(program)s: the latest snapshot is as of %(latest)s; no snapshot can be taken "
                        "as of an earlier instant (%(at)s)."
                    )
                    % {
                        "program": program.slug,
                        "latest": timezone.localtime(refused.latest.taken_at).strftime("%d/%m/%Y %H:%M"),
                        "at": timezone.localtime(at).strftime("%d/%m/%Y %H:%M"),
                    }
                ) from None
            when = timezone.localtime(snapshot.taken_at).strftime("%d/%m/%Y %H:%M")
            if created:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"{program.slug}: snapshot as of {when} ({snapshot.get_mode_display()}), "
                        f"{snapshot.row_count:,} rows, {snapshot.changes:,} initiatives re-counted, "
                        f"{snapshot.versions:,} versions written in {snapshot.seconds:.1f} s."
                    )
                )
                if snapshot.mode == snapshot.Mode.VERIFIED:
                    self.stdout.write(
                        f"{program.slug}: verified by a full recount: "
                        + (
                            f"{snapshot.differences:,} differences, repaired: {snapshot.repair_notes}"
                            if snapshot.differences
                            else "no difference."
                        )
                    )
            else:
                self.stdout.write(f"{program.slug}: the snapshot as of {when} was already taken; nothing changed.")
            if options["prune"]:
                self.stdout.write(f"{program.slug}: pruned {leaderboard_prune(program=program)} old snapshots.")
