"""Every main page, for every role, loads in Chromium under the Content-Security-Policy without a
single violation: the portal's own scripts and styles only, nothing inline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, ConsoleMessage, Page

from demo.seed import DEMO_PASSWORD
from emulation.models import ExportJob
from initiatives.models import Initiative, Program
from initiatives.services import initiative_review
from questions.models import Page as ContentPage
from questions.services import question_answer, question_ask
from tests.e2e.conftest import log_in
from unions.models import Union, User
from unions.permissions import REVIEWERS_GROUP

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

# Runs before any of the page's own code, in every document: Chromium fires this event for each
# blocked inline style, inline script, handler attribute or foreign resource.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "(inline)"} at ` +
    `${event.sourceFile || "?"}:${event.lineNumber}:${event.columnNumber}`
  );
});
"""


@dataclass
class Demo:
    url: str
    returned_id: int  # Rạng Đông's, sent back with a reason: its detail and edit pages
    submitted_id: int  # awaiting review: the admin's page with the three review buttons
    question_id: int  # Rạng Đông's, answered in public: FAQ, detail and the admin's page
    unit_id: int  # a unit the national board may edit in the admin


@dataclass
class Report:
    """What Chromium said against the policy, page by page, and any page that did not load."""

    problems: list[str] = field(default_factory=list)
    where: str = ""

    def console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            first_sentence = message.text.split(". ", 1)[0]  # the rest is Chromium's advice
            self.problems.append(f"{self.where}: console: {first_sentence}")


NATIONAL_BOARD = "ban.tld"  # a reviewer without a unit: changes the programme-wide settings


@pytest.fixture
def demo(live_server, settings) -> Demo:
    settings.DEBUG = True  # seed_demo refuses to publish demo passwords otherwise
    call_command("seed_demo", initiatives=60)
    settings.DEBUG = False
    board = User.objects.get(username="bancspl")
    officer = User.objects.get(username="canbo.rangdong")
    returned, submitted = Initiative.objects.filter(unit=officer.unit, status=Initiative.Status.SUBMITTED)[:2]
    initiative_review(
        initiative=returned,
        decision=Initiative.Status.RETURNED,
        by=board,
        reason="Đề nghị bổ sung mô tả giải pháp.\nKèm số liệu giá trị làm lợi.",
    )
    question = question_ask(
        unit=officer.unit, by=officer, subject="Cách tính tỷ lệ đóng góp", body="Hai tác giả.\nChia thế nào?"
    )
    question_answer(question=question, answer="Theo thỏa thuận.\nTổng bằng 100%.", by=board, is_public=True)
    # A flushed database has lost the migration's guide page.
    ContentPage.objects.get_or_create(slug="huong-dan", defaults={"title": "Hướng dẫn", "body": "Bước 1.\nBước 2."})
    # An export still running: its row shows a progress bar that the page's script keeps moving.
    now = timezone.now()
    ExportJob.objects.create(
        program=Program.objects.get(),
        scope=Union.objects.get(code="CTVN"),
        requested_by=User.objects.get(username="lanhdao"),
        status=ExportJob.Status.RUNNING,
        total_rows=120,
        rows_done=48,
        started_at=now,
        heartbeat_at=now,
    )
    national = User.objects.create_user(NATIONAL_BOARD, password=DEMO_PASSWORD, is_staff=True)
    national.groups.add(Group.objects.get(name=REVIEWERS_GROUP))
    unit = Union.objects.get(code="CTVN-RANGDONG")
    return Demo(live_server.url, returned.pk, submitted.pk, question.pk, unit.pk)


def visit(
    browser: Browser,
    context_args: dict,
    demo: Demo,
    report: Report,
    username: str | None,
    paths: list[str | tuple[str, int]],
    then: Callable[[Page], None] | None = None,
) -> None:
    """One browser context for one role: log in (the login page is watched too), then each page
    (a path, or a path and the status its page answers with, e.g. 404); `then` goes on with the
    last one."""
    context = browser.new_context(**context_args)
    context.add_init_script(RECORD_VIOLATIONS)
    page: Page = context.new_page()
    page.on("console", report.console)
    try:
        if username:
            report.where = f"{username} /accounts/login/"
            log_in(page, demo.url + "/accounts/login/", username)
            page.wait_for_url(demo.url + "/")
            collect(page, report)
        for entry in paths:
            path, status = entry if isinstance(entry, tuple) else (entry, 200)
            report.where = f"{username or 'anonymous'} {path}"
            response = page.goto(demo.url + path)
            if response is None or response.status != status:
                report.problems.append(f"{report.where}: answered {response and response.status}")
                continue
            header = response.headers.get("content-security-policy")
            if header != POLICY:
                report.problems.append(f"{report.where}: Content-Security-Policy header is {header!r}")
            collect(page, report)
        if then is not None:
            report.where = f"{username or 'anonymous'} {then.__name__}"
            then(page)
            collect(page, report)
    finally:
        context.close()


