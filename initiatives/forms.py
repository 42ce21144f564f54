"""Forms validate and normalise only; the services write."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import filetype
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout
from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.forms.formsets import TOTAL_FORM_COUNT
from django.forms.utils import ErrorDict
from django.http import QueryDict
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from initiatives.models import ATTACHMENT_EXTENSIONS, Author, Field, Initiative, Phase, Program
from initiatives.services import REQUIRED_TO_SUBMIT, AttachmentUpload, AuthorData, outside_programme
from sangkien.choices import ListedModelChoiceField
from sangkien.cleaning import CleanCharField
from sangkien.request_limits import MAX_FILES_PER_UPLOAD
from sangkien.spreadsheets import SPREADSHEET_ACCEPT
from sangkien.text import group_thousands, parse_id, parse_vnd
from unions.models import Union, User
from unions.permissions import units_in_scope

# What may be attached, by the type sniffed from the content (the file name is not trusted).
ALLOWED_ATTACHMENTS = {extension.lstrip("."): content_type for content_type, extension in ATTACHMENT_EXTENSIONS.items()}
# Fields "Gửi" requires besides the title; "Lưu nháp" requires only the title.


# Above this many units in an officer's subtree a drop-down is unusable (a province has ~1,700,
# the Confederation 130,000): the unit is then typed by its code.
MAX_UNIT_OPTIONS = 300


class UnitCodeField(forms.ModelChoiceField):
    """A unit of the officer's subtree, typed by its code ("Mã đơn vị")."""

    widget = forms.TextInput

    def __init__(self, queryset: Any, **kwargs: Any) -> None:
        super().__init__(queryset, to_field_name="code", **kwargs)
        self.help_text = _("Type the unit code, e.g. %(code)s.") % {"code": "CTVN-RANGDONG"}
        self.error_messages["invalid_choice"] = _("There is no unit with this code among your units.")

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int):  # a bound ModelForm's initial value is the unit's id
            assert self.queryset is not None  # given to __init__
            return self.queryset.filter(pk=value).values_list("code", flat=True).first()
        return super().prepare_value(value)


def unit_field(units: Any, field: forms.Field, *, by_code: bool = False) -> forms.Field:
    """The same field as a drop-down for a small subtree, a code box for a large one (or always,
    `by_code`: the API names units by their code, and then nothing is counted)."""
    if not by_code and units.count() <= MAX_UNIT_OPTIONS:
        assert isinstance(field, forms.ModelChoiceField)  # a unit's field
        field.queryset = units
        return field
    return UnitCodeField(units, label=field.label, required=field.required)


