"""Let the board edit the guide page."""

from django.db import migrations

from unions.permissions import grant_roles_in_migration


def grant(apps, schema_editor):
    grant_roles_in_migration(apps)


class Migration(migrations.Migration):
    dependencies = [("initiatives", "0011_guide_page")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
