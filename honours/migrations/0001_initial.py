"""Honours decisions (issue 19): drafts prepared from a snapshot's proposal, issued and frozen, with their
entries; shown to leadership and the board in the admin, read-only."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from unions.permissions import grant_roles_in_migration


def grant(apps, schema_editor):
    grant_roles_in_migration(apps)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("initiatives", "0032_formsubmission_honours"),
        ("leaderboard", "0008_honour_rule"),
        ("unions", "0004_text_in_nfc"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HonourDecision",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("taken_at", models.DateTimeField(verbose_name="figures as of")),
                (
                    "period_kind",
                    models.CharField(
                        choices=[("quarter", "Quarter"), ("phase", "Phase"), ("programme", "Whole programme")],
                        max_length=10,
                        verbose_name="period",
                    ),
                ),
                ("quarter_key", models.PositiveIntegerField(blank=True, null=True, verbose_name="quarter")),
                ("period_label", models.CharField(max_length=200, verbose_name="period")),
                ("period_token", models.CharField(max_length=20, verbose_name="period")),
                ("scope_name", models.CharField(max_length=255, verbose_name="units under")),
                (
                    "count",
                    models.CharField(
                        choices=[("submitted", "initiatives submitted"), ("valid", "initiatives found valid")],
                        max_length=16,
                        verbose_name="count by",
                    ),
                ),
                ("margin", models.PositiveIntegerField(verbose_name="at least this many above the target")),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "Draft"), ("issued", "Issued")],
                        default="draft",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("issuer_name", models.CharField(blank=True, max_length=255, verbose_name="issued by (body)")),
                ("number", models.CharField(blank=True, max_length=50, verbose_name="decision number")),
                ("place", models.CharField(blank=True, max_length=100, verbose_name="place")),
                ("signed_on", models.DateField(blank=True, null=True, verbose_name="date of the decision")),
                ("signed_year", models.PositiveSmallIntegerField(blank=True, editable=False, null=True)),
                ("signer", models.CharField(blank=True, max_length=200, verbose_name="signed by")),
                ("note", models.TextField(blank=True, verbose_name="note")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="prepared at")),
                ("issued_at", models.DateTimeField(blank=True, null=True, verbose_name="issued at")),
                (
                    "corrects",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="corrections",
                        to="honours.honourdecision",
                        verbose_name="corrects",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="prepared by",
                    ),
                ),
                (
                    "issued_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="issued by",
                    ),
                ),
                (
                    "issuer",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="unions.union",
                        verbose_name="issued by (body)",
                    ),
                ),
                (
                    "phase",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="initiatives.phase",
                        verbose_name="phase",
                    ),
                ),
                (
                    "program",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="initiatives.program",
                        verbose_name="programme",
                    ),
                ),
                (
                    "scope",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="unions.union",
                        verbose_name="units under",
                    ),
                ),
                (
                    "snapshot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="leaderboard.leaderboardsnapshot",
                        verbose_name="snapshot",
                    ),
                ),
            ],
            options={
                "verbose_name": "honours decision",
                "verbose_name_plural": "honours decisions",
                "ordering": ["-issued_at", "-created_at"],
            },
        ),
        migrations.CreateModel(
            name="HonourEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("position", models.PositiveIntegerField(verbose_name="position")),
                (
                    "level",
                    models.CharField(
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
                ("cluster_name", models.CharField(blank=True, max_length=255, verbose_name="emulation cluster")),
                ("unit_code", models.CharField(max_length=50, verbose_name="unit code")),
                ("unit_name", models.CharField(max_length=255, verbose_name="unit")),
                ("count", models.PositiveIntegerField(verbose_name="initiatives")),
                ("target", models.PositiveIntegerField(blank=True, null=True, verbose_name="target for the period")),
                ("meets", models.BooleanField(verbose_name="meets the rule")),
                ("excluded", models.BooleanField(default=False, verbose_name="excluded")),
                ("reason", models.CharField(blank=True, max_length=300, verbose_name="reason for the exclusion")),
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
                    "decision",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="entries",
                        to="honours.honourdecision",
                        verbose_name="decision",
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="unions.union",
                        verbose_name="unit",
                    ),
                ),
            ],
            options={
                "verbose_name": "honours entry",
                "verbose_name_plural": "honours entries",
                "ordering": ["decision", "position"],
            },
        ),
        migrations.AddIndex(
            model_name="honourdecision",
            index=models.Index(fields=["program", "status", "-signed_on"], name="honour_decision_published"),
        ),
        migrations.AddConstraint(
            model_name="honourdecision",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "issued")), fields=("corrects",), name="honour_corrected_once"
            ),
        ),
        migrations.AddConstraint(
            model_name="honourdecision",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "issued")),
                fields=("issuer", "signed_year", "number"),
                name="honour_number_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="honourdecision",
            constraint=models.UniqueConstraint(
                condition=models.Q(("corrects__isnull", True), ("status", "issued")),
                fields=("program", "scope", "period_token"),
                name="honour_period_decided_once",
            ),
        ),
        migrations.AddConstraint(
            model_name="honourdecision",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status", "draft"),
                    models.Q(
                        models.Q(("number", ""), _negated=True),
                        ("issuer__isnull", False),
                        ("signed_on__isnull", False),
                        ("signed_year__isnull", False),
                        models.Q(("signer", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="honour_issued_has_number_date_signer",
            ),
        ),
        migrations.AddIndex(
            model_name="honourentry",
            index=models.Index(fields=["unit", "decision"], name="honour_entry_unit"),
        ),
        migrations.AddConstraint(
            model_name="honourentry",
            constraint=models.UniqueConstraint(fields=("decision", "position"), name="honour_entry_position"),
        ),
        migrations.AddConstraint(
            model_name="honourentry",
            constraint=models.CheckConstraint(
                condition=models.Q(("excluded", False), models.Q(("reason", ""), _negated=True), _connector="OR"),
                name="honour_exclusion_has_reason",
            ),
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
