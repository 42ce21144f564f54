"""Issuing and revoking a unit's API token (the admin calls these)."""

from __future__ import annotations

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import PREFIX_LENGTH, ApiToken, digest_of, new_token
from sangkien.text import clean_text
from unions.models import Union, User
from unions.permissions import may_act_on


class Refused(Exception):
    """The step may not be taken: the message says why."""


def token_issue(*, user: User, unit: Union, name: str, may_write: bool = False) -> tuple[ApiToken, str]:
    """A new token for `unit` (by the board over it): the row, and the token itself, which is never
    shown again. A token that may submit initiatives gets an account of its own (`ApiToken.account`)."""
    if not may_act_on(user, unit):
        raise Refused(_("You may not issue tokens for this unit."))
    token = new_token()
    with transaction.atomic():
        row = ApiToken(
            unit=unit,
            name=clean_text(name).strip()[:200],
            prefix=token[:PREFIX_LENGTH],
            digest=digest_of(token),
            created_by=user,
            may_write=may_write,
        )
        if may_write:
            row.account = _token_account(row)
        row.full_clean()
        row.save()
        LogEntry.objects.log_actions(user.pk, [row], ADDITION, change_message=_("Token issued."), single_object=True)
    return row, token


def _token_account(row: ApiToken) -> User:
    """The account a writing token's initiatives are recorded under, named after it ("API: <name>" on
    an initiative's page): of its unit, in no group, inactive and without a password, so nobody signs
    in with it; the token's access is an officer's of its unit (unions.permissions.unit_officer),
    never this account's."""
    account = User(
        username=f"api-{row.digest[:24]}",  # the digest is unique, and says nothing of the token
        first_name=row.name[:150],
        last_name="API:",  # get_full_name() puts the family name first
        unit=row.unit,
        is_active=False,
    )
    account.set_unusable_password()
    account.save()
    return account


def token_revoke(*, user: User, token: ApiToken) -> bool:
    """Revoke it for good; False when it already was."""
    if not may_act_on(user, token.unit):
        raise Refused(_("You may not revoke this unit's tokens."))
    with transaction.atomic():
        changed = ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now())
        if changed:
            LogEntry.objects.log_actions(
                user.pk, [token], CHANGE, change_message=_("Token revoked."), single_object=True
            )
    return bool(changed)
