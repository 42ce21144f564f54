"""The accounts' own pages are the portal's, in Vietnamese: changing one's password from the menu;
no anonymous password-reset form (the board resets passwords in the admin)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_officer_changes_its_password_on_a_portal_page(client: Client, unit_tree) -> None:
    officer = UserFactory(username="canbo.doi", unit=unit_tree.thep)
    officer.set_password("Mat-khau-cu-2022")
    officer.save()
    client.force_login(officer)
    home = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("password_change")}"' in home  # the account's name in the menu
    page = client.get(reverse("password_change")).content.decode()
    assert 'class="navbar' in page and "Đổi mật khẩu" in page and "Django" not in page
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "Mat-khau-cu-2022",
            "new_password1": "Sang-kien-moi-2026",
            "new_password2": "Sang-kien-moi-2026",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("password_change_done")
    assert "Đã đổi mật khẩu" in response.content.decode()
    officer.refresh_from_db()
    assert officer.check_password("Sang-kien-moi-2026")


def test_a_wrong_current_password_is_refused_in_vietnamese(client: Client, unit_tree) -> None:
    officer = UserFactory(username="canbo.sai", unit=unit_tree.thep)
    client.force_login(officer)
    response = client.post(
        reverse("password_change"),
        {"old_password": "khong-dung", "new_password1": "Sang-kien-moi-2026", "new_password2": "Sang-kien-moi-2026"},
    )
    assert response.status_code == 200
    assert "Mật khẩu cũ không chính xác" in response.content.decode()


def test_there_is_no_anonymous_password_reset_and_the_login_page_says_whom_to_ask(client: Client) -> None:
    with pytest.raises(NoReverseMatch):
        reverse("password_reset")
    assert client.get("/accounts/password_reset/").status_code == 404
    assert "Quên mật khẩu?" in client.get(reverse("login")).content.decode()


def test_the_admin_keeps_its_own_password_page(client: Client) -> None:
    board = UserFactory(username="ban.matkhau", is_staff=True)
    client.force_login(board)
    page = client.get(reverse("admin:password_change")).content.decode()
    assert 'id="site-name"' in page or "admin" in page  # the admin's layout, not the portal's
    assert client.get(reverse("admin:password_change")).status_code == 200
