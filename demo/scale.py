"""A synthetic national data set for benchmarks: `manage.py seed_scale` (PostgreSQL only).

Shape, as in the real programme: the Confederation, 63 provincial federations and the sector
unions, about 1,500 superior-level unions, the rest grassroots unions holding the initiatives with
a heavy-tailed skew (a few units submit hundreds, most a handful, some none). Rows go in with
COPY in batches, so memory stays bounded whatever the size.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from demo import seed as demo_data
from initiatives import likeness
from initiatives.models import Author, Fingerprint, Initiative, Phase, Program, SimilarGroup, Target
from leaderboard.models import LeaderboardState
from sangkien.text import fold
from unions.models import EmulationCluster, Union, User

PROVINCES = (
    "An Giang", "Bà Rịa - Vũng Tàu", "Bắc Giang", "Bắc Kạn", "Bạc Liêu", "Bắc Ninh", "Bến Tre",
    "Bình Định", "Bình Dương", "Bình Phước", "Bình Thuận", "Cà Mau", "Cần Thơ", "Cao Bằng",
    "Đà Nẵng", "Đắk Lắk", "Đắk Nông", "Điện Biên", "Đồng Nai", "Đồng Tháp", "Gia Lai", "Hà Giang",
    "Hà Nam", "Hà Nội", "Hà Tĩnh", "Hải Dương", "Hải Phòng", "Hậu Giang", "Hòa Bình", "Hưng Yên",
    "Khánh Hòa", "Kiên Giang", "Kon Tum", "Lai Châu", "Lâm Đồng", "Lạng Sơn", "Lào Cai", "Long An",
    "Nam Định", "Nghệ An", "Ninh Bình", "Ninh Thuận", "Phú Thọ", "Phú Yên", "Quảng Bình",
    "Quảng Nam", "Quảng Ngãi", "Quảng Ninh", "Quảng Trị", "Sóc Trăng", "Sơn La", "Tây Ninh",
    "Thái Bình", "Thái Nguyên", "Thanh Hóa", "Thừa Thiên Huế", "Tiền Giang", "TP Hồ Chí Minh",
    "Trà Vinh", "Tuyên Quang", "Vĩnh Long", "Vĩnh Phúc", "Yên Bái",
)  # fmt: skip
SECTORS = (
    "Công Thương Việt Nam", "Xây dựng Việt Nam", "Giao thông vận tải Việt Nam", "Giáo dục Việt Nam",
    "Y tế Việt Nam", "Nông nghiệp và Phát triển nông thôn Việt Nam", "Ngân hàng Việt Nam",
    "Tài chính Việt Nam", "Thông tin và Truyền thông Việt Nam", "Dệt May Việt Nam",
    "Điện lực Việt Nam", "Dầu khí Việt Nam", "Than - Khoáng sản Việt Nam", "Cao su Việt Nam",
    "Viên chức Việt Nam", "Quốc phòng", "Công an nhân dân", "Hàng không Việt Nam",
    "Đường sắt Việt Nam", "Hàng hải Việt Nam",
)  # fmt: skip
CITIES = ("Hà Nội", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "TP Hồ Chí Minh")  # centrally governed
ENTERPRISE_KINDS = ("Công ty CP", "Công ty TNHH", "Công ty TNHH MTV", "Trường", "Bệnh viện", "Xí nghiệp")
CLUSTERS = 30
BATCH_ROWS = 50_000
GRASSROOTS_PARTICIPATION = 0.85  # share of grassroots unions with at least one initiative


@dataclass(kw_only=True)
class ScaleResult:
    units: int = 0
    initiatives: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _copy(table: str, columns: Iterable[str], rows: Iterable[tuple[object, ...]]) -> int:
    """COPY rows into `table` in batches; values must hold no tab, newline or backslash."""
    sql = f"COPY {table} ({', '.join(connection.ops.quote_name(c) for c in columns)}) FROM STDIN"
    total = 0
    buffer = io.StringIO()
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg2's own cursor, for copy_expert
        for row in rows:
            buffer.write("\t".join(r"\N" if value is None else str(value) for value in row))
            buffer.write("\n")
            count += 1
            if count == BATCH_ROWS:
                buffer.seek(0)
                raw.copy_expert(sql, buffer)
                total += count
                buffer, count = io.StringIO(), 0
        if count:
            buffer.seek(0)
            raw.copy_expert(sql, buffer)
            total += count
    return total


def _next_id(model: type[Model]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {model._meta.db_table}")
        return cursor.fetchone()[0]


def _reset_sequence(model: type[Model]) -> None:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))"
        )


def reset() -> None:
    """Remove every unit and initiative (accounts stay, detached from their units)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE initiatives_question, initiatives_attachment, initiatives_author, "
            "initiatives_statuschange, initiatives_initiative_editors, initiatives_initiative, "
            "initiatives_target, initiatives_notification, "
            # The selection rounds name initiatives and units: they go with them.
            "councils_score, councils_scoresheet, councils_extrascorer, councils_conflict, councils_nomination, "
            "councils_band, councils_criterion, councils_member, councils_selectionround, "
            "initiatives_fingerprint, initiatives_similargroup "
            # and any other table that names an initiative (the API's idempotency keys)
            "CASCADE"
        )
        cursor.execute(f"UPDATE {User._meta.db_table} SET unit_id = NULL")
        cursor.execute("DELETE FROM unions_union")


