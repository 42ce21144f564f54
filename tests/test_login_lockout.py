"""Login throttling and lockout (issue 12, item 5): django-axes with the database handler, a username
and a client address each locked on their own, the portal's Vietnamese lockout page, unlocking in
the admin. Through the real login pages, as a browser posts them."""

from __future__ import annotations

import socket

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from sangkien.client_address import client_address
from sangkien.settings import redis_cache_config
from tests.factories import UserFactory
from unions.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "mat-khau-thu-nghiem"
LOGIN_URLS = ["login", "admin:login"]


def log_in(client: Client, url_name: str, username: str, password: str, address: str = "192.0.2.10", **extra: str):
    """One login as a browser at `address` would post it (the admin's login page wants staff)."""
    return client.post(
        reverse(url_name), {"username": username, "password": password}, REMOTE_ADDR=address, **extra
    )  # fmt: skip


def logged_in(client: Client) -> bool:
    return bool(client.session.get("_auth_user_id"))


def is_lockout_page(response) -> bool:
    page = response.content.decode()
    return (
        response.status_code == 429
        and "Tạm thời không thể đăng nhập" in page
        and "Hãy thử lại sau 30 phút" in page
        and 'class="navbar' in page  # the portal's layout
    )


@pytest.fixture
def staff() -> User:
    return UserFactory(username="bancspl", is_staff=True)


@pytest.mark.parametrize("url_name", LOGIN_URLS)
def test_199_wrong_passwords_then_the_right_one_is_refused_with_the_lockout_page(
    client: Client, staff: User, url_name: str
) -> None:
    """The red-team case: before, the 200th attempt, with the right password, logged in."""
    for _ in range(199):
        log_in(client, url_name, "bancspl", "doan-sai")
    response = log_in(client, url_name, "bancspl", PASSWORD)
    assert is_lockout_page(response)
    assert not logged_in(client)


@pytest.mark.parametrize("url_name", LOGIN_URLS)
def test_the_lockout_starts_at_the_configured_failure_limit(
    client: Client, staff: User, url_name: str, settings
) -> None:
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        response = log_in(client, url_name, "bancspl", "doan-sai")
        assert response.status_code == 200 and not is_lockout_page(response)  # the form, with its error
    assert is_lockout_page(log_in(client, url_name, "bancspl", "doan-sai"))


def test_many_usernames_from_one_address_lock_that_address(client: Client, staff: User, settings) -> None:
    """Password spraying: one guess at each of many accounts from one address."""
    for number in range(settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS):
        log_in(client, "login", f"canbo.{number}", "123456", address="198.51.100.7")
    assert is_lockout_page(log_in(client, "login", "bancspl", PASSWORD, address="198.51.100.7"))
    assert log_in(client, "login", "bancspl", PASSWORD, address="198.51.100.8").status_code == 302  # elsewhere


def test_an_address_is_not_locked_below_its_own_limit(client: Client, staff: User, settings) -> None:
    """An office behind one address: a few people mistyping once each lock nobody out."""
    for number in range(settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS - 1):
        log_in(client, "login", f"canbo.{number}", "go-nham", address="198.51.100.7")
    assert log_in(client, "login", "bancspl", PASSWORD, address="198.51.100.7").status_code == 302


def test_one_username_from_many_addresses_locks_that_username(client: Client, staff: User, settings) -> None:
    for number in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "login", "bancspl", "doan-sai", address=f"203.0.113.{number}")
    assert is_lockout_page(log_in(client, "login", "bancspl", PASSWORD, address="203.0.113.200"))
    assert not logged_in(client)
    UserFactory(username="canbo.khac")
    assert log_in(client, "login", "canbo.khac", PASSWORD, address="203.0.113.200").status_code == 302


def test_a_forged_x_forwarded_for_is_ignored_without_a_trusted_proxy(client: Client, staff: User, settings) -> None:
    """Straight to the portal (TRUSTED_PROXY_COUNT=0), the header is the client's own words."""
    assert settings.TRUSTED_PROXY_COUNT == 0
    for number in range(settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS):
        log_in(client, "login", f"canbo.{number}", "123456", address="198.51.100.7",
               HTTP_X_FORWARDED_FOR=f"10.{number}.0.1")  # fmt: skip
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}
    response = log_in(client, "login", "bancspl", PASSWORD, address="198.51.100.7", HTTP_X_FORWARDED_FOR="10.99.0.1")
    assert is_lockout_page(response)


def test_behind_a_trusted_proxy_the_address_it_appended_is_the_client_s(client: Client, staff: User, settings) -> None:
    """nginx appends the address it saw; whatever the client wrote to the left of it is ignored."""
    settings.TRUSTED_PROXY_COUNT, settings.TRUSTED_PROXY_ADDRESSES = 1, ["172.18.0.0/16"]
    for number in range(settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS):
        log_in(client, "login", f"canbo.{number}", "123456", address="172.18.0.5",
               HTTP_X_FORWARDED_FOR=f"10.{number}.0.1, 198.51.100.7")  # fmt: skip
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}
    forged = "10.99.0.1, 198.51.100.7"
    assert is_lockout_page(
        log_in(client, "login", "bancspl", PASSWORD, address="172.18.0.5", HTTP_X_FORWARDED_FOR=forged)
    )
    # Another client behind the same proxy is not locked out.
    other = "198.51.100.8"
    assert (
        log_in(client, "login", "bancspl", PASSWORD, address="172.18.0.5", HTTP_X_FORWARDED_FOR=other).status_code
        == 302
    )


