from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm as DjangoAdminPasswordChangeForm
from django.contrib.auth.forms import SetUnusablePasswordMixin
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from sangkien.search import FoldedSearchMixin
from sangkien.spreadsheets import SPREADSHEET_ACCEPT, Layout
from sangkien.text import parse_id
from unions.admin_imports import SpreadsheetImportAdminMixin
from unions.admin_scoping import AdminMixinBase, ProgrammeWideAdminMixin, ScopedAdminMixin
from unions.http import account
from unions.imports import import_units, template_workbook
from unions.models import EmulationCluster, Union, User
from unions.permissions import in_scope, may_change_unit, may_hold_path
from unions.services import child_path, union_save, validate_placement


class SubtreeFilter(admin.SimpleListFilter):
    """`?subtree=<id>`: a unit and everything under it (one range scan on the path index)."""

    title = _("subtree")
    parameter_name = "subtree"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        unit = self._unit(request)
        return [(str(unit.pk), str(unit))] if unit else []

    def _unit(self, request: HttpRequest) -> Union | None:
        """The unit named by the parameter, if the account may see it (an id of another
        subtree names nothing, so the filter never shows another province's unit)."""
        pk = parse_id(self.value() or "")
        if pk is None:
            return None
        if not hasattr(self, "_cached_unit"):
            unit = Union.objects.filter(pk=pk).only("pk", "code", "name", "path").first()
            self._cached_unit = unit if unit and in_scope(request.user, unit) else None
        return self._cached_unit

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        unit = self._unit(request)
        if self.value() and unit is None:
            return queryset.none()
        return self.restrict(queryset, unit) if unit else queryset

    def restrict(self, queryset: Any, unit: Union) -> QuerySet:
        """`queryset` (the admin's own QuerySet class: units here, another model's in a subclass)
        narrowed to the subtree of `unit`."""
        return queryset.subtree(unit)


class UnitImportForm(forms.Form):
    file = forms.FileField(
        label=_("Units spreadsheet (.xlsx, .xlsm, .xls or .ods)"),
        widget=forms.ClearableFileInput(attrs={"accept": SPREADSHEET_ACCEPT}),
    )


class UnionAdminForm(forms.ModelForm):
    user: User | AnonymousUser  # set by UnionAdmin.get_form: where this account may put the unit

    class Meta:
        model = Union
        fields = ("code", "name", "short_name", "level", "parent", "member_count", "cluster", "is_active")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # ModelForm.clean() returns cleaned_data
        if not self.errors:
            parent = cleaned.get("parent")
            if not may_hold_path(self.user, child_path(parent.path if parent else "", cleaned["code"])):
                raise forms.ValidationError(
                    _("You may only place units under your own unit's subtree."), code="outside_scope"
                )
            unit = Union(pk=self.instance.pk, level=cleaned["level"])
            current = self.instance.path if self.instance.pk else None
            validate_placement(unit=unit, parent=parent, current_path=current)
        return cleaned


