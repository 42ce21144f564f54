"""The admin under the one access policy: every registered model's changelist, add, change, delete
and history page and every admin action, for every role (issue 12, item 1), and the attacks a
province's board tried: re-parenting units, importing them, changing targets and the programme."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from io import BytesIO
from urllib.parse import urlsplit

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.db.models import Model
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken
from councils.models import Nomination, SelectionRound
from emulation.models import EmulationCriterion, ExportJob
from honours.models import HonourDecision
from initiatives import likeness
from initiatives.models import Fingerprint, Initiative, Program, QuarterTarget, ReviewQueue, SimilarGroup, Target
from leaderboard.models import HonourRule, LeaderboardSnapshot
from notifications.models import Notification
from questions.models import Page, PendingQuestion, Question
from tests.conftest import ROLES, UnitTree
from tests.factories import (
    EmulationClusterFactory,
    FieldFactory,
    InitiativeFactory,
    PhaseFactory,
    ProgramFactory,
    TargetFactory,
)
from tests.forms import admin_change_data
from tests.initiatives.test_import_initiatives import workbook as initiatives_workbook
from unions.imports import HEADER
from unions.models import EmulationCluster, Union, User

pytestmark = pytest.mark.django_db

STAFF_VIEWERS = {"other_reviewer", "own_reviewer", "national_reviewer", "province_leadership", "national_leadership",
                 "superuser"}  # fmt: skip
# Who may see, and who may change, a row of Công Thương's subtree: its own board and leadership,
# the national ones, superusers; never Hà Nội's board.
SEES_ROW = {"own_reviewer", "national_reviewer", "province_leadership", "national_leadership", "superuser"}
CHANGES_ROW = {"own_reviewer", "national_reviewer", "superuser"}
ALL_REVIEWERS = {"other_reviewer", "own_reviewer", "national_reviewer", "superuser"}
NATIONAL_BOARD = {"national_reviewer", "superuser"}
SUPERUSER = {"superuser"}
NOBODY: set[str] = set()


@dataclass(frozen=True)
class Expect:
    """Who may open each page of one admin model for one row of Công Thương's subtree."""

    view: set[str]  # the row: listed, its change page (read-only or not) and history
    change: set[str]  # the row's change page is editable
    add: set[str]
    delete: set[str]
    actions: dict[str, set[str]]  # action name → who is offered it
    scoped: bool = True  # a board of another subtree opens the list (its own rows) but not this row

    def changelist(self) -> set[str]:
        return self.view | ({"other_reviewer"} if self.scoped and "own_reviewer" in self.view else set())


def similar_group(initiative: Initiative) -> SimilarGroup:
    """A group of the initiative and a copy in the same subtree."""
    copy = InitiativeFactory(program=initiative.program, unit=initiative.unit, title=initiative.title)
    group = SimilarGroup.objects.create(first=initiative, size=2)
    for member in (initiative, copy):
        Fingerprint.objects.create(initiative=member, group=group, grouped=True, **likeness.fingerprint_fields(member))
    return group


