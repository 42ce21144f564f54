from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy

from initiatives.forms import AttachmentsField
from initiatives.models import Initiative
from sangkien.cleaning import CleanCharField


class QuestionForm(forms.Form):
    subject = CleanCharField(label=gettext_lazy("Subject"), max_length=300)
    body = CleanCharField(label=gettext_lazy("Your question"), widget=forms.Textarea(attrs={"rows": 6}), multiline=True)
    attachment = AttachmentsField(
        label=gettext_lazy("Attachment (optional)"),
        required=False,
        max_files=1,
        help_text=gettext_lazy("One PDF, DOCX, XLSX, JPG or PNG file."),
    )
    initiative = forms.ModelChoiceField(queryset=Initiative.objects.none(), required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, initiatives: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["initiative"]).queryset = initiatives  # only one the officer may see


class FaqSearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search the answers"), required=False)
