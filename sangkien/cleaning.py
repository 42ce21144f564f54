"""Text stored in NFC, without invisible characters, whichever way it comes in.

One normaliser (`sangkien.text.clean_text`) reaches every way in:
- the admin, the site's model forms and every service go through `Model.full_clean()`: the
  `CleanTextModel` mixin normalises the model's text columns in `clean_fields()`, before they are
  validated (a length, a uniqueness), so a model form, an admin form and a service need nothing more;
- the site's plain forms (an author row, a question) hand their data to services that
  `bulk_create` without `full_clean()`: their fields are `CleanCharField`;
- the imports bulk-create too: they read every cell through `sangkien.spreadsheets.cell_text`.

Why not a model field class (`get_prep_value`)? Every text column would need an AlterField
migration, and a value would stay un-normalised in memory until read back.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from sangkien.text import clean_text, fold_key


class CleanTextModel:
    """Mixin for a model whose free text is stored as `clean_text` makes it: one-line columns
    (CharField) single-spaced, TextField kept multi-line. Columns with choices are left alone."""

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        assert isinstance(self, models.Model)
        for field in self._meta.concrete_fields:
            if not isinstance(field, (models.CharField, models.TextField)) or field.choices:
                continue
            if field.name == "password":  # a hash, or a secret typed as it must be
                continue
            if exclude is not None and field.name in exclude:
                continue
            value = getattr(self, field.attname)
            if isinstance(value, str):
                setattr(self, field.attname, clean_text(value, multiline=isinstance(field, models.TextField)))
        super().clean_fields(exclude)  # type: ignore[misc]


class CleanCharField(forms.CharField):
    """A form field whose value is `clean_text`: NFC, no invisible characters; one line unless
    `multiline` (for a Textarea)."""

    def __init__(self, *, multiline: bool = False, **kwargs: Any) -> None:
        self.multiline = multiline
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str | None:
        text = super().to_python(value)
        return clean_text(text, multiline=self.multiline) if text else text


def refuse_look_alike(instance: models.Model, field: str) -> None:
    """Refuse a name that `fold_key` makes equal to another row's ("Hoà Bình" beside "Hòa Bình",
    "A - B" beside "A – B"), for the small named tables the imports match by that key (clusters,
    fields): a look-alike would split what the imports put together.

    A check in `clean()` rather than a unique folded-key column: the tables hold hundreds of rows,
    are written by the board in the admin (which calls `full_clean()`) and by the units import
    (which matches by the key before creating), so a column, its backfill and its upkeep in every
    bulk write would buy nothing but a race nobody runs."""
    name = getattr(instance, field)
    if not name:
        return
    key = fold_key(name)
    others = type(instance)._default_manager.exclude(pk=instance.pk).values_list(field, flat=True)
    clash = next((other for other in others.iterator() if fold_key(other) == key), None)
    if clash is not None:
        raise ValidationError(
            {
                field: _("“%(name)s” is already here as “%(other)s”: only accents, case or punctuation differ.")
                % {"name": name, "other": clash}
            }
        )