class VNDField(forms.CharField):
    """Giá trị làm lợi in đồng, typed as "10.000.000"."""

    # A CharField for its widget and its stripping; what it cleans to is the amount, not the text.
    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        amount = parse_vnd(text)
        if amount is None:
            raise forms.ValidationError(_("Enter a whole amount in đồng, for example 10.000.000."), code="invalid_vnd")
        return amount

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int):
            return group_thousands(value)
        return value


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files at once, each checked by size and by the type its content shows."""

    widget = MultipleFileInput

    def __init__(self, *args: Any, max_files: int = MAX_FILES_PER_UPLOAD, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_files = max_files

    def clean(self, data: Any, initial: Any = None) -> list[AttachmentUpload]:
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if len(files) > self.max_files:
            raise forms.ValidationError(_("Attach at most %(count)s files at a time.") % {"count": self.max_files})
        return [self._check(super(AttachmentsField, self).clean(f, initial)) for f in files]

    def _check(self, upload: UploadedFile) -> AttachmentUpload:
        limit = settings.INITIATIVE_ATTACHMENT_MAX_BYTES
        assert upload.size is not None  # set by every upload handler
        if upload.size > limit:
            raise forms.ValidationError(
                _("“%(name)s” is %(size)s; each file may be at most %(limit)s.")
                % {"name": upload.name, "size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
        head = upload.read(8192)
        upload.seek(0)
        kind = filetype.guess(head)
        if kind is None or kind.extension not in ALLOWED_ATTACHMENTS:
            raise forms.ValidationError(
                _("“%(name)s” is not a PDF, Word (DOCX), Excel (XLSX), JPG or PNG file.") % {"name": upload.name}
            )
        return AttachmentUpload(file=upload, content_type=ALLOWED_ATTACHMENTS[kind.extension])


class InitiativeForm(forms.ModelForm):
    value_vnd = VNDField(
        label=gettext_lazy("Value benefit (VND)"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    attachments = AttachmentsField(
        label=gettext_lazy("Attachments"),
        required=False,
        help_text=gettext_lazy("PDF, DOCX, XLSX, JPG or PNG; you may choose several files."),
    )
    confirm_duplicate = forms.BooleanField(
        label=gettext_lazy("I confirm this initiative is not a copy of those above: submit it"),
        required=False,
    )

    class Meta:
        model = Initiative
        fields = (
            "title",
            "unit",
            "field",
            "kind",
            "summary",
            "description",
            "scope",
            "first_applied_on",
            "effectiveness",
            "value_vnd",
            "is_confidential",
            "recognition_number",
            "recognition_date",
            "recognition_level",
        )
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 3}),
            "description": forms.Textarea(attrs={"rows": 6}),
            "scope": forms.Textarea(attrs={"rows": 2}),
            "effectiveness": forms.Textarea(attrs={"rows": 3}),
            "first_applied_on": forms.DateInput(attrs={"placeholder": "dd/mm/yyyy"}),
            "recognition_date": forms.DateInput(attrs={"placeholder": "dd/mm/yyyy"}),
        }
        field_classes = {"unit": ListedModelChoiceField, "field": ListedModelChoiceField}

    def __init__(self, *args: Any, user: User, submitting: bool, unit_by_code: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.submitting = submitting
        # A draft needs only its title (the unit is preselected: the officer's own).
        for name, field in self.fields.items():
            field.required = name in ("title", "unit")
        units = units_in_scope(user).active().only("pk", "code", "name", "path")
        self.fields["unit"] = unit_field(units, self.fields["unit"], by_code=unit_by_code)
        cast(forms.ModelChoiceField, self.fields["field"]).queryset = Field.objects.filter(is_active=True)
        self.fields["value_vnd"].help_text = _("In đồng, e.g. 10.000.000")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Fieldset(
                _("The initiative"),
                "title",
                Div(Div("unit", css_class="col-12"), Div("field", css_class="col-md-6"),
                    Div("kind", css_class="col-md-6"), css_class="row"),  # a unit's full name needs the width
                "summary",
                "description",
                "scope",
                Div(Div("first_applied_on", css_class="col-md-4"), Div("value_vnd", css_class="col-md-4"),
                    Div("is_confidential", css_class="col-md-4 pt-md-4"), css_class="row"),
                "effectiveness",
            ),
            Fieldset(
                _("Recognition decision"),
                Div(Div("recognition_number", css_class="col-md-4"), Div("recognition_date", css_class="col-md-4"),
                    Div("recognition_level", css_class="col-md-4"), css_class="row"),
            ),
            Fieldset(_("Attachments"), "attachments"),
        )  # fmt: skip

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # Form.clean() returns cleaned_data
        if self.submitting:
            for name in REQUIRED_TO_SUBMIT:
                if cleaned.get(name) in (None, "") and name not in self.errors:
                    self.add_error(name, _("This field is required to submit the initiative."))
        applied = cleaned.get("first_applied_on")
        if applied and (message := outside_programme(program=self.instance.program, day=applied)):
            self.add_error("first_applied_on", message)
        return cleaned


class AuthorForm(forms.Form):
    full_name = CleanCharField(label=gettext_lazy("Full name"), max_length=200, required=False)
    position = CleanCharField(label=gettext_lazy("Position"), max_length=200, required=False)
    workplace = CleanCharField(label=gettext_lazy("Workplace"), max_length=300, required=False)
    share_percent = forms.DecimalField(
        label=gettext_lazy("Share (%)"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal(100),
        required=False,
        localize=True,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # Form.clean() returns cleaned_data
        if cleaned.get("full_name") and cleaned.get("share_percent") is None and "share_percent" not in self.errors:
            self.add_error("share_percent", _("Enter this author's share."))
        if cleaned.get("share_percent") is not None and not cleaned.get("full_name"):
            self.add_error("full_name", _("Enter the author's name."))
        return cleaned


class BaseAuthorFormSet(forms.BaseFormSet):
    """Tác giả: at least one to submit, and their shares must sum to 100."""

    def __init__(self, *args: Any, submitting: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.submitting = submitting

    def authors(self) -> list[AuthorData]:
        return [
            AuthorData(
                full_name=form.cleaned_data["full_name"],
                share_percent=form.cleaned_data["share_percent"],
                position=form.cleaned_data.get("position", ""),
                workplace=form.cleaned_data.get("workplace", ""),
            )
            for form in self.forms
            if form.cleaned_data.get("full_name")
        ]

    def clean(self) -> None:
        if any(self.errors):
            return
        authors = self.authors()
        if self.submitting and not authors:
            raise forms.ValidationError(_("Enter at least one author."))
        total = sum((author.share_percent for author in authors), Decimal(0))
        if authors and (self.submitting or total > 100) and total != 100:
            raise forms.ValidationError(
                _("The authors' shares must add up to 100%%; they add up to %(total)s%%.")
                % {"total": f"{total.normalize():f}".replace(".", ",")}
            )


MAX_AUTHORS = 20
# formset_factory() returns a subclass of `formset`; the stubs say only BaseFormSet.
AuthorFormSet = cast(
    type[BaseAuthorFormSet],
    forms.formset_factory(
        AuthorForm, formset=BaseAuthorFormSet, extra=0, max_num=MAX_AUTHORS, absolute_max=MAX_AUTHORS
    ),
)
# The submit button that asks for one more author row when the page's script does not run.
ADD_AUTHOR = "add_author"


def with_one_more_author(data: QueryDict, *, prefix: str = "authors") -> QueryDict:
    """The posted form with one more (empty) author row, up to MAX_AUTHORS."""
    data = data.copy()
    total = f"{prefix}-{TOTAL_FORM_COUNT}"
    rows = parse_id(data.get(total, "")) or 0
    data[total] = str(min(rows + 1, MAX_AUTHORS))
    return data


def shown_as_typed(form: forms.BaseForm | forms.BaseFormSet) -> None:
    """Show a bound form (or formset) again as typed without checking it: asking for one more
    author row sends nothing, so nothing the officer typed so far is reported as an error."""
    # The caches `errors` and `non_form_errors()` fill: Django's private names, unknown to the stubs
    # (and so is a formset's renderer).
    if isinstance(form, forms.BaseFormSet):
        for each in form.forms:
            shown_as_typed(each)
        form._errors = [each.errors for each in form.forms]  # type: ignore[attr-defined]
        form._non_form_errors = form.error_class(error_class="nonform", renderer=form.renderer)  # type: ignore[attr-defined]
        return
    form._errors = ErrorDict(renderer=form.renderer)  # type: ignore[attr-defined]
    form.cleaned_data = {}


def author_initial(initiative: Initiative, *, rows: int = 3) -> list[dict[str, Any]]:
    """The initiative's authors, padded with empty rows so several can be typed without scripts."""
    existing = [
        {"full_name": a.full_name, "position": a.position, "workplace": a.workplace, "share_percent": a.share_percent}
        for a in (initiative.authors.all() if initiative.pk else Author.objects.none())
    ]
    return existing + [{}] * max(rows - len(existing), 1)


