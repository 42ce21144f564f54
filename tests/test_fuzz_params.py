"""No reachable 500s (issue 12, item 6): odd values in every query parameter of every page, for
every role, never answer 5xx. The test client raises a view's exception, so a crash fails loudly."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from councils import services as council_services
from honours import services as honours_services
from leaderboard.snapshots import leaderboard_snapshot, pin
from notifications.models import Notification
from questions.models import Question
from tests.conftest import ROLES, UnitTree
from tests.factories import FieldFactory, InitiativeFactory, PhaseFactory, ProgramFactory, TargetFactory
from unions.models import User

pytestmark = pytest.mark.django_db

# Unicode digits that str.isdigit() accepts and int() refuses, a NUL byte, a very long value,
# negative and non-numeric values.
ODD_VALUES = ("²", "\x00", "x" * 3000, "-1", "abc")
# The admin's lists are swept one parameter at a time by a scoped and a national account; the
# other staff roles get every parameter at once with each of these.
ADMIN_SWEEPERS = ("other_reviewer", "superuser")
ALL_AT_ONCE = ("²", "\x00", "-1")
# The site's pages are swept one parameter at a time by one role of each kind (each reaches other
# code: the login page, an officer's unit, a reviewer's, a province's and the nation's dashboards,
# everything); the other roles, which run the same code on another scope, get every parameter at
# once with each odd value.
SITE_SWEEPERS = ("anonymous", "officer", "own_reviewer", "province_leadership", "national_leadership", "superuser")


@pytest.fixture
def site(unit_tree: UnitTree, roles: dict[str, User | None]) -> dict[str, object]:
    program = ProgramFactory(slug="01-trieu-sang-kien", is_active=True)
    PhaseFactory(program=program, number=1, starts_on=dt.date(2022, 1, 8), ends_on=dt.date(2023, 9, 1))
    field = FieldFactory(name="Môi trường")
    TargetFactory(program=program, unit=unit_tree.thep)
    initiative = InitiativeFactory(program=program, unit=unit_tree.gang_thep, field=field, status="valid")
    question = Question.objects.create(unit=unit_tree.thep, asked_by=roles["officer"], subject="Hỏi", body="…")
    Notification.objects.create(kind="answer", object_id=question.pk, unit=unit_tree.thep)
    snapshot, _ = leaderboard_snapshot(program=program, at=timezone.now())
    pin(snapshot, "Quyết định số 1/QĐ")
    leader = roles["national_leadership"]
    period = honours_services.periods(program, snapshot)[-1]
    decision = honours_services.decision_issue(
        user=leader,
        decision=honours_services.decision_prepare(user=leader, snapshot=snapshot, choice=period, scope=unit_tree.root),
        number="1/QĐ",
        signed_on=timezone.localdate(snapshot.taken_at),
        signer="A",
    )
    selection_round = council_services.round_create(
        user=roles["officer"],
        program=program,
        unit=unit_tree.thep,
        name="Xét chọn",
        quota=1,
        deadline=timezone.localdate(),
        spread_threshold=15,
    )
    return {
        "round": selection_round,
        "initiative": initiative,
        "question": question,
        "unit": unit_tree.thep,
        "snapshot": snapshot,
        "decision": decision,
    }


def site_pages(site: dict[str, object]) -> list[tuple[str, tuple[str, ...]]]:
    """Every page of the site with the query parameters it reads."""
    initiative, question, unit = site["initiative"], site["question"], site["unit"]
    return [
        (reverse("home"), ()),
        (reverse("public_list"), ("q", "field", "unit", "page")),
        (reverse("faq"), ("q", "page")),
        (reverse("page", args=["huong-dan"]), ()),
        (reverse("login"), ("next",)),
        (reverse("initiatives:list"), ("q", "unit", "field", "status", "phase", "import", "page", "export")),
        (reverse("initiatives:detail", args=[initiative.pk]), ()),
        (reverse("initiatives:create"), ()),
        (reverse("initiatives:import"), ()),
        (reverse("questions:list"), ("page",)),
        (reverse("questions:create"), ("initiative",)),
        (reverse("questions:detail", args=[question.pk]), ()),
        (reverse("dashboard"), ("phase", "field", "cluster")),
        (reverse("dashboard_unit", args=[unit.code]), ("phase", "field", "cluster", "page")),
        (reverse("dashboard_evidence"), ()),
        (reverse("dashboard_as_of", args=[site["snapshot"].pk]), ("phase", "field", "cluster")),
        (reverse("dashboard_unit_as_of", args=[unit.code, site["snapshot"].pk]), ("phase", "field", "cluster", "page")),
        (reverse("exports"), ()),
        (reverse("list_exports"), ()),
        (reverse("honours:proposal"), ("snapshot", "period", "unit")),
        (reverse("honours:decisions"), ("page",)),
        (reverse("honours:decision", args=[site["decision"].pk]), ()),
        (reverse("honours:public"), ("period", "cluster", "page")),
        (reverse("honours:public_decision", args=[site["decision"].pk]), ()),
        (reverse("councils:rounds"), ("page",)),
        (reverse("councils:new"), ()),
        (reverse("councils:public"), ("level", "page")),
        (reverse("councils:nominate", args=[site["round"].pk]), ("initiative",)),
        (site["round"].get_absolute_url(), ()),
        (reverse("board_metrics"), ()),
    ]


def admin_pages(client: Client) -> list[tuple[str, tuple[str, ...]]]:
    """Every admin changelist with its search, paging, ordering and every list filter's parameters."""
    pages = []
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url)
        params = {"q", "p", "o", "e", "all", "_to_field", "_popup"}
        if response.status_code == 200:
            for spec in response.context["cl"].filter_specs:
                params.update(spec.expected_parameters())
        pages.append((url, tuple(sorted(params))))
    return pages


