"""Vietnamese everywhere, in production mode too (issue 15, item 2): every portal and admin page that
each role may open, and the error pages, show no English UI string with DEBUG off.

An "English UI string" is a msgid of Django's catalogues (core, admin and the contrib apps the portal
installs) or of the project's own that shows up untranslated, as a whole phrase, in a page's visible
text or in what a screen reader or a button shows (title, aria-label, alt, placeholder, a button's
value). The date picker's strings come from the admin's JavaScript catalogue, checked on its own.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import django
import polib
import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from councils import services as council_services
from councils.models import Nomination, SelectionRound
from emulation.models import ExportJob
from emulation.workbook import run_job
from honours import services as honours_services
from honours.models import HonourDecision
from initiatives.models import Initiative
from leaderboard.models import LeaderboardSnapshot
from notifications.models import Notification
from questions.models import Question
from questions.services import question_answer
from tests.conftest import ROLES, UnitTree
from tests.factories import InitiativeFactory, StatusChangeFactory
from unions.models import User

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
DJANGO = Path(django.__file__).resolve().parent
# The catalogues whose msgids a page may show: Django's core, the contrib apps in INSTALLED_APPS
# that have a catalogue (messages and staticfiles have none), and the project's. Their English .po files
# list every msgid of the installed Django, whatever its Vietnamese catalogue lacks.
DJANGO_CATALOGUES = ("conf", "contrib/admin", "contrib/auth", "contrib/contenttypes", "contrib/humanize",
                     "contrib/sessions")  # fmt: skip
PROJECT_PO = ROOT / "locale" / "vi" / "LC_MESSAGES" / "django.po"
# What django.views.defaults and csrf answer without a template: bare English, no catalogue.
DJANGO_BARE_PAGES = ("Not Found", "The requested resource was not found on this server.", "Bad Request (400)",
                     "403 Forbidden", "Server Error (500)")  # fmt: skip

# Msgids that are fine on a Vietnamese page, each with its reason.
ALLOWED = {
    "Thu": "a Vietnamese given name (the seeded authors: Đặng Thu Hùng), and the portal shows no weekday",
}

# Text that is English by construction and is no UI string: cut out before the search, each with its reason.
NOT_UI = {
    r"\bUser-Agent\b": "the HTTP header's name, kept in the lockout's label 'Trình duyệt (User-Agent)'",
    r"Failed access: user \S+(?: locked out)? on \S+ \S+ from \S+"
    r"|Attempted Access: \S+ \S+|Access Log for \S+ @ \S+ \S+": (
        "django-axes' rows name themselves in English (their __str__ is not marked for translation); "
        "only superusers see them, in the login lockout's admin"
    ),
    r"\b\w+_\w+ object \(\d+\)|(?i:\b(?:user|group|permission)-(?:user|group|permission)\b)": (
        "a group's delete page lists the rows of Django's many-to-many tables by their table and model "
        "names (Group_permissions object (4), quan hệ group-permission)"
    ),
}
NOT_UI_PATTERN = re.compile("|".join(f"(?:{pattern})" for pattern in NOT_UI))

PLACEHOLDER = re.compile(r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[sdifr]|\{[^{}]*\}")
TAG = re.compile(r"<[^>]+>")
WORD = re.compile(r"[A-Za-z]{3,}")


def squeeze(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Phrase:
    """One msgid as it would read on a page: a literal phrase, or a pattern where it has placeholders."""

    msgid: str
    probe: str  # its longest literal piece: a cheap `in` test before the regular expression
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, msgid: str) -> Phrase | None:
        text = squeeze(html.unescape(TAG.sub(" ", msgid)))
        pieces = PLACEHOLDER.split(text)
        probe = max(pieces, key=len).strip()
        # Long enough, and an English word in the literal text (not only a format like "%s, %s").
        if len(text) < 3 or not WORD.search(probe):
            return None
        body = r"\S.{0,80}?".join(re.escape(piece) for piece in pieces)
        return cls(msgid, probe, re.compile(rf"(?<!\w){body}(?!\w)"))

    def found_in(self, text: str) -> str:
        """The phrase and a little of the text around it where the page shows it, else ""."""
        match = self.probe in text and self.pattern.search(text)
        return text[max(match.start() - 40, 0) : match.end() + 40] if match else ""


def _catalogue_entries() -> Iterator[polib.POEntry]:
    """Every entry of Django's English catalogues and of the project's."""
    for name in DJANGO_CATALOGUES:
        yield from polib.pofile(str(DJANGO / name / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    yield from polib.pofile(str(PROJECT_PO))


def _kept_in_vietnamese() -> set[str]:
    """Msgids that Vietnamese keeps: translated to themselves ("IPv4") or kept inside their translation
    ("HTTP Accept" → "Tiêu đề HTTP Accept"). The project's catalogue overrides Django's, as at run time."""
    vietnamese: dict[str, str] = {}
    paths = [DJANGO / name / "locale" / "vi" / "LC_MESSAGES" / "django.po" for name in DJANGO_CATALOGUES]
    for po in [*paths, PROJECT_PO]:
        for entry in polib.pofile(str(po)) if po.exists() else []:
            forms = [(entry.msgid, entry.msgstr)]
            if entry.msgid_plural:
                forms = [
                    (entry.msgid, entry.msgstr_plural.get(0, "")),
                    (entry.msgid_plural, entry.msgstr_plural.get(0, "")),
                ]
            vietnamese.update((msgid, text) for msgid, text in forms if text)
    return {msgid for msgid, text in vietnamese.items() if re.search(rf"(?<!\w){re.escape(msgid)}(?!\w)", text)}


def english_phrases() -> list[Phrase]:
    msgids = {msgid for entry in _catalogue_entries() for msgid in (entry.msgid, entry.msgid_plural) if msgid}
    phrases = [Phrase.of(msgid) for msgid in sorted(msgids - _kept_in_vietnamese() - set(ALLOWED))]
    bare = [Phrase(text, text, re.compile(re.escape(text))) for text in DJANGO_BARE_PAGES]
    return [phrase for phrase in phrases if phrase is not None] + bare


class VisibleText(HTMLParser):
    """A page's text as a user or a screen reader gets it: no scripts or styles, plus the labels
    that live in attributes."""

    LABELS = ("title", "aria-label", "alt", "placeholder")
    BUTTON_INPUTS = ("submit", "button", "reset")  # their value is their caption (a <button>'s is not shown)

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.hidden_depth += 1
        values = dict(attrs)
        self.parts.extend(values[name] or "" for name in self.LABELS if name in values)
        if tag == "input" and values.get("type") in self.BUTTON_INPUTS:
            self.parts.append(values.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.hidden_depth:
            self.hidden_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden_depth:
            self.parts.append(data)

    @classmethod
    def of(cls, page: str) -> str:
        parser = cls()
        parser.feed(page)
        return NOT_UI_PATTERN.sub("…", " | ".join(squeeze(part) for part in parser.parts if part.strip()))


def leaks(page: str, phrases: Iterable[Phrase]) -> dict[str, str]:
    """The English phrases a page shows, each with where it shows it."""
    text = VisibleText.of(page)
    return {phrase.msgid: where for phrase in phrases if (where := phrase.found_in(text))}


def test_the_detector_finds_english_in_labels_and_text_but_not_in_vietnamese() -> None:
    phrases = [Phrase.of(msgid) for msgid in ("Show counts", "%(num)d years", "Run", "Date:", "valid")]
    page = """<html><title>Thay đổi</title><script>var s = "Show counts";</script>
        <a title="Show counts">Hiện số</a><p>4 years, 10 months</p><input type="submit" value="Run">
        <p>Running late</p><label>Date: </label><button name="decision" value="valid">Hợp lệ</button></html>"""
    assert list(leaks(page, phrases)) == ["Show counts", "%(num)d years", "Run", "Date:"]
    assert leaks("<p>Hiện số lượng · Thực hiện · 4 năm, 10 tháng</p>", phrases) == {}


# --- the pages -------------------------------------------------------------------------------------


@dataclass
class World:
    initiative: Initiative  # submitted, in Gang thép (under the officer's Thép)
    draft: Initiative
    question: Question
    export: ExportJob
    snapshot: LeaderboardSnapshot  # seed_demo's latest, shown as evidence
    honours_draft: HonourDecision  # an honours draft and an issued decision, from that snapshot
    honours_decision: HonourDecision
    council_round: SelectionRound  # being scored, chaired by the officer, a draft sheet saved
    nomination: Nomination
    valid: Initiative  # a valid initiative of Gang thép not nominated yet


def seeded(unit_tree: UnitTree, roles: dict[str, User | None]) -> World:
    """The demo programme on the roles' tree, plus a row of every kind the pages show."""
    call_command("seed_demo", initiatives=40, allow_production=True)  # DEBUG is off
    officer, reviewer = roles["officer"], roles["own_reviewer"]
    program = Initiative.objects.values_list("program", flat=True).first()
    initiative = InitiativeFactory(
        program_id=program,
        unit=unit_tree.gang_thep,
        created_by=officer,
        submitted_at=timezone.now() - dt.timedelta(days=1790),
    )
    StatusChangeFactory(initiative=initiative, by=officer, at=initiative.submitted_at)
    draft = InitiativeFactory(
        program_id=program, unit=unit_tree.gang_thep, created_by=officer, status="draft", submitted_at=None
    )
    question = Question.objects.create(
        unit=unit_tree.thep, asked_by=officer, subject="Cách tính giá trị làm lợi", body="Hỏi"
    )
    answered = Question.objects.create(unit=unit_tree.thep, asked_by=officer, subject="Hạn nộp", body="Khi nào?")
    question_answer(question=answered, answer="Trước 01/09/2023.", by=reviewer, is_public=True)
    Notification.objects.create(kind="answer", object_id=answered.pk, unit=unit_tree.thep)
    export = ExportJob.objects.create(program_id=program, scope=unit_tree.cong_thuong, requested_by=roles["superuser"])
    # An officer's list export, one built and one waiting, for "My exports".
    listed = ExportJob.objects.create(kind="initiative_list", scope=unit_tree.thep, requested_by=officer)
    ExportJob.objects.create(kind="initiative_list", scope=unit_tree.thep, requested_by=officer, params={"q": "lò"})
    run_job(listed.pk)
    attempt = {
        "ip_address": "10.0.0.1",
        "user_agent": "Mozilla/5.0",
        "http_accept": "*/*",
        "path_info": "/accounts/login/",
    }
    AccessAttempt.objects.create(username="canbo.thep", failures_since_start=5, **attempt)
    AccessLog.objects.create(username="canbo.thep", **attempt)
    AccessFailureLog.objects.create(username="canbo.thep", **attempt)
    snapshot = LeaderboardSnapshot.objects.order_by("-taken_at").first()
    assert snapshot is not None
    leader = roles["national_leadership"]
    period = honours_services.periods(snapshot.program, snapshot)[0]
    honours_draft = honours_services.decision_prepare(
        user=leader, snapshot=snapshot, choice=period, scope=unit_tree.root
    )
    honours_decision = honours_services.decision_issue(
        user=leader,
        decision=honours_services.decision_prepare(user=leader, snapshot=snapshot, choice=period, scope=unit_tree.root),
        number="7/QĐ-TLĐ",
        signed_on=timezone.localdate(snapshot.taken_at),
        signer="Nguyễn Đình Khang",
    )
    council_round = council_services.round_create(
        user=officer,
        program=snapshot.program,
        unit=unit_tree.thep,
        name="Xét chọn sáng kiến tiêu biểu của Thép",
        quota=1,
        deadline=timezone.localdate(),
        spread_threshold=15,
        pass_mark=50,
    )
    for account, role in ((officer, "chair"), (reviewer, "secretary"), (roles["superuser"], "member")):
        council_services.member_appoint(user=officer, selection_round=council_round, account=account, role=role)
    valid, other = (
        InitiativeFactory(program_id=program, unit=unit_tree.gang_thep, status="valid", created_by=officer)
        for _ in range(2)
    )
    nomination = council_services.nomination_create(
        user=officer,
        selection_round=council_round,
        initiative=valid,
        justification="Làm lợi lớn",
        recognition_number="3/QĐ-HĐSK",
        recognition_date=dt.date(2023, 1, 5),
    )
    council_services.round_start_scoring(user=officer, selection_round=council_round)
    council_services.sheet_save(
        user=officer, nomination=nomination, points={c.pk: 10 for c in council_round.criteria.all()}
    )
    return World(
        initiative, draft, question, export, snapshot, honours_draft, honours_decision, council_round, nomination, other
    )


