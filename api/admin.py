"""API tokens in the admin: the board over a unit issues one (shown once, as it is saved), read-only
or allowed to submit initiatives, and revokes it; nobody changes or deletes one (its history stays)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from api import services
from api.models import ApiToken
from unions.admin_scoping import ScopedAdminMixin
from unions.http import account

ISSUING = ("unit", "name", "may_write")
ISSUED = ("unit", "name", "may_write", "prefix", "created_by", "created_at", "last_used_at", "revoked_at")


@admin.register(ApiToken)
class ApiTokenAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "unit", "may_write", "created_at", "last_used_at", "revoked_at")
    list_filter = ("may_write", "revoked_at")
    list_select_related = ("unit",)
    autocomplete_fields = ("unit",)
    search_fields = ("name", "prefix", "unit__code")
    show_full_result_count = False
    actions = ("revoke",)

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        return ISSUING if obj is None else ISSUED

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        return () if obj is None else ISSUED

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Issued tokens are read: a token is revoked (the action), never edited.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            return
        row, token = services.token_issue(user=account(request), unit=obj.unit, name=obj.name, may_write=obj.may_write)
        obj.pk, obj.prefix, obj.digest, obj.account_id = row.pk, row.prefix, row.digest, row.account_id
        messages.warning(
            request,
            _("The token of %(unit)s: %(token)s. Copy it now: it is never shown again.")
            % {"unit": row.unit.name, "token": token},
        )

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return None  # token_issue wrote the history

    @admin.action(description=gettext_lazy("Revoke the selected tokens"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        user = account(request)
        revoked = sum(
            services.token_revoke(user=user, token=token)
            for token in queryset.select_related("unit")
            if self.may_act(user, token)
        )
        messages.success(request, _("%(count)s token(s) revoked.") % {"count": revoked})

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return super().has_change_permission(request)
