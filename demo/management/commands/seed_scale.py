from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.scale import seed_scale


class Command(BaseCommand):
    help = "Build a synthetic national data set (units and initiatives) in PostgreSQL with COPY; prints the time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--units", type=int, default=130_000)
        parser.add_argument("--initiatives", type=int, default=2_500_000)
        parser.add_argument("--seed", type=int, default=1, help="Random seed: the same seed builds the same data.")
        parser.add_argument("--reset", action="store_true", help="Delete existing units and initiatives first.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["units"] < 100 or options["initiatives"] < 0:
            raise CommandError("--units must be at least 100 (the Confederation, 83 tier-2 units and more).")
        started = time.perf_counter()
        try:
            result = seed_scale(
                units=options["units"],
                initiatives=options["initiatives"],
                seed=options["seed"],
                reset_first=options["reset"],
            )
        except RuntimeError as error:
            raise CommandError(str(error)) from None
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.seconds.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Built {result.units:,} units and {result.initiatives:,} initiatives "
                f"in {time.perf_counter() - started:.1f} s ({steps})."
            )
        )