def world(unit_tree: UnitTree, roles: dict[str, User | None]) -> dict[type[Model], tuple[Model, Expect]]:
    """One row per registered model, all in Công Thương's subtree, with what each role may do."""
    program = ProgramFactory(slug="01-trieu-sang-kien")
    PhaseFactory(program=program, number=1)
    field = FieldFactory(name="Kỹ thuật – sản xuất")
    cluster = EmulationClusterFactory(name="Khối công nghiệp")
    criterion = EmulationCriterion.objects.create(program=program, code="TC1", name="Số sáng kiến", metric="submitted")
    page, _created = Page.objects.get_or_create(slug="huong-dan", defaults={"title": "Hướng dẫn", "body": "…"})
    target = TargetFactory(program=program, unit=unit_tree.thep)
    initiative = InitiativeFactory(program=program, unit=unit_tree.gang_thep, field=field, created_by=roles["officer"])
    question = Question.objects.create(unit=unit_tree.thep, asked_by=roles["officer"], subject="Hỏi", body="Nội dung")
    notification = Notification.objects.create(kind="answer", object_id=question.pk, unit=unit_tree.thep)
    job = ExportJob.objects.create(program=program, scope=unit_tree.cong_thuong, requested_by=roles["superuser"])
    review = {"review_valid": ALL_REVIEWERS, "review_returned": ALL_REVIEWERS, "review_rejected": ALL_REVIEWERS}
    owned_read_only = Expect(SEES_ROW, NOBODY, NOBODY, SUPERUSER, {"delete_selected": SUPERUSER})
    programme = Expect(STAFF_VIEWERS, NATIONAL_BOARD, NATIONAL_BOARD, SUPERUSER, {"delete_selected": SUPERUSER})
    superuser_only = Expect(SUPERUSER, SUPERUSER, SUPERUSER, SUPERUSER, {"delete_selected": SUPERUSER})
    axes_log = Expect(SUPERUSER, SUPERUSER, NOBODY, SUPERUSER, {"delete_selected": SUPERUSER})
    attempt = {"ip_address": "10.0.0.1", "user_agent": "test", "http_accept": "*/*", "path_info": "/accounts/login/"}
    snapshot = LeaderboardSnapshot.objects.create(program=program, taken_at=timezone.now(), seq=1)
    selection_round = SelectionRound.objects.create(
        program=program,
        unit=unit_tree.thep,
        unit_name=unit_tree.thep.name,
        level=unit_tree.thep.level,
        name="Xét chọn sáng kiến tiêu biểu",
        quota=1,
        deadline=dt.date(2023, 9, 1),
        spread_threshold=15,
        created_by=roles["superuser"],
    )
    nomination = Nomination.objects.create(
        round=selection_round,
        initiative=initiative,
        from_unit=unit_tree.gang_thep,
        from_unit_name=unit_tree.gang_thep.name,
        nominated_by=roles["officer"],
        justification="Làm lợi lớn",
        recognition_number="1/QĐ",
        recognition_date=dt.date(2023, 1, 1),
    )
    SelectionRound.objects.filter(pk=selection_round.pk).update(
        status="closed", closed_at=timezone.now(), closed_by=roles["superuser"]
    )
    decision = HonourDecision.objects.create(
        program=program,
        snapshot=snapshot,
        taken_at=snapshot.taken_at,
        period_kind="programme",
        period_label="Toàn chương trình",
        scope=unit_tree.cong_thuong,
        scope_name=unit_tree.cong_thuong.name,
        count="submitted",
        margin=1,
    )
    return {
        Union: (
            unit_tree.thep,
            Expect(SEES_ROW, CHANGES_ROW, ALL_REVIEWERS, SUPERUSER, {"delete_selected": SUPERUSER}),
        ),
        EmulationCluster: (cluster, programme),
        Program: (program, programme),
        HonourRule: (HonourRule.objects.create(program=program), programme),
        type(field): (field, programme),
        Page: (page, programme),
        EmulationCriterion: (
            criterion,
            Expect(STAFF_VIEWERS, NATIONAL_BOARD, NATIONAL_BOARD, NATIONAL_BOARD, {"delete_selected": NATIONAL_BOARD}),
        ),
        Target: (target, Expect(SEES_ROW, CHANGES_ROW, ALL_REVIEWERS, CHANGES_ROW, {"delete_selected": ALL_REVIEWERS})),
        # A quarter's target follows the programme target's policy: the level above assigns it.
        QuarterTarget: (
            QuarterTarget.objects.create(program=program, unit=unit_tree.thep, year=2022, quarter=1, quantity=5),
            Expect(SEES_ROW, CHANGES_ROW, ALL_REVIEWERS, CHANGES_ROW, {"delete_selected": ALL_REVIEWERS}),
        ),
        type(initiative): (
            initiative,
            Expect(SEES_ROW, CHANGES_ROW, SUPERUSER, SUPERUSER, {**review, "delete_selected": SUPERUSER}),
        ),
        ReviewQueue: (
            initiative,
            Expect(SEES_ROW, CHANGES_ROW, SUPERUSER, SUPERUSER, {**review, "delete_selected": SUPERUSER}),
        ),
        Question: (question, Expect(SEES_ROW, CHANGES_ROW, NOBODY, SUPERUSER, {"delete_selected": SUPERUSER})),
        PendingQuestion: (question, Expect(SEES_ROW, CHANGES_ROW, NOBODY, SUPERUSER, {"delete_selected": SUPERUSER})),
        Notification: (
            notification,
            Expect(SEES_ROW, SUPERUSER, NOBODY, SUPERUSER, {"send_again": ALL_REVIEWERS, "delete_selected": SUPERUSER}),
        ),
        ExportJob: (job, owned_read_only),
        User: (roles["officer"], superuser_only),
        Group: (Group.objects.first(), superuser_only),
        # The login lockout: superusers read and unlock (delete); nobody adds a row by hand.
        AccessAttempt: (
            AccessAttempt.objects.create(username="canbo.thep", failures_since_start=5, **attempt),
            Expect(
                SUPERUSER,
                SUPERUSER,
                NOBODY,
                SUPERUSER,
                {"delete_selected": SUPERUSER, "cleanup_expired_attempts": SUPERUSER},
            ),
        ),
        # The snapshots' log: the national board reads it and keeps a snapshot as evidence; nobody
        # adds, changes or deletes one by hand (the service writes, pruning deletes).
        LeaderboardSnapshot: (
            snapshot,
            Expect(NATIONAL_BOARD, NOBODY, NOBODY, NOBODY, {"keep_as_evidence": NATIONAL_BOARD}, scoped=False),
        ),
        # Honours decisions are prepared and issued on the site (honours.views): the admin shows them,
        # with their history, to who sees the units they are for, and changes nothing.
        HonourDecision: (decision, Expect(SEES_ROW, NOBODY, NOBODY, NOBODY, {})),
        # Selection rounds are run on the site (councils.views): the admin shows them, and the history
        # of a closed one (every score), to who sees the unit; it changes nothing.
        SelectionRound: (selection_round, Expect(SEES_ROW, NOBODY, NOBODY, NOBODY, {})),
        # A unit's API token: issued by the board over it (any board may open the form, its own
        # units to choose), revoked by an action, never edited or deleted.
        ApiToken: (
            ApiToken.objects.create(unit=unit_tree.thep, name="Phần mềm", prefix="abcd1234", digest="0" * 64),
            Expect(SEES_ROW, NOBODY, ALL_REVIEWERS, NOBODY, {"revoke": ALL_REVIEWERS}),
        ),
        Nomination: (nomination, Expect(SEES_ROW, NOBODY, NOBODY, NOBODY, {})),
        # The national check's duplicate groups: formed by initiatives.likeness, read by who sees a member.
        SimilarGroup: (similar_group(initiative), Expect(SEES_ROW, NOBODY, NOBODY, NOBODY, {})),
        AccessLog: (AccessLog.objects.create(username="canbo.thep", **attempt), axes_log),
        AccessFailureLog: (AccessFailureLog.objects.create(username="canbo.thep", **attempt), axes_log),
    }


