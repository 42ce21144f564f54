from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("initiatives", "0027_list_indexes")]

    operations = [
        # Nullable without a default: PostgreSQL adds the column without rewriting the table.
        migrations.AddField(
            model_name="initiative",
            name="import_token",
            field=models.UUIDField(blank=True, editable=False, null=True, verbose_name="import"),
        ),
    ]
