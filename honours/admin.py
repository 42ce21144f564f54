"""Honours decisions in the admin: read-only (they are prepared and issued on the site, by those who
decide: honours.views), scoped to the account's subtree; each one's history lists every step."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from honours.models import HonourDecision, HonourEntry
from unions.admin_scoping import RecordAdminMixin, RecordInline, ScopedAdminMixin
from unions.models import Union


class HonourEntryInline(RecordInline):
    model = HonourEntry
    fields = ("level", "cluster_name", "unit_code", "unit_name", "count", "target", "meets", "excluded", "reason")
    readonly_fields = fields


@admin.register(HonourDecision)
class HonourDecisionAdmin(RecordAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_path = "scope__path"
    list_display = ("__str__", "status", "period_label", "scope_name", "taken_at", "signed_on", "signer")
    list_filter = ("status", "period_kind")
    search_fields = ("number", "signer", "scope_name")
    readonly_fields = (
        "program", "snapshot", "taken_at", "period_kind", "quarter_key", "phase", "period_label", "period_token",
        "scope", "scope_name", "count", "margin", "status", "issuer", "issuer_name", "number", "place", "signed_on",
        "signer", "note", "corrects", "created_by", "created_at", "issued_by", "issued_at",
    )  # fmt: skip
    fields = readonly_fields
    inlines = (HonourEntryInline,)

    def owner(self, obj: Any) -> Union | None:
        return obj.scope