def url(model: type[Model], view: str, obj: Model | None = None) -> str:
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}"
    return reverse(name, args=[obj.pk] if obj is not None else [])


def test_every_admin_page_and_action_answers_each_role_as_the_policy_says(
    unit_tree: UnitTree, roles: dict[str, User | None]
) -> None:
    rows = world(unit_tree, roles)
    registered = set(admin.site._registry)
    assert registered == set(rows), f"models without an expectation: {registered - set(rows)}"
    wrong = []
    for role in ROLES:
        client = Client()
        if roles[role] is not None:
            client.force_login(roles[role])
        for model, (obj, expect) in rows.items():
            pages = {
                "changelist": (url(model, "changelist"), role in expect.changelist()),
                "add": (url(model, "add"), role in expect.add),
                "change": (url(model, "change", obj), role in expect.view),
                "history": (url(model, "history", obj), role in expect.view),
                "delete": (url(model, "delete", obj), role in expect.delete),
            }
            for page, (address, allowed) in pages.items():
                response = client.get(address)
                if (response.status_code == 200) != allowed:
                    wrong.append(f"{role} {page} {model.__name__}: {response.status_code}, expected allowed={allowed}")
                if page == "change" and response.status_code == 200:
                    editable = response.context["has_change_permission"]
                    if editable != (role in expect.change):
                        wrong.append(f"{role} change {model.__name__}: editable={editable}")
                if page == "changelist" and response.status_code == 200:
                    form = response.context["action_form"]
                    offered = {name for name, _label in form.fields["action"].choices} if form else set()
                    expected = {name for name, who in expect.actions.items() if role in who}
                    if offered - {""} != expected:
                        wrong.append(f"{role} actions {model.__name__}: {sorted(offered - {''})} != {sorted(expected)}")
                    listed = {row.pk for row in response.context["cl"].result_list}
                    if (obj.pk in listed) != (role in expect.view):
                        wrong.append(f"{role} changelist {model.__name__}: row listed={obj.pk in listed}")
    assert not wrong, "\n".join(wrong)


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def unit_form(unit: Union, *, parent: Union | None, **changes: object) -> dict[str, object]:
    return {"code": unit.code, "name": unit.name, "level": unit.level, "parent": parent.pk if parent else "",
            "member_count": unit.member_count, "is_active": "on", **changes}  # fmt: skip