def portal_pages(world: World, unit_tree: UnitTree) -> list[str]:
    initiative = world.initiative
    return [
        "/",
        reverse("public_list"),
        reverse("public_list") + "?page=2",
        reverse("faq"),
        reverse("faq") + "?q=không+có+gì",
        reverse("page", args=["huong-dan"]),
        reverse("initiatives:list"),
        reverse("initiatives:list") + "?q=lò&status=submitted",
        reverse("initiatives:create"),
        reverse("initiatives:import"),
        reverse("initiatives:detail", args=[initiative.pk]),
        reverse("initiatives:edit", args=[world.draft.pk]),
        reverse("initiatives:edit", args=[initiative.pk]),
        reverse("questions:list"),
        reverse("questions:create"),
        reverse("questions:detail", args=[world.question.pk]),
        reverse("dashboard"),
        reverse("dashboard") + "?level=grassroots",
        reverse("dashboard_unit", args=[unit_tree.thep.code]),
        reverse("dashboard_evidence"),
        reverse("dashboard_as_of", args=[world.snapshot.pk]),
        reverse("dashboard_unit_as_of", args=[unit_tree.thep.code, world.snapshot.pk]) + "?field=1",
        reverse("exports"),
        reverse("list_exports"),
        reverse("honours:proposal"),
        reverse("honours:proposal") + f"?snapshot={world.snapshot.pk}&period=programme&unit=KHONG-CO",
        reverse("honours:decisions"),
        reverse("honours:decision", args=[world.honours_draft.pk]),
        reverse("honours:decision", args=[world.honours_decision.pk]),
        reverse("honours:public"),
        reverse("honours:public") + "?period=1999-1",
        reverse("honours:public_decision", args=[world.honours_decision.pk]),
        reverse("councils:rounds"),
        reverse("councils:new"),
        world.council_round.get_absolute_url(),
        reverse("councils:edit", args=[world.council_round.pk]),
        reverse("councils:nomination", args=[world.council_round.pk, world.nomination.pk]),
        *[round_.get_absolute_url() for round_ in SelectionRound.objects.exclude(pk=world.council_round.pk)],
        *[
            reverse("councils:nomination", args=[n.round_id, n.pk])
            for n in Nomination.objects.filter(round__status="closed")[:2]
        ],
        reverse("councils:nominate", args=[world.council_round.pk]) + f"?initiative={world.valid.pk}",
        reverse("councils:public"),
        reverse("councils:public") + "?level=tier2",
        reverse("board_metrics"),
        reverse("login"),
        reverse("password_change"),
        reverse("password_change_done"),
        "/khong-co-trang-nay/",  # 404
        "/?q=%00",  # 400
    ]


