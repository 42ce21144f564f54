"""Demo data: the "01 triệu sáng kiến" programme as run by Công đoàn Công Thương Việt Nam (2022–2023).

Used by `manage.py seed_demo` (the small, real-looking tree) and `manage.py seed_scale`
(the programme, phases and fields of the synthetic national data set).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from demo.councils import seed_councils
from emulation.models import EmulationCriterion, ScoringBand
from honours import services as honours_services
from honours.models import HonourDecision
from initiatives import likeness
from initiatives.models import Author, Field, Initiative, Phase, Program, StatusChange, Target
from initiatives.tasks import group_similar
from leaderboard.models import LeaderboardSnapshot, LeaderboardState
from leaderboard.snapshots import leaderboard_snapshot, snapshot_instant
from unions.models import EmulationCluster, Union, User
from unions.permissions import LEADERSHIP_GROUP, REVIEWERS_GROUP, ensure_role_groups
from unions.services import union_save

PROGRAM_SLUG = "01-trieu-sang-kien"
PROGRAM = {
    "name": "01 triệu sáng kiến – nỗ lực vượt khó, sáng tạo, quyết tâm chiến thắng đại dịch Covid-19",
    "description": (
        "Chương trình của Tổng Liên đoàn Lao động Việt Nam, vận động đoàn viên, người lao động "
        "đề xuất sáng kiến, giải pháp vượt khó, phục hồi sản xuất kinh doanh."
    ),
    "target": 1_000_000,
    "starts_on": date(2022, 1, 8),
    "ends_on": date(2023, 9, 1),
    "is_active": True,
}
PHASES = (
    (1, "Giai đoạn 1", date(2022, 1, 8), date(2022, 5, 31)),
    (2, "Giai đoạn 2", date(2022, 6, 1), date(2023, 9, 1)),
)
FIELDS = (
    "An toàn, vệ sinh lao động",
    "Môi trường",
    "Cải cách hành chính",
    "Quản lý",
    "Kỹ thuật – sản xuất",
    "Y tế",
    "Giáo dục",
    "Chuyển đổi số",
    "Phòng, chống dịch Covid-19",
)

CLUSTER_CORPORATIONS = "Khối Tổng công ty"
CLUSTER_ENTERPRISES = "Khối doanh nghiệp"
CLUSTER_SCHOOLS = "Khối trường học"

G = Union.Level.GRASSROOTS
# (code, name, short name, level, parent code, members, cluster, target, weight of initiatives)
UNITS: tuple[tuple[str, str, str, str, str, int, str, int, int], ...] = (
    ("TLD", "Tổng Liên đoàn Lao động Việt Nam", "Tổng Liên đoàn", Union.Level.CONFEDERATION, "", 11_000_000, "", 0, 0),
    ("CTVN", "Công đoàn Công Thương Việt Nam", "CĐ Công Thương VN", Union.Level.TIER2, "TLD", 180_000, "", 3000, 0),
    (
        "CTVN-THEP",
        "Công đoàn Tổng Công ty Thép Việt Nam - CTCP",
        "CĐ VNSTEEL",
        Union.Level.SUPERIOR,
        "CTVN",
        16_000,
        CLUSTER_CORPORATIONS,
        400,
        0,
    ),
    (
        "THEP-TISCO",
        "Công đoàn Công ty CP Gang thép Thái Nguyên",
        "CĐ Gang thép Thái Nguyên",
        G,
        "CTVN-THEP",
        3_200,
        CLUSTER_ENTERPRISES,
        120,
        130,
    ),
    (
        "THEP-SSC",
        "Công đoàn Công ty CP Thép Miền Nam - VNSTEEL",
        "CĐ Thép Miền Nam",
        G,
        "CTVN-THEP",
        1_100,
        CLUSTER_ENTERPRISES,
        80,
        95,
    ),
    (
        "THEP-DNS",
        "Công đoàn Công ty CP Thép Đà Nẵng",
        "CĐ Thép Đà Nẵng",
        G,
        "CTVN-THEP",
        600,
        CLUSTER_ENTERPRISES,
        50,
        60,
    ),
    (
        "CTVN-VINATABA",
        "Công đoàn Tổng Công ty Thuốc lá Việt Nam",
        "CĐ Vinataba",
        Union.Level.SUPERIOR,
        "CTVN",
        12_000,
        CLUSTER_CORPORATIONS,
        350,
        0,
    ),
    (
        "VINATABA-SG",
        "Công đoàn Công ty TNHH MTV Thuốc lá Sài Gòn",
        "CĐ Thuốc lá Sài Gòn",
        G,
        "CTVN-VINATABA",
        1_500,
        CLUSTER_ENTERPRISES,
        100,
        110,
    ),
    (
        "VINATABA-TL",
        "Công đoàn Công ty TNHH MTV Thuốc lá Thăng Long",
        "CĐ Thuốc lá Thăng Long",
        G,
        "CTVN-VINATABA",
        1_200,
        CLUSTER_ENTERPRISES,
        90,
        85,
    ),
    (
        "VINATABA-NS",
        "Công đoàn Công ty CP Ngân Sơn",
        "CĐ Ngân Sơn",
        G,
        "CTVN-VINATABA",
        500,
        CLUSTER_ENTERPRISES,
        40,
        40,
    ),
    (
        "CTVN-HABECO",
        "Công đoàn Tổng Công ty Bia - Rượu - NGK Hà Nội",
        "CĐ HABECO",
        Union.Level.SUPERIOR,
        "CTVN",
        5_000,
        CLUSTER_CORPORATIONS,
        300,
        0,
    ),
    (
        "HABECO-HD",
        "Công đoàn Công ty CP Bia Hà Nội - Hải Dương",
        "CĐ Bia Hà Nội - Hải Dương",
        G,
        "CTVN-HABECO",
        400,
        CLUSTER_ENTERPRISES,
        40,
        70,
    ),
    (
        "HABECO-QB",
        "Công đoàn Công ty CP Bia Hà Nội - Quảng Bình",
        "CĐ Bia Hà Nội - Quảng Bình",
        G,
        "CTVN-HABECO",
        300,
        CLUSTER_ENTERPRISES,
        30,
        55,
    ),
    (
        "HABECO-HALICO",
        "Công đoàn Công ty CP Cồn Rượu Hà Nội",
        "CĐ Halico",
        G,
        "CTVN-HABECO",
        350,
        CLUSTER_ENTERPRISES,
        30,
        60,
    ),
    (
        "CTVN-VEAM",
        "Công đoàn Tổng Công ty Máy động lực và Máy Nông nghiệp Việt Nam",
        "CĐ VEAM",
        Union.Level.SUPERIOR,
        "CTVN",
        6_000,
        CLUSTER_CORPORATIONS,
        250,
        0,
    ),
    (
        "VEAM-DISOCO",
        "Công đoàn Công ty TNHH MTV Diesel Sông Công",
        "CĐ Diesel Sông Công",
        G,
        "CTVN-VEAM",
        700,
        CLUSTER_ENTERPRISES,
        50,
        75,
    ),
    (
        "VEAM-MKNN",
        "Công đoàn Công ty CP Máy kéo và Máy nông nghiệp",
        "CĐ Máy kéo và Máy nông nghiệp",
        G,
        "CTVN-VEAM",
        300,
        CLUSTER_ENTERPRISES,
        30,
        45,
    ),
    (
        "VEAM-XLDA",
        "Công đoàn Công ty CP Xích líp Đông Anh",
        "CĐ Xích líp Đông Anh",
        G,
        "CTVN-VEAM",
        400,
        CLUSTER_ENTERPRISES,
        30,
        50,
    ),
    (
        "CTVN-RANGDONG",
        "Công đoàn Công ty CP Bóng đèn - Phích nước Rạng Đông",
        "CĐ Rạng Đông",
        G,
        "CTVN",
        2_600,
        CLUSTER_ENTERPRISES,
        200,
        300,
    ),
    (
        "CTVN-HUI",
        "Công đoàn Trường Đại học Công nghiệp TP Hồ Chí Minh",
        "CĐ ĐH Công nghiệp TP.HCM",
        G,
        "CTVN",
        1_900,
        CLUSTER_SCHOOLS,
        150,
        225,
    ),
)

DEMO_PASSWORD = "SangKien@2022"  # development only; listed in the README


@dataclass(frozen=True)
class DemoAccount:
    username: str
    first_name: str
    last_name: str
    unit_code: str
    group: str = ""
    is_staff: bool = False
    is_superuser: bool = False


ACCOUNTS = (
    DemoAccount("canbo.rangdong", "Lan", "Nguyễn Thị", "CTVN-RANGDONG"),
    DemoAccount("canbo.thep", "Minh", "Trần Văn", "CTVN-THEP"),
    DemoAccount("bancspl", "Hùng", "Lê Quốc", "CTVN", group=REVIEWERS_GROUP, is_staff=True),
    DemoAccount("lanhdao", "Thanh", "Phạm Đức", "CTVN", group=LEADERSHIP_GROUP, is_staff=True),
    DemoAccount("admin", "Quản trị", "", "", is_staff=True, is_superuser=True),
)

SURNAMES = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
)
MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Thu", "Quang", "Ngọc", "Hữu", "Thanh", "Xuân")
GIVEN = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Đông",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hoa",
    "Hùng",
    "Lan",
    "Long",
    "Mai",
    "Nam",
    "Phương",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trung",
    "Tuấn",
    "Vân",
    "Yến",
)
POSITIONS = ("Công nhân vận hành", "Kỹ sư", "Tổ trưởng sản xuất", "Trưởng ca", "Chuyên viên", "Giảng viên", "Quản đốc")
ACTIONS = ("Cải tiến", "Tự động hóa", "Số hóa", "Hợp lý hóa", "Tối ưu", "Tiết kiệm năng lượng cho")
OBJECTS = (
    "quy trình kiểm tra chất lượng sản phẩm",
    "dây chuyền đóng gói",
    "hệ thống chiếu sáng nhà xưởng",
    "công tác phòng chống dịch Covid-19 tại nơi làm việc",
    "quy trình tiếp nhận hồ sơ công đoàn viên",
    "lò nung",
    "hệ thống xử lý nước thải",
    "quản lý kho vật tư",
    "bài giảng thực hành",
    "quy trình bảo dưỡng thiết bị",
    "công tác an toàn vệ sinh lao động",
)
PLACES = (
    "phân xưởng 1",
    "phân xưởng 2",
    "nhà máy",
    "phòng thí nghiệm",
    "khu vực kho",
    "ca sản xuất đêm",
    "khoa Cơ khí",
)
KINDS = [kind.value for kind in Initiative.Kind]
# Status mix of the demo: mostly submitted or valid, a few drafts, returns and rejections.
STATUS_WEIGHTS = (
    (Initiative.Status.DRAFT, 8),
    (Initiative.Status.SUBMITTED, 50),
    (Initiative.Status.VALID, 35),
    (Initiative.Status.RETURNED, 4),
    (Initiative.Status.REJECTED, 3),
)


def status_mix() -> tuple[list[Initiative.Status], list[int]]:
    """STATUS_WEIGHTS as random.choices() takes it: the statuses, and their weights."""
    return [status for status, _weight in STATUS_WEIGHTS], [weight for _status, weight in STATUS_WEIGHTS]


def ensure_program() -> tuple[Program, list[Phase], list[Field]]:
    """The programme with its phases and fields, created or brought up to date."""
    program, _ = Program.objects.update_or_create(slug=PROGRAM_SLUG, defaults=PROGRAM)
    phases = [
        Phase.objects.update_or_create(
            program=program, number=number, defaults={"name": name, "starts_on": start, "ends_on": end}
        )[0]
        for number, name, start, end in PHASES
    ]
    fields = [
        Field.objects.update_or_create(name=name, defaults={"position": position})[0]
        for position, name in enumerate(FIELDS, start=1)
    ]
    return program, phases, fields


# The demo programme's emulation criteria: (code, name, metric, weight, bands as (from, points)).
CRITERIA = (
    ("TC1", "Hoàn thành chỉ tiêu sáng kiến", "completion", 4, ((50, 5), (80, 8), (100, 10))),
    ("TC2", "Số sáng kiến trên 100 đoàn viên", "per_100_members", 3, ((1, 4), (3, 7), (5, 10))),
    ("TC3", "Tỷ lệ công đoàn cơ sở tham gia", "participation", 2, ((50, 5), (80, 8), (100, 10))),
    ("TC4", "Tỷ lệ sáng kiến hợp lệ", "valid_ratio", 1, ((30, 5), (50, 8), (70, 10))),
)


def ensure_criteria(program: Program) -> None:
    for position, (code, name, metric, weight, bands) in enumerate(CRITERIA, start=1):
        criterion, _ = EmulationCriterion.objects.update_or_create(
            program=program,
            code=code,
            defaults={"name": name, "metric": metric, "weight": weight, "position": position},
        )
        criterion.bands.all().delete()
        ScoringBand.objects.bulk_create(
            ScoringBand(criterion=criterion, min_value=threshold, points=points) for threshold, points in bands
        )


def random_name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


@transaction.atomic
def seed_demo(*, initiatives: int = 1500, seed: int = 2022) -> dict[str, int]:
    """Create or refresh the demo tree, programme, accounts and initiatives; safe to run again."""
    clusters = {
        name: EmulationCluster.objects.get_or_create(name=name)[0]
        for name in (CLUSTER_CORPORATIONS, CLUSTER_ENTERPRISES, CLUSTER_SCHOOLS)
    }
    units: dict[str, Union] = {}
    for code, name, short, level, parent, members, cluster, _target, _weight in UNITS:
        unit = Union.objects.filter(code=code).first() or Union(code=code)
        unit.name, unit.short_name, unit.level, unit.member_count = name, short, level, members
        unit.parent = units.get(parent)
        unit.cluster = clusters.get(cluster)
        unit.is_active = True
        units[code] = union_save(unit=unit)

    program, phases, fields = ensure_program()
    ensure_criteria(program)
    for code, *_rest, target, _weight in UNITS:
        if target:
            Target.objects.update_or_create(program=program, unit=units[code], defaults={"quantity": target})

    ensure_role_groups(Group, Permission)  # normally there from the migration; a flushed database lacks them
    users = {}
    for account in ACCOUNTS:
        user = User.objects.filter(username=account.username).first() or User(username=account.username)
        user.first_name, user.last_name = account.first_name, account.last_name
        user.unit = units.get(account.unit_code)
        user.is_staff, user.is_superuser, user.is_active = account.is_staff, account.is_superuser, True
        user.email = f"{account.username}@sangkien.local"
        user.set_password(DEMO_PASSWORD)
        user.save()
        if account.group:
            user.groups.add(Group.objects.get(name=account.group))
        users[account.username] = user

    created = 0
    if not Initiative.objects.filter(program=program).exists():
        created = _create_initiatives(
            count=initiatives,
            rng=random.Random(seed),
            program=program,
            phases=phases,
            fields=fields,
            units=units,
            users=users,
        )
        # Created in bulk without marks: the next snapshot counts everything again.
        LeaderboardState.objects.filter(program=program).delete()
    # Two leaderboard snapshots, so the dashboard shows movement: the end of phase 1 and this hour
    # (what the hourly beat job would have taken; without a broker nothing runs it in the demo).
    # Phase 1's end: the midnight after its last day, the snapshot its honours are decided from.
    end_of_phase_1 = datetime.combine(phases[0].ends_on + timedelta(days=1), time(0), ZoneInfo(settings.TIME_ZONE))
    taken = [leaderboard_snapshot(program=program, at=at)[0] for at in (end_of_phase_1, snapshot_instant(hourly=True))]
    _honour_phase_1(program=program, phase=phases[0], snapshot=taken[0], leader=users["lanhdao"])
    seed_councils(program=program, units=units, users=users)
    return {"units": len(units), "accounts": len(users), "initiatives_created": created}


def _honour_phase_1(*, program: Program, phase: Phase, snapshot: LeaderboardSnapshot, leader: User) -> None:
    """Công Thương's leadership honours the leaders of phase 1 from the snapshot of its end, so the
    honour roll, the home page and the units' pages have a decision to show (once)."""
    if HonourDecision.objects.filter(program=program).exists():
        return
    choice = honours_services.period_of(program, f"phase-{phase.pk}", snapshot)
    assert choice is not None and leader.unit is not None
    draft = honours_services.decision_prepare(user=leader, snapshot=snapshot, choice=choice, scope=leader.unit)
    honours_services.decision_issue(
        user=leader,
        decision=draft,
        number="01/QĐ-CĐCT",
        signed_on=phase.ends_on + timedelta(days=10),
        place="Hà Nội",
        signer=f"{leader.last_name} {leader.first_name}",
        note="Sơ kết giai đoạn 1 chương trình “01 triệu sáng kiến”.",
    )