@dataclass
class _Unit:
    pk: int
    code: str
    name: str
    level: str
    parent: _Unit | None
    cluster_id: int | None
    members: int = 0
    target: int = 0
    path: str = ""
    depth: int = 1


def _build_tree(rng: random.Random, units: int, cluster_ids: list[int], first_pk: int) -> list[_Unit]:
    """Units in parent-before-child order, with member counts and targets rolled up."""
    pk = iter(range(first_pk, first_pk + units + 1000))
    root = _Unit(next(pk), "TLD", "Tổng Liên đoàn Lao động Việt Nam", Union.Level.CONFEDERATION, None, None)
    tier2 = [
        _Unit(
            next(pk),
            f"T{i:02d}",
            f"Liên đoàn Lao động {'thành phố' if name in CITIES else 'tỉnh'} {name}",
            Union.Level.TIER2,
            root,
            None,
        )
        for i, name in enumerate(PROVINCES, start=1)
    ] + [
        _Unit(next(pk), f"N{i:02d}", f"Công đoàn {name}", Union.Level.TIER2, root, None)
        for i, name in enumerate(SECTORS, start=1)
    ]
    remaining = max(units - 1 - len(tier2), 0)
    superior_count = max(1, round(remaining * 1500 / 130_000)) if remaining > 1 else 0
    grassroots_count = remaining - superior_count
    superiors = []
    for i in range(1, superior_count + 1):
        parent = rng.choice(tier2)
        superiors.append(
            _Unit(next(pk), f"S{i:05d}", f"Công đoàn cấp trên cơ sở số {i} – {parent.name.split(' ', 3)[-1]}",
                  Union.Level.SUPERIOR, parent, rng.choice(cluster_ids))
        )  # fmt: skip
    grassroots = []
    for i in range(1, grassroots_count + 1):
        parent = rng.choice(superiors) if superiors and rng.random() < 0.8 else rng.choice(tier2)
        unit = _Unit(next(pk), f"G{i:06d}", f"Công đoàn {rng.choice(ENTERPRISE_KINDS)} số {i}",
                     Union.Level.GRASSROOTS, parent, rng.choice(cluster_ids))  # fmt: skip
        unit.members = max(5, int(rng.lognormvariate(4.0, 1.0)))
        unit.target = max(1, unit.members // 8)
        grassroots.append(unit)
    ordered = [root, *tier2, *superiors, *grassroots]
    for unit in reversed(ordered):  # children come after parents, so this rolls up bottom-first
        if unit.parent is not None:
            unit.parent.members += unit.members
            unit.parent.target += unit.target
    for unit in ordered:
        parent_path = unit.parent.path if unit.parent else ""
        unit.path = f"{parent_path}{unit.code}/"
        unit.depth = unit.parent.depth + 1 if unit.parent else 1
    return ordered


def _allocate(rng: random.Random, total: int, units: list[_Unit]) -> list[tuple[_Unit, int]]:
    """Split `total` initiatives over the grassroots units with a heavy-tailed (log-normal) skew.

    At 128,000 grassroots units and 2.5 million initiatives the mean is about 20 per unit and the
    busiest units reach a few thousand, like the leaders of the real programme.
    """
    holders = [unit for unit in units if unit.level == Union.Level.GRASSROOTS] or units[-1:]
    weights = [rng.lognormvariate(0.0, 1.2) if rng.random() < GRASSROOTS_PARTICIPATION else 0.0 for _ in holders]
    weights[0] = weights[0] or 1.0
    scale = total / sum(weights)
    counts = [int(weight * scale) for weight in weights]
    shortfall = total - sum(counts)
    participating = [i for i, weight in enumerate(weights) if weight]
    for i in range(shortfall):
        counts[participating[i % len(participating)]] += 1
    return [(unit, count) for unit, count in zip(holders, counts, strict=True) if count]


def seed_scale(*, units: int, initiatives: int, seed: int = 1, reset_first: bool = False) -> ScaleResult:
    if connection.vendor != "postgresql":
        raise RuntimeError("seed_scale needs PostgreSQL (it loads with COPY): set DATABASE_URL.")
    result = ScaleResult()
    rng = random.Random(seed)
    clock = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Check foreign keys row by row instead of queueing millions of deferred checks, which
            # would also forbid the CREATE INDEX below ("pending trigger events").
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        if reset_first:
            reset()
        elif Union.objects.exists():
            raise RuntimeError("The database already has units: pass --reset to replace them.")
        program, phases, fields = demo_data.ensure_program()
        clusters = [
            EmulationCluster.objects.get_or_create(name=f"Cụm thi đua số {i:02d}")[0].pk for i in range(1, CLUSTERS + 1)
        ]
        tree = _build_tree(rng, units, clusters, _next_id(Union))
        result.units = _copy(
            Union._meta.db_table,
            ("id", "code", "name", "short_name", "level", "parent_id", "path", "depth", "member_count",
             "cluster_id", "is_active", "search_text"),
            ((u.pk, u.code, u.name, "", u.level, u.parent.pk if u.parent else None, u.path, u.depth,
              u.members, u.cluster_id, True, fold(f"{u.code} {u.name}")) for u in tree),
        )  # fmt: skip
        _copy(
            Target._meta.db_table,
            ("program_id", "unit_id", "quantity", "kind"),
            ((program.pk, u.pk, u.target, Target.Kind.ASSIGNED) for u in tree if u.target),
        )
        result.seconds["units"] = time.perf_counter() - clock

        clock = time.perf_counter()
        with connection.cursor() as cursor:  # one bulk build beats 2.5 million GIN insertions
            cursor.execute("DROP INDEX IF EXISTS initiative_search_trgm")
        first_initiative = _next_id(Initiative)
        allocation = _allocate(rng, initiatives, tree)
        copies = _Copies(rng, _next_id(SimilarGroup))
        result.initiatives = _copy(
            Initiative._meta.db_table,
            ("id", "program_id", "phase_id", "unit_id", "title", "field_id", "kind", "summary",
             "description", "scope", "first_applied_on", "effectiveness", "value_vnd", "is_confidential",
             "recognition_number", "recognition_date", "recognition_level", "status", "submitted_at",
             "created_by_id", "created_at", "updated_at", "search_text"),
            _initiative_rows(rng, allocation, first_initiative, program, phases, [f.pk for f in fields], copies),
        )  # fmt: skip
        result.seconds["initiatives"] = time.perf_counter() - clock

        clock = time.perf_counter()
        copies.write()
        result.seconds["fingerprints"] = time.perf_counter() - clock

        clock = time.perf_counter()
        _copy(
            Author._meta.db_table,
            ("initiative_id", "full_name", "position", "workplace", "share_percent", "order"),
            _author_rows(random.Random(seed + 1), first_initiative, result.initiatives),
        )
        result.seconds["authors"] = time.perf_counter() - clock

        clock = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE INDEX IF NOT EXISTS initiative_search_trgm ON initiatives_initiative "
                "USING gin (search_text gin_trgm_ops)"
            )
        for model in (Union, Initiative, Author, Target):
            _reset_sequence(model)
        # The COPY marks nothing for the snapshots (millions of marks would cost more than counting):
        # every programme's next snapshot counts everything again.
        LeaderboardState.objects.all().delete()
        result.seconds["indexes"] = time.perf_counter() - clock
    clock = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE unions_union, initiatives_initiative, initiatives_author, initiatives_target, "
            "initiatives_fingerprint, initiatives_similargroup"
        )
    result.seconds["analyze"] = time.perf_counter() - clock
    return result


