from django.db import migrations, models

from sangkien.indexes import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY on PostgreSQL

    dependencies = [("initiatives", "0026_text_in_nfc")]

    operations = [
        AddIndexConcurrently(
            model_name="initiative",
            index=models.Index(fields=["-updated_at", "-id"], name="initiative_recently_updated"),
        ),
        AddIndexConcurrently(
            model_name="initiative",
            index=models.Index(fields=["status", "-submitted_at", "-id"], name="initiative_status_newest"),
        ),
    ]