def test_a_province_board_cannot_pull_another_provinces_unit_into_its_subtree(
    client: Client, unit_tree: UnitTree, roles: dict[str, User | None]
) -> None:
    login(client, roles["other_reviewer"])
    response = client.post(
        url(Union, "change", unit_tree.thep), unit_form(unit_tree.thep, parent=unit_tree.ha_noi), follow=True
    )
    unit_tree.thep.refresh_from_db()
    assert unit_tree.thep.parent == unit_tree.cong_thuong
    assert unit_tree.thep.path == "TLD/CTVN/CTVN-THEP/"
    assert response.status_code == 200 and "không tồn tại" in response.content.decode()


def test_a_province_board_can_neither_move_its_units_out_nor_bring_others_in(
    client: Client, unit_tree: UnitTree, roles: dict[str, User | None]
) -> None:
    login(client, roles["own_reviewer"])
    response = client.post(url(Union, "change", unit_tree.thep), unit_form(unit_tree.thep, parent=unit_tree.ha_noi))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["parent"]
    response = client.post(url(Union, "change", unit_tree.bia), unit_form(unit_tree.bia, parent=unit_tree.cong_thuong))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    # Its own unit belongs to the level above: it sees it and cannot move it.
    response = client.post(
        url(Union, "change", unit_tree.cong_thuong), unit_form(unit_tree.cong_thuong, parent=unit_tree.ha_noi)
    )
    assert response.status_code == 403
    for unit in (unit_tree.thep, unit_tree.bia, unit_tree.cong_thuong):
        before = unit.path
        unit.refresh_from_db()
        assert unit.path == before
    # Inside its subtree it works as before.
    response = client.post(
        url(Union, "change", unit_tree.gang_thep), unit_form(unit_tree.gang_thep, parent=unit_tree.cong_thuong)
    )
    assert response.status_code == 302
    unit_tree.gang_thep.refresh_from_db()
    assert unit_tree.gang_thep.path == "TLD/CTVN/THEP-TISCO/"


