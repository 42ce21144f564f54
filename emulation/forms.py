from __future__ import annotations

from typing import Any, cast

from crispy_forms.helper import FormHelper
from django import forms
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from initiatives.models import Phase, Program
from sangkien.choices import ListedModelChoiceField
from unions.levels import BLOCKS
from unions.models import EmulationCluster, Union


class PhaseChoiceField(ListedModelChoiceField):
    """A phase listed by its name alone (its __str__ names the programme too)."""

    def label_from_instance(self, obj: Phase) -> str:
        return obj.name


class ExportForm(forms.Form):
    """What an emulation export covers: the units under a unit of the asker's subtree, one level
    or all, one cluster or all, a phase or the whole programme."""

    unit = forms.CharField(
        label=gettext_lazy("Units under (unit code)"),
        max_length=32,
        help_text=gettext_lazy("Your own unit's code exports all the units you oversee."),
    )
    level = forms.ChoiceField(label=gettext_lazy("Level"), required=False)
    cluster = ListedModelChoiceField(
        label=gettext_lazy("Emulation cluster"),
        queryset=EmulationCluster.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("All clusters"),
    )
    phase = PhaseChoiceField(
        label=gettext_lazy("Phase"),
        queryset=Phase.objects.none(),
        required=False,
        empty_label=gettext_lazy("Whole programme"),
    )

    def __init__(self, data: QueryDict | None = None, *, scope: Union, program: Program, **kwargs: Any) -> None:
        super().__init__(data, initial={"unit": scope.code}, **kwargs)
        self.scope = scope
        cast(forms.ChoiceField, self.fields["level"]).choices = [
            ("", _("All levels")),
            *((level, level.label) for level in BLOCKS),
        ]
        cast(PhaseChoiceField, self.fields["phase"]).queryset = program.phases.order_by("number")
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_unit(self) -> Union:
        code = self.cleaned_data["unit"].strip()
        # Looked up in the asker's subtree first: a unit elsewhere whose code differs only in case
        # must not shadow one's own.
        units = Union.objects.subtree(self.scope)
        unit = units.filter(code=code).first() or units.filter(code__iexact=code).first()
        if unit is None:
            if Union.objects.filter(code__iexact=code).exists():
                raise forms.ValidationError(_("This unit is outside your unit's subtree."))
            raise forms.ValidationError(_("There is no unit with the code “%(code)s”.") % {"code": code})
        if unit.level == Union.Level.GRASSROOTS:
            raise forms.ValidationError(_("A grassroots union has no units under it: choose a unit above it."))
        return unit
