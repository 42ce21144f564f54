"""Groups for the reviewers (Ban CSPL&QHLĐ) and the leadership, with their admin permissions."""

from django.db import migrations

from unions.permissions import LEADERSHIP_GROUP, REVIEWERS_GROUP, grant_roles_in_migration


def create_groups(apps, schema_editor):
    grant_roles_in_migration(apps)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[REVIEWERS_GROUP, LEADERSHIP_GROUP]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("initiatives", "0001_initial"),
        ("unions", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
