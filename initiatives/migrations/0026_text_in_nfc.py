"""Existing titles, summaries and names in NFC (issue 16): only the rows not in NFC are written
(a few, of 2.5 million initiatives). search_text is folded, the same for NFD and NFC."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from sangkien.cleaning import nfc_normalise_columns


def text_in_nfc(apps: Any, schema_editor: Any) -> None:
    nfc_normalise_columns(apps.get_model("initiatives", "Program"), schema_editor, columns=("name", "description"))
    nfc_normalise_columns(apps.get_model("initiatives", "Field"), schema_editor, columns=("name",))
    nfc_normalise_columns(
        apps.get_model("initiatives", "Initiative"),
        schema_editor,
        columns=("title", "summary", "description", "scope", "effectiveness", "recognition_number"),
    )
    nfc_normalise_columns(
        apps.get_model("initiatives", "Author"), schema_editor, columns=("full_name", "position", "workplace")
    )


class Migration(migrations.Migration):
    dependencies = [("initiatives", "0025_vietnamese_collation")]

    # Reversed as a no-op: the NFD spellings were never meant, and NFC reads the same.
    operations = [migrations.RunPython(text_in_nfc, migrations.RunPython.noop)]
