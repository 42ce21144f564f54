"""The snapshots in the admin, for the national board: how each was counted, what the nightly
check found, and which are kept as evidence (a read-only log; snapshots are written by the service)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from leaderboard.models import HonourRule, LeaderboardSnapshot
from leaderboard.snapshots import pin
from unions.admin_scoping import ProgrammeWideAdminMixin
from unions.permissions import may_manage_snapshots

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class PinnedFilter(admin.SimpleListFilter):
    title = _("kept as evidence")
    parameter_name = "pinned"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, StrOrPromise]]:
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.exclude(pinned_reason="")
        if self.value() == "no":
            return queryset.filter(pinned_reason="")
        return queryset


@admin.register(LeaderboardSnapshot)
class LeaderboardSnapshotAdmin(admin.ModelAdmin):
    list_display = (
        "taken_at", "program", "seq", "mode", "seconds", "row_count", "changes", "versions", "differences",
        "pinned_reason",
    )  # fmt: skip
    list_filter = ("program", "mode", PinnedFilter)
    list_select_related = ("program",)
    date_hierarchy = "taken_at"
    readonly_fields = (
        "program", "taken_at", "created_at", "seq", "previous", "mode", "seconds", "row_count", "changes",
        "versions", "differences", "repair_notes", "pinned_reason",
    )  # fmt: skip
    # The programme as the snapshot saw it is JSON for its evidence pages, which show it.
    exclude = ("programme",)
    actions = ("keep_as_evidence",)
    show_full_result_count = False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_manage_snapshots(request.user)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return may_manage_snapshots(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # pruning decides, and spares what is kept as evidence

    def has_pin_permission(self, request: HttpRequest) -> bool:
        return may_manage_snapshots(request.user)

    @admin.action(description=_("Keep as evidence"), permissions=["pin"])
    def keep_as_evidence(self, request: HttpRequest, queryset: QuerySet) -> None:
        with translation.override(settings.LANGUAGE_CODE):  # stored: in the portal's language
            reason = gettext("kept by %(user)s on %(date)s") % {
                "user": request.user.get_username(),
                "date": timezone.localdate().strftime("%d/%m/%Y"),
            }
        kept = 0
        for snapshot in queryset.filter(pinned_reason=""):
            pin(snapshot, reason)
            kept += 1
        message = ngettext("%(count)s snapshot kept as evidence.", "%(count)s snapshots kept as evidence.", kept)
        self.message_user(request, message % {"count": kept})


@admin.register(HonourRule)
class HonourRuleAdmin(ProgrammeWideAdminMixin, admin.ModelAdmin):
    """A programme's honours rule (leaderboard.honours): read by the board and leadership, set nationally."""

    list_display = ("program", "count", "margin")
