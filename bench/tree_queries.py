"""Union-tree reads at national scale: subtree, ancestors, folded search, initiatives under a unit.

Run against a database filled by `manage.py seed_scale` (see bench/README.md):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sangkien_scale .venv/bin/python bench/tree_queries.py
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import _django  # noqa: F401  (the project on the path, Django set up)

# isort: split

from django.db import connection
from django.db.models import Count

from initiatives.models import Initiative
from unions.models import Union

REPEAT = 7


def timed(label: str, action: Callable[[], object]) -> None:
    action()  # warm the cache: we measure steady state, not the first disk read
    samples = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        result = action()
        samples.append((time.perf_counter() - started) * 1000)
    print(f"{label:<58} median {statistics.median(samples):8.2f} ms   (result: {result})")


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return " | ".join(row[0].strip() for row in cursor.fetchall()[:3])


def admin_pages(unit: Union) -> None:
    """The unit admin as a reviewer uses it: whole list, folded search, subtree, autocomplete."""
    from django.conf import settings
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from unions.models import User

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    user, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_staff": True, "is_superuser": True})
    client = Client()
    client.force_login(user)
    pages = {
        "admin unit list, page 1": "/admin/unions/union/",
        "admin unit list, page 1000": "/admin/unions/union/?p=1000",
        "admin search 'ha noi'": "/admin/unions/union/?q=ha+noi",
        f"admin subtree of {unit.code}": f"/admin/unions/union/?subtree={unit.pk}",
        "admin grassroots filter": "/admin/unions/union/?level=grassroots",
        "admin parent autocomplete 'lien doan'": (
            "/admin/autocomplete/?term=lien+doan&app_label=unions&model_name=union&field_name=parent"
        ),
        "initiative admin, page 1": "/admin/initiatives/initiative/",
        "initiative admin, status valid": "/admin/initiatives/initiative/?status__exact=valid",
        "initiative admin search 'lo nung'": "/admin/initiatives/initiative/?q=lo+nung",
        f"initiative admin, subtree of {unit.code}": f"/admin/initiatives/initiative/?subtree={unit.pk}",
        "review queue (oldest first)": "/admin/initiatives/reviewqueue/",
        "board metrics": "/admin/board-metrics/",
    }
    for label, url in pages.items():
        with CaptureQueriesContext(connection) as queries:
            status = client.get(url).status_code
        timed(f"{label} ({len(queries)} queries)", lambda url=url: client.get(url).status_code)
        assert status == 200, (url, status)


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to the PostgreSQL database built by seed_scale.")
    units, initiatives = Union.objects.count(), Initiative.objects.count()
    print(f"Data set: {units:,} units, {initiatives:,} initiatives\n")
    biggest_tier2 = (
        Union.objects.filter(level=Union.Level.TIER2)
        .annotate(children_count=Count("children"))
        .order_by("-children_count")
        .first()
    )
    superior = Union.objects.filter(level=Union.Level.SUPERIOR).first()
    leaf = Union.objects.filter(level=Union.Level.GRASSROOTS).order_by("-pk").first()

    timed(f"subtree count of {biggest_tier2.code} (tier 2)", lambda: Union.objects.subtree(biggest_tier2).count())
    timed(f"subtree rows of {superior.code} (superior)", lambda: len(list(Union.objects.subtree(superior))))
    timed(f"ancestors of {leaf.code} (grassroots)", lambda: [u.code for u in Union.objects.ancestors(leaf)])
    timed("folded search 'lien doan lao dong thanh pho ha noi'",
          lambda: Union.objects.search("lien doan lao dong thanh pho ha noi").count())  # fmt: skip
    timed(
        "folded search 'cong ty tnhh so 12345'", lambda: len(list(Union.objects.search("cong ty tnhh so 12345")[:20]))
    )
    timed(f"submitted initiatives under {superior.code}",
          lambda: Initiative.objects.in_subtree(superior).submitted().count())  # fmt: skip
    timed(f"submitted initiatives under {biggest_tier2.code}",
          lambda: Initiative.objects.in_subtree(biggest_tier2).submitted().count())  # fmt: skip
    timed(
        "initiative search 'tu dong hoa lo nung'",
        lambda: len(list(Initiative.objects.search("tu dong hoa lo nung")[:20])),
    )

    admin_pages(superior)

    print("\nPlans:")
    print("  subtree:  ", plan(Union.objects.subtree(superior)))
    print("  ancestors:", plan(Union.objects.ancestors(leaf)))
    print("  search:   ", plan(Union.objects.search("rang dong")))


if __name__ == "__main__":
    main()
