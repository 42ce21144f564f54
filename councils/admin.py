"""Selection rounds in the admin: read-only (they are run on the site, by their councils:
councils.views), scoped to the account's subtree. A round's history holds every score; it opens
once the round is closed, so that a board account sitting on the council cannot read the others'
scores there before submitting its own (the site's rule, councils.views)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from councils.models import Member, Nomination, SelectionRound
from unions.admin_scoping import RecordAdminMixin, RecordInline, ScopedAdminMixin
from unions.models import Union


class MemberInline(RecordInline):
    model = Member
    fields = ("full_name", "role", "unit_name", "absent", "added_at")
    readonly_fields = fields


class NominationInline(RecordInline):
    model = Nomination
    fields = ("initiative", "from_unit_name", "nominated_at", "recognition_number", "rank", "mean", "result")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Nomination]:
        return super().get_queryset(request).select_related("initiative")  # its title on each row


@admin.register(SelectionRound)
class SelectionRoundAdmin(RecordAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "unit_name", "level", "status", "deadline", "quota", "closed_at")
    list_filter = ("status", "level")
    list_select_related = ("unit",)
    search_fields = ("name", "unit_name")
    show_full_result_count = False
    readonly_fields = (
        "program", "unit", "unit_name", "level", "name", "quota", "deadline", "spread_threshold", "pass_mark",
        "status", "created_by", "created_at", "scoring_started_at", "closed_by", "closed_at", "tie_break", "place",
        "submission_number",
    )  # fmt: skip
    fields = readonly_fields
    inlines = (MemberInline, NominationInline)

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        found = self.get_queryset(request).filter(pk=object_id).first()
        if found is not None and not found.is_closed:
            raise PermissionDenied(_("A round's history holds its scores: it opens once the round is closed."))
        return super().history_view(request, object_id, extra_context)


@admin.register(Nomination)
class NominationAdmin(RecordAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_path = "round__unit__path"
    list_display = ("initiative", "round", "from_unit_name", "nominated_at", "rank", "mean", "result")
    list_filter = ("result",)
    list_select_related = ("initiative", "round")
    search_fields = ("initiative__title", "from_unit_name")
    show_full_result_count = False
    readonly_fields = (
        "round", "initiative", "from_unit", "from_unit_name", "nominated_by", "nominated_at", "justification",
        "recognition_number", "recognition_date", "forwarded_from", "result", "mean", "rank",
    )  # fmt: skip
    fields = readonly_fields

    def owner(self, obj: Any) -> Union | None:
        return obj.round.unit