_FOLDED: dict[str, str] = {}


def _folded(text: str) -> str:
    """fold() of the few title parts, cached: 2.5 million calls would take half a minute."""
    if text not in _FOLDED:
        _FOLDED[text] = fold(text)
    return _FOLDED[text]


# Synthetic Vietnamese-like syllables (onset + rhyme) for the summaries: 1,000 once folded, so two
# unrelated summaries share few word pairs, as real ones do.
_ONSETS = ("b", "c", "ch", "d", "đ", "g", "h", "k", "kh", "l", "m", "n", "ng", "nh", "p", "ph", "qu", "r", "s",
           "t", "th", "tr", "v", "x", "")  # fmt: skip
_RHYMES = ("a", "ai", "am", "an", "ang", "anh", "ao", "at", "ay", "e", "em", "en", "eo", "i", "ia", "im", "in",
           "inh", "it", "o", "oa", "oai", "oan", "oi", "om", "on", "ong", "ot", "u", "ua", "ui", "um", "un", "ung",
           "ut", "ư", "ưa", "ươn", "ương", "ưu")  # fmt: skip
SENTENCES = 20_000  # each summary is 4 of them: a sentence recurs in 500 summaries at 2.5 million
COPIED = 0.01  # the share of initiatives that copy an earlier one (half of them word for word)


