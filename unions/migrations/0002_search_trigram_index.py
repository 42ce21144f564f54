"""Trigram index for diacritic-free search on PostgreSQL (SQLite, the dev default, scans instead)."""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # Serves UnionQuerySet.search(): search_text LIKE '%term%' (admin search and autocomplete).
    "CREATE INDEX IF NOT EXISTS union_search_trgm ON unions_union USING gin (search_text gin_trgm_ops)",
]
BACKWARD = ["DROP INDEX IF EXISTS union_search_trgm"]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("unions", "0001_initial")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
