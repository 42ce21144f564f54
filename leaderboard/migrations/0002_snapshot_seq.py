# Each snapshot's place in its programme's history (issue 18, step 2 of docs/leaderboard-storage.md):
# seq (1, 2, … per programme), previous (the snapshot before it) and mode (every snapshot so far was a
# full recount). The existing snapshots are numbered in the order of taken_at; going back simply drops
# the three columns, so the migration is reversible.

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def number_snapshots(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """seq and previous for every existing snapshot, programme by programme, oldest first (the
    snapshots are a few hundred at most: the rows, in their partitions, are not touched)."""
    snapshot_model = apps.get_model("leaderboard", "LeaderboardSnapshot")
    snapshots = snapshot_model.objects.using(schema_editor.connection.alias).order_by("program_id", "taken_at", "pk")
    numbered = []
    program_id, seq, previous_id = None, 0, None
    for snapshot in snapshots.only("pk", "program_id", "taken_at"):
        if snapshot.program_id != program_id:
            program_id, seq, previous_id = snapshot.program_id, 0, None
        seq += 1
        snapshot.seq, snapshot.previous_id = seq, previous_id
        numbered.append(snapshot)
        previous_id = snapshot.pk
    snapshot_model.objects.using(schema_editor.connection.alias).bulk_update(
        numbered, ["seq", "previous"], batch_size=500
    )


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="leaderboardsnapshot",
            name="seq",
            field=models.PositiveIntegerField(null=True, verbose_name="sequence number"),
        ),
        migrations.AddField(
            model_name="leaderboardsnapshot",
            name="previous",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="leaderboard.leaderboardsnapshot",
                verbose_name="previous snapshot",
            ),
        ),
        migrations.AddField(
            model_name="leaderboardsnapshot",
            name="mode",
            field=models.CharField(
                choices=[("full", "full recount"), ("incremental", "incremental")],
                default="full",
                max_length=16,
                verbose_name="mode",
            ),
        ),
        # Going back: nothing to undo, the columns go with the reversed AddFields.
        migrations.RunPython(number_snapshots, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="leaderboardsnapshot",
            name="seq",
            field=models.PositiveIntegerField(verbose_name="sequence number"),
        ),
        migrations.AddConstraint(
            model_name="leaderboardsnapshot",
            constraint=models.UniqueConstraint(fields=("program", "seq"), name="snapshot_unique_seq"),
        ),
    ]