def admin_url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def admin_pages(world: World) -> list[str]:
    pages = [reverse("admin:index"), reverse("admin:password_change"), reverse("admin:password_change_done")]
    pages += sorted({reverse("admin:app_list", args=[model._meta.app_label]) for model in admin.site._registry})
    for model in admin.site._registry:
        row = model._default_manager.order_by("pk").last()
        pages += [
            admin_url(model, "changelist"),
            admin_url(model, "changelist") + "?q=không+có+gì",
            admin_url(model, "add"),
        ]
        if row is not None:
            pages += [admin_url(model, view, row.pk) for view in ("change", "history", "delete")]
    initiative = world.initiative
    pages += [
        admin_url(Initiative, "change", initiative.pk),  # the review buttons
        reverse("admin:initiatives_reviewqueue_change", args=[initiative.pk]),
        reverse("admin:auth_user_password_change", args=[User.objects.get(username="canbo.thep").pk]),
        reverse("admin:unions_union_import"),
        reverse("admin:unions_union_changelist") + "?level=grassroots",
        admin_url(Initiative, "changelist") + "?_facets=True",
    ]
    return pages


def review_page(client: Client, world: World) -> str:
    """The bulk review's intermediate page that asks for the reason."""
    response = client.post(
        admin_url(Initiative, "changelist"), {"action": "review_returned", ACTION_CHECKBOX_NAME: [world.initiative.pk]}
    )
    return response.content.decode() if response["Content-Type"].startswith("text/html") else ""


