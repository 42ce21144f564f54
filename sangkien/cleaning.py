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

import unicodedata
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


def nfc_normalise_columns(model: type[models.Model], schema_editor: Any, *, columns: tuple[str, ...]) -> int:
    """Rewrite in NFC the text `columns` of `model`'s rows that are not in NFC; return how many rows.

    For data migrations over millions of rows: on PostgreSQL one UPDATE whose WHERE (`IS NOT NFC
    NORMALIZED`) picks only the rows that differ, so a table already in NFC is read once and not
    written; elsewhere (SQLite) a Python pass that writes only the rows that differ. A unique
    column is rewritten row by row, and a row whose NFC spelling another row already holds is left
    as it is (the folded matching finds both): a migration must not fail on a look-alike pair."""
    connection = schema_editor.connection
    table = connection.ops.quote_name(model._meta.db_table)
    unique = {column for column in columns if _is_unique(model, column)}
    plain = [connection.ops.quote_name(column) for column in columns if column not in unique]
    changed = 0
    with connection.cursor() as cursor:
        utf8 = connection.vendor == "postgresql" and connection.pg_version >= 130000
        if utf8:
            cursor.execute("SHOW server_encoding")
            utf8 = cursor.fetchone()[0] == "UTF8"
        if plain and utf8:
            assignments = ", ".join(f"{column} = normalize({column}, NFC)" for column in plain)
            differs = " OR ".join(f"{column} IS NOT NFC NORMALIZED" for column in plain)
            cursor.execute(f"UPDATE {table} SET {assignments} WHERE {differs}")
            changed += cursor.rowcount
        python_columns = [*unique] if utf8 else list(columns)
        for column in python_columns:
            changed += _nfc_column_in_python(model, column=column)
    return changed


def _is_unique(model: type[models.Model], column: str) -> bool:
    field = model._meta.get_field(column)
    return isinstance(field, models.Field) and field.unique


def _nfc_column_in_python(model: type[models.Model], *, column: str) -> int:
    manager = model._default_manager
    unique = _is_unique(model, column)
    taken = set(manager.values_list(column, flat=True)) if unique else set()
    changed = 0
    for pk, value in manager.order_by("pk").values_list("pk", column).iterator(chunk_size=5000):
        if not isinstance(value, str) or unicodedata.is_normalized("NFC", value):
            continue
        normal = unicodedata.normalize("NFC", value)
        if unique and normal in taken:
            continue
        taken.add(normal)
        manager.filter(pk=pk).update(**{column: normal})
        changed += 1
    return changed
