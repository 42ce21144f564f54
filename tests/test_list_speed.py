"""Pages fast at national scale (issue 17): public pages served from the cache to anonymous
visitors, lists that count at most LIST_COUNT_CAP rows, and indexes that serve each big list's
filter and order together (checked with EXPLAIN)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from initiatives.models import Initiative
from initiatives.selectors import initiative_list_rows
from questions.models import Question
from tests.factories import InitiativeFactory, UserFactory
from unions.permissions import REVIEWERS_GROUP

from .conftest import role_group

pytestmark = pytest.mark.django_db


@pytest.fixture
def public_rows(program, field, unit_tree) -> list[Initiative]:
    rows = InitiativeFactory.create_batch(
        3, program=program, unit=unit_tree.rang_dong, status="valid", field=field, title="Quy trình bảo dưỡng"
    )
    Question.objects.create(unit=unit_tree.rang_dong, subject="Hỏi về thời hạn gửi", body="?", answer="Đến 31/5.",
                            answered_at=rows[0].submitted_at, is_public=True)  # fmt: skip
    return rows


def public_urls(rows: list[Initiative]) -> list[str]:
    return [
        reverse("home"),
        reverse("public_list"),
        reverse("public_list") + "?q=quy+trinh&page=1",
        reverse("public_detail", args=[rows[0].pk]),
        reverse("faq"),
        reverse("faq") + "?q=thoi+han",
    ]


def test_anonymous_visitors_get_public_pages_from_the_cache_without_a_query(client: Client, public_rows) -> None:
    for url in public_urls(public_rows):
        first = client.get(url)
        assert first.status_code == 200
        with CaptureQueriesContext(connection) as queries:
            second = client.get(url)
        assert len(queries) == 0, (url, [q["sql"] for q in queries])
        assert second.status_code == 200 and second.content == first.content
        assert "sessionid" not in second.cookies and second["Content-Type"] == first["Content-Type"]
    # The parameters in another order are the same page; the page is the one of the moment it was rendered.
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("public_list") + "?page=1&q=quy+trinh")
    assert len(queries) == 0


def test_a_public_page_is_rendered_again_after_its_minute(client: Client, public_rows, settings) -> None:
    settings.PUBLIC_PAGE_CACHE_SECONDS = 1
    url = reverse("public_detail", args=[public_rows[0].pk])
    assert "Quy trình bảo dưỡng" in client.get(url).content.decode()
    Initiative.objects.filter(pk=public_rows[0].pk).update(title="Quy trình đã sửa")
    assert "Quy trình bảo dưỡng" in client.get(url).content.decode()  # within the minute: as rendered
    import time

    time.sleep(1.1)
    assert "Quy trình đã sửa" in client.get(url).content.decode()


def test_signed_in_accounts_and_odd_urls_are_never_served_from_the_cache(client: Client, public_rows, officer) -> None:
    url = reverse("public_list")
    client.get(url)  # cached for anonymous visitors
    client.force_login(officer)
    page = client.get(url).content.decode()
    assert officer.unit.short_name or officer.unit.name in page
    assert "Đăng xuất" in page  # the officer's own menu, not the anonymous page
    client.logout()
    # A parameter the page does not read, or a very long query: rendered, never stored.
    for odd in (url + "?utm_source=zalo", url + "?q=" + "x" * 400):
        client.get(odd)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(odd).status_code == 200
        assert len(queries) > 0, odd
    # A visitor with a message of its own (a messages cookie) gets a page rendered for it.
    client.cookies["messages"] = "anything"
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    assert len(queries) > 0


def test_lists_count_at_most_the_cap_and_say_more_than(client: Client, program, field, unit_tree, officer,
                                                      settings) -> None:  # fmt: skip
    settings.LIST_COUNT_CAP = 4
    InitiativeFactory.create_batch(6, program=program, unit=unit_tree.gang_thep, status="valid", field=field)
    public = client.get(reverse("public_list")).content.decode()
    assert "Hơn 4 sáng kiến" in public
    client.force_login(officer)
    with CaptureQueriesContext(connection) as queries:
        mine = client.get(reverse("initiatives:list")).content.decode()
    assert "Hơn 4 sáng kiến" in mine
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"] and "initiatives_initiative" in q["sql"]]
    assert len(counts) == 1 and "LIMIT 5" in counts[0] and "ORDER BY" not in counts[0], counts
    settings.LIST_COUNT_CAP = 10
    assert "6 sáng kiến" in client.get(reverse("initiatives:list")).content.decode()


def test_the_admin_lists_count_at_most_the_cap(client: Client, program, field, unit_tree, settings) -> None:
    settings.LIST_COUNT_CAP = 4
    InitiativeFactory.create_batch(6, program=program, unit=unit_tree.gang_thep, field=field)
    board = UserFactory(username="ban.quocgia", unit=None, is_staff=True)
    board.groups.add(role_group(REVIEWERS_GROUP))
    client.force_login(board)
    for name in ("admin:initiatives_reviewqueue_changelist", "admin:initiatives_initiative_changelist"):
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse(name)).content.decode()
        assert "hơn 4" in page, name
        assert page.count('class="action-select"') == 6
        counts = [q["sql"] for q in queries if "COUNT(" in q["sql"]]
        assert counts and all("LIMIT 5" in sql for sql in counts), counts


def plan(queryset) -> str:
    """PostgreSQL's plan for `queryset` with sorting and whole-table scans made a last resort: an
    index that serves the filter and the order together leaves neither a Sort nor a Seq Scan."""
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_big_lists_are_served_in_order_by_an_index(program, unit_tree, officer) -> None:
    InitiativeFactory.create_batch(3, program=program, unit=unit_tree.gang_thep)
    officer_list = plan(initiative_list_rows(user=officer, filters={})[:25])
    assert "initiative_recently_updated" in officer_list and "Sort" not in officer_list, officer_list
    queue = plan(Initiative.objects.filter(status="submitted").order_by("submitted_at", "pk")[:50])
    assert "Index Scan Backward using initiative_status_newest" in queue and "Sort" not in queue, queue
    valid = plan(Initiative.objects.filter(status="valid").order_by("-submitted_at", "-pk")[:50])
    assert "initiative_status_newest" in valid and "Sort" not in valid, valid
    newest = plan(Initiative.objects.order_by("-submitted_at", "-pk")[:50])
    assert "initiative_newest_first" in newest and "Sort" not in newest, newest


def test_a_signed_in_page_reads_only_the_account_with_its_unit_and_its_own_rows(client: Client, officer) -> None:
    """Through the login form, as in production: the session, the account's groups and its menu
    badge come from the cache after the first page, and the account is read with its unit."""
    officer.set_password("SangKien@2022")
    officer.save()
    assert client.post(reverse("login"), {"username": "canbo.thep", "password": "SangKien@2022"}).status_code == 302
    page = reverse("page", args=["huong-dan"])
    client.get(page)
    with CaptureQueriesContext(connection) as queries:
        shown = client.get(page).content.decode()
    assert "Công đoàn Tổng Công ty Thép Việt Nam" in shown or "CTVN-THEP" in shown or officer.unit.name in shown
    sql = [q["sql"] for q in queries]
    assert len(sql) == 2, sql  # the account with its unit, the page
    account = next(q for q in sql if 'FROM "unions_user"' in q)
    assert 'JOIN "unions_union"' in account


def test_a_change_of_groups_or_answers_shows_at_once_despite_the_cache(client: Client, unit_tree, officer) -> None:
    from questions.services import question_answer, question_ask

    board = UserFactory(username="ban.tinh", unit=unit_tree.cong_thuong, is_staff=True)
    board.groups.add(role_group(REVIEWERS_GROUP))
    client.force_login(board)
    metrics = reverse("board_metrics")
    assert client.get(metrics).status_code == 200
    board.groups.clear()  # taken off the board: the cached group names are forgotten at once
    assert client.get(metrics).status_code == 403
    role_group(REVIEWERS_GROUP).user_set.add(board)  # and from the group's side
    assert client.get(metrics).status_code == 200

    question = question_ask(unit=officer.unit, by=officer, subject="Thời hạn gửi?", body="Đến bao giờ?")
    client.force_login(officer)
    assert "câu trả lời mới" not in client.get(reverse("questions:list")).content.decode()
    question_answer(question=question, answer="Đến 31/5.", by=board, is_public=False)
    assert "câu trả lời mới" in client.get(reverse("questions:list")).content.decode()
    client.get(reverse("questions:detail", args=[question.pk]))  # opened: no longer new
    assert "câu trả lời mới" not in client.get(reverse("questions:list")).content.decode()


@pytest.fixture
def national_shape(program, field, unit_tree, officer):
    """A few of everything the bench's pages show: units at every level, initiatives in every status
    with authors, a snapshot, an answered public question; the counts below do not grow with them."""
    from leaderboard.tasks import snapshot_leaderboard
    from tests.factories import AuthorFactory

    for unit in (unit_tree.gang_thep, unit_tree.rang_dong, unit_tree.bia):
        for status in ("submitted", "valid", "returned"):
            for initiative in InitiativeFactory.create_batch(4, program=program, unit=unit, field=field, status=status):
                AuthorFactory(initiative=initiative)
    snapshot_leaderboard()
    Question.objects.create(unit=unit_tree.rang_dong, subject="Thời hạn?", body="?", answer="31/5.", is_public=True,
                            answered_at=timezone.now())  # fmt: skip
    return Initiative.objects.filter(unit=unit_tree.gang_thep).first()


# (role, url, queries on a second visit: the session, the account's groups, the programme, the
# snapshots and the filters' choices already cached, as on a server that has been up a minute)
PINNED = [
    ("anonymous", "/", 0),
    ("anonymous", "/sang-kien/", 0),
    ("anonymous", "/sang-kien/?q=cai+tien", 0),
    ("anonymous", "/hoi-dap/", 0),
    ("officer", "/trang/huong-dan/", 2),  # the account, the page
    # the account; the filters: the subtree's size (a drop-down or a code box), its units, the fields,
    # the phases; the capped count, the page's rows, their authors
    ("officer", "/initiatives/", 8),
    ("officer", "/initiatives/?q=cai+tien", 8),
    # account, initiative, authors, files, timeline, phases, its nominations to outstanding rounds
    ("officer", "/initiatives/{detail}/", 7),
    ("leader", "/dashboard/", 2),  # the account, the tree's root; the body is cached per snapshot
    ("leader", "/dashboard/unit/CTVN/", 5),  # the account, the root, the unit, its subunits, its honours
    ("board", "/exports/", 5),  # account, unit, the jobs, the clusters, the phases
    # account, its two kinds of permissions (Django's admin), the filters' fields and phases, the
    # capped count, the rows (units and fields joined)
    ("board", "/admin/initiatives/reviewqueue/", 7),
    ("board", "/admin/initiatives/initiative/", 7),
    ("board", "/admin/initiatives/initiative/?status__exact=valid", 7),
]


@pytest.mark.parametrize(("role", "url", "queries"), PINNED, ids=[f"{r} {u}" for r, u, _ in PINNED])
def test_every_page_of_the_load_bench_runs_a_pinned_number_of_queries(
    client: Client, national_shape, unit_tree, officer, role, url, queries
) -> None:
    from unions.permissions import LEADERSHIP_GROUP

    accounts = {"anonymous": None, "officer": officer}
    if role == "leader":
        accounts["leader"] = UserFactory(username="lanhdao.tw", unit=None, is_staff=True)
        accounts["leader"].groups.add(role_group(LEADERSHIP_GROUP))
    if role == "board":
        accounts["board"] = UserFactory(username="ban.tw", unit=None, is_staff=True)
        accounts["board"].groups.add(role_group(REVIEWERS_GROUP))
    if accounts[role] is not None:
        client.force_login(accounts[role])
    url = url.format(detail=national_shape.pk)
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    assert len(captured) == queries, [q["sql"][:120] for q in captured]
