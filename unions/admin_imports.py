"""The admin's spreadsheet imports (units, quarter targets): a page to upload a file, its blank
template, and the links on the list, for the accounts that may both add and change the rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path

from sangkien.downloads import file_response
from sangkien.spreadsheets import XLSX_CONTENT_TYPE, Layout, SpreadsheetError

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    _Base = admin.ModelAdmin
else:
    _Base = object


class SpreadsheetImportAdminMixin(_Base):
    """Adds `<list>/import/` and `<list>/import-template.xlsx` (named `<app>_<model>_import` and
    `…_import_template`) and the `can_import` flag its change list's links read. A subclass says
    what to upload and how to import it; the page is admin/<app>/<model>/import.html."""

    import_form: type[forms.Form]
    import_title: StrOrPromise
    import_template_name: str  # the blank template's file name

    def import_template_bytes(self) -> bytes:
        raise NotImplementedError

    def import_initial(self) -> dict[str, Any]:
        return {}

    def import_file(self, request: HttpRequest, data: dict[str, Any]) -> tuple[str, Layout | None]:
        """Import the form's cleaned `data`: the success message and where the table was found.
        SpreadsheetError when nothing was imported."""
        raise NotImplementedError

    def can_import(self, request: HttpRequest) -> bool:
        """An import both creates and updates rows."""
        return self.has_add_permission(request) and self.has_change_permission(request)

    def _url_name(self, suffix: str) -> str:
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}_{suffix}"

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return super().changelist_view(request, {**(extra_context or {}), "can_import": self.can_import(request)})

    def get_urls(self) -> list:
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name=self._url_name("import")),
            path(
                "import-template.xlsx",
                self.admin_site.admin_view(self.import_template_view),
                name=self._url_name("import_template"),
            ),
            *super().get_urls(),
        ]

    def import_template_view(self, request: HttpRequest) -> HttpResponse:
        """The blank template, for those who may import (as the import page and its link are)."""
        if not self.can_import(request):
            return redirect(f"admin:{self._url_name('changelist')}")
        return file_response(
            self.import_template_bytes(), name=self.import_template_name, content_type=XLSX_CONTENT_TYPE
        )

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.can_import(request):
            return redirect(f"admin:{self._url_name('changelist')}")
        form = self.import_form(request.POST or None, request.FILES or None, initial=self.import_initial())
        errors: list[str] = []
        if request.method == "POST" and form.is_valid():
            try:
                message, layout = self.import_file(request, form.cleaned_data)
            except SpreadsheetError as error:
                errors = error.messages
            else:
                messages.success(request, message)
                for line in layout.summary() if layout else ():
                    messages.info(request, line)
                return redirect(f"admin:{self._url_name('changelist')}")
        meta = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "opts": meta,
            "title": self.import_title,
            "form": form,
            "errors": errors,
        }
        return render(request, f"admin/{meta.app_label}/{meta.model_name}/import.html", context)
