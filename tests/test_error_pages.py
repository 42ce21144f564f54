"""The error pages in production mode (issue 15, item 2): 400, 403, 404, 500 and a refused CSRF token
answer in Vietnamese, inside the portal's layout, with a way home."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.test import Client
from django.urls import include, path, reverse

from unions.models import User

LAYOUT = "Tổng Liên đoàn Lao động Việt Nam"  # the footer of templates/base.html
HOME_LINK = 'href="/">Về trang chủ</a>'


def refused(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("Chỉ Ban chấm sáng kiến được xem trang này.")


def refused_without_reason(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def broken(request: HttpRequest) -> HttpResponse:
    raise ZeroDivisionError("a bug")


# The portal's routes plus three that fail on purpose (`settings.ROOT_URLCONF = __name__`).
urlpatterns = [
    path("test-errors/refused/", refused),
    path("test-errors/refused-plain/", refused_without_reason),
    path("test-errors/broken/", broken),
    path("", include("sangkien.urls")),
]


@pytest.fixture
def production(settings) -> None:
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__


def page(response: HttpResponse) -> str:
    return response.content.decode()


def assert_portal_page(body: str, *, title: str) -> None:
    assert f"<title>{title} · Sáng kiến</title>" in body
    assert LAYOUT in body and HOME_LINK in body
    assert 'lang="vi"' in body


@pytest.mark.django_db
def test_a_missing_page_is_a_vietnamese_404_in_the_layout(production, client: Client) -> None:
    response = client.get("/khong-co-trang-nay/")
    body = page(response)
    assert response.status_code == 404
    assert_portal_page(body, title="Không tìm thấy trang")
    assert "Not Found" not in body and "requested resource" not in body


@pytest.mark.django_db
def test_a_missing_admin_page_is_the_same_404(production, client: Client, reviewer: User) -> None:
    client.force_login(reviewer)
    response = client.get("/admin/khong-co-trang-nay/")
    assert response.status_code == 404
    assert_portal_page(page(response), title="Không tìm thấy trang")


@pytest.mark.django_db
def test_a_refusal_is_a_vietnamese_403_with_its_reason(production, client: Client, officer: User) -> None:
    client.force_login(officer)
    response = client.get("/test-errors/refused/")
    body = page(response)
    assert response.status_code == 403
    assert_portal_page(body, title="Không có quyền truy cập")
    assert "Chỉ Ban chấm sáng kiến được xem trang này." in body
    assert "Forbidden" not in body


@pytest.mark.django_db
def test_a_refusal_without_a_reason_says_so_in_general_terms(production, client: Client) -> None:
    response = client.get("/test-errors/refused-plain/")
    body = page(response)
    assert response.status_code == 403
    assert_portal_page(body, title="Không có quyền truy cập")
    assert "Bạn không có quyền xem trang này" in body


@pytest.mark.django_db
def test_the_portals_own_refusals_show_their_reason(production, client: Client, reviewer: User) -> None:
    """questions/new for an account without a unit: the message is the access policy's."""
    reviewer.unit = None
    reviewer.save()
    client.force_login(reviewer)
    response = client.get(reverse("questions:create"))
    assert response.status_code == 403
    assert "Tài khoản của bạn chưa thuộc đơn vị công đoàn nào." in page(response)


@pytest.mark.django_db
def test_a_malformed_request_is_a_vietnamese_400(production, client: Client) -> None:
    response = client.get("/?q=%00")
    body = page(response)
    assert response.status_code == 400
    assert_portal_page(body, title="Yêu cầu không hợp lệ")
    assert "Bad Request" not in body


@pytest.mark.django_db
def test_a_bug_is_a_vietnamese_500_in_the_layout_without_a_query(production, django_assert_num_queries) -> None:
    client = Client(raise_request_exception=False)
    with django_assert_num_queries(0):
        response = client.get("/test-errors/broken/")
    body = page(response)
    assert response.status_code == 500
    assert_portal_page(body, title="Lỗi máy chủ")
    assert "Server Error" not in body and "a bug" not in body


def test_the_500_page_renders_with_no_context_no_request_and_no_database() -> None:
    """What django.views.defaults.server_error does: an empty context (no test database here, so
    any query would fail the test)."""
    body = loader.get_template("500.html").render()
    assert_portal_page(body, title="Lỗi máy chủ")


@pytest.mark.django_db
def test_a_form_posted_without_its_csrf_token_gets_the_vietnamese_csrf_page(production, officer: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    response = client.post(reverse("questions:create"), {"subject": "Hỏi", "body": "Nội dung"})
    body = page(response)
    assert response.status_code == 403
    assert_portal_page(body, title="Phiên làm việc đã hết hạn")
    assert "tải lại trang" in body
    assert "CSRF verification failed" not in body and "Forbidden" not in body


@pytest.mark.django_db
def test_a_login_with_a_stale_form_gets_the_csrf_page_not_a_crash(production) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "canbo.thep", "password": "x"})
    assert response.status_code == 403
    assert_portal_page(page(response), title="Phiên làm việc đã hết hạn")
