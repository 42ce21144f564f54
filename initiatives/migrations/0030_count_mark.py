import django.db.models.functions.datetime
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("initiatives", "0029_initiative_import_index")]

    operations = [
        # Count marks (docs/leaderboard-storage.md §2.3): insert-only for the writers, read whole and
        # deleted by id by the snapshot, so no index but the primary key; no foreign key, so the
        # mark of a deleted initiative stays.
        migrations.CreateModel(
            name="CountMark",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("initiative_id", models.BigIntegerField(verbose_name="initiative")),
                (
                    "marked_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(), verbose_name="marked at"
                    ),
                ),
            ],
            options={"verbose_name": "count mark", "verbose_name_plural": "count marks"},
        ),
    ]
