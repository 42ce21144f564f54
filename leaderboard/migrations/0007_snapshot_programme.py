"""Each snapshot keeps the programme as it saw it (name, target, dates, phases, fields, clusters:
leaderboard.programme), so that its evidence pages show them as they were. Snapshots taken before
keep none ({}): their pages show the programme as it is, as before."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0006_current_rows"),
    ]

    operations = [
        migrations.AddField(
            model_name="leaderboardsnapshot",
            name="programme",
            field=models.JSONField(blank=True, default=dict, verbose_name="the programme as it was"),
        ),
    ]
