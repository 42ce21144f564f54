"""The councils' forms: a round's settings and rubric, an appointment, a nomination, a score sheet,
a conflict's reason, the closing particulars. They validate and normalise; councils.services decides."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from councils.models import MAX_CRITERION_POINTS, Criterion, Member
from councils.services import BandSpec, CriterionSpec

# "21-30 Mới hoàn toàn", "21 – 30: Mới hoàn toàn"
BAND_LINE = re.compile(r"^\s*(\d{1,4})\s*[-–—]\s*(\d{1,4})\s*[:.)]?\s*(.+?)\s*$")
MAX_CRITERIA = 10
MAX_BANDS = 10


class RoundForm(forms.Form):
    name = forms.CharField(
        label=_("Name of the round"),
        max_length=300,
        help_text=_("For example: Xét chọn sáng kiến tiêu biểu năm 2023"),
    )
    unit = forms.CharField(
        label=_("Unit (code)"),
        max_length=32,
        required=False,
        help_text=_("The unit whose council selects: empty for your own unit."),
    )
    quota = forms.IntegerField(label=_("Quota"), min_value=1, max_value=10000, help_text=_("How many may be selected."))
    deadline = forms.DateField(
        label=_("Nominations until"), widget=forms.DateInput(attrs={"placeholder": "dd/mm/yyyy"})
    )
    spread_threshold = forms.IntegerField(
        label=_("Spread that calls for a third scorer (points)"),
        min_value=0,
        max_value=MAX_CRITERION_POINTS * MAX_CRITERIA,
        initial=15,
        help_text=_("When two scorers' totals for a nomination are further apart, the chair assigns a third."),
    )
    pass_mark = forms.IntegerField(
        label=_("Pass mark (points)"),
        min_value=0,
        max_value=MAX_CRITERION_POINTS * MAX_CRITERIA,
        required=False,
        help_text=_("Optional: a nomination whose mean is below it is not selected, whatever the quota."),
    )


class CriterionForm(forms.Form):
    name = forms.CharField(label=_("Criterion"), max_length=200, required=False)
    max_points = forms.IntegerField(
        label=_("Maximum points"), min_value=1, max_value=MAX_CRITERION_POINTS, required=False
    )
    bands = forms.CharField(
        label=_("Bands"),
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional, one per line: “21-30 Entirely new”. The points given must then fall in a band."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        name, points = (data.get("name") or "").strip(), data.get("max_points")
        if (name or data.get("bands")) and points is None and "max_points" not in self.errors:
            self.add_error("max_points", gettext("Give the criterion's maximum points."))
        if points is not None and not name:
            self.add_error("name", gettext("Give the criterion's name."))
        bands = []
        for number, line in enumerate((data.get("bands") or "").splitlines(), start=1):
            if not line.strip():
                continue
            found = BAND_LINE.match(line)
            if found is None:
                self.add_error(
                    "bands",
                    gettext("Line %(number)s is not a band: write “21-30 description”.") % {"number": number},
                )
                continue
            bands.append(BandSpec(int(found[1]), int(found[2]), found[3][:300]))
        if len(bands) > MAX_BANDS:
            self.add_error("bands", gettext("At most %(count)s bands.") % {"count": MAX_BANDS})
        data["band_specs"] = tuple(bands)
        return data

    def spec(self) -> CriterionSpec | None:
        data = self.cleaned_data
        if not (data.get("name") or "").strip():
            return None
        return CriterionSpec(data["name"], data["max_points"], data["band_specs"])


CriterionFormSet = forms.formset_factory(CriterionForm, extra=2, max_num=MAX_CRITERIA, absolute_max=MAX_CRITERIA)


def rubric_initial(criteria: list[CriterionSpec]) -> list[dict[str, Any]]:
    return [
        {
            "name": spec.name,
            "max_points": spec.max_points,
            "bands": "\n".join(f"{band.low}-{band.high} {band.label}" for band in spec.bands),
        }
        for spec in criteria
    ]


def rubric_of(formset: Any) -> list[CriterionSpec]:
    return [spec for form in formset.forms if (spec := form.spec()) is not None]


class MemberForm(forms.Form):
    username = forms.CharField(label=_("Account (user name)"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Member.Role.choices)


class NominationForm(forms.Form):
    initiative = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    justification = forms.CharField(
        label=_("Why it is nominated"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("A few lines: what is new, what it brought, where else it could apply."),
    )
    recognition_number = forms.CharField(
        label=_("Recognition decision number"), max_length=100, help_text=_("The decision that recognised it.")
    )
    recognition_date = forms.DateField(
        label=_("Recognition decision date"), widget=forms.DateInput(attrs={"placeholder": "dd/mm/yyyy"})
    )


class ScoreForm(forms.Form):
    """A field of points and one of comment per criterion, and the sheet's comment."""

    comment = forms.CharField(
        label=_("Overall comment"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, criteria: list[Criterion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        fields: dict[str, forms.Field] = {}
        for criterion in criteria:
            bands = list(criterion.bands.all())
            help_text = "; ".join(f"{band.low}–{band.high}: {band.label}" for band in bands)
            fields[f"points_{criterion.pk}"] = forms.IntegerField(
                label=f"{criterion.name} (0–{criterion.max_points})",
                min_value=0,
                max_value=criterion.max_points,
                help_text=help_text,
                required=False,
            )
            fields[f"comment_{criterion.pk}"] = forms.CharField(
                label=_("Comment on %(name)s") % {"name": criterion.name}, required=False, max_length=500
            )
        self.fields = {**fields, "comment": self.fields["comment"]}

    def points(self) -> dict[int, int | None]:
        return {c.pk: self.cleaned_data.get(f"points_{c.pk}") for c in self.criteria}

    def comments(self) -> dict[int, str]:
        return {c.pk: self.cleaned_data.get(f"comment_{c.pk}", "") for c in self.criteria}


class ConflictForm(forms.Form):
    member = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = forms.CharField(label=_("Reason for the conflict of interest"), max_length=300)


class CloseForm(forms.Form):
    place = forms.CharField(
        label=_("Place"),
        max_length=100,
        required=False,
        initial=settings.HONOURS_DEFAULT_PLACE,
        help_text=_("Where the council met, for the minutes: “Hà Nội”"),
    )
    submission_number = forms.CharField(
        label=_("Cover submission number"),
        max_length=50,
        required=False,
        help_text=_("For example 15/TTr-CĐTCT; may be left empty."),
    )
    prefer = forms.TypedMultipleChoiceField(
        label=_("The chair's choice among the nominations level at the quota"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    tie_note = forms.CharField(
        label=_("How the chair decided"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, tied: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["prefer"].choices = tied or []  # type: ignore[attr-defined]
        if not tied:
            del self.fields["prefer"]
            del self.fields["tie_note"]

    def clean_prefer(self) -> list[int]:
        value = self.cleaned_data.get("prefer") or []
        if not isinstance(value, list):
            raise ValidationError(gettext("Choose among the nominations listed."))
        return value
