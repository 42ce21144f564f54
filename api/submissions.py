"""Saving or submitting an initiative through the API (issue 21, item 1) as the site's form does:
the JSON body becomes the data of the site's own form and author formset (initiatives.forms), so the
rules and their Vietnamese messages are the form's, and the site's services write ("submit": false
is "Lưu nháp", true is "Gửi").

A refusal is one JSON object (api.serializers.SubmissionErrorSerializer): each field of the body that
is wrong → its messages; `authors` → one object per author given, in order, with the messages of
that author's fields ({} for an author without error); `non_field_errors` → what concerns the body as
a whole or the authors taken together (at least one to submit, their shares adding up to 100%, at
most MAX_AUTHORS of them). A value of the wrong JSON type is refused before the form's rules are
checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.formsets import INITIAL_FORM_COUNT, MAX_NUM_FORM_COUNT, MIN_NUM_FORM_COUNT, TOTAL_FORM_COUNT
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from initiatives.forms import MAX_AUTHORS, AuthorFormSet, BaseAuthorFormSet, InitiativeForm
from initiatives.models import Initiative
from initiatives.services import initiative_save_draft, initiative_submit, submission_doubts
from unions.models import User

PREFIX = "authors"  # the formset's, as on the site
NON_FIELD = "non_field_errors"  # rest_framework's NON_FIELD_ERRORS_KEY, as in its own refusals
# The body's fields, by the JSON type each takes ("" or null for one left empty).
TEXTS = (
    "title", "unit", "kind", "summary", "description", "scope", "first_applied_on", "effectiveness",
    "recognition_number", "recognition_date", "recognition_level",
)  # fmt: skip
NUMBERS = ("field", "value_vnd")  # an id and an amount in đồng: a whole number (or its text, as the form takes it)
FLAGS = ("is_confidential", "confirm_duplicate")
AUTHOR_TEXTS = ("full_name", "position", "workplace")


class Refused(Exception):
    """The body cannot be saved: `errors` says why, field by field (the shape above)."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class Checked:
    """A body the form and the formset found valid."""

    form: InitiativeForm
    authors: BaseAuthorFormSet
    submitting: bool


def wrong_type(expected: str) -> str:
    return _("This value is not of the type the API's schema gives (%(type)s).") % {"type": expected}


def check(body: object, *, user: User, initiative: Initiative) -> Checked:
    """The body checked by the site's form and formset, as `user` (the token's officer) would fill
    them for `initiative` (new: its programme and, unless the body names another, its unit)."""
    data, submitting = form_data(body, unit=initiative.unit.code)
    form = InitiativeForm(data, instance=initiative, user=user, submitting=submitting, unit_by_code=True)
    authors = AuthorFormSet(data, prefix=PREFIX, submitting=submitting)
    if form.is_valid() & authors.is_valid():  # both checked: every error is told at once
        return Checked(form=form, authors=authors, submitting=submitting)
    raise Refused(form_errors(form, authors))


def form_data(body: object, *, unit: str) -> tuple[dict[str, Any], bool]:
    """What the site's form would post for this body, and whether it is "Gửi"; `unit` when it
    names none."""
    if not isinstance(body, dict):
        raise Refused({NON_FIELD: [wrong_type("object")]})
    errors: dict[str, Any] = {}
    data: dict[str, Any] = {name: _text(body, name, errors) for name in TEXTS}
    data |= {name: _number(body, name, errors) for name in NUMBERS}
    data |= {name: _flag(body, name, errors) for name in FLAGS}
    if body.get("unit") is None:
        data["unit"] = unit
    submitting = _flag(body, "submit", errors)
    rows = body.get("authors")
    if not isinstance(rows, list | None):
        errors.setdefault(NON_FIELD, []).append(_("Give the authors as a list of objects."))
    rows = rows if isinstance(rows, list) else []
    # Rows beyond the formset's limit are never read: the formset refuses that many.
    row_errors: list[dict[str, list[str]]] = []
    for index, row in enumerate(rows[: MAX_AUTHORS + 1]):
        found: dict[str, list[str]] = {}
        if not isinstance(row, dict):
            found[NON_FIELD] = [wrong_type("object")]
            row = {}
        data |= {f"{PREFIX}-{index}-{name}": _text(row, name, found) for name in AUTHOR_TEXTS}
        data[f"{PREFIX}-{index}-share_percent"] = _number(row, "share_percent", found, decimal=True)
        row_errors.append(found)
    if any(row_errors):
        errors["authors"] = row_errors
    if errors:
        raise Refused(errors)
    data |= {
        f"{PREFIX}-{TOTAL_FORM_COUNT}": str(len(rows)),
        f"{PREFIX}-{INITIAL_FORM_COUNT}": "0",
        f"{PREFIX}-{MIN_NUM_FORM_COUNT}": "0",
        f"{PREFIX}-{MAX_NUM_FORM_COUNT}": str(MAX_AUTHORS),
    }
    return data, submitting


