"""A round of Công đoàn Tổng Công ty Thép (superior level) with a council of three and a reserve
scorer, and valid initiatives of Gang thép (grassroots, under Thép) nominated by Gang thép's officer:
what the councils' tests start from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from councils import services
from councils.models import Criterion, Member, Nomination, SelectionRound
from initiatives.models import Initiative, Program
from tests.conftest import UnitTree
from tests.factories import AuthorFactory, InitiativeFactory, UserFactory
from unions.models import User

RECOGNISED = dt.date(2022, 12, 1)


@dataclass
class Council:
    round: SelectionRound
    secretary_officer: User  # an officer of Thép who set the round up
    nominator: User  # an officer of Gang thép
    chair: User
    secretary: User
    member: User
    reserve: User
    initiatives: list[Initiative]

    @property
    def criteria(self) -> list[Criterion]:
        return list(self.round.criteria.order_by("position"))

    def member_of(self, user: User) -> Member:
        return self.round.members.get(user=user)


def valid_initiative(program: Program, unit, title: str, **extra) -> Initiative:
    initiative = InitiativeFactory(
        program=program, unit=unit, title=title, status=Initiative.Status.VALID, submitted_at=timezone.now(), **extra
    )
    AuthorFactory(initiative=initiative, full_name="Trần Thị Bình", workplace="Phân xưởng cán thép")
    return initiative


def make_round(user: User, program: Program, unit, **settings) -> SelectionRound:
    values = {
        "name": "Xét chọn sáng kiến tiêu biểu năm 2023",
        "quota": 2,
        "deadline": timezone.localdate() + dt.timedelta(days=10),
        "spread_threshold": 15,
    }
    values.update(settings)
    return services.round_create(user=user, program=program, unit=unit, **values)


def nominate(council: Council, initiative: Initiative, user: User | None = None) -> Nomination:
    return services.nomination_create(
        user=user or council.nominator,
        selection_round=council.round,
        initiative=initiative,
        justification="Làm lợi lớn, áp dụng rộng rãi.",
        recognition_number="12/QĐ-HĐSK",
        recognition_date=RECOGNISED,
    )


def score(council: Council, user: User, nomination: Nomination, points: list[int], *, submit: bool = True):
    return services.sheet_save(
        user=user,
        nomination=nomination,
        points={c.pk: p for c, p in zip(council.criteria, points, strict=True)},
        comment="Nhận xét",
        submit=submit,
    )


def build_council(unit_tree: UnitTree, program: Program, *, initiatives: int = 3, **settings) -> Council:
    runner = UserFactory(username="thuky.thep", last_name="Lê", first_name="Văn Thư", unit=unit_tree.thep)
    nominator = UserFactory(username="canbo.gangthep", last_name="Phạm", first_name="Văn Đề", unit=unit_tree.gang_thep)
    chair = UserFactory(username="chutich", last_name="Hoàng", first_name="Văn Chủ", unit=unit_tree.thep)
    secretary = UserFactory(username="thuky", last_name="Đỗ", first_name="Thị Ký", unit=unit_tree.thep)
    member = UserFactory(username="uyvien", last_name="Vũ", first_name="Văn Viên", unit=unit_tree.thep)
    reserve = UserFactory(username="duphong", last_name="Bùi", first_name="Thị Ba", unit=unit_tree.thep)
    selection_round = make_round(runner, program, unit_tree.thep, **settings)
    for account, role in (
        (chair, Member.Role.CHAIR),
        (secretary, Member.Role.SECRETARY),
        (member, Member.Role.MEMBER),
        (reserve, Member.Role.RESERVE),
    ):
        services.member_appoint(user=runner, selection_round=selection_round, account=account, role=role)
    made = [
        valid_initiative(program, unit_tree.gang_thep, title)
        for title in ["Lò cao tiết kiệm than", "Băng tải tự động", "Sổ tay an toàn điện tử", "Hệ thống lọc bụi"][
            :initiatives
        ]
    ]
    return Council(selection_round, runner, nominator, chair, secretary, member, reserve, made)


@pytest.fixture
def council(unit_tree: UnitTree, program: Program) -> Council:
    return build_council(unit_tree, program)