@admin.register(Union)
class UnionAdmin(SpreadsheetImportAdminMixin, ScopedAdminMixin, FoldedSearchMixin, admin.ModelAdmin):
    form = UnionAdminForm
    scope_path = "path"
    list_display = ("code", "name", "level", "parent_link", "member_count", "cluster", "is_active", "subtree_link")
    list_display_links = ("code", "name")
    list_filter = (SubtreeFilter, "level", "cluster", "is_active")
    list_select_related = ("parent", "cluster")
    autocomplete_fields = ("parent", "cluster")
    readonly_fields = ("ancestors", "path", "depth")
    fields = (
        "code",
        "name",
        "short_name",
        "level",
        "parent",
        "ancestors",
        "member_count",
        "cluster",
        "is_active",
        "path",
        "depth",
    )
    # The default full count would run COUNT(*) over 130,000 units on every page.
    show_full_result_count = False
    list_per_page = 50

    @admin.display(description=_("parent unit"), ordering="parent__code")
    def parent_link(self, unit: Union) -> str:
        if unit.parent is None:
            return "–"
        url = reverse("admin:unions_union_change", args=[unit.parent_id])
        return format_html('<a href="{}">{}</a>', url, unit.parent.code)

    @admin.display(description=_("subtree"))
    def subtree_link(self, unit: Union) -> str:
        url = reverse("admin:unions_union_changelist") + f"?subtree={unit.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Units under it"))

    @admin.display(description=_("ancestors"))
    def ancestors(self, unit: Union) -> str:
        if unit.pk is None:
            return "–"
        chain = Union.objects.ancestors(unit).only("pk", "code", "name")
        return (
            format_html_join(
                " → ",
                '<a href="{}">{}</a>',
                ((reverse("admin:unions_union_change", args=[a.pk]), a.name) for a in chain),
            )
            or "–"
        )

    def owner(self, obj: Union) -> Union:
        return obj

    def get_form(
        self, request: HttpRequest, obj: Union | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change=change, **kwargs)
        assert issubclass(form, UnionAdminForm)  # made from `self.form`
        form.user = request.user
        return form

    def has_change_permission(self, request: HttpRequest, obj: Union | None = None) -> bool:
        """A scoped board sees its own unit but changes only the units under it."""
        return admin.ModelAdmin.has_change_permission(self, request, obj) and (
            obj is None or may_change_unit(request.user, obj)
        )

    def save_model(self, request: HttpRequest, obj: Union, form: forms.ModelForm, change: bool) -> None:
        union_save(unit=obj)

    import_form = UnitImportForm
    import_title = _("Import units from Excel")
    import_template_name = "mau-nhap-don-vi.xlsx"

    def import_template_bytes(self) -> bytes:
        return template_workbook()

    def import_file(self, request: HttpRequest, data: dict[str, Any]) -> tuple[str, Layout | None]:
        result = import_units(data["file"], user=account(request))
        message = _("Imported %(created)s new units and updated %(updated)s.") % {
            "created": result.created,
            "updated": result.updated,
        }
        return message, result.layout


@admin.register(EmulationCluster)
class EmulationClusterAdmin(ProgrammeWideAdminMixin, admin.ModelAdmin):
    list_display = ("name", "description")
    search_fields = ("name",)


# The labels Django gives the default permissions are English data ("Can add union unit"), written
# to the database by migrate: the permission pickers show them in Vietnamese instead.
PERMISSION_ACTIONS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def permission_label(permission: Permission) -> str:
    """`Sáng kiến | sáng kiến | Được thêm sáng kiến` for a default permission; a custom one keeps its name."""
    model = permission.content_type.model_class()
    action, _sep, model_name = permission.codename.partition("_")
    name = permission.name
    if model is not None and model_name == model._meta.model_name and action in PERMISSION_ACTIONS:
        name = PERMISSION_ACTIONS[action] % {"model": model._meta.verbose_name}
    return f"{permission.content_type} | {name}"


class PermissionLabelsMixin(AdminMixinBase):
    # `request` as GroupAdmin's, which django-stubs lets be None.
    def formfield_for_manytomany(
        self, db_field: Any, request: Any = None, **kwargs: Any
    ) -> forms.ModelMultipleChoiceField[Any] | None:
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.remote_field.model is Permission:
            # Django's documented way to relabel a ModelChoiceField's options.
            field.label_from_instance = permission_label  # type: ignore[method-assign, assignment]
        return field


class AdminPasswordChangeForm(DjangoAdminPasswordChangeForm):
    """Django's, with its warning marked for translation (Django 6.1 writes it in English)."""

    usable_password_help_text = format_lazy(
        '{}<ul id="id_unusable_warning" class="messagelist"><li class="warning">{}</li></ul>',
        SetUnusablePasswordMixin.usable_password_help_text,
        _("If disabled, the current password for this user will be lost."),
    )  # type: ignore[assignment]  # typed str in django-stubs; Django takes a lazy string


@admin.register(User)
class UserAdmin(PermissionLabelsMixin, DjangoUserAdmin):
    change_password_form = AdminPasswordChangeForm
    list_display = ("username", "first_name", "last_name", "email", "unit", "is_staff", "is_active")
    list_select_related = ("unit",)
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    autocomplete_fields = ("unit",)
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Union unit"), {"fields": ("unit",)}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Union unit"), {"fields": ("unit",)}),
    )


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(PermissionLabelsMixin, DjangoGroupAdmin):
    """Django's, with the permissions listed in Vietnamese."""


# django-axes' admin (registered before this module, earlier in INSTALLED_APPS) labels its status
# column from the method's name: "Status", in English.
admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(AxesAccessAttemptAdmin):
    @admin.display(description=_("Status"))
    def status(self, obj: AccessAttempt) -> str:
        return super().status(obj)