def collect(page: Page, report: Report) -> None:
    # Violation events are queued as tasks: let the ones the page's loading raised run first.
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 100))")
    report.problems.extend(f"{report.where}: {violation}" for violation in page.evaluate("window.cspViolations"))


def export_bar_follows_its_job(page: Page) -> None:
    """The exports page's script moves the bar through element.style, which the policy allows
    (it blocks style attributes in markup, not the CSS object model): 48 of 120 units is 40%."""
    page.wait_for_function(
        """() => {
          const bar = document.querySelector("[data-progress] .progress-bar");
          const ratio = bar.getBoundingClientRect().width / bar.parentElement.getBoundingClientRect().width;
          return Math.abs(ratio - 0.4) < 0.02;
        }""",
        timeout=10_000,
    )


def bulk_review_asks_for_the_reason(page: Page) -> None:
    """The review queue's bulk action opens an intermediate page (the reason, the note, the list)."""
    page.locator("input[name=_selected_action]").first.check()
    page.select_option("select[name=action]", "review_returned")
    page.locator("button[name=index]").click()
    page.wait_for_selector("textarea[name=reason]")


def add_pages() -> list[str | tuple[str, int]]:
    """The add form of every model a superuser may add in the admin."""
    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(username="admin")
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
        for model, model_admin in admin.site._registry.items()
        if model_admin.has_add_permission(request)
    ]


def test_every_main_page_for_every_role_loads_without_a_policy_violation(
    browser: Browser, browser_context_args: dict, demo: Demo
) -> None:
    report = Report()
    returned, question = demo.returned_id, demo.question_id
    valid = Initiative.objects.filter(status=Initiative.Status.VALID).values_list("pk", flat=True).first()
    visit(browser, browser_context_args, demo, report, None, [
        "/", "/sang-kien/", f"/sang-kien/{valid}/", "/hoi-dap/", "/trang/huong-dan/", "/accounts/login/",
        "/admin/login/",
    ])  # fmt: skip
    visit(browser, browser_context_args, demo, report, "canbo.rangdong", [
        "/initiatives/", "/initiatives/new/", f"/initiatives/{returned}/", f"/initiatives/{returned}/edit/",
        "/initiatives/import/", "/initiatives/questions/", "/initiatives/questions/new/",
        f"/initiatives/questions/{question}/", "/dashboard/", "/dashboard/unit/CTVN-RANGDONG/",
    ])  # fmt: skip
    visit(browser, browser_context_args, demo, report, "lanhdao", [
        "/dashboard/", "/dashboard/unit/CTVN-THEP/", "/admin/", "/exports/",
    ], then=export_bar_follows_its_job)  # fmt: skip
    visit(browser, browser_context_args, demo, report, "bancspl", [
        "/admin/", "/admin/initiatives/initiative/", "/admin/initiatives/reviewqueue/",
        f"/admin/initiatives/initiative/{demo.submitted_id}/change/", "/admin/questions/question/",
        f"/admin/questions/question/{question}/change/", "/admin/unions/union/",
        f"/admin/unions/union/{demo.unit_id}/change/", "/admin/board-metrics/", "/admin/initiatives/reviewqueue/",
    ], then=bulk_review_asks_for_the_reason)  # fmt: skip
    program = Program.objects.get().pk
    visit(browser, browser_context_args, demo, report, NATIONAL_BOARD, [
        "/admin/", f"/admin/initiatives/program/{program}/change/", "/admin/initiatives/program/",
        "/admin/emulation/emulationcriterion/", "/admin/initiatives/target/", "/dashboard/", "/exports/",
        "/admin/board-metrics/",
    ])  # fmt: skip
    visit(browser, browser_context_args, demo, report, "admin", [
        "/admin/", *add_pages(), f"/admin/initiatives/program/{program}/change/", "/admin/unions/union/import/",
        "/admin/unions/user/", "/admin/password_change/", "/initiatives/", "/dashboard/", "/exports/",
        ("/khong-co-trang-nay/", 404), "/admin/initiatives/initiative/999999999/change/",  # to the index, saying so
    ])  # fmt: skip
    visit(browser, browser_context_args, demo, report, "canbo.thep", [
        "/accounts/password_change/", ("/initiatives/999999999/", 404), ("/errors/too-large/", 413),
    ])  # fmt: skip
    if report.problems:
        pytest.fail("\n".join(["Pages that break the Content-Security-Policy:", *report.problems]), pytrace=False)
