"""The admin's side of the access policy: mixins that apply `unions.permissions` to every
ModelAdmin a scoped account can reach. They hold no rule of their own: each hook asks the policy.

- `ScopedAdminMixin`: rows that belong to a unit (units, targets, initiatives, questions, the
  outbox, export jobs). A province's board sees, changes and picks units only in its subtree.
- `RecordAdminMixin`: records written on the site by their own steps (honours decisions, selection
  rounds): shown, never added, changed or deleted in the admin.
- `ProgrammeWideAdminMixin`: settings of the whole programme (programme, phases, fields, criteria,
  clusters, pages): everyone with the model permission reads them; only the national board and
  superusers change them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest

from sangkien.admin_labels import LabelledInlineMixin
from unions import permissions
from unions.models import Union, User

if TYPE_CHECKING:
    # The mixins go in front of a ModelAdmin or an inline, whose hooks their super() calls reach.
    from django.contrib.admin.options import BaseModelAdmin
    from django.contrib.auth.models import AnonymousUser

    AdminMixinBase = BaseModelAdmin[Any]
else:
    AdminMixinBase = object


class ScopedAdminMixin(AdminMixinBase):
    """For a model whose rows belong to a unit, reached through `scope_path` (the lookup of that
    unit's materialised path)."""

    scope_path = "unit__path"

    def owner(self, obj: Any) -> Union | None:
        """The unit a row of the admin's model belongs to: its `unit`, unless a subclass says otherwise."""
        return obj.unit

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return permissions.restrict(super().get_queryset(request), request.user, path=self.scope_path)

    def may_act(self, user: User | AnonymousUser, obj: Any) -> bool:
        return permissions.may_act_on(user, self.owner(obj))

    def unit_choices(self, user: User | AnonymousUser) -> QuerySet[Union]:
        return permissions.units_in_scope(user)

    def _may_act(self, request: HttpRequest, obj: Any | None) -> bool:
        return obj is None or self.may_act(request.user, obj)

    def has_view_permission(self, request: HttpRequest, obj: Any | None = None) -> bool:
        return super().has_view_permission(request, obj) and (
            obj is None or permissions.in_scope(request.user, self.owner(obj))
        )

    def has_change_permission(self, request: HttpRequest, obj: Any | None = None) -> bool:
        return super().has_change_permission(request, obj) and self._may_act(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self._may_act(request, obj)

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.related_model is Union:
            kwargs["queryset"] = self.unit_choices(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ProgrammeWideAdminMixin(AdminMixinBase):
    """Settings of the whole programme: read by the board and leadership, changed nationally."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return super().has_add_permission(request, *args) and permissions.may_change_programme_settings(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any | None = None) -> bool:
        return super().has_change_permission(request, obj) and permissions.may_change_programme_settings(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any | None = None) -> bool:
        return super().has_delete_permission(request, obj) and permissions.may_change_programme_settings(request.user)


class ProgrammeWideInline(LabelledInlineMixin, ProgrammeWideAdminMixin, admin.TabularInline):
    """An inline of a programme-wide setting (phases, scoring bands)."""


class RecordAdminMixin(AdminMixinBase):
    """A record the site's services write step by step (and keep in its history): the admin shows
    it and adds, changes or deletes nothing, whoever asks."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RecordInline(admin.TabularInline):
    """The rows of such a record (a decision's entries, a round's council and nominations), shown in
    its page: never added, changed or deleted there."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
