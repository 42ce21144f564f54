from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from emulation.models import EmulationCriterion, ExportJob, ScoringBand
from unions.admin_scoping import ProgrammeWideAdminMixin, ProgrammeWideInline, ScopedAdminMixin
from unions.models import Union


class ScoringBandInline(ProgrammeWideInline):
    model = ScoringBand
    extra = 3


@admin.register(EmulationCriterion)
class EmulationCriterionAdmin(ProgrammeWideAdminMixin, admin.ModelAdmin):
    """Tiêu chí thi đua: each programme's criteria, their weights and scoring bands."""

    list_display = ("code", "name", "program", "metric", "weight", "position")
    list_filter = ("program", "metric")
    list_editable = ("weight", "position")
    search_fields = ("code", "name")
    inlines = [ScoringBandInline]


@admin.register(ExportJob)
class ExportJobAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The exports asked for on the site, emulation workbooks and officers' lists (read only: they
    are asked for and retried there); a scoped board sees those of its subtree."""

    list_display = (
        "pk",
        "kind",
        "scope",
        "phase",
        "status",
        "requested_by",
        "requested_at",
        "rows_done",
        "seconds",
        "attempts",
    )
    list_filter = ("kind", "status", "program")
    readonly_fields = [field.name for field in ExportJob._meta.fields]
    list_select_related = ("scope", "phase", "requested_by")
    scope_path = "scope__path"  # a province's board sees the exports of its own subtree

    def owner(self, obj: ExportJob) -> Union:
        return obj.scope

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ExportJob | None = None) -> bool:
        return False
