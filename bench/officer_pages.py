"""The officer's pages at national scale: "Sáng kiến của đơn vị", its search and export, a detail page.

Run against the database built by `manage.py seed_scale` (see bench/README.md):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sangkien_scale .venv/bin/python bench/officer_pages.py
"""

from __future__ import annotations

import statistics
import sys
import time

import _django  # noqa: F401  (the project on the path, Django set up)

# isort: split

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext

from emulation.models import ExportJob
from emulation.workbook import run_job
from initiatives.models import Initiative
from unions.models import Union, User

settings.DEBUG = False
settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
REPEAT = 5


def officer_of(unit: Union) -> Client:
    user, _ = User.objects.get_or_create(username=f"bench-{unit.code}", defaults={"unit": unit})
    client = Client()
    client.force_login(user)
    return client


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to the PostgreSQL database built by seed_scale.")
    biggest = Union.objects.filter(level=Union.Level.TIER2).annotate(n=Count("children")).order_by("-n").first()
    superior = Union.objects.filter(level=Union.Level.SUPERIOR).first()
    for label, unit in (("tier-2 officer", biggest), ("superior-level officer", superior)):
        count = Initiative.objects.in_subtree(unit).count()
        print(f"\n{label}: {unit.code}, {Union.objects.subtree(unit).count():,} units, {count:,} initiatives")
        client = officer_of(unit)
        detail = f"/initiatives/{Initiative.objects.in_subtree(unit).first().pk}/"
        for url in ("/initiatives/", "/initiatives/?q=lo+nung", "/initiatives/?status=valid",
                    "/initiatives/?page=50", detail):  # fmt: skip
            client.get(url)
            samples = []
            for _ in range(REPEAT):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    status = client.get(url).status_code
                    samples.append((time.perf_counter() - started) * 1000)
            print(f"  {url:32} {status}  median {statistics.median(samples):7.1f} ms  {len(queries)} queries")
        # "Xuất Excel": the request only queues a job; a worker builds the file (run here, in this
        # process, as the worker would: a worker on the exports queue may take the message first).
        started = time.perf_counter()
        response = client.post("/exports/initiatives/")
        asked = time.perf_counter() - started
        job = ExportJob.objects.filter(kind=ExportJob.Kind.INITIATIVE_LIST).order_by("-pk").first()
        started = time.perf_counter()
        outcome = run_job(job.pk) if job else "no job"
        built = time.perf_counter() - started
        if job:
            job.refresh_from_db()
        print(f"  export of the whole list          {response.status_code}  asked in {asked * 1000:.0f} ms,"
              f" built by the worker in {built:.1f} s ({outcome}, {job.rows_done if job else 0:,} rows)")  # fmt: skip


if __name__ == "__main__":
    main()
