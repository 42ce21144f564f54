"""Fingerprint the submitted initiatives that have none (those submitted before the national check
for copies existed), in batches by id; safe to stop and run again. The duplicate groups follow in
Celery (initiatives.group_similar), or here with --group."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from initiatives import likeness
from initiatives.models import Initiative

BATCH = 2000


class Command(BaseCommand):
    help = (
        "Fingerprint the submitted initiatives without a fingerprint for the national check for copies "
        "(resumable); --group also forms the duplicate groups here instead of in the worker."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--group", action="store_true", help="Form the duplicate groups in this process too.")

    def handle(self, *args: Any, **options: Any) -> None:
        started, done, after = time.perf_counter(), 0, 0
        while True:
            batch = list(
                Initiative.objects.exclude(status=Initiative.Status.DRAFT)
                .filter(pk__gt=after, fingerprint__isnull=True)
                .only("pk", "title", "summary")
                .order_by("pk")[:BATCH]
            )
            if not batch:
                break
            with transaction.atomic():
                likeness.remember(batch)
            done, after = done + len(batch), batch[-1].pk
            self.stdout.write(f"{done:,} fingerprinted ({time.perf_counter() - started:.0f} s)")
        grouped = likeness.group_similar() if options["group"] else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"{done:,} initiatives fingerprinted, {grouped:,} grouped in {time.perf_counter() - started:.1f} s."
            )
        )
