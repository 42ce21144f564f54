# The app split (issue 14): questions, notifications, leaderboard and emulation models now live in
# apps of their own (each app's 0001 takes them over, with their tables and content types). Here
# the initiatives app forgets them, in its state only: no table is touched.

from django.db import migrations

from unions.permissions import grant_roles_in_migration


def grant_roles(apps, schema_editor):
    """The role groups' permissions under the models' new app labels (on a database migrated
    before the split the content types moved, and the grants with them: this adds nothing)."""
    grant_roles_in_migration(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("initiatives", "0023_notification_next_attempt"),
        ("questions", "0001_initial"),
        ("notifications", "0001_initial"),
        ("leaderboard", "0001_initial"),
        ("emulation", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(
                    model_name="emulationcriterion",
                    name="criterion_code_unique",
                ),
                migrations.RemoveIndex(
                    model_name="exportjob",
                    name="exportjob_status",
                ),
                migrations.RemoveIndex(
                    model_name="exportstart",
                    name="exportstart_user_at",
                ),
                migrations.RemoveIndex(
                    model_name="leaderboardrow",
                    name="lbrow_block_rank",
                ),
                migrations.RemoveIndex(
                    model_name="leaderboardrow",
                    name="lbrow_units",
                ),
                migrations.RemoveConstraint(
                    model_name="leaderboardsnapshot",
                    name="snapshot_unique_per_instant",
                ),
                migrations.RemoveIndex(
                    model_name="leaderboardweek",
                    name="lbweek_series",
                ),
                migrations.RemoveIndex(
                    model_name="notification",
                    name="notification_pending",
                ),
                migrations.RemoveIndex(
                    model_name="notification",
                    name="notification_due",
                ),
                migrations.DeleteModel(
                    name="Page",
                ),
                migrations.RemoveIndex(
                    model_name="question",
                    name="question_waiting",
                ),
                migrations.RemoveConstraint(
                    model_name="question",
                    name="question_public_only_when_answered",
                ),
                migrations.RemoveConstraint(
                    model_name="scoringband",
                    name="band_unique_threshold",
                ),
                migrations.DeleteModel(
                    name="PendingQuestion",
                ),
                migrations.RemoveField(
                    model_name="emulationcriterion",
                    name="program",
                ),
                migrations.RemoveField(
                    model_name="exportstart",
                    name="job",
                ),
                migrations.RemoveField(
                    model_name="exportstart",
                    name="user",
                ),
                migrations.RemoveField(
                    model_name="leaderboardrow",
                    name="cluster",
                ),
                migrations.RemoveField(
                    model_name="leaderboardrow",
                    name="snapshot",
                ),
                migrations.RemoveField(
                    model_name="leaderboardrow",
                    name="unit",
                ),
                migrations.RemoveField(
                    model_name="leaderboardsnapshot",
                    name="program",
                ),
                migrations.RemoveField(
                    model_name="leaderboardweek",
                    name="field",
                ),
                migrations.RemoveField(
                    model_name="leaderboardweek",
                    name="snapshot",
                ),
                migrations.RemoveField(
                    model_name="leaderboardweek",
                    name="unit",
                ),
                migrations.RemoveField(
                    model_name="notification",
                    name="unit",
                ),
                migrations.RemoveField(
                    model_name="question",
                    name="answered_by",
                ),
                migrations.RemoveField(
                    model_name="question",
                    name="asked_by",
                ),
                migrations.RemoveField(
                    model_name="question",
                    name="initiative",
                ),
                migrations.RemoveField(
                    model_name="question",
                    name="unit",
                ),
                migrations.RemoveField(
                    model_name="scoringband",
                    name="criterion",
                ),
                migrations.DeleteModel(
                    name="ExportJob",
                ),
                migrations.DeleteModel(
                    name="ExportStart",
                ),
                migrations.DeleteModel(
                    name="LeaderboardRow",
                ),
                migrations.DeleteModel(
                    name="LeaderboardSnapshot",
                ),
                migrations.DeleteModel(
                    name="LeaderboardWeek",
                ),
                migrations.DeleteModel(
                    name="Notification",
                ),
                migrations.DeleteModel(
                    name="Question",
                ),
                migrations.DeleteModel(
                    name="EmulationCriterion",
                ),
                migrations.DeleteModel(
                    name="ScoringBand",
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(grant_roles, migrations.RunPython.noop),
    ]
