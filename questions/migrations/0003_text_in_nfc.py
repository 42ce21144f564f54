"""Existing questions, answers and pages in NFC (issue 16): only the rows not in NFC are written."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from sangkien.cleaning import nfc_normalise_columns


def text_in_nfc(apps: Any, schema_editor: Any) -> None:
    nfc_normalise_columns(apps.get_model("questions", "Question"), schema_editor, columns=("subject", "body", "answer"))
    nfc_normalise_columns(apps.get_model("questions", "Page"), schema_editor, columns=("title", "body"))


class Migration(migrations.Migration):
    dependencies = [("questions", "0002_vietnamese_collation")]

    # Reversed as a no-op: the NFD spellings were never meant, and NFC reads the same.
    operations = [migrations.RunPython(text_in_nfc, migrations.RunPython.noop)]
