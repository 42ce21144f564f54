"""Labels for the inputs of the admin's tabular inlines.

A tabular inline names its fields once, in the column headers, which assistive technology does not
tie to the inputs below (axe: "Form elements must have labels", critical). Each input of a row gets
an aria-label with its field and row: "Họ và tên, tác giả 2"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.forms import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    # The mixin goes in front of an inline, whose get_formset() its super() call reaches.
    from django.contrib.admin.options import InlineModelAdmin

    InlineBase = InlineModelAdmin[Any, Any]
else:
    InlineBase = object


def label_row(form: forms.BaseForm, *, item: str, number: int | None) -> None:
    """Give each visible input of one inline row an aria-label naming its field and row."""
    for field in form.fields.values():
        if field.widget.is_hidden or "aria-label" in field.widget.attrs:
            continue
        label = str(field.label or "")
        if number is not None:
            label = _("%(field)s, %(item)s %(number)s") % {"field": label, "item": item, "number": number}
        field.widget.attrs["aria-label"] = label


class LabelledInlineMixin(InlineBase):
    """For a TabularInline: its formset labels every row's inputs (and the empty row copied by
    "Add another")."""

    def get_formset(
        self, request: HttpRequest, obj: Any = None, **kwargs: Any
    ) -> type[BaseInlineFormSet[Any, Any, Any]]:
        base = super().get_formset(request, obj, **kwargs)
        item = str(self.opts.verbose_name)

        class LabelledFormSet(base):  # type: ignore[misc, valid-type]  # a class made at run time
            def _construct_form(self, i: int, **form_kwargs: Any) -> forms.BaseForm:
                form = super()._construct_form(i, **form_kwargs)
                label_row(form, item=item, number=i + 1)
                return form

            @property
            def empty_form(self) -> forms.BaseForm:
                form = super().empty_form
                label_row(form, item=item, number=None)
                return form

        LabelledFormSet.__name__ = base.__name__
        return LabelledFormSet