@pytest.mark.slow  # about 90 s: some 1,300 pages
def test_no_page_of_any_role_shows_an_english_ui_string(
    settings, unit_tree: UnitTree, roles: dict[str, User | None]
) -> None:
    settings.DEBUG = False
    world = seeded(unit_tree, roles)
    phrases = english_phrases()
    found: dict[str, set[str]] = {}
    context: dict[str, str] = {}
    for role in ROLES:
        client = Client(raise_request_exception=False)
        if roles[role] is not None:
            client.force_login(roles[role])
        bodies = []
        for address in [*portal_pages(world, unit_tree), *admin_pages(world)]:
            response = client.get(address)
            if response.get("Content-Type", "").startswith("text/html") and not response.streaming:
                bodies.append((address, response.content.decode()))
        bodies.append(("review", review_page(client, world)))
        for address, body in bodies:
            for msgid, where in leaks(body, phrases).items():
                found.setdefault(msgid, set()).add(f"{role} {address}")
                context.setdefault(msgid, where)
    report = [
        f"{msgid!r} on {len(pages)} pages, e.g. {sorted(pages)[0]}: …{context[msgid]}…"
        for msgid, pages in sorted(found.items())
    ]
    assert not found, "English on Vietnamese pages:\n" + "\n".join(report)


def test_the_date_picker_speaks_vietnamese(client: Client, roles: dict[str, User | None]) -> None:
    """Every msgid of the admin's JavaScript catalogue (the calendar, the clock, the selector) has a
    Vietnamese entry in what the admin's jsi18n serves."""
    client.force_login(roles["own_reviewer"])
    script = client.get(reverse("admin:jsi18n")).content.decode()
    catalogue = json.loads(re.search(r"const newcatalog = (\{.*?\});", script, re.DOTALL).group(1))
    po = polib.pofile(str(DJANGO / "contrib" / "admin" / "locale" / "en" / "LC_MESSAGES" / "djangojs.po"))
    missing = []
    for entry in po:
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        value = catalogue.get(key)
        translated = value[0] if isinstance(value, list) else value
        if not translated or translated == entry.msgid:
            missing.append(key.replace("\x04", " | "))
    assert not missing, f"English in the date picker and selectors: {missing}"
