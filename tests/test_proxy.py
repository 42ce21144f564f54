"""deploy/nginx.conf, as committed, in front of a real gunicorn: its syntax, its body caps in step with
sangkien/request_limits.py, its Vietnamese 413, and the client address it hands to the login lockout."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse

from sangkien.request_limits import UPLOAD_LIMITS, body_limit, largest_body_limit
from tests.factories import UserFactory
from tests.servers import (
    Gunicorn,
    Nginx,
    make_certificate,
    nginx_binary,
    nginx_main_config,
    nginx_site,
    raw_request,
    run_gunicorn,
    run_nginx,
)

GiB = 1024**3

# What the proxy answers before reading a body it would accept (Expect: 100-continue), or at once
# when the declared length is above its cap for the URL.
CONTINUE, TOO_LARGE = 100, 413


@dataclass
class Proxied:
    nginx: Nginx
    gunicorn: Gunicorn


@pytest.fixture(scope="module")
def proxied(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    assert nginx_binary(), "make test installs Debian's nginx-light"
    workdir = tmp_path_factory.mktemp("proxy")
    (workdir / "web").mkdir()
    (workdir / "nginx").mkdir()
    with (
        run_gunicorn(workdir / "web", TRUSTED_PROXY_COUNT="1", TRUSTED_PROXY_ADDRESSES="127.0.0.1") as gunicorn,
        run_nginx(workdir / "nginx", gunicorn.port) as nginx,
    ):
        yield Proxied(nginx=nginx, gunicorn=gunicorn)


def test_the_committed_nginx_config_passes_nginx_t(tmp_path: Path) -> None:
    assert nginx_binary(), "make test installs Debian's nginx-light"
    site = tmp_path / "site.conf"
    site.write_text(nginx_site(8000, 8080, 8443, make_certificate(tmp_path / "certs")))
    result = subprocess.run(
        [nginx_binary(), "-t", "-c", str(nginx_main_config(tmp_path, site))],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def declare(proxied: Proxied, path: str, length: int, *, expect: bool = True) -> int:
    head = (
        f"POST {path} HTTP/1.1\nHost: localhost\nConnection: close\nContent-Type: application/octet-stream\n"
        f"Content-Length: {length}\n" + ("Expect: 100-continue\n" if expect else "")
    )
    return raw_request(proxied.nginx.https_port, head, tls=True).status


def sample_path(view_name: str) -> str:
    return reverse(view_name, kwargs={"pk": 1} if view_name == "initiatives:edit" else None)


@pytest.mark.parametrize("view_name", sorted(UPLOAD_LIMITS))
def test_nginx_caps_every_upload_url_exactly_where_the_portal_does(proxied: Proxied, view_name: str) -> None:
    """Below, nginx would refuse what the portal takes; above, gunicorn would answer before reading
    the body nginx is still sending, and nginx would show 502."""
    path = sample_path(view_name)
    assert declare(proxied, path, body_limit(view_name)) == CONTINUE
    assert declare(proxied, path, body_limit(view_name) + 1) == TOO_LARGE


def test_the_largest_cap_is_the_initiative_form_s(proxied: Proxied) -> None:
    assert largest_body_limit() == body_limit("initiatives:create") == 101 * 1024 * 1024


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/admin/login/", "/", "/admin/unions/union/add/", "/initiatives/7/", "/no/such/page/"]
)
def test_nginx_refuses_a_large_body_to_any_other_url_before_buffering_it(proxied: Proxied, path: str) -> None:
    assert declare(proxied, path, settings.REQUEST_BODY_MAX_BYTES) == CONTINUE
    assert declare(proxied, path, settings.REQUEST_BODY_MAX_BYTES + 1) == TOO_LARGE


def test_a_1_gib_login_post_through_nginx_gets_the_vietnamese_413_at_once(proxied: Proxied) -> None:
    head = (
        "POST /accounts/login/ HTTP/1.1\nHost: localhost\nConnection: close\n"
        f"Content-Type: multipart/form-data; boundary=x\nContent-Length: {GiB}\n"
    )
    answer = raw_request(proxied.nginx.https_port, head, b"--x\r\n", more=b"a" * 65536, times=1024, tls=True)
    assert answer.status == TOO_LARGE
    assert "Dữ liệu gửi lên quá lớn" in answer.body and 'class="navbar' in answer.body
    assert answer.seconds < 5, answer.seconds
    assert list(proxied.nginx.body_dir.rglob("*")) == []
    assert list(proxied.gunicorn.upload_dir.iterdir()) == []


def test_a_body_above_an_upload_url_s_cap_gets_that_url_s_figure_and_a_way_back(proxied: Proxied) -> None:
    """The question form takes one attachment (11 MiB with its fields): nginx refuses 12 MiB itself,
    and its page names the form's cap and links back to it."""
    head = (
        "POST /initiatives/questions/new/ HTTP/1.1\nHost: localhost\nConnection: close\n"
        f"Content-Type: multipart/form-data; boundary=x\nContent-Length: {12 * 1024 * 1024}\n"
    )
    answer = raw_request(proxied.nginx.https_port, head, b"--x\r\n", more=b"a" * 65536, times=192, tls=True)
    assert answer.status == TOO_LARGE
    assert "vượt quá mức 11,0 MB" in answer.body.replace("\xa0", " ")
    assert 'href="/initiatives/questions/new/"' in answer.body
    assert list(proxied.nginx.body_dir.rglob("*")) == []


def test_plain_http_is_sent_to_https(proxied: Proxied) -> None:
    answer = raw_request(proxied.nginx.http_port, "GET /accounts/login/ HTTP/1.1\nHost: localhost\nConnection: close\n")
    assert answer.status == 301


def test_behind_nginx_a_forged_x_forwarded_for_does_not_rotate_the_client_address(
    proxied: Proxied, transactional_db: None
) -> None:
    """An attacker writes a new X-Forwarded-For on every guess; nginx appends the address it saw,
    and that one is what the lockout counts (TRUSTED_PROXY_COUNT=1 and nginx's address as
    TRUSTED_PROXY_ADDRESSES in docker-compose.yml)."""
    UserFactory(username="canbo.that", password="dung-mat-khau")
    guesses = settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS
    for number in range(guesses):
        body = f"username=khong-co-{number}&password=sai".encode()
        head = (
            "POST /accounts/login/ HTTP/1.1\nHost: localhost\nConnection: close\n"
            f"Content-Type: application/x-www-form-urlencoded\nContent-Length: {len(body)}\n"
            f"X-Forwarded-For: 203.0.113.{number}\nCookie: csrftoken={'c' * 32}\nX-CSRFToken: {'c' * 32}\n"
            "Referer: https://localhost/accounts/login/\n"
        )
        raw_request(proxied.nginx.https_port, head, body, tls=True)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}
    body = b"username=canbo.that&password=dung-mat-khau"
    head = (
        "POST /accounts/login/ HTTP/1.1\nHost: localhost\nConnection: close\n"
        f"Content-Type: application/x-www-form-urlencoded\nContent-Length: {len(body)}\n"
        f"X-Forwarded-For: 198.51.100.99\nCookie: csrftoken={'c' * 32}\nX-CSRFToken: {'c' * 32}\n"
        "Referer: https://localhost/accounts/login/\n"
    )
    answer = raw_request(proxied.nginx.https_port, head, body, tls=True)
    assert answer.status == 429
    assert "Tạm thời không thể đăng nhập" in answer.body
