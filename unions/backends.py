"""The account backend: Django's ModelBackend, reading the account's unit in the same query as the
account. Every page's menu names the unit and the access policy reads its path: one query less on
every signed-in page (issue 17)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from unions.models import User


class AccountBackend(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User._default_manager.select_related("unit").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
