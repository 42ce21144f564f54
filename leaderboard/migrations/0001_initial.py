# The leaderboard app's models, moved out of the initiatives app (app split, issue 14): their tables
# stay as they are (db_table); only Django's state moves, and their content types with it, so that
# permissions, group grants and admin history follow them.

import django.db.models.deletion
from django.db import migrations, models

from sangkien.app_moves import move_content_types


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("initiatives", "0023_notification_next_attempt"),
        ("unions", "0002_search_trigram_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="LeaderboardSnapshot",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("taken_at", models.DateTimeField(verbose_name="as of")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                        ("seconds", models.FloatField(default=0, verbose_name="time taken (s)")),
                        ("row_count", models.PositiveIntegerField(default=0, verbose_name="rows")),
                        (
                            "program",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="snapshots",
                                to="initiatives.program",
                                verbose_name="programme",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "leaderboard snapshot",
                        "verbose_name_plural": "leaderboard snapshots",
                        "db_table": "initiatives_leaderboardsnapshot",
                        "ordering": ["program", "-taken_at"],
                        "get_latest_by": "taken_at",
                    },
                ),
                migrations.CreateModel(
                    name="LeaderboardRow",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("phase_key", models.PositiveIntegerField(default=0)),
                        ("field_key", models.PositiveIntegerField(default=0)),
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
                            ),
                        ),
                        ("submitted", models.PositiveIntegerField()),
                        ("valid", models.PositiveIntegerField()),
                        ("value_vnd", models.BigIntegerField()),
                        ("participating", models.PositiveIntegerField()),
                        ("target", models.PositiveIntegerField()),
                        ("rank", models.PositiveIntegerField()),
                        ("cluster_rank", models.PositiveIntegerField(null=True)),
                        (
                            "cluster",
                            models.ForeignKey(
                                db_constraint=False,
                                db_index=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="unions.emulationcluster",
                            ),
                        ),
                        (
                            "unit",
                            models.ForeignKey(
                                db_constraint=False,
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="unions.union",
                            ),
                        ),
                        (
                            "snapshot",
                            models.ForeignKey(
                                db_constraint=False,
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="rows",
                                to="leaderboard.leaderboardsnapshot",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "leaderboard row",
                        "verbose_name_plural": "leaderboard rows",
                        "db_table": "initiatives_leaderboardrow",
                    },
                ),
                migrations.CreateModel(
                    name="LeaderboardWeek",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("week", models.DateField()),
                        ("submitted", models.PositiveIntegerField()),
                        (
                            "field",
                            models.ForeignKey(
                                db_index=False,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="initiatives.field",
                            ),
                        ),
                        (
                            "snapshot",
                            models.ForeignKey(
                                db_constraint=False,
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="weeks",
                                to="leaderboard.leaderboardsnapshot",
                            ),
                        ),
                        (
                            "unit",
                            models.ForeignKey(
                                db_constraint=False,
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="unions.union",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "weekly submissions",
                        "verbose_name_plural": "weekly submissions",
                        "db_table": "initiatives_leaderboardweek",
                    },
                ),
                migrations.AddConstraint(
                    model_name="leaderboardsnapshot",
                    constraint=models.UniqueConstraint(
                        fields=("program", "taken_at"), name="snapshot_unique_per_instant"
                    ),
                ),
                migrations.AddIndex(
                    model_name="leaderboardrow",
                    index=models.Index(
                        fields=["snapshot", "phase_key", "field_key", "level", "rank", "unit"], name="lbrow_block_rank"
                    ),
                ),
                migrations.AddIndex(
                    model_name="leaderboardrow",
                    index=models.Index(fields=["snapshot", "unit", "phase_key", "field_key"], name="lbrow_units"),
                ),
                migrations.AddIndex(
                    model_name="leaderboardweek",
                    index=models.Index(fields=["snapshot", "unit", "week"], name="lbweek_series"),
                ),
            ],
            database_operations=[],
        ),
        move_content_types(
            old_app="initiatives",
            new_app="leaderboard",
            models=["leaderboardsnapshot", "leaderboardrow", "leaderboardweek"],
        ),
    ]
