"""The figure versions lose their quarter keys: a quarter's figures at a snapshot are counted, when an
honour is decided, from what the snapshot counted (the mirror, LeaderboardCounted, keeps each
initiative's quarter: leaderboard.history.quarter_figures) instead of being versioned every hour.
They were a third of the figure versions an hour wrote, and most of a full recount's roll-up
(docs/leaderboard-storage.md §0). The quarter key was the primary key's fifth column, so the key is
rebuilt; neither Django's schema editor nor SQLite drops a column of a composite primary key."""

from django.db import migrations, models

TABLE = "leaderboard_leaderboardfigure"
COLUMNS = "program_id, unit_id, phase_key, field_key, {quarter}first_seq, last_seq, submitted, valid, participating, value_vnd"
SQLITE_TABLE = (
    'CREATE TABLE "{table}" ("program_id" integer NOT NULL, "unit_id" integer NOT NULL, '
    '"phase_key" integer NOT NULL, "field_key" integer NOT NULL, {quarter}"first_seq" integer NOT NULL, '
    '"last_seq" integer NOT NULL, "submitted" integer NOT NULL, "valid" integer NOT NULL, '
    '"participating" integer NOT NULL, "value_vnd" bigint NOT NULL, '
    'PRIMARY KEY ("program_id", "unit_id", "phase_key", "field_key", {quarter_key}"first_seq"))'
)


def _sqlite_rebuild(schema_editor, *, with_quarter: bool) -> None:
    quarter = '"quarter_key" integer NOT NULL, ' if with_quarter else ""
    new = f"{TABLE}__new"
    schema_editor.execute(
        SQLITE_TABLE.format(table=new, quarter=quarter, quarter_key='"quarter_key", ' if with_quarter else "")
    )
    target = COLUMNS.format(quarter="quarter_key, " if with_quarter else "")
    source = COLUMNS.format(quarter="0, " if with_quarter else "")
    where = "" if with_quarter else " WHERE quarter_key = 0"
    schema_editor.execute(f'INSERT INTO "{new}" ({target}) SELECT {source} FROM "{TABLE}"{where}')
    schema_editor.execute(f'DROP TABLE "{TABLE}"')
    schema_editor.execute(f'ALTER TABLE "{new}" RENAME TO "{TABLE}"')


def forwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        _sqlite_rebuild(schema_editor, with_quarter=False)
        return
    # Without its quarter key, a quarter's version would share the key of the whole programme's.
    schema_editor.execute(f"DELETE FROM {TABLE} WHERE quarter_key <> 0")
    schema_editor.execute(f"ALTER TABLE {TABLE} DROP COLUMN quarter_key")  # and the primary key with it
    schema_editor.execute(f"ALTER TABLE {TABLE} ADD PRIMARY KEY (program_id, unit_id, phase_key, field_key, first_seq)")


def backwards(apps, schema_editor) -> None:
    """The column back, 0 everywhere, and the programmes' history state forgotten: the next snapshot
    (the code of 0004's time) counts everything and writes the quarters' versions again; counting
    incrementally, it would add an hour's change to quarter figures it no longer has."""
    schema_editor.execute("DELETE FROM leaderboard_leaderboardstate")
    if schema_editor.connection.vendor == "sqlite":
        _sqlite_rebuild(schema_editor, with_quarter=True)
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} ADD COLUMN quarter_key integer NOT NULL DEFAULT 0")
    schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN quarter_key DROP DEFAULT")
    schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {TABLE}_pkey")
    schema_editor.execute(
        f"ALTER TABLE {TABLE} ADD PRIMARY KEY (program_id, unit_id, phase_key, field_key, quarter_key, first_seq)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0004_history_of_old_snapshots"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.AlterField(
                    model_name="leaderboardfigure",
                    name="pk",
                    field=models.CompositePrimaryKey(
                        "program_id",
                        "unit_id",
                        "phase_key",
                        "field_key",
                        "first_seq",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                migrations.RemoveField(model_name="leaderboardfigure", name="quarter_key"),
            ],
        ),
    ]
