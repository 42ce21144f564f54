from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.seed import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create the demo data (Công đoàn Công Thương Việt Nam in the 01 triệu sáng kiến programme). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--initiatives", type=int, default=1500, help="How many demo initiatives to create.")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Run even with DEBUG off (the demo accounts have published passwords).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "Refusing to create demo accounts with DEBUG off: their passwords are public. "
                "Pass --allow-production to do it anyway."
            )
        started = time.perf_counter()
        result = seed_demo(initiatives=options["initiatives"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready in {time.perf_counter() - started:.1f} s: {result['units']} units, "
                f"{result['accounts']} accounts (password {DEMO_PASSWORD!r}), "
                f"{result['initiatives_created']} initiatives created"
                + ("" if result["initiatives_created"] else " (the programme already had initiatives)")
                + "."
            )
        )