def _create_initiatives(
    *,
    count: int,
    rng: random.Random,
    program: Program,
    phases: list[Phase],
    fields: list[Field],
    units: dict[str, Union],
    users: dict[str, User],
) -> int:
    tz = ZoneInfo(settings.TIME_ZONE)
    weighted = [(units[code], weight) for code, *_rest, weight in UNITS if weight]
    pool, weights = zip(*weighted, strict=True)
    statuses, status_weights = status_mix()
    officer_of = {users["canbo.rangdong"].unit_id: users["canbo.rangdong"]}
    reviewer = users["bancspl"]
    span = (program.ends_on - program.starts_on).days
    initiatives: list[Initiative] = []
    authors_of: list[list[Author]] = []
    for number in range(1, count + 1):
        unit = rng.choices(pool, weights)[0]
        status = rng.choices(statuses, status_weights)[0]
        day = program.starts_on + timedelta(days=int(span * rng.random() ** 1.6))  # busier early on
        submitted_at = datetime.combine(day, time(8 + rng.randrange(9), rng.randrange(60)), tz)
        phase = next(p for p in phases if p.starts_on <= day <= p.ends_on)
        title = f"{rng.choice(ACTIONS)} {rng.choice(OBJECTS)} tại {rng.choice(PLACES)} (SK-{number:04d})"
        initiative = Initiative(
            program=program,
            phase=phase,
            unit=unit,
            title=title,
            field=rng.choice(fields),
            kind=rng.choice(KINDS),
            summary=f"Sáng kiến {title.lower()} giúp giảm thời gian thao tác và chi phí vận hành.",
            scope=unit.name,
            first_applied_on=max(program.starts_on, day - timedelta(days=rng.randrange(60))),
            effectiveness="Nâng cao năng suất lao động, bảo đảm an toàn cho người lao động.",
            value_vnd=rng.randrange(5, 2000) * 1_000_000 if rng.random() < 0.6 else None,
            is_confidential=rng.random() < 0.05,
            status=status,
            submitted_at=None if status == Initiative.Status.DRAFT else submitted_at,
            created_by=officer_of.get(unit.pk),
        )
        shares = [Decimal(100)] if rng.random() < 0.6 else [Decimal(60), Decimal(40)]
        authors = [
            Author(
                full_name=random_name(rng),
                position=rng.choice(POSITIONS),
                workplace=unit.short_name,
                share_percent=share,
                order=order,
            )
            for order, share in enumerate(shares)
        ]
        initiative.refresh_search_text([author.full_name for author in authors])
        initiatives.append(initiative)
        authors_of.append(authors)
    Initiative.objects.bulk_create(initiatives, batch_size=500)

    all_authors: list[Author] = []
    changes: list[StatusChange] = []
    for initiative, authors in zip(initiatives, authors_of, strict=True):
        for author in authors:
            author.initiative = initiative
            all_authors.append(author)
        if initiative.status == Initiative.Status.DRAFT:
            continue
        submitted = initiative.submitted_at
        assert submitted is not None  # set above for every initiative but a draft
        changes.append(
            StatusChange(
                initiative=initiative,
                from_status=Initiative.Status.DRAFT,
                to_status=Initiative.Status.SUBMITTED,
                by=initiative.created_by,
                at=submitted,
            )
        )
        if initiative.status != Initiative.Status.SUBMITTED:
            changes.append(
                StatusChange(
                    initiative=initiative,
                    from_status=Initiative.Status.SUBMITTED,
                    to_status=initiative.status,
                    by=reviewer,
                    at=submitted + timedelta(days=rng.randrange(1, 20)),
                    reason=""
                    if initiative.status == Initiative.Status.VALID
                    else "Đề nghị bổ sung mô tả giải pháp và số liệu giá trị làm lợi.",
                )
            )
    Author.objects.bulk_create(all_authors, batch_size=1000)
    StatusChange.objects.bulk_create(changes, batch_size=1000)
    # The national check for copies: fingerprints, then the duplicate groups (the queued task finds none left).
    likeness.remember([initiative for initiative in initiatives if initiative.status != Initiative.Status.DRAFT])
    group_similar()
    return len(initiatives)
