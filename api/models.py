"""Per-unit API tokens (issue 21, item 1): issued and revoked in the admin by the board over the
unit, each acting exactly as an officer of its unit (unions.permissions.unit_officer) and read-only.

Only a digest of a token is stored (SHA-256: a token is 40 random characters, so a plain hash is
enough, no slow password hash is needed); the token itself is shown once, when it is issued. Its
first characters (`prefix`) name it in the admin and in the logs."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from unions.models import Union

PREFIX_LENGTH = 8


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(30)  # 40 characters


class ApiToken(models.Model):
    unit = models.ForeignKey(Union, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(
        _("name"), max_length=200, help_text=_("What uses it: “Phần mềm quản lý sáng kiến của đơn vị”.")
    )
    prefix = models.CharField(_("token begins with"), max_length=PREFIX_LENGTH, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("issued by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("issued at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… – {self.name}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
