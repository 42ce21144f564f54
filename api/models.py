"""Per-unit API tokens (issue 21, item 1): issued and revoked in the admin by the board over the
unit, each acting exactly as an officer of its unit (unions.permissions.unit_officer); read-only
unless issued to submit initiatives too (`may_write`).

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

from initiatives.models import Initiative
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
    may_write = models.BooleanField(
        _("may submit initiatives"),
        default=False,
        help_text=_("Otherwise it only reads the initiatives of its unit and the units under it."),
    )
    # Who the initiatives a writing token saves are recorded as created and submitted by: an account
    # of its own, made with it (api.services.token_issue), that cannot sign in. The token acts as an
    # officer of its unit (unions.permissions.unit_officer), who is no row; its issuer did not write
    # them, and as their author would be barred from reviewing them (unions.permissions.reviewable).
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(may_write=False) | models.Q(account__isnull=False),
                name="apitoken_writer_has_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… – {self.name}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotentRequest(models.Model):
    """A write through the API under its `Idempotency-Key` (api.idempotency): claimed in the write's
    own transaction, before anything is written, with the answer it got. A retry with the same key
    and the same request is answered the same, and writes nothing; two at once both insert the
    row, and the unique constraint makes the second wait for the first's transaction, then fail.
    Only a write that succeeded is kept (a refused request rolls its claim back with the rest);
    rows are pruned after a day (api.tasks)."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    # SHA-256 of the operation and its JSON body, read as JSON (api.idempotency.request_digest).
    digest = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True)
    response = models.TextField(blank=True)  # the JSON answered, as it was sent
    initiative = models.ForeignKey(Initiative, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="api_idempotent_request_key")]
        indexes = [
            # The pruning: DELETE … WHERE created_at < now() - 1 day.
            models.Index(fields=["created_at"], name="api_idempotent_request_age"),
        ]

    def __str__(self) -> str:
        return f"{self.token_id}:{self.key}"
