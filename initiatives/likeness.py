"""The national check for copied initiatives (kiểm tra trùng lặp): which initiatives already
submitted anywhere in the country are most like a title and summary, and the groups of near-copies.

How alike two initiatives are is the resemblance of their folded title and summary: the share of
word pairs ("nâng cao hiệu" and "cao hiệu quả" are two) that they have in common, of all the pairs
either has (Broder's resemblance, a Jaccard index). Word pairs rather than pg_trgm's character
trigrams: two unrelated Vietnamese texts share many trigrams ("ng ", " th"), few word pairs, so a
copy stands out from the background.

Comparing a text with 2.5 million others one by one would take minutes; so each submitted
initiative keeps a MinHash fingerprint (`Fingerprint`): 64 minima of its pairs' hashes (one
permutation hashing with rotation densification), cut into 16 bands of 4. Two texts of resemblance
s share a band with probability 1 - (1 - s⁴)¹⁶: 0.64 at s = 0.5, 0.89 at 0.6, 0.98 at 0.7 and more
than 0.999 from 0.8, while unrelated texts (s < 0.1) almost never do. A check reads at most
CANDIDATES_PER_BAND rows of each band's index, measures the MEASURED most promising candidates
exactly, and keeps the most alike. docs/likeness.md has the figures at 2.5 million initiatives.
"""

from __future__ import annotations

import re
import struct
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from hashlib import blake2b
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from celery import shared_task
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from initiatives.models import Fingerprint, Initiative, SimilarGroup
from sangkien.queueing import enqueue_on_commit
from sangkien.text import fold
from unions.permissions import sees_initiative_content

if TYPE_CHECKING:
    from unions.models import User

BANDS = 16
ROWS = 4
BINS = BANDS * ROWS  # 64: a bin is the low 6 bits of a pair's hash
BAND_FIELDS = tuple(f"band_{band}" for band in range(BANDS))

SHOWN = 5  # the most alike shown on a page
SHOWN_FROM = 0.3  # less alike than this is not worth showing
ASK_FROM = 0.6  # from this likeness the officer confirms before submitting
GROUP_FROM = 0.8  # near-copies: joined into one duplicate group
CANDIDATES_PER_BAND = 64  # bounds the rows a check reads, however common a band
MEASURED = 40  # candidates measured exactly, those sharing the most bands first

_WORD = re.compile(r"\w+")
_EMPTY = 1 << 64
_HOP = 1 << 58  # added per bin borrowed from: a borrowed minimum differs from the bin's own
_BAND = struct.Struct(">B4Q")  # a band's number and its 4 minima (each < 2⁶⁴, hops included)


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def pairs(title: str, summary: str) -> frozenset[str]:
    """The word pairs of the folded title and summary (one word alone if that is all there is)."""
    return pairs_of(words(f"{title} {summary}"))


def pairs_of(folded_words: list[str]) -> frozenset[str]:
    if len(folded_words) < 2:
        return frozenset(folded_words)
    return frozenset(f"{first} {second}" for first, second in pairwise(folded_words))


def pair_hash(pair: str) -> int:
    return int.from_bytes(blake2b(pair.encode(), digest_size=8).digest(), "big")


def bands(shingles: Iterable[str], hashed: Callable[[str], int] = pair_hash) -> list[int] | None:
    """The fingerprint's 16 band keys (signed 32-bit), or None for a text without a word."""
    bins = [_EMPTY] * BINS
    for shingle in shingles:
        value = hashed(shingle)
        low = value & (BINS - 1)
        high = value >> 6
        if high < bins[low]:
            bins[low] = high
    if bins.count(_EMPTY) == BINS:
        return None
    # Rotation densification: an empty bin takes the minimum of the next filled bin to its right.
    filled = bins[:]
    for index in range(BINS):
        hop = 0
        while bins[(index + hop) % BINS] == _EMPTY:
            hop += 1
        filled[index] = bins[(index + hop) % BINS] + hop * _HOP
    return [
        int.from_bytes(
            blake2b(_BAND.pack(band, *filled[band * ROWS : (band + 1) * ROWS]), digest_size=4).digest(),
            "big",
            signed=True,
        )
        for band in range(BANDS)
    ]


def resemblance(first: frozenset[str], second: frozenset[str]) -> float:
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)


@dataclass(frozen=True)
class Likeness:
    """One initiative found by the check, as a page shows it."""

    initiative: Initiative
    similarity: float
    shown: bool  # whether the viewer may see its title, summary and unit (a confidential one's scope)

    @property
    def percent(self) -> int:
        return round(self.similarity * 100)


