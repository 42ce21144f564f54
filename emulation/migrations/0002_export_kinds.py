# Export jobs of two kinds (issue 17, item 4): the officer's list of initiatives joins the emulation
# workbook. The rows already there are emulation exports (the default); the table stays as it is.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("emulation", "0001_initial"),
        ("initiatives", "0026_text_in_nfc"),
    ]

    operations = [
        migrations.AddField(
            model_name="exportjob",
            name="kind",
            field=models.CharField(
                choices=[("emulation", "Emulation criteria"), ("initiative_list", "List of initiatives")],
                default="emulation",
                max_length=20,
                verbose_name="kind",
            ),
        ),
        migrations.AddField(
            model_name="exportjob",
            name="params",
            field=models.JSONField(blank=True, default=dict, verbose_name="parameters"),
        ),
        migrations.AlterField(
            model_name="exportjob",
            name="program",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="initiatives.program",
                verbose_name="programme",
            ),
        ),
        migrations.AlterField(
            model_name="exportjob",
            name="rows_done",
            field=models.PositiveIntegerField(default=0, verbose_name="rows written"),
        ),
        migrations.AlterField(
            model_name="exportjob",
            name="total_rows",
            field=models.PositiveIntegerField(default=0, verbose_name="rows to write"),
        ),
        migrations.AddConstraint(
            model_name="exportjob",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind", "initiative_list"), ("program__isnull", False), _connector="OR"),
                name="exportjob_emulation_has_program",
            ),
        ),
    ]