class _Copies:
    """The summaries, the copies among the initiatives, their fingerprints and duplicate groups, as
    initiatives.likeness would have made them (the same functions; only the word pairs' hashes are
    remembered across the 2.5 million)."""

    def __init__(self, rng: random.Random, first_group: int) -> None:
        syllables = [onset + rhyme for onset in _ONSETS for rhyme in _RHYMES]
        self.sentences = [
            " ".join(rng.choice(syllables) for _ in range(rng.randrange(8, 15))).capitalize() + "."
            for _ in range(SENTENCES)
        ]
        self.rng = rng
        self.recent: list[tuple[int, str, str]] = []  # (pk, title base, summary) of recent submitted ones
        self.fingerprints: list[tuple[int, list[int]]] = []
        self.group_of: dict[int, int] = {}
        self.groups: dict[int, list[int]] = {}  # group id -> members, first submitted first
        self.next_group = first_group
        self.hashes: dict[str, int] = {}
        self.folded: dict[str, list[str]] = {}  # a sentence's or a title base's folded words

    def _words(self, text: str) -> list[str]:
        found = self.folded.get(text)
        if found is None:
            found = self.folded[text] = likeness.words(text)
        return found

    def _hashed(self, pair: str) -> int:
        value = self.hashes.get(pair)
        if value is None:
            value = self.hashes[pair] = likeness.pair_hash(pair)
        return value

    def text(self, base: str) -> tuple[str, str, tuple[int, str, str] | None]:
        """A title base and summary, and the (id, title base, summary) of the initiative it copies."""
        rng = self.rng
        if self.recent and rng.random() < COPIED:
            original = rng.choice(self.recent)
            _pk, title, summary = original
            if rng.random() < 0.5:  # not word for word: one sentence of its own
                kept = summary.split(". ")
                kept[rng.randrange(len(kept))] = rng.choice(self.sentences).rstrip(".")
                summary = ". ".join(kept)
            return title, summary, original
        return base, " ".join(rng.choice(self.sentences) for _ in range(4)), None

    def add(self, pk: int, summary: str, base: str, original: tuple[int, str, str] | None) -> None:
        """Fingerprint a submitted initiative; a near-copy joins its original's group."""
        # likeness.pairs(title, summary), from the parts' folded words: "<base> (SK-<pk>) <sentences>"
        mine = likeness.pairs_of(
            [*self._words(base), "sk", str(pk), *(word for part in summary.split(". ") for word in self._words(part))]
        )
        keys = likeness.bands(mine, self._hashed)
        assert keys is not None
        if original is not None:
            original_pk, original_base, original_summary = original
            theirs = likeness.pairs(f"{original_base} (SK-{original_pk})", original_summary)
            if likeness.resemblance(mine, theirs) >= likeness.GROUP_FROM:
                group = self.group_of.get(original_pk)
                if group is None:
                    group = self.group_of[original_pk] = self.next_group
                    self.groups[group] = [original_pk]
                    self.next_group += 1
                self.groups[group].append(pk)
                self.group_of[pk] = group
        self.fingerprints.append((pk, keys))
        self.recent.append((pk, base, summary))
        if len(self.recent) > 20_000:
            del self.recent[:10_000]

    def write(self) -> None:
        """The groups, then the fingerprints, then the fingerprints' indexes (one bulk build each)."""
        now = timezone.now().isoformat()
        _copy(
            SimilarGroup._meta.db_table,
            ("id", "first_id", "size", "updated_at", "recheck"),
            ((group, members[0], len(members), now, False) for group, members in self.groups.items()),
        )
        indexes = Fingerprint._meta.indexes
        with connection.schema_editor() as editor:
            for index in indexes:
                editor.remove_index(Fingerprint, index)
        _copy(
            Fingerprint._meta.db_table,
            ("initiative_id", "grouped", "group_id", *likeness.BAND_FIELDS),
            ((pk, True, self.group_of.get(pk), *keys) for pk, keys in self.fingerprints),
        )
        with connection.schema_editor() as editor:
            for index in indexes:
                editor.add_index(Fingerprint, index)
        _reset_sequence(SimilarGroup)


