"""Chỉ tiêu quý: a unit's target for one calendar quarter of a programme (issue 19), granted to the
board as the programme targets are."""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

from unions.permissions import grant_roles_in_migration


def grant(apps, schema_editor):
    grant_roles_in_migration(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("initiatives", "0030_count_mark"),
        ("unions", "0004_text_in_nfc"),
    ]

    operations = [
        migrations.CreateModel(
            name="QuarterTarget",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("year", models.PositiveSmallIntegerField(verbose_name="year")),
                (
                    "quarter",
                    models.PositiveSmallIntegerField(
                        choices=[(1, 1), (2, 2), (3, 3), (4, 4)],
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(4),
                        ],
                        verbose_name="quarter",
                    ),
                ),
                ("quantity", models.PositiveIntegerField(verbose_name="target number of initiatives")),
                (
                    "program",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="quarter_targets",
                        to="initiatives.program",
                        verbose_name="programme",
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="quarter_targets",
                        to="unions.union",
                        verbose_name="unit",
                    ),
                ),
            ],
            options={
                "verbose_name": "quarter target",
                "verbose_name_plural": "quarter targets",
                "ordering": ["program", "-year", "-quarter", "unit"],
                "indexes": [
                    models.Index(fields=["program", "year", "quarter", "unit"], name="quarter_target_by_quarter")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("program", "unit", "year", "quarter"), name="quarter_target_unique_per_unit_and_quarter"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("quarter__gte", 1), ("quarter__lte", 4)), name="quarter_target_quarter"
                    ),
                ],
            },
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