def test_a_province_board_adds_units_only_under_its_own(
    client: Client, unit_tree: UnitTree, roles: dict[str, User | None]
) -> None:
    login(client, roles["own_reviewer"])
    new = Union(code="CTVN-MOI", name="Công đoàn mới", level=Union.Level.GRASSROOTS, member_count=10)
    for parent in (unit_tree.ha_noi, None):
        response = client.post(url(Union, "add"), unit_form(new, parent=parent))
        assert response.status_code == 200
        assert not Union.objects.filter(code="CTVN-MOI").exists()
    response = client.post(url(Union, "add"), unit_form(new, parent=unit_tree.cong_thuong))
    assert response.status_code == 302
    assert Union.objects.get(code="CTVN-MOI").path == "TLD/CTVN/CTVN-MOI/"


def test_the_parent_autocomplete_offers_only_the_boards_subtree(
    client: Client, unit_tree: UnitTree, roles: dict[str, User | None]
) -> None:
    login(client, roles["other_reviewer"])
    response = client.get(
        reverse("admin:autocomplete"),
        {"term": "cong", "app_label": "unions", "model_name": "union", "field_name": "parent"},
    )
    assert [item["id"] for item in response.json()["results"]] == [str(unit_tree.bia.pk)]


def workbook(*rows: tuple[object, ...]) -> BytesIO:
    buffer = initiatives_workbook(list(rows), header=HEADER)
    buffer.name = "don-vi.xlsx"
    return buffer


def test_the_units_import_holds_a_province_board_to_its_subtree(
    client: Client, unit_tree: UnitTree, roles: dict[str, User | None]
) -> None:
    login(client, roles["other_reviewer"])
    address = reverse("admin:unions_union_import")
    attacks = [
        ("CTVN-THEP", "Công đoàn Thép", "Cấp trên cơ sở", "HN", 10, ""),  # pull another's unit in
        ("HN-BIA", "Công đoàn Bia", "Cơ sở", "CTVN", 10, ""),  # push its own unit out
        ("HN", "Liên đoàn Lao động Hà Nội", "Cấp tỉnh/ngành", "TLD", 10, ""),  # its own unit
        ("HN-MOI", "Công đoàn mới", "Cơ sở", "HN", 10, "Cụm lạ"),  # a cluster only the national board makes
    ]
    for row in attacks:
        response = client.post(address, {"file": workbook(row)})
        assert response.status_code == 200
        assert response.context["errors"], row
    for unit in (unit_tree.thep, unit_tree.bia):
        before = unit.path
        unit.refresh_from_db()
        assert unit.path == before
    assert not Union.objects.filter(code="HN-MOI").exists()
    assert not EmulationCluster.objects.filter(name="Cụm lạ").exists()
    response = client.post(address, {"file": workbook(("HN-MOI", "Công đoàn mới", "Cơ sở", "HN", 10, ""))})
    assert response.status_code == 302
    assert Union.objects.get(code="HN-MOI").path == "TLD/HN/HN-MOI/"


def test_a_province_board_cannot_change_another_units_target_or_the_programme(
    client: Client, unit_tree: UnitTree, roles: dict[str, User | None]
) -> None:
    program = ProgramFactory(slug="01-trieu-sang-kien", target=1_000_000)
    target = TargetFactory(program=program, unit=unit_tree.thep, quantity=100)
    login(client, roles["other_reviewer"])
    data = {"unit": unit_tree.thep.pk, "program": program.pk, "quantity": 5, "kind": target.kind}
    client.post(url(Target, "change", target), data)
    response = client.post(url(Target, "add"), data)
    assert response.status_code == 200 and response.context["adminform"].form.errors["unit"]
    program_data = {"name": program.name, "slug": program.slug, "target": 5, "starts_on": "08/01/2022",
                    "ends_on": "01/09/2023", "is_active": "on", "phases-TOTAL_FORMS": 0,
                    "phases-INITIAL_FORMS": 0}  # fmt: skip
    for role in ("other_reviewer", "own_reviewer"):
        login(client, roles[role])
        assert client.post(url(Program, "change", program), program_data).status_code == 403
    target.refresh_from_db()
    program.refresh_from_db()
    assert (target.quantity, program.target, Target.objects.count()) == (100, 1_000_000, 1)
    login(client, roles["own_reviewer"])
    response = client.post(url(Target, "change", target), data)
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.quantity == 5


