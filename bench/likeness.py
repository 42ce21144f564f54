"""The national check for copied initiatives at national scale (issue 21, item 3).

Run against a database filled by `manage.py seed_scale` (see bench/README.md §13):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sangkien_scale .venv/bin/python bench/likeness.py

For initiatives picked at random among the submitted ones it times `initiatives.likeness.similar`
(both queries and the exact measure, as the submit page and the board's review page call it) on
three texts: the initiative's own (a word-for-word copy), the same with one sentence of another
(a near copy), and a text of sentences from two others (what most submissions are: no copy).
Each check is interleaved with the floor, fetching one initiative and its unit by primary key, so
the ratio holds whatever this machine's speed does meanwhile. It also counts how often the copied
initiative was found, and times the board's pages (the review page with its check, the duplicate
groups largest first) through Django's test client.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

import _django  # noqa: F401  (the project on the path, Django set up)

# isort: split

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min
from django.test import Client

from initiatives import likeness
from initiatives.models import Fingerprint, Initiative, SimilarGroup
from unions.models import User


def ms(action: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return (time.perf_counter() - started) * 1000, result


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def row(label: str, samples: list[float], floor: list[float]) -> str:
    ratio = statistics.median(samples) / statistics.median(floor)
    return (
        f"{label:<34} median {statistics.median(samples):7.2f} ms  p95 {percentile(samples, 0.95):7.2f} ms  "
        f"max {max(samples):7.2f} ms  ({ratio:5.1f}× the floor)"
    )


def sample(rng: random.Random, count: int) -> list[Initiative]:
    bounds = Initiative.objects.aggregate(low=Min("pk"), high=Max("pk"))
    picked: list[Initiative] = []
    while len(picked) < count:
        pks = [rng.randint(bounds["low"], bounds["high"]) for _ in range(count * 2)]
        rows = Initiative.objects.filter(pk__in=pks, fingerprint__isnull=False).only("pk", "title", "summary")
        picked.extend(rows[: count - len(picked)])
    return picked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=300, help="initiatives picked (3 checks each)")
    parser.add_argument("--seed", type=int, default=21)
    arguments = parser.parse_args()
    rng = random.Random(arguments.seed)
    viewer = User.objects.filter(is_superuser=True).first() or User(is_superuser=True, is_active=True)
    total = Initiative.objects.count()
    fingerprinted = Initiative.objects.filter(fingerprint__isnull=False).count()
    print(f"{total:,} initiatives, {fingerprinted:,} submitted and fingerprinted, "
          f"{SimilarGroup.objects.count():,} duplicate groups")  # fmt: skip

    picked = sample(rng, arguments.checks)
    others = sample(rng, arguments.checks * 2)
    floor: list[float] = []
    times: dict[str, list[float]] = {"word for word": [], "near copy": [], "no copy": []}
    found = {"word for word": 0, "near copy": 0}
    near_alike: list[float] = []
    likeness.similar(title=picked[0].title, summary=picked[0].summary, viewer=viewer)  # warm the connection
    for index, initiative in enumerate(picked):
        sentences = initiative.summary.split(". ")
        near = list(sentences)
        near[rng.randrange(len(near))] = others[index].summary.split(". ")[0]
        fresh = ". ".join([*others[2 * index].summary.split(". ")[:2], *others[2 * index + 1].summary.split(". ")[2:]])
        near_alike.append(
            likeness.resemblance(
                likeness.pairs(initiative.title, initiative.summary), likeness.pairs(initiative.title, ". ".join(near))
            )
        )
        texts = {
            "word for word": (initiative.title, initiative.summary),
            "near copy": (initiative.title, ". ".join(near)),
            "no copy": (others[2 * index].title, fresh),
        }
        for label, (title, summary) in texts.items():
            elapsed, _ = ms(lambda pk=initiative.pk: Initiative.objects.select_related("unit").get(pk=pk))
            floor.append(elapsed)
            elapsed, result = ms(
                lambda title=title, summary=summary: likeness.similar(title=title, summary=summary, viewer=viewer)
            )
            times[label].append(elapsed)
            if label in found and any(item.initiative.pk == initiative.pk for item in result):  # type: ignore[attr-defined]
                found[label] += 1

    print(f"\nThe check (likeness.similar), {len(picked)} initiatives, interleaved with the floor:")
    print(row("floor: one initiative by id", floor, floor))
    for label, samples in times.items():
        print(row(f"check, {label}", samples, floor))
    for label, count in found.items():
        print(f"  the copied initiative found ({label}): {count} of {len(picked)}")
    print(
        f"  the near copies were {min(near_alike):.0%} to {max(near_alike):.0%} alike "
        f"(median {statistics.median(near_alike):.0%})"
    )

    # The grouping job (what follows each submission in the worker): the picked initiatives marked as
    # not yet grouped, then grouped again; their groups come out as they were.
    Fingerprint.objects.filter(initiative_id__in=[initiative.pk for initiative in picked]).update(grouped=False)
    started = time.perf_counter()
    grouped = likeness.group_similar()
    elapsed = (time.perf_counter() - started) * 1000
    print(f"\nThe grouping job: {grouped} fingerprints in {elapsed:.0f} ms ({elapsed / max(1, grouped):.1f} ms each)")

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    user, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_staff": True, "is_superuser": True})
    client = Client()
    client.force_login(user)
    largest = SimilarGroup.objects.order_by("-size", "-id").first()
    pages = {
        "admin review page with the check": f"/admin/initiatives/initiative/{picked[0].pk}/change/",
        "admin duplicate groups, page 1": "/admin/initiatives/similargroup/",
    }
    if largest is not None:
        pages["admin largest group's page"] = f"/admin/initiatives/similargroup/{largest.pk}/change/"
    print("\nThe board's pages (whole request through the test client, superuser), median of 7 warm runs:")
    for label, url in pages.items():
        client.get(url)
        samples = []
        for _ in range(7):
            elapsed, response = ms(lambda url=url: client.get(url))
            assert response.status_code == 200, (url, response.status_code)  # type: ignore[attr-defined]
            samples.append(elapsed)
        print(f"{label:<40} median {statistics.median(samples):8.2f} ms")
    connection.close()


if __name__ == "__main__":
    main()
