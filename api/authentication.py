"""`Authorization: Token <token>`: a unit's API token (api.models.ApiToken), acting as an officer
of its unit (unions.permissions.unit_officer). A revoked or unknown token is refused (401)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from api.models import ApiToken, digest_of
from unions.permissions import unit_officer

if TYPE_CHECKING:
    from rest_framework.request import Request

    from unions.models import User

KEYWORD = b"token"
# last_used_at is written at most this often per token: a busy integration costs no write per request.
USE_RECORDED_EVERY = 60


class UnitTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD:
            return None
        if len(parts) != 2 or len(parts[1]) > 200:
            raise AuthenticationFailed(_("Give the token as “Authorization: Token <token>”."))
        try:
            given = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(_("This token is not valid or has been revoked.")) from None
        token = (
            ApiToken.objects.select_related("unit", "account")  # the account: who a write is recorded as by
            .filter(digest=digest_of(given), revoked_at=None)
            .first()
        )
        if token is None or not token.unit.is_active:
            raise AuthenticationFailed(_("This token is not valid or has been revoked."))
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > USE_RECORDED_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return unit_officer(token.unit), token

    def authenticate_header(self, request: Request) -> str:
        return "Token"