def test_the_outbox_shows_a_province_board_only_its_subtree(
    client: Client, unit_tree: UnitTree, roles: dict[str, User | None]
) -> None:
    ours = Notification.objects.create(kind="answer", object_id=1, unit=unit_tree.bia)
    theirs = Notification.objects.create(kind="answer", object_id=2, unit=unit_tree.thep)
    login(client, roles["other_reviewer"])
    response = client.get(url(Notification, "changelist"))
    assert [row.pk for row in response.context["cl"].result_list] == [ours.pk]
    assert client.get(url(Notification, "change", theirs)).status_code == 302


def test_a_province_board_cannot_set_its_own_units_target(
    client: Client, unit_tree: UnitTree, roles: dict[str, User | None]
) -> None:
    """The level above assigns a unit's target: lowering one's own would rank it higher."""
    program = ProgramFactory(slug="01-trieu-sang-kien")
    own = TargetFactory(program=program, unit=unit_tree.cong_thuong, quantity=1000)
    login(client, roles["own_reviewer"])
    data = {"unit": unit_tree.cong_thuong.pk, "program": program.pk, "quantity": 1, "kind": own.kind}
    assert client.post(url(Target, "change", own), data).status_code == 403
    assert client.post(url(Target, "delete", own), {"post": "yes"}).status_code == 403
    response = client.post(url(Target, "add"), data)
    assert response.status_code == 200 and response.context["adminform"].form.errors["unit"]
    own.refresh_from_db()
    assert (own.quantity, Target.objects.count()) == (1000, 1)
    login(client, roles["national_reviewer"])
    assert client.post(url(Target, "change", own), data).status_code == 302
    own.refresh_from_db()
    assert own.quantity == 1


# --- The admin's own URLs (get_urls overrides, the board's metrics) and its POSTs ------------------

IMPORTERS = ALL_REVIEWERS  # UnionAdmin.can_import: add and change units
BOARD_AND_LEADERSHIP = STAFF_VIEWERS  # may_see_board_metrics


