# The emulation app's models, moved out of the initiatives app (app split, issue 14): their tables
# stay as they are (db_table); only Django's state moves, and their content types with it, so that
# permissions, group grants and admin history follow them.

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import emulation.models
from sangkien.app_moves import move_content_types


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("initiatives", "0023_notification_next_attempt"),
        ("unions", "0002_search_trigram_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="EmulationCriterion",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("code", models.CharField(max_length=20, verbose_name="code")),
                        ("name", models.CharField(max_length=255, verbose_name="name")),
                        (
                            "metric",
                            models.CharField(
                                choices=[
                                    ("submitted", "Submitted initiatives"),
                                    ("valid", "Valid initiatives"),
                                    ("completion", "Completion of the target (%)"),
                                    ("per_100_members", "Initiatives per 100 members"),
                                    ("participation", "Participating grassroots units (%)"),
                                    ("value", "Value benefit (đồng)"),
                                    ("valid_ratio", "Valid share of the submitted (%)"),
                                ],
                                max_length=20,
                                verbose_name="metric",
                            ),
                        ),
                        (
                            "weight",
                            models.DecimalField(
                                decimal_places=2,
                                default=Decimal("1"),
                                max_digits=6,
                                validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                                verbose_name="weight",
                            ),
                        ),
                        ("position", models.PositiveSmallIntegerField(default=0, verbose_name="position")),
                        (
                            "program",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="criteria",
                                to="initiatives.program",
                                verbose_name="programme",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "emulation criterion",
                        "verbose_name_plural": "emulation criteria",
                        "db_table": "initiatives_emulationcriterion",
                        "ordering": ["program", "position", "code"],
                    },
                ),
                migrations.CreateModel(
                    name="ExportJob",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "level",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("confederation", "Confederation"),
                                    ("tier2", "Provincial federation / sector union"),
                                    ("superior", "Superior-level union"),
                                    ("grassroots", "Grassroots union"),
                                ],
                                max_length=16,
                                verbose_name="level",
                            ),
                        ),
                        (
                            "requested_at",
                            models.DateTimeField(default=django.utils.timezone.now, verbose_name="asked at"),
                        ),
                        ("as_of", models.DateTimeField(default=django.utils.timezone.now, verbose_name="as of")),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("queued", "Queued"),
                                    ("running", "Running"),
                                    ("done", "Done"),
                                    ("failed", "Failed"),
                                ],
                                default="queued",
                                max_length=10,
                                verbose_name="status",
                            ),
                        ),
                        ("claim", models.UUIDField(blank=True, editable=False, null=True)),
                        ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="attempts")),
                        ("started_at", models.DateTimeField(blank=True, null=True, verbose_name="started at")),
                        ("heartbeat_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="finished at")),
                        ("total_rows", models.PositiveIntegerField(default=0, verbose_name="units to write")),
                        ("rows_done", models.PositiveIntegerField(default=0, verbose_name="units written")),
                        ("seconds", models.FloatField(blank=True, null=True, verbose_name="time taken (s)")),
                        ("error", models.TextField(blank=True, verbose_name="error")),
                        (
                            "file",
                            models.FileField(
                                blank=True, max_length=200, upload_to=emulation.models.export_path, verbose_name="file"
                            ),
                        ),
                        (
                            "cluster",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="unions.emulationcluster",
                                verbose_name="emulation cluster",
                            ),
                        ),
                        (
                            "phase",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="initiatives.phase",
                                verbose_name="phase",
                            ),
                        ),
                        (
                            "program",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="initiatives.program",
                                verbose_name="programme",
                            ),
                        ),
                        (
                            "requested_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="asked by",
                            ),
                        ),
                        (
                            "scope",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="unions.union",
                                verbose_name="units under",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "emulation export",
                        "verbose_name_plural": "emulation exports",
                        "db_table": "initiatives_exportjob",
                        "ordering": ["-requested_at"],
                    },
                ),
                migrations.CreateModel(
                    name="ExportStart",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="asked at")),
                        (
                            "job",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="starts",
                                to="emulation.exportjob",
                                verbose_name="export",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="asked by",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "export start",
                        "verbose_name_plural": "export starts",
                        "db_table": "initiatives_exportstart",
                        "ordering": ["-at"],
                    },
                ),
                migrations.CreateModel(
                    name="ScoringBand",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "min_value",
                            models.DecimalField(decimal_places=2, max_digits=18, verbose_name="from (at least)"),
                        ),
                        ("points", models.DecimalField(decimal_places=2, max_digits=8, verbose_name="points")),
                        (
                            "criterion",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="bands",
                                to="emulation.emulationcriterion",
                                verbose_name="criterion",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "scoring band",
                        "verbose_name_plural": "scoring bands",
                        "db_table": "initiatives_scoringband",
                        "ordering": ["criterion", "min_value"],
                    },
                ),
                migrations.AddConstraint(
                    model_name="emulationcriterion",
                    constraint=models.UniqueConstraint(fields=("program", "code"), name="criterion_code_unique"),
                ),
                migrations.AddIndex(
                    model_name="exportjob",
                    index=models.Index(fields=["status", "heartbeat_at"], name="exportjob_status"),
                ),
                migrations.AddIndex(
                    model_name="exportstart",
                    index=models.Index(fields=["user", "at"], name="exportstart_user_at"),
                ),
                migrations.AddConstraint(
                    model_name="scoringband",
                    constraint=models.UniqueConstraint(fields=("criterion", "min_value"), name="band_unique_threshold"),
                ),
            ],
            database_operations=[],
        ),
        move_content_types(
            old_app="initiatives",
            new_app="emulation",
            models=["emulationcriterion", "scoringband", "exportjob", "exportstart"],
        ),
    ]