def _initiative_rows(
    rng: random.Random,
    allocation: list[tuple[_Unit, int]],
    first_pk: int,
    program: Program,
    phases: list[Phase],
    field_ids: list[int],
    copies: _Copies,
) -> Iterator[tuple[object, ...]]:
    tz = ZoneInfo(settings.TIME_ZONE)
    now = timezone.now().isoformat()
    start = datetime.combine(program.starts_on, datetime.min.time(), tz)
    span = (program.ends_on - program.starts_on).days * 86_400
    phase_two = datetime.combine(phases[1].starts_on, datetime.min.time(), tz)
    statuses, weights = demo_data.status_mix()
    kinds = demo_data.KINDS
    pk = first_pk
    for unit, count in allocation:
        for _ in range(count):
            action, obj, place = (
                rng.choice(demo_data.ACTIONS),
                rng.choice(demo_data.OBJECTS),
                rng.choice(demo_data.PLACES),
            )
            base, summary, original = copies.text(f"{action} {obj} tại {place}")
            title = f"{base} (SK-{pk})"
            at = start + timedelta(seconds=int(span * rng.random() ** 1.6))
            status = rng.choices(statuses, weights)[0]
            author = _author_name(pk)
            draft = status == Initiative.Status.DRAFT
            if not draft:
                copies.add(pk, summary, base, original)
            yield (
                pk, program.pk, phases[0].pk if at < phase_two else phases[1].pk, unit.pk, title,
                rng.choice(field_ids), rng.choice(kinds), summary, "", "", at.date().isoformat(), "",
                rng.randrange(1, 500) * 1_000_000 if rng.random() < 0.5 else None, rng.random() < 0.03,
                "", None, "", status, None if draft else at.isoformat(), None, now, now,
                f"{fold(base)} (sk-{pk}) {_folded(author)}" if original else
                f"{_folded(action)} {_folded(obj)} tai {_folded(place)} (sk-{pk}) {_folded(author)}",
            )  # fmt: skip
            pk += 1


def _author_name(pk: int) -> str:
    """A name that is a function of the initiative's id, so both COPY streams agree on it."""
    return (
        f"{demo_data.SURNAMES[pk % len(demo_data.SURNAMES)]} {demo_data.MIDDLE[pk * 7 % len(demo_data.MIDDLE)]} "
        f"{demo_data.GIVEN[pk * 13 % len(demo_data.GIVEN)]}"
    )


def _author_rows(rng: random.Random, first_pk: int, count: int) -> Iterator[tuple[object, ...]]:
    for pk in range(first_pk, first_pk + count):
        yield (pk, _author_name(pk), rng.choice(demo_data.POSITIONS), "", "100.00", 0)
