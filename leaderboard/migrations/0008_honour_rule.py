"""A programme's honours rule (issue 19): the count its leading units are chosen by and how far
above their target for the period they must be; granted to the board as the programme's settings are."""

import django.db.models.deletion
from django.db import migrations, models

from unions.permissions import grant_roles_in_migration


def grant(apps, schema_editor):
    grant_roles_in_migration(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("initiatives", "0031_quarter_target"),
        ("leaderboard", "0007_snapshot_programme"),
    ]

    operations = [
        migrations.CreateModel(
            name="HonourRule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "count",
                    models.CharField(
                        choices=[("submitted", "initiatives submitted"), ("valid", "initiatives found valid")],
                        default="submitted",
                        max_length=16,
                        verbose_name="count by",
                    ),
                ),
                ("margin", models.PositiveIntegerField(default=1, verbose_name="at least this many above the target")),
                (
                    "program",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="honour_rule",
                        to="initiatives.program",
                        verbose_name="programme",
                    ),
                ),
            ],
            options={
                "verbose_name": "honours rule",
                "verbose_name_plural": "honours rules",
            },
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