@pytest.mark.slow
def test_odd_query_values_never_answer_a_server_error(site, roles: dict[str, User | None]) -> None:
    superuser = Client()
    superuser.force_login(roles["superuser"])
    sweeps: list[tuple[str, str, dict[str, str]]] = []  # (role, url, query)
    for role in ROLES:
        for url, params in site_pages(site):
            if role in SITE_SWEEPERS:
                sweeps += [(role, url, {param: value}) for param in params for value in ODD_VALUES]
            else:
                sweeps += [(role, url, dict.fromkeys(params, value)) for value in ODD_VALUES if params]
    for url, params in admin_pages(superuser):
        for role in ROLES:
            if role in ADMIN_SWEEPERS:
                sweeps += [(role, url, {param: value}) for param in params for value in ODD_VALUES[:4]]
            else:
                sweeps += [(role, url, dict.fromkeys(params, value)) for value in ALL_AT_ONCE]
    clients = {role: Client() for role in ROLES}
    for role, client in clients.items():
        if roles[role] is not None:
            client.force_login(roles[role])
    errors = []
    for role, url, query in sweeps:
        response = clients[role].get(url, query)
        if response.status_code >= 500:
            errors.append(f"{role} {url}?{ {k: v[:20] for k, v in query.items()} }: {response.status_code}")
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("admin:questions_question_changelist", {"q": "anything"}),
        ("admin:questions_pendingquestion_changelist", {"q": "hỏi"}),
        ("admin:initiatives_initiative_changelist", {"subtree": "²"}),
        ("admin:initiatives_initiative_changelist", {"status__exact": "\x00"}),
        ("admin:notifications_notification_changelist", {"kind__exact": "\x00"}),
        ("admin:unions_union_changelist", {"subtree": "٣"}),
    ],
)
def test_the_admin_answers_the_red_team_queries(site, roles, name: str, params: dict[str, str]) -> None:
    client = Client()
    client.force_login(roles["national_reviewer"])
    response = client.get(reverse(name), params)
    assert response.status_code in (200, 302, 400)


def test_the_board_searches_questions_without_diacritics(site, roles) -> None:
    question = site["question"]
    question.subject = "Hỏi về tỷ lệ đóng góp"
    question.refresh_search_text()
    question.save()
    client = Client()
    client.force_login(roles["national_reviewer"])
    response = client.get(reverse("admin:questions_question_changelist"), {"q": "ty le dong gop"})
    assert [row.pk for row in response.context["cl"].result_list] == [question.pk]
    response = client.get(reverse("admin:questions_pendingquestion_changelist"), {"q": "khong co"})
    assert list(response.context["cl"].result_list) == []


@pytest.mark.parametrize(
    ("name", "args", "params"),
    [
        ("dashboard_unit", ["CTVN-THEP"], {"page": "²"}),
        ("questions:create", [], {"initiative": "²"}),
        ("initiatives:list", [], {"page": "²"}),
        ("public_list", [], {"unit": "\x00"}),
    ],
)
def test_unicode_digits_and_nul_bytes_are_harmless_on_the_site(site, roles, name, args, params) -> None:
    client = Client()
    client.force_login(roles["own_reviewer"])
    response = client.get(reverse(name, args=args), params)
    assert response.status_code in (200, 400)


def test_a_nul_byte_is_answered_400_in_vietnamese(client: Client, site) -> None:
    response = client.get(reverse("public_list"), {"q": "a\x00b"})
    assert response.status_code == 400
    assert "không hiểu được yêu cầu" in response.content.decode()


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_a_username_longer_than_any_account_is_one_more_failed_login(client: Client, site, url: str) -> None:
    response = client.post(url, {"username": "x" * 10_000, "password": "sai"})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_a_nul_byte_in_the_path_or_a_cookie_is_answered_400(client: Client, site, roles) -> None:
    client.force_login(roles["officer"])
    assert client.get("/dashboard/unit/%00/").status_code == 400
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    assert client.get(reverse("home")).status_code == 400


def test_nginx_s_413_page_survives_a_raw_request_line(client: Client, site) -> None:
    response = client.get(reverse("too_large"), headers={"X-Original-URI": "http://[::1"})
    assert response.status_code == 413


def test_the_admin_autocomplete_refuses_a_reverse_relation(client: Client, site, roles) -> None:
    client.force_login(roles["other_reviewer"])
    query = {"app_label": "unions", "model_name": "union", "field_name": "targets", "term": "a"}
    assert client.get(reverse("admin:autocomplete"), query).status_code == 403


@pytest.mark.parametrize("selected", ["abc", "²", "-1"])
def test_an_admin_action_for_ids_that_are_not_numbers_is_answered_400(client: Client, site, roles, selected) -> None:
    client.force_login(roles["national_reviewer"])
    response = client.post(
        reverse("admin:initiatives_initiative_changelist"), {"action": "review_valid", "_selected_action": [selected]}
    )
    assert response.status_code == 400
