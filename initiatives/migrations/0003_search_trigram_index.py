"""Trigram index for diacritic-free search of initiatives on PostgreSQL."""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # Serves InitiativeQuerySet.search(): search_text LIKE '%term%'.
    "CREATE INDEX IF NOT EXISTS initiative_search_trgm ON initiatives_initiative USING gin (search_text gin_trgm_ops)",
]
BACKWARD = ["DROP INDEX IF EXISTS initiative_search_trgm"]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("initiatives", "0002_role_groups"), ("unions", "0002_search_trigram_index")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
