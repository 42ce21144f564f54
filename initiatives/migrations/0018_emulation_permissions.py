"""Grant the emulation criteria (and a view of the export jobs) to the board's groups."""

from django.db import migrations

from unions.permissions import grant_roles_in_migration


def grant(apps, schema_editor):
    grant_roles_in_migration(apps)


class Migration(migrations.Migration):
    dependencies = [("initiatives", "0017_emulation_export")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
