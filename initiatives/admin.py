from __future__ import annotations

from django.contrib import admin
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from initiatives.models import Attachment, Author, Field, Initiative, Phase, Program, StatusChange, Target
from initiatives.services import initiative_refresh_search_text
from sangkien.search import FoldedSearchMixin


class PhaseInline(admin.TabularInline):
    model = Phase
    extra = 0


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "target", "starts_on", "ends_on", "is_active")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)
    inlines = [PhaseInline]


@admin.register(Field)
class FieldAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "is_active")
    list_editable = ("position", "is_active")
    search_fields = ("name",)


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ("unit", "program", "quantity", "kind")
    list_filter = ("program", "kind")
    list_select_related = ("unit", "program")
    autocomplete_fields = ("unit",)
    search_fields = ("unit__code",)
    show_full_result_count = False


class AuthorInline(admin.TabularInline):
    model = Author
    extra = 0


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ("original_name", "content_type", "size", "uploaded_by", "uploaded_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Initiative | None = None) -> bool:
        return False  # files are checked by content on the site's form


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    fields = ("at", "from_status", "to_status", "by", "reason")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Initiative | None = None) -> bool:
        return False


@admin.register(Initiative)
class InitiativeAdmin(FoldedSearchMixin, admin.ModelAdmin):
    list_display = ("title", "unit", "field", "status", "submitted_at")
    list_filter = ("status", "program", "phase", "field")
    list_select_related = ("unit", "field")
    autocomplete_fields = ("unit", "field")
    raw_id_fields = ("created_by",)
    readonly_fields = ("status", "submitted_at", "created_by", "created_at", "updated_at")
    inlines = [AuthorInline, AttachmentInline, StatusChangeInline]
    # Millions of rows: no COUNT(*) of the whole table on every page.
    show_full_result_count = False

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: list[BaseInlineFormSet], change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        initiative_refresh_search_text(initiative=form.instance)