def test_a_client_reaching_gunicorn_directly_keeps_its_own_address_whatever_it_forwards(
    client: Client, staff: User, settings
) -> None:
    """The proxy is configured (TRUSTED_PROXY_COUNT=1), but this request does not come from it: its
    X-Forwarded-For, written by the client, is not read, and the address it connected from is locked."""
    settings.TRUSTED_PROXY_COUNT, settings.TRUSTED_PROXY_ADDRESSES = 1, ["172.30.12.2"]
    for number in range(settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS):
        log_in(client, "login", f"canbo.{number}", "123456", address="203.0.113.99",
               HTTP_X_FORWARDED_FOR=f"198.51.100.{number}")  # fmt: skip
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.99"}
    response = log_in(client, "login", "bancspl", PASSWORD, address="203.0.113.99", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert is_lockout_page(response)
    # Through the proxy, the client it names is someone else, and not locked out.
    assert log_in(client, "login", "bancspl", PASSWORD, address="172.30.12.2",
                  HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 302  # fmt: skip


DIRECT, PROXY = "203.0.113.99", "172.30.12.2"


@pytest.mark.parametrize(
    ("proxies", "trusted", "peer", "forwarded", "expected"),
    [
        (0, [], DIRECT, "10.0.0.1", DIRECT),
        (0, [PROXY], PROXY, "198.51.100.7", PROXY),  # no proxy count: the header is never read
        (1, [PROXY], DIRECT, "198.51.100.7", DIRECT),  # the audit's case: straight to gunicorn
        (1, [PROXY], DIRECT, "10.0.0.1, 198.51.100.7", DIRECT),
        (1, [PROXY], PROXY, "198.51.100.7", "198.51.100.7"),
        (1, [PROXY], f"::ffff:{PROXY}", "198.51.100.7", "198.51.100.7"),  # a dual-stack socket's form
        (1, ["172.30.12.0/24"], "172.30.12.200", "198.51.100.7", "198.51.100.7"),  # a network
        (1, ["172.30.12.0/24"], "172.30.13.2", "198.51.100.7", "172.30.13.2"),
        (1, ["10.0.0.0/8", "fd00::/8"], "fd00::2", "198.51.100.7", "198.51.100.7"),
        (1, [PROXY], PROXY, "", PROXY),  # not through the proxy: only the peer is known
        (1, [PROXY], PROXY, "10.0.0.1, 198.51.100.7", "198.51.100.7"),
        (2, [PROXY], PROXY, "10.0.0.1, 198.51.100.7, 172.18.0.9", "198.51.100.7"),
        (1, [PROXY], PROXY, "10.0.0.1, not-an-address", PROXY),
        (1, [PROXY], PROXY, "2001:db8::1", "2001:db8::1"),
        (1, [PROXY], "not-an-address", "198.51.100.7", "not-an-address"),
    ],
)
def test_client_address(
    rf, settings, proxies: int, trusted: list[str], peer: str, forwarded: str, expected: str
) -> None:
    settings.TRUSTED_PROXY_COUNT, settings.TRUSTED_PROXY_ADDRESSES = proxies, trusted
    request = rf.get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_the_right_password_clears_that_username_s_own_failures(client: Client, staff: User, settings) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "login", "bancspl", "go-nham")
    assert log_in(client, "login", "bancspl", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert not is_lockout_page(log_in(client, "login", "bancspl", "go-nham"))
    assert log_in(client, "login", "bancspl", PASSWORD).status_code == 302


def test_a_superuser_unlocks_a_user_in_the_admin(client: Client, staff: User) -> None:
    for _ in range(5):
        log_in(client, "login", "bancspl", "doan-sai")
    assert is_lockout_page(log_in(client, "login", "bancspl", PASSWORD))

    admin = Client()
    admin.force_login(UserFactory(username="quantri", is_staff=True, is_superuser=True))
    index = admin.get(reverse("admin:index")).content.decode()
    assert "Khóa đăng nhập" in index and "Lượt đăng nhập sai" in index
    listing = admin.get(reverse("admin:axes_accessattempt_changelist"), {"q": "bancspl"}).content.decode()
    assert "Số lần đăng nhập sai" in listing and "Đang bị khóa" in listing
    ids = [str(pk) for pk in AccessAttempt.objects.filter(username="bancspl").values_list("pk", flat=True)]
    response = admin.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="bancspl").exists()

    assert log_in(client, "login", "bancspl", PASSWORD).status_code == 302
    assert logged_in(client)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


def test_with_redis_down_login_still_works_and_still_locks_out(client: Client, staff: User, settings) -> None:
    """Production's cache is Redis; the lockout counts in PostgreSQL, so a Redis outage neither
    breaks logging in nor lifts the lockout."""
    # As production's settings wrap it: optional (sessions are read from the cache first since issue 17).
    settings.CACHES = {
        "default": redis_cache_config(
            {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            }
        )
    }
    assert log_in(client, "login", "bancspl", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(5):
        log_in(client, "login", "bancspl", "doan-sai")
    assert is_lockout_page(log_in(client, "login", "bancspl", PASSWORD))