class InitiativeFilterForm(forms.Form):
    """The filters of "Sáng kiến của đơn vị" (GET)."""

    q = forms.CharField(label=gettext_lazy("Search"), required=False)
    unit = ListedModelChoiceField(label=gettext_lazy("Unit"), queryset=Union.objects.none(), required=False)
    field = ListedModelChoiceField(label=gettext_lazy("Field"), queryset=Field.objects.all(), required=False)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        choices=[("", gettext_lazy("All statuses")), *Initiative.Status.choices],
        required=False,
    )
    phase = ListedModelChoiceField(label=gettext_lazy("Phase"), queryset=Phase.objects.none(), required=False)

    def __init__(self, *args: Any, user: User, program: Program | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = units_in_scope(user).only("pk", "code", "name", "path")
        self.fields["unit"] = unit_field(units, self.fields["unit"])
        phases = program.phases.all() if program else Phase.objects.none()
        cast(forms.ModelChoiceField, self.fields["phase"]).queryset = phases


# The initiatives one import from Excel created (its form's token, Initiative.import_token): where an
# import leads. Added by name, "import" being a Python keyword; kept as the other filters change.
InitiativeFilterForm.base_fields["import"] = forms.UUIDField(
    label=gettext_lazy("Import from Excel"), required=False, widget=forms.HiddenInput
)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet (.xlsx, .xlsm, .xls or .ods)"),
        help_text=gettext_lazy("Fill in the template; if any row is wrong, nothing is imported."),
        # The browser's file picker offers workbooks first; the content is checked anyway.
        widget=forms.ClearableFileInput(attrs={"accept": SPREADSHEET_ACCEPT}),
    )


class PublicFilterForm(forms.Form):
    """Filters of the public list: field, unit (by code) and a diacritic-free search."""

    q = forms.CharField(label=gettext_lazy("Search"), required=False)
    field = ListedModelChoiceField(label=gettext_lazy("Field"), queryset=Field.objects.all(), required=False)
    unit = forms.ModelChoiceField(
        label=gettext_lazy("Unit code"),
        queryset=Union.objects.only("pk", "code", "path"),
        to_field_name="code",
        required=False,
        widget=forms.TextInput,
    )