def _candidates(keys: list[int], exclude: int | None) -> list[int]:
    """The ids sharing most bands with `keys`: at most CANDIDATES_PER_BAND rows of each band's index."""
    table = connection.ops.quote_name(Fingerprint._meta.db_table)
    selects = " UNION ALL ".join(
        f"SELECT * FROM (SELECT initiative_id FROM {table} WHERE {field} = %s "
        f"ORDER BY initiative_id LIMIT {CANDIDATES_PER_BAND}) AS b{band}"
        for band, field in enumerate(BAND_FIELDS)
    )
    with connection.cursor() as cursor:
        cursor.execute(selects, keys)
        hits = Counter(row[0] for row in cursor.fetchall())
    hits.pop(exclude, None)
    return [pk for pk, _count in hits.most_common(MEASURED)]


def measured(title: str, summary: str, *, exclude: int | None = None, since: float) -> list[tuple[float, Initiative]]:
    """The submitted initiatives at least `since` alike to the title and summary, most alike first
    (the earliest submitted first among equals), with their unit."""
    mine = pairs(title, summary)
    keys = bands(mine)
    if keys is None:
        return []
    ids = _candidates(keys, exclude)
    if not ids:
        return []
    rows = (
        Initiative.objects.filter(pk__in=ids)
        .exclude(status=Initiative.Status.DRAFT)
        .select_related("unit")
        .only("pk", "title", "summary", "status", "is_confidential", "submitted_at", "unit__name", "unit__path")
    )
    found = [(resemblance(mine, pairs(row.title, row.summary)), row) for row in rows]
    found = [(similarity, row) for similarity, row in found if similarity >= since]
    found.sort(key=lambda item: (-item[0], item[1].submitted_at, item[1].pk))
    return found


def similar(
    *, title: str, summary: str, viewer: User | Any, exclude: int | None = None, since: float = SHOWN_FROM
) -> list[Likeness]:
    """What the officer submitting, or the board reviewing, is shown: the SHOWN most alike. A
    confidential initiative outside the viewer's scope keeps its title, summary and unit hidden
    (unions.permissions.sees_initiative_content); its likeness and status are shown."""
    return [
        Likeness(initiative=row, similarity=similarity, shown=sees_initiative_content(viewer, row))
        for similarity, row in measured(title, summary, exclude=exclude, since=since)[:SHOWN]
    ]


def similar_to(initiative: Initiative, *, viewer: User | Any, since: float = SHOWN_FROM) -> list[Likeness]:
    """`similar` for an initiative's own title and summary, never itself."""
    return similar(
        title=initiative.title, summary=initiative.summary, viewer=viewer, exclude=initiative.pk, since=since
    )


def is_earlier(found: Likeness, initiative: Initiative) -> bool:
    """Whether the initiative found was submitted before `initiative`: only such may be its original."""
    theirs, mine = found.initiative.submitted_at, initiative.submitted_at
    return theirs is not None and (mine is None or (theirs, found.initiative.pk) < (mine, initiative.pk))


def fingerprint_fields(initiative: Initiative) -> dict[str, int] | None:
    keys = bands(pairs(initiative.title, initiative.summary))
    return None if keys is None else dict(zip(BAND_FIELDS, keys, strict=True))


def remember(initiatives: Collection[Initiative]) -> None:
    """Fingerprint submitted initiatives, in the writer's transaction: a new one, or one whose title
    or summary changed (an unchanged one costs one read). A changed one leaves its group, which is
    marked to be checked again (it may have held only through it); the groups follow in the
    background (group_pending), and only the writer's own rows are written here."""
    pks = [initiative.pk for initiative in initiatives]
    known = {
        row[0]: list(row[1:])
        for row in Fingerprint.objects.filter(initiative_id__in=pks).values_list("initiative_id", *BAND_FIELDS)
    }
    rows, empty = [], []
    for initiative in initiatives:
        fields = fingerprint_fields(initiative)
        if fields is None:
            if initiative.pk in known:
                empty.append(initiative.pk)
        elif known.get(initiative.pk) != list(fields.values()):
            rows.append(Fingerprint(initiative_id=initiative.pk, grouped=False, group=None, **fields))
    changed = [row.initiative_id for row in rows if row.initiative_id in known] + empty
    if changed:
        SimilarGroup.objects.filter(
            pk__in=Fingerprint.objects.filter(initiative_id__in=changed, group__isnull=False).values("group_id")
        ).update(recheck=True)
    if empty:
        Fingerprint.objects.filter(initiative_id__in=empty).delete()
    if rows:
        Fingerprint.objects.bulk_create(
            rows,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["initiative"],
            update_fields=[*BAND_FIELDS, "grouped", "group"],
        )
        enqueue_on_commit(group_similar)


