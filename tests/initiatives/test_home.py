from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from initiatives.models import Initiative
from leaderboard.snapshots import leaderboard_snapshot
from tests.factories import InitiativeFactory, PhaseFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(unit_tree):
    program = ProgramFactory(name="01 triệu sáng kiến – nỗ lực vượt khó", target=2000)
    PhaseFactory(program=program, number=1, name="Giai đoạn 1")
    return program


def make_initiatives(program, unit, *, submitted: int, valid: int, drafts: int) -> None:
    InitiativeFactory.create_batch(submitted, program=program, unit=unit)
    InitiativeFactory.create_batch(valid, program=program, unit=unit, status=Initiative.Status.VALID)
    InitiativeFactory.create_batch(
        drafts, program=program, unit=unit, status=Initiative.Status.DRAFT, submitted_at=None
    )


def test_home_page_shows_the_programme_and_its_progress_in_vietnamese(client: Client, program, unit_tree) -> None:
    make_initiatives(program, unit_tree.rang_dong, submitted=30, valid=20, drafts=7)
    page = client.get(reverse("home")).content.decode()
    assert "01 triệu sáng kiến – nỗ lực vượt khó" in page
    # 50 non-draft initiatives of a target of 2,000: drafts do not count.
    assert "Đã gửi <strong>50</strong> sáng kiến trên chỉ tiêu <strong>2.000</strong>" in page
    assert 'aria-valuenow="2.50"' in page
    assert 'class="progress-bar pct-3"' in page  # its width, as a class: the policy refuses style="…"
    assert "Trong đó 20 sáng kiến đã được công nhận hợp lệ." in page
    assert "Từ ngày 08/01/2022 đến ngày 01/09/2023" in page
    assert 'lang="vi"' in page


def test_home_page_runs_the_same_queries_whatever_the_data_size(
    client: Client, program, unit_tree, django_assert_max_num_queries
) -> None:
    # programme, phases, count, last snapshot, its leaders, the latest honours decision's units
    with django_assert_max_num_queries(6):
        client.get(reverse("home"))
    make_initiatives(program, unit_tree.rang_dong, submitted=60, valid=40, drafts=10)
    PhaseFactory(program=program, number=2, name="Giai đoạn 2")
    leaderboard_snapshot(program=program, at=timezone.now())
    cache.clear()
    with django_assert_max_num_queries(6):
        page = client.get(reverse("home")).content.decode()
    assert "<strong>100</strong>" in page


def test_home_page_figures_are_counted_once_a_minute(
    client: Client, program, unit_tree, django_assert_num_queries
) -> None:
    make_initiatives(program, unit_tree.rang_dong, submitted=5, valid=0, drafts=0)
    assert "<strong>5</strong>" in client.get(reverse("home")).content.decode()
    make_initiatives(program, unit_tree.rang_dong, submitted=7, valid=0, drafts=0)
    with django_assert_num_queries(0):  # an anonymous visitor's page comes from the cache whole
        page = client.get(reverse("home")).content.decode()
    assert "<strong>5</strong>" in page and "Số liệu cập nhật mỗi phút." in page
    client.force_login(UserFactory(username="ai.do", unit=unit_tree.rang_dong))
    # snapshot, account, its groups, new answers, the latest honours; the count is cached
    with django_assert_num_queries(5):
        page = client.get(reverse("home")).content.decode()
    assert "<strong>5</strong>" in page
    client.logout()
    cache.clear()  # what the minute's expiry does
    assert "<strong>12</strong>" in client.get(reverse("home")).content.decode()


def test_home_page_without_a_programme_says_so(client: Client) -> None:
    assert "Hiện chưa có chương trình nào đang diễn ra." in client.get(reverse("home")).content.decode()


def test_programme_text_is_escaped(client: Client) -> None:
    ProgramFactory(name="<script>alert(1)</script>")
    page = client.get(reverse("home")).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_login_and_logout_work_with_vietnamese_pages(client: Client, unit_tree) -> None:
    UserFactory(username="canbo", unit=unit_tree.rang_dong)
    page = client.get(reverse("login")).content.decode()
    assert "Đăng nhập" in page and "Tên đăng nhập" in page
    response = client.post(reverse("login"), {"username": "canbo", "password": "sai-mat-khau"})
    assert "và mật khẩu chính xác" in response.content.decode()
    response = client.post(reverse("login"), {"username": "canbo", "password": "mat-khau-thu-nghiem"})
    assert response.status_code == 302
    page = client.get(reverse("home")).content.decode()
    assert "Đăng xuất" in page and "CTVN-RANGDONG" not in page
    assert "Công đoàn Công ty CP Bóng đèn - Phích nước Rạng Đông" in page
    client.post(reverse("logout"))
    assert "Đăng xuất" not in client.get(reverse("home")).content.decode()


def test_the_portal_speaks_vietnamese_even_to_an_english_browser(client: Client, program) -> None:
    page = client.get(reverse("home"), headers={"accept-language": "en-US,en;q=0.9"}).content.decode()
    assert "Tiến độ so với chỉ tiêu" in page


def test_health_check_answers_when_the_database_does(client: Client) -> None:
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.content.decode().splitlines() == [
        "ok", "mail_owed 0", "mail_failing 0", "mail_given_up 0", "mail_oldest_seconds 0", "mail_late 0",
    ]  # fmt: skip


def test_every_home_page_figure_has_a_thousands_separator(client: Client, program, unit_tree) -> None:
    statuses = ["submitted"] * 185 + ["valid"] * 1200
    rows = [Initiative(program=program, unit=unit_tree.rang_dong, title=f"Sáng kiến {n}", status=status,
                       submitted_at=timezone.now()) for n, status in enumerate(statuses)]  # fmt: skip
    Initiative.objects.bulk_create(rows)
    leaderboard_snapshot(program=program, at=timezone.now())
    page = client.get(reverse("home")).content.decode()
    assert "Đã gửi <strong>1.385</strong> sáng kiến trên chỉ tiêu <strong>2.000</strong>" in page
    assert "Trong đó 1.200 sáng kiến đã được công nhận hợp lệ." in page
    # The leading units, in each block: Rạng Đông and its tier-2 union.
    assert "1.385 sáng kiến đã gửi, 1.200 hợp lệ" in page
    assert "1385" not in page and "1200" not in page
