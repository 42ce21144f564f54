from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum
from django.urls import reverse

from demo.seed import DEMO_PASSWORD
from initiatives.models import Author, Initiative, Phase, Program, StatusChange, Target
from unions.models import Union, User
from unions.permissions import can_act_in, is_leadership, is_reviewer

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Union, User, Program, Phase, Target, Initiative, Author, StatusChange)
    }


def test_seed_demo_builds_the_cong_thuong_programme_and_is_idempotent(settings) -> None:
    settings.DEBUG = True
    call_command("seed_demo", initiatives=300)
    first = snapshot()
    call_command("seed_demo", initiatives=300)
    assert snapshot() == first
    assert first["Initiative"] == 300

    rang_dong = Union.objects.get(name="Công đoàn Công ty CP Bóng đèn - Phích nước Rạng Đông")
    assert [u.code for u in Union.objects.ancestors(rang_dong)] == ["TLD", "CTVN"]
    assert rang_dong.level == Union.Level.GRASSROOTS
    thep = Union.objects.get(name="Công đoàn Tổng Công ty Thép Việt Nam - CTCP")
    assert thep.level == Union.Level.SUPERIOR
    assert Union.objects.descendants(thep).count() >= 2

    program = Program.objects.get()
    assert program.target == 1_000_000
    assert [(p.starts_on.isoformat(), p.ends_on.isoformat()) for p in program.phases.all()] == [
        ("2022-01-08", "2022-05-31"),
        ("2022-06-01", "2023-09-01"),
    ]
    # Every initiative lies in its phase and every non-draft one has its submission on the timeline.
    for initiative in Initiative.objects.select_related("phase").exclude(status="draft")[:50]:
        assert initiative.phase.starts_on <= initiative.submitted_at.date() <= initiative.phase.ends_on
        assert initiative.status_changes.filter(to_status="submitted").exists()
    # Authors' shares add up to 100 for every initiative.
    totals = Initiative.objects.annotate(total=Sum("authors__share_percent")).values_list("total", flat=True)
    assert set(totals) == {100}


def test_seed_demo_accounts_can_log_in_with_their_roles(settings, client) -> None:
    settings.DEBUG = True
    call_command("seed_demo", initiatives=10)
    for username in ("canbo.rangdong", "canbo.thep", "bancspl", "lanhdao", "admin"):
        # Through the login page: the lockout backend needs the request that client.login() lacks.
        response = client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302 and client.session.get("_auth_user_id"), username
    officer = User.objects.get(username="canbo.rangdong")
    assert can_act_in(officer, Union.objects.get(code="CTVN-RANGDONG"))
    assert not can_act_in(officer, Union.objects.get(code="CTVN-THEP"))
    assert is_reviewer(User.objects.get(username="bancspl"))
    assert is_leadership(User.objects.get(username="lanhdao"))


def test_seed_demo_refuses_to_publish_demo_passwords_in_production(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_seed_scale_builds_a_national_shape_with_skew(capsys) -> None:
    call_command("seed_scale", units=600, initiatives=6000)
    assert "Built 600 units and 6,000 initiatives" in capsys.readouterr().out
    levels = dict(Union.objects.values_list("level").annotate(n=Count("pk")))
    assert levels[Union.Level.CONFEDERATION] == 1
    assert levels[Union.Level.TIER2] == 83  # 63 provinces and 20 sector unions
    assert levels[Union.Level.SUPERIOR] >= 1
    assert sum(levels.values()) == 600
    assert Initiative.objects.count() == Author.objects.count() == 6000
    # Every path agrees with the parent pointers, and the root's members are everyone's.
    root = Union.objects.get(code="TLD")
    assert Union.objects.subtree(root).count() == 600
    grassroots = Union.objects.filter(level=Union.Level.GRASSROOTS)
    assert root.member_count == sum(grassroots.values_list("member_count", flat=True))
    for unit in Union.objects.select_related("parent").exclude(parent=None)[:100]:
        assert unit.path == f"{unit.parent.path}{unit.code}/"
    # A heavy tail: the busiest unit has many times the median.
    per_unit = sorted(Initiative.objects.values("unit").annotate(n=Count("pk")).values_list("n", flat=True))
    assert per_unit[-1] >= 5 * per_unit[len(per_unit) // 2]
    # Titles and authors are searchable without diacritics.
    sample = Initiative.objects.first()
    author = sample.authors.get().full_name
    assert sample in Initiative.objects.search(author.upper())
    assert Initiative.objects.search("tự động hóa").count() == Initiative.objects.search("tu dong hoa").count() > 0


def test_seed_scale_refuses_to_mix_with_existing_units_unless_reset(unit_tree) -> None:
    with pytest.raises(CommandError, match="--reset"):
        call_command("seed_scale", units=200, initiatives=100)
    call_command("seed_scale", units=200, initiatives=100, reset=True)
    assert not Union.objects.filter(code="CTVN-RANGDONG").exists()
    assert Union.objects.count() == 200
