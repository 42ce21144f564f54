"""The demo's outstanding-initiative rounds: Công Thương's round of 2023, scored by a council of
three and closed (its result public, its documents built), one of its selections forwarded to the
Confederation's round, which still takes nominations. Once: a second run finds them."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from councils import services
from councils.models import Member, SelectionRound
from initiatives.models import Initiative, Program
from unions.models import Union, User

# Each member's points per nomination (novelty /30, effect /40, replicability /30), a little apart.
POINTS = (
    ((27, 36, 26), (26, 38, 27), (28, 35, 25)),
    ((24, 33, 22), (25, 31, 24), (23, 34, 21)),
    ((20, 30, 18), (22, 28, 20), (19, 29, 19)),
    ((15, 22, 14), (17, 25, 15), (16, 20, 13)),
)


def seed_councils(*, program: Program, units: dict[str, Union], users: dict[str, User]) -> None:
    if SelectionRound.objects.filter(program=program).exists():
        return
    sector, root = units["CTVN"], units["TLD"]
    # Công Thương's units directly under it nominate; the council sits at Công Thương.
    nominators = {"CTVN-RANGDONG": users["canbo.rangdong"], "CTVN-THEP": users["canbo.thep"]}
    secretary = users["bancspl"]
    chosen: list[tuple[User, Initiative]] = []
    for code, officer in nominators.items():
        valid = Initiative.objects.filter(
            program=program, status=Initiative.Status.VALID, unit__path__startswith=units[code].path
        ).order_by("pk")[:2]
        chosen += [(officer, initiative) for initiative in valid]
    if len(chosen) < 2:
        return  # too few valid initiatives to make a round worth showing
    sector_round = services.round_create(
        user=secretary,
        program=program,
        unit=sector,
        name="Xét chọn sáng kiến tiêu biểu ngành Công Thương năm 2023",
        quota=2,
        deadline=timezone.localdate() + dt.timedelta(days=1),
        spread_threshold=15,
        pass_mark=60,
    )
    council = [
        (users["lanhdao"], Member.Role.CHAIR),
        (secretary, Member.Role.SECRETARY),
        (users["admin"], Member.Role.MEMBER),
    ]
    for account, role in council:
        services.member_appoint(user=secretary, selection_round=sector_round, account=account, role=role)
    nominations = [
        services.nomination_create(
            user=officer,
            selection_round=sector_round,
            initiative=initiative,
            justification="Giải pháp đã áp dụng ổn định, làm lợi rõ rệt và có thể nhân rộng trong ngành.",
            recognition_number=initiative.recognition_number or f"{initiative.pk}/QĐ-HĐSK",
            recognition_date=initiative.recognition_date or program.ends_on,
        )
        for officer, initiative in chosen
    ]
    services.round_start_scoring(user=secretary, selection_round=sector_round)
    criteria = list(sector_round.criteria.order_by("position"))
    for nomination, sheets in zip(nominations, POINTS, strict=False):
        for (account, _role), points in zip(council, sheets, strict=True):
            if nomination.conflicts.filter(member__user=account).exists():
                continue
            services.sheet_save(
                user=account,
                nomination=nomination,
                points={criterion.pk: value for criterion, value in zip(criteria, points, strict=True)},
                comment="Đồng ý đề cử.",
                submit=True,
            )
    services.round_close(user=users["lanhdao"], selection_round=sector_round, place="Hà Nội", submission_number="")
    national = services.round_create(
        user=users["admin"],
        program=program,
        unit=root,
        name="Xét chọn sáng kiến tiêu biểu toàn quốc năm 2023",
        quota=46,
        deadline=timezone.localdate() + dt.timedelta(days=30),
        spread_threshold=15,
    )
    best = sector_round.nominations.filter(result="selected").order_by("rank").first()
    if best is not None:
        services.nomination_forward(user=secretary, nomination=best, to_round=national)
