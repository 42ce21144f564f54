"""The honours pages' forms: which proposal to see, an exclusion's reason, the decision's particulars."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from honours.services import PeriodChoice
from leaderboard.models import LeaderboardSnapshot


class ProposalForm(forms.Form):
    """GET: the snapshot (those kept as evidence first, then the latest), the period, and the units
    (a unit's code within the account's subtree; empty: the whole subtree)."""

    # Either may be left out of the address: the first snapshot offered, the last quarter it ended.
    snapshot = forms.TypedChoiceField(label=_("Figures as of"), coerce=int, required=False, empty_value=None)
    period = forms.ChoiceField(label=_("Period"), required=False)
    unit = forms.CharField(
        label=_("Units under (code)"), required=False, max_length=50, help_text=_("Empty: all the units you see.")
    )

    def __init__(self, *args: Any, snapshots: list[LeaderboardSnapshot], periods: list[PeriodChoice], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["snapshot"]).choices = [
            (snapshot.pk, _snapshot_label(snapshot)) for snapshot in snapshots
        ]
        cast(forms.ChoiceField, self.fields["period"]).choices = [(choice.token, choice.label) for choice in periods]
        for name in ("snapshot", "period"):
            self.fields[name].widget.attrs["class"] = "form-select"
        self.fields["unit"].widget.attrs["class"] = "form-control"


def _snapshot_label(snapshot: LeaderboardSnapshot) -> str:
    when = timezone.localtime(snapshot.taken_at).strftime("%d/%m/%Y %H:%M")
    return f"{when} – {snapshot.pinned_reason}" if snapshot.pinned_reason else when


class ExcludeForm(forms.Form):
    entry = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = forms.CharField(label=_("Reason for leaving it out"), max_length=300)


class IssueForm(forms.Form):
    number = forms.CharField(label=_("Decision number"), max_length=50, help_text=_("For example 125/QĐ-CĐCT"))
    place = forms.CharField(
        label=_("Place"),
        max_length=100,
        required=False,
        initial=settings.HONOURS_DEFAULT_PLACE,
        help_text=_("Where it is signed: “Hà Nội”"),
    )
    signed_on = forms.DateField(
        label=_("Date of the decision"), widget=forms.DateInput(attrs={"placeholder": "dd/mm/yyyy"})
    )
    signer = forms.CharField(label=_("Signed by"), max_length=200)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
