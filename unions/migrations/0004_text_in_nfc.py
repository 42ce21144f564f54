"""Existing names in NFC (issue 16): only the rows not in NFC are written. Codes are ASCII by
their validator, paths are made of codes, search_text is folded: none of them changes."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from sangkien.cleaning import nfc_normalise_columns


def text_in_nfc(apps: Any, schema_editor: Any) -> None:
    nfc_normalise_columns(apps.get_model("unions", "EmulationCluster"), schema_editor, columns=("name", "description"))
    nfc_normalise_columns(apps.get_model("unions", "Union"), schema_editor, columns=("name", "short_name"))


class Migration(migrations.Migration):
    dependencies = [("unions", "0003_vietnamese_collation")]

    # Reversed as a no-op: the NFD spellings were never meant, and NFC reads the same.
    operations = [migrations.RunPython(text_in_nfc, migrations.RunPython.noop)]
