"""Grant the review queue (a new proxy model) and attachments to the board's groups."""

from django.db import migrations

from unions.permissions import grant_roles_in_migration


def grant(apps, schema_editor):
    grant_roles_in_migration(apps)


class Migration(migrations.Migration):
    dependencies = [("initiatives", "0006_review_note_and_queue")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
