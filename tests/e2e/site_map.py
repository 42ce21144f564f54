"""The portal's main pages for each role, on the demo data, for the whole-site browser checks
(accessibility and layout): one browser context per role, signed in without the login form."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext

from councils.models import Nomination, SelectionRound
from honours import services as honours_services
from honours.models import HonourDecision
from initiatives.models import Initiative
from leaderboard.models import LeaderboardSnapshot
from questions.models import Page, Question
from questions.services import question_answer, question_ask
from unions.models import Union, User
from unions.permissions import REVIEWERS_GROUP

# Roles → the demo account that plays it (seed_demo's, plus a national board account made here).
ACCOUNTS = {
    "anonymous": None,
    "officer": "canbo.rangdong",
    "leadership": "lanhdao",
    "provincial_reviewer": "bancspl",  # Công Thương's board: scoped to its subtree
    "national_reviewer": "ban.tld",  # no unit: the whole tree
    "superuser": "admin",
}


@dataclass(frozen=True)
class Demo:
    url: str
    initiative: Initiative  # submitted, in Rạng Đông (the officer's unit): detail and review pages
    draft: Initiative  # editable by the officer
    question: Question  # asked by the officer, answered in public
    decision: HonourDecision  # seed_demo's honours decision (issued), and a draft from the latest snapshot
    honours_draft: HonourDecision
    council_round: SelectionRound  # seed_demo's closed round of Công Thương, chaired by the leadership
    council_nomination: Nomination


def seed(live_url: str, settings_fixture: object) -> Demo:
    """seed_demo's tree, accounts and 60 initiatives, a national board account, an answered
    question and the guide page (a transactional test's flush removes the migration's)."""
    settings_fixture.DEBUG = True  # seed_demo refuses to publish demo passwords otherwise
    call_command("seed_demo", initiatives=60)
    settings_fixture.DEBUG = False
    national = User.objects.create_user("ban.tld", first_name="Bình", last_name="Đỗ Thanh", is_staff=True)
    national.groups.add(Group.objects.get(name=REVIEWERS_GROUP))
    Page.objects.get_or_create(
        slug="huong-dan", defaults={"title": "Hướng dẫn cập nhật sáng kiến", "body": "Bước 1.\n\nBước 2."}
    )
    officer = User.objects.get(username="canbo.rangdong")
    rangdong = Union.objects.get(code="CTVN-RANGDONG")
    initiatives = Initiative.objects.filter(unit=rangdong).order_by("pk")
    question = question_ask(unit=rangdong, by=officer, subject="Cách tính tỷ lệ đóng góp", body="Xin hướng dẫn.")
    question_answer(
        question=question, answer="Tổng tỷ lệ của các tác giả là 100%.", by=User.objects.get(username="bancspl"),
        is_public=True,
    )  # fmt: skip
    leader = User.objects.get(username="lanhdao")
    latest = LeaderboardSnapshot.objects.order_by("-taken_at").first()
    assert latest is not None and leader.unit is not None
    choice = honours_services.period_of(latest.program, "programme", latest)
    assert choice is not None
    honours_draft = honours_services.decision_prepare(user=leader, snapshot=latest, choice=choice, scope=leader.unit)
    council_round = SelectionRound.objects.get(status="closed")
    return Demo(
        council_round=council_round,
        council_nomination=council_round.nominations.order_by("rank").first(),
        decision=HonourDecision.objects.get(status="issued"),
        honours_draft=honours_draft,
        url=live_url,
        initiative=initiatives.filter(status=Initiative.Status.SUBMITTED).first(),
        draft=initiatives.filter(status__in=[Initiative.Status.DRAFT, Initiative.Status.RETURNED]).first(),
        question=question,
    )


def main_pages(role: str, demo: Demo) -> list[tuple[str, str]]:
    """(name, path) of the pages a role works with, portal and admin."""
    public = [
        ("home", reverse("home")),
        ("public list", reverse("public_list")),
        ("faq", reverse("faq")),
        ("guide", reverse("page", args=["huong-dan"])),
        ("honour roll", reverse("honours:public")),
        ("outstanding initiatives", reverse("councils:public")),
    ]
    rangdong = reverse("dashboard_unit", args=["CTVN-RANGDONG"])
    unit_pages = [
        ("list", reverse("initiatives:list")),
        ("detail", reverse("initiatives:detail", args=[demo.initiative.pk])),
        ("questions", reverse("questions:list")),
        ("question", reverse("questions:detail", args=[demo.question.pk])),
    ]
    initiative, question = demo.initiative.pk, demo.question.pk
    admin_pages = [
        ("admin index", reverse("admin:index")),
        ("admin initiatives", reverse("admin:initiatives_initiative_changelist")),
        ("admin review queue", reverse("admin:initiatives_reviewqueue_changelist")),
        ("admin initiative", reverse("admin:initiatives_initiative_change", args=[initiative])),
        ("admin questions", reverse("admin:questions_question_changelist")),
        ("admin question", reverse("admin:questions_question_change", args=[question])),
        ("admin unions", reverse("admin:unions_union_changelist")),
        ("admin union", reverse("admin:unions_union_change", args=[Union.objects.get(code="CTVN-THEP").pk])),
        ("board metrics", reverse("board_metrics")),
    ]
    pages = {
        # A decision's public page is the same for everyone: the visitor's sweep covers it (the honour
        # roll is among the public pages, which the officer's sweep also measures on a phone).
        "anonymous": [
            *public,
            ("honours decision", reverse("honours:public_decision", args=[demo.decision.pk])),
            ("login", reverse("login")),
            ("admin login", reverse("admin:login")),
        ],
        "officer": [
            *public,
            *unit_pages,
            ("new initiative", reverse("initiatives:create")),
            ("edit initiative", reverse("initiatives:edit", args=[demo.draft.pk])),
            ("import", reverse("initiatives:import")),
            ("my exports", reverse("list_exports")),
            ("new question", reverse("questions:create")),
            ("dashboard", reverse("dashboard")),
            ("drill-down", rangdong),
            ("councils", reverse("councils:rounds")),
        ],
        "leadership": [
            ("home", reverse("home")),
            ("dashboard", reverse("dashboard")),
            ("drill-down", reverse("dashboard_unit", args=["CTVN-THEP"])),
            ("exports", reverse("exports")),
            ("honours proposal", reverse("honours:proposal")),
            ("honours decisions", reverse("honours:decisions")),
            ("honours draft", reverse("honours:decision", args=[demo.honours_draft.pk])),
            ("councils", reverse("councils:rounds")),
            ("council round", demo.council_round.get_absolute_url()),
            (
                "council nomination",
                reverse("councils:nomination", args=[demo.council_round.pk, demo.council_nomination.pk]),
            ),
            *[page for page in admin_pages if page[0] != "admin review queue"],
        ],
        "provincial_reviewer": [("home", reverse("home")), ("dashboard", reverse("dashboard")), *admin_pages],
        # The provincial board's admin pages over the whole tree: the same templates and buttons with
        # more rows, so only the index, the list with its wider filters and what it alone opens.
        "national_reviewer": [
            ("exports", reverse("exports")),
            *[page for page in admin_pages if page[0] in ("admin index", "admin initiatives")],
            ("admin programme", reverse("admin:initiatives_program_change", args=[demo.initiative.program_id])),
        ],
        "superuser": [("home", reverse("home")), ("dashboard", reverse("dashboard")), *admin_pages],
    }
    return pages[role]


@contextmanager
def signed_in(browser: Browser, role: str, demo: Demo, **context_args: object) -> Iterator[BrowserContext]:
    """A browser context whose session belongs to the role's account (none for anonymous)."""
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", **context_args)
    if ACCOUNTS[role]:
        client = Client()
        client.force_login(User.objects.get(username=ACCOUNTS[role]))
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": demo.url}])
    try:
        yield context
    finally:
        context.close()
