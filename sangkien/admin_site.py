"""The portal's admin site: Django's, with its autocomplete endpoint held to forward relations."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.http import HttpRequest, HttpResponse


class PortalAdminSite(admin.AdminSite):
    def autocomplete_view(self, request: HttpRequest) -> HttpResponse:
        """Django answers 500 when `field_name` names a reverse relation (e.g. a unit's
        `targets`); only a concrete foreign key or many-to-many field has choices to offer."""
        try:
            model = apps.get_model(request.GET.get("app_label", ""), request.GET.get("model_name", ""))
            field = model._meta.get_field(request.GET.get("field_name", ""))
        except (LookupError, ValueError, FieldDoesNotExist):
            raise PermissionDenied from None
        if not (field.is_relation and getattr(field, "concrete", False)):
            raise PermissionDenied
        return super().autocomplete_view(request)
