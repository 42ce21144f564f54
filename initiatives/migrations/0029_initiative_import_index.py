from django.db import migrations, models

from sangkien.indexes import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY on PostgreSQL

    dependencies = [("initiatives", "0028_initiative_import_token")]

    operations = [
        AddIndexConcurrently(
            model_name="initiative",
            index=models.Index(
                condition=models.Q(("import_token__isnull", False)),
                fields=["import_token"],
                name="initiative_import",
            ),
        ),
    ]