def attach(question: Question) -> Question:
    question.attachment.save("cau-hoi.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=False)
    question.attachment_name, question.attachment_type = "cau-hoi.pdf", "application/pdf"
    question.save()
    return question


def test_every_custom_admin_url_answers_each_role_as_the_policy_says(
    unit_tree: UnitTree, roles: dict[str, User | None]
) -> None:
    """Each URL an admin adds beside the standard ones (get_urls overrides) and the board metrics page.
    The review URLs take a POST only (their GET goes back to the change page): see the test below."""
    rows = world(unit_tree, roles)
    question = attach(rows[Question][0])  # type: ignore[arg-type]
    pages = {
        reverse("admin:unions_union_import"): IMPORTERS,
        reverse("admin:unions_union_import_template"): IMPORTERS,
        reverse("admin:initiatives_quartertarget_import"): ALL_REVIEWERS,
        reverse("admin:initiatives_quartertarget_import_template"): ALL_REVIEWERS,
        reverse("admin:questions_question_attachment", args=[question.pk]): SEES_ROW,
        reverse("admin:auth_user_password_change", args=[roles["officer"].pk]): SUPERUSER,  # type: ignore[union-attr]
        reverse("board_metrics"): BOARD_AND_LEADERSHIP,
    }
    wrong = []
    for role in ROLES:
        client = Client()
        if roles[role] is not None:
            client.force_login(roles[role])
        for address, allowed in pages.items():
            status = client.get(address).status_code
            if (status == 200) != (role in allowed):
                wrong.append(f"{role} {address}: {status}, expected allowed={role in allowed}")
    assert not wrong, "\n".join(wrong)


def test_the_admin_s_custom_urls_are_all_in_the_matrix() -> None:
    """A new get_urls override must join the test above."""
    custom = set()
    for model, model_admin in admin.site._registry.items():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        standard = {f"{prefix}{view}" for view in ("changelist", "add", "change", "delete", "history")}
        custom |= {pattern.name for pattern in model_admin.get_urls() if pattern.name} - standard
    assert custom == {
        "unions_union_import",
        "unions_union_import_template",
        "initiatives_quartertarget_import",
        "initiatives_quartertarget_import_template",
        "initiatives_initiative_review",
        "initiatives_reviewqueue_review",
        "questions_question_attachment",
        "auth_user_password_change",
    }


def snapshot(rows: dict[type[Model], tuple[Model, Expect]]) -> dict[str, object]:
    """Every world row as the database holds it, and the row count of every registered model."""
    state: dict[str, object] = {}
    for model, (obj, _expect) in rows.items():
        table = model._meta.concrete_model._base_manager  # type: ignore[union-attr]
        state[model.__name__] = (table.count(), table.filter(pk=obj.pk).values().first())
    return state


def refused(response: HttpResponse) -> bool:
    """403, or sent away to the login page or the admin's index (the admin's answer to a row the
    account may not see): never the list a saved or deleted row returns to."""
    if response.status_code in (403, 404):
        return True
    landing = urlsplit(response["Location"]).path if response.status_code == 302 else None
    return landing in (reverse("admin:login"), reverse("admin:index"))


def edited(data: dict[str, object], form: forms.Form) -> dict[str, object]:
    """The change form's own data with one editable value changed (a text lengthened, or a number
    plus one), so that a POST wrongly let through would show in the database."""
    for name, field in form.fields.items():
        value = data.get(form.add_prefix(name))
        plain = all(
            isinstance(check, (MaxLengthValidator, ProhibitNullCharactersValidator)) for check in field.validators
        )
        if isinstance(field, forms.CharField) and isinstance(value, str) and value and plain and not field.disabled:
            return {**data, form.add_prefix(name): value[:-1] + ("x" if value[-1] != "x" else "y")}
        if isinstance(field, forms.IntegerField) and value not in (None, "") and not field.disabled:
            return {**data, form.add_prefix(name): int(value) + 1}  # type: ignore[call-overload]
    return data


@pytest.mark.slow
def test_no_role_changes_deletes_or_runs_an_action_it_may_not_by_posting(
    unit_tree: UnitTree, roles: dict[str, User | None]
) -> None:
    """For every registered model: a change POST (the form's own data, one value changed), a delete
    POST and every admin action the changelist offers anyone, from every role that may not; each is
    refused and the database holds what it held. Then one role that may proves the change POST
    would have changed the row."""
    rows = world(unit_tree, roles)
    expired = AccessAttempt.objects.create(username="cu", ip_address="10.0.0.2", user_agent="t", http_accept="*/*",
                                           path_info="/accounts/login/", failures_since_start=1)  # fmt: skip
    AccessAttempt.objects.filter(pk=expired.pk).update(attempt_time=timezone.now() - dt.timedelta(days=30))
    superuser = Client()
    superuser.force_login(roles["superuser"])  # type: ignore[arg-type]
    change_data = {}
    for model, (obj, _expect) in rows.items():
        page = superuser.get(url(model, "change", obj))
        data = admin_change_data(superuser, url(model, "change", obj))
        change_data[model] = edited(data, page.context["adminform"].form)
    clients = {role: Client() for role in ROLES}
    for role, client in clients.items():
        if roles[role] is not None:
            client.force_login(roles[role])  # before the snapshot: a login writes the account's last_login
    before = snapshot(rows)
    wrong = []
    for role, client in clients.items():
        for model, (obj, expect) in rows.items():
            posts = []
            if role not in expect.change:
                posts.append(("change", url(model, "change", obj), change_data[model]))
            if role not in expect.delete:
                posts.append(("delete", url(model, "delete", obj), {"post": "yes"}))
            for action, who in expect.actions.items():
                if role not in who:
                    data = {"action": action, "_selected_action": [obj.pk], "post": "yes", "apply": "1",
                            "reason": "Lý do", "index": 0}  # fmt: skip
                    posts.append((action, url(model, "changelist"), data))
            for what, address, data in posts:
                response = client.post(address, data)
                # A refused action returns to the list like any other: the database alone tells.
                if what in ("change", "delete") and not refused(response):
                    wrong.append(f"{role} {what} {model.__name__}: {response.status_code}")
                if snapshot(rows) != before:
                    wrong.append(f"{role} {what} {model.__name__}: the database changed")
                    before = snapshot(rows)
    assert not wrong, "\n".join(wrong)
    # The change data was worth refusing: posted by one who may, it changes the row.
    for model, (obj, expect) in rows.items():
        if expect.change and change_data[model] != admin_change_data(superuser, url(model, "change", obj)):
            response = clients[sorted(expect.change)[0]].post(url(model, "change", obj), change_data[model])
            if response.status_code != 302 or snapshot(rows)[model.__name__] == before[model.__name__]:
                wrong.append(f"{model.__name__}: the edited data does not save ({response.status_code})")
    assert not wrong, "\n".join(wrong)


def test_only_a_reviewer_of_the_subtree_decides_through_the_review_url(
    unit_tree: UnitTree, roles: dict[str, User | None]
) -> None:
    """The change page's three buttons post to <id>/review/: every other role is refused, the
    initiative stays submitted; its own province's board decides."""
    initiative = InitiativeFactory(unit=unit_tree.gang_thep, created_by=roles["officer"])
    changes = initiative.status_changes.count()
    for model in (type(initiative), ReviewQueue):
        address = reverse(f"admin:initiatives_{model._meta.model_name}_review", args=[initiative.pk])
        for role in sorted(set(ROLES) - CHANGES_ROW):
            client = Client()
            if roles[role] is not None:
                client.force_login(roles[role])
            client.post(address, {"decision": "valid", "reason": "", "note": ""})
            initiative.refresh_from_db()
            assert initiative.status == initiative.Status.SUBMITTED, (role, model)
            assert initiative.status_changes.count() == changes, (role, model)
    client = login(Client(), roles["own_reviewer"])  # type: ignore[arg-type]
    client.post(reverse("admin:initiatives_initiative_review", args=[initiative.pk]), {"decision": "valid"})
    initiative.refresh_from_db()
    assert initiative.status == initiative.Status.VALID


@pytest.mark.parametrize("role", sorted(set(ROLES) - IMPORTERS))
def test_a_role_that_may_not_import_units_changes_nothing_by_posting_a_file(
    unit_tree: UnitTree, roles: dict[str, User | None], role: str
) -> None:
    client = Client()
    if roles[role] is not None:
        client.force_login(roles[role])
    attack = workbook(("CTVN-THEP", "Công đoàn Thép", "Cấp trên cơ sở", "HN", 10, ""),
                      ("CTVN-MOI", "Công đoàn mới", "Cơ sở", "CTVN", 10, ""))  # fmt: skip
    response = client.post(reverse("admin:unions_union_import"), {"file": attack})
    assert response.status_code == 302
    unit_tree.thep.refresh_from_db()
    assert unit_tree.thep.parent == unit_tree.cong_thuong
    assert not Union.objects.filter(code="CTVN-MOI").exists()