def _text(body: dict[str, Any], name: str, errors: dict[str, Any]) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name] = [wrong_type("string")]
        return ""
    return value


def _number(body: dict[str, Any], name: str, errors: dict[str, Any], *, decimal: bool = False) -> str:
    """A number as the form reads it: its text (the form's own rules and messages then apply)."""
    value = body.get(name)
    if value is None:
        return ""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    if decimal and isinstance(value, float):
        return repr(value)  # the shortest text that reads back as this number: 33.33, not 33.329999…
    errors[name] = [wrong_type("number" if decimal else "integer")]
    return ""


def _flag(body: dict[str, Any], name: str, errors: dict[str, Any]) -> bool:
    value = body.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        errors[name] = [wrong_type("boolean")]
        return False
    return value


def form_errors(form: InitiativeForm, authors: BaseAuthorFormSet) -> dict[str, Any]:
    """The form's and the formset's errors, in the refusal's shape."""
    errors: dict[str, Any] = {}
    for name, messages in form.errors.items():
        errors.setdefault(NON_FIELD if name == NON_FIELD_ERRORS else name, []).extend(messages)
    rows = [{name: list(messages) for name, messages in each.errors.items()} for each in authors.forms]
    if any(rows):
        errors["authors"] = rows
    if authors.non_form_errors():
        errors.setdefault(NON_FIELD, []).extend(authors.non_form_errors())
    return errors


def _day(initiative: Initiative) -> str:
    return date_format(timezone.localtime(initiative.submitted_at), "d/m/Y") if initiative.submitted_at else ""


def write(checked: Checked, *, by: User, viewer: User) -> Initiative:
    """Save the checked initiative, as a draft or submitted, through the site's services: in the
    caller's transaction, after its claim of the request (api.idempotency), so that a retry waiting
    for this one is answered as a retry, not told about the title this one took.

    As on the site, "Gửi" first asks about another initiative of the unit with the same title in the
    programme, and about the initiatives much alike anywhere in the country (the national check for
    copies, shown as `viewer`, the token's officer, may see them): `confirm_duplicate` submits it anyway."""
    form = checked.form
    if checked.submitting and not form.cleaned_data["confirm_duplicate"]:
        doubts = submission_doubts(initiative=form.instance, viewer=viewer)
        asked = []
        if doubts.same_title:
            listed = "; ".join(
                f"{other.title} (#{other.pk}, {other.get_status_display()}, {_day(other)})"
                for other in doubts.same_title
            )
            asked.append(
                f"{_('Your unit has already submitted an initiative with this title in this programme:')} {listed}"
            )
        if doubts.alike:
            listed = "; ".join(
                _("%(percent)s%% alike") % {"percent": found.percent}
                + ": "
                + (
                    f"{found.initiative.title} – {found.initiative.unit.name}"
                    if found.shown
                    else _("a confidential initiative of another branch (its content and unit are not shown)")
                )
                + f" (#{found.initiative.pk}, {found.initiative.get_status_display()}"
                + (f", {_day(found.initiative)})" if found.shown else ")")
                for found in doubts.alike
            )
            intro = _(
                "National check for copies: these initiatives already submitted are much alike in title and "
                "summary. Nothing has been submitted yet."
            )
            asked.append(f"{intro} {listed}")
        if asked:
            raise Refused({"title": asked})
    service = initiative_submit if checked.submitting else initiative_save_draft
    try:
        return service(initiative=form.instance, authors=checked.authors.authors(), by=by)
    except ValidationError as error:  # the services' own rules, which the form checked already
        if not hasattr(error, "error_dict"):
            raise Refused({NON_FIELD: error.messages}) from error
        raise Refused(
            {NON_FIELD if name == NON_FIELD_ERRORS else name: messages for name, messages in error.message_dict.items()}
        ) from error
