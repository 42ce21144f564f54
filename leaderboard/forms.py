from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy

from initiatives.models import Field, Phase


class DashboardFilterForm(forms.Form):
    """The dashboard's filters (GET), with choices from lists the page already holds (no queries)."""

    phase = forms.TypedChoiceField(label=gettext_lazy("Phase"), coerce=int, required=False, empty_value=None)
    field = forms.TypedChoiceField(label=gettext_lazy("Field"), coerce=int, required=False, empty_value=None)
    cluster = forms.TypedChoiceField(
        label=gettext_lazy("Emulation cluster"), coerce=int, required=False, empty_value=None
    )

    def __init__(
        self, *args: Any, phases: list[Phase], fields: list[Field], clusters: list[Any], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.objects: dict[str, list[Any]] = {"phase": phases, "field": fields, "cluster": clusters}
        empty = {
            "phase": gettext_lazy("Whole programme"),
            "field": gettext_lazy("All fields"),
            "cluster": gettext_lazy("All clusters"),
        }
        for name, objects in self.objects.items():
            cast(forms.ChoiceField, self.fields[name]).choices = [
                ("", empty[name]),
                *((obj.pk, obj.name) for obj in objects),
            ]
            self.fields[name].widget.attrs["class"] = "form-select"

    def chosen(self) -> dict[str, Any]:
        """The chosen objects; a value that is not a choice is shown as an error and ignored."""
        data: dict[str, Any] = {}
        if self.is_bound:
            self.is_valid()  # the valid filters apply even when another one is wrong
            data = self.cleaned_data
        chosen = {}
        for name, objects in self.objects.items():
            pk = data.get(name)
            chosen[name] = next((obj for obj in objects if obj.pk == pk), None)
        return chosen