# -- Duplicate groups ---------------------------------------------------------------------------

_LOCK = "initiatives.likeness.groups"


@contextmanager
def _only_run() -> Iterator[bool]:
    """One grouping at a time: a PostgreSQL session-level advisory lock, not waited for, held
    across the run's short transactions (SQLite, the demo, writes one transaction at a time)."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [_LOCK])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [_LOCK])


def group_pending(*, limit: int = 500) -> int:
    """Join each fingerprint not yet grouped to the near-copies (GROUP_FROM) already submitted: a
    new group, or the merger of the groups they belong to. Claimed and idempotent: each fingerprint
    in a transaction of its own, its row locked, its text read afresh (a writer that changes it
    meanwhile waits, then marks it again); returns how many it grouped, 0 while another run holds the lock."""
    with _only_run() as held:
        if not held:
            return 0
        _dissolve_rechecked()
        pending = list(
            Fingerprint.objects.filter(grouped=False).order_by("initiative_id").values_list("pk", flat=True)[:limit]
        )
        done = 0
        for pk in pending:
            with transaction.atomic():
                fingerprint = (
                    Fingerprint.objects.select_for_update(of=("self",))
                    .select_related("initiative")
                    .only("initiative", "group", "grouped", "initiative__title", "initiative__summary")
                    .filter(pk=pk, grouped=False)
                    .first()
                )
                if fingerprint is not None:
                    _join(fingerprint)
                    done += 1
        _settle_changed()
        return done


def _dissolve_rechecked() -> None:
    """The groups a changed member left: their members are grouped again from scratch."""
    for group_id in SimilarGroup.objects.filter(recheck=True).values_list("pk", flat=True):
        with transaction.atomic():
            Fingerprint.objects.filter(group_id=group_id).update(group=None, grouped=False)
            SimilarGroup.objects.filter(pk=group_id).delete()


def _join(fingerprint: Fingerprint) -> None:
    initiative = fingerprint.initiative
    matches = [
        row.pk
        for _similarity, row in measured(initiative.title, initiative.summary, exclude=initiative.pk, since=GROUP_FROM)
    ]
    Fingerprint.objects.filter(pk=fingerprint.pk).update(grouped=True)
    if not matches:
        return
    theirs = Fingerprint.objects.filter(initiative_id__in=matches).values_list("group_id", flat=True)
    groups = sorted({pk for pk in (fingerprint.group_id, *theirs) if pk is not None})
    if groups:
        target = groups[0]
        Fingerprint.objects.filter(group_id__in=groups[1:]).update(group=target)
        SimilarGroup.objects.filter(pk__in=groups[1:]).delete()
    else:
        target = SimilarGroup.objects.create(first_id=initiative.pk).pk
    Fingerprint.objects.filter(initiative_id__in=[*matches, initiative.pk]).update(group=target)
    _settle(target)


def _settle(group_id: int) -> None:
    """The group's size and first-submitted member again; a group of fewer than two is dissolved."""
    size = Fingerprint.objects.filter(group_id=group_id).count()
    if size < 2:
        Fingerprint.objects.filter(group_id=group_id).update(group=None)
        SimilarGroup.objects.filter(pk=group_id).delete()
        return
    first = (
        Initiative.objects.filter(fingerprint__group_id=group_id)
        .order_by("submitted_at", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    SimilarGroup.objects.filter(pk=group_id).update(size=size, first_id=first, updated_at=timezone.now())


def _settle_changed() -> None:
    """Groups whose size no longer matches their members (a member deleted, its fingerprint with it)."""
    stale = (
        SimilarGroup.objects.annotate(members=Count("fingerprints"))
        .exclude(members=F("size"))
        .values_list("pk", flat=True)
    )
    for group_id in list(stale):
        with transaction.atomic():
            _settle(group_id)


@shared_task(name="initiatives.group_similar", time_limit=10 * 60)
def group_similar() -> int:
    """After a submission or an import, and every few minutes (beat): the duplicate groups of the
    initiatives fingerprinted since, a batch at a time until none is left. Safe to rerun: one run
    at a time, each fingerprint grouped once."""
    total = 0
    while done := group_pending():
        total += done
    return total
