"""The live pages read the latest snapshots from the current rows (LeaderboardCurrent: versions of
each unit's figures with its level, cluster and target, written for the keys that changed) and
their ranks from block scales, instead of a ranked partition written whole every hour (about half
of an hourly snapshot's time nationally: docs/leaderboard-storage.md §0.1).

Forwards adds the tables and the snapshots' `hot` flag, all False: a snapshot taken before keeps
its ranked rows, which the pages go on reading until the hot window passes it by, and the next
snapshot counts everything and begins the current rows.

Backwards, the code of 0005's time reads the ranked rows of the latest snapshots: a snapshot taken
into the current rows is given its ranked rows and weekly rows again, rebuilt from the versions it
sees (as leaderboard.snapshots.materialize rebuilds them, the same ranking), and the programmes'
history state is forgotten, so that its next snapshot counts everything."""

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# The ranked rows, as leaderboard.history.INSERT_ROWS_SQL wrote them when this migration was written.
_INSERT_ROWS_SQL = """
INSERT INTO {table} ({id_column}snapshot_id, unit_id, phase_key, field_key, level, cluster_id, submitted, valid,
                    value_vnd, participating, target, rank, cluster_rank)
SELECT {id_value}%s, f.unit_id, f.phase_key, f.field_key, u.level, u.cluster_id,
       f.submitted, f.valid, f.value_vnd, f.participating, u.target,
       RANK() OVER (PARTITION BY f.phase_key, f.field_key, u.level ORDER BY f.submitted DESC),
       CASE WHEN u.cluster_id IS NOT NULL
            THEN RANK() OVER (PARTITION BY f.phase_key, f.field_key, u.level, u.cluster_id ORDER BY f.submitted DESC)
       END
FROM {figure} f JOIN {unit_version} u ON u.program_id = f.program_id AND u.unit_id = f.unit_id
     AND u.first_seq <= %s AND u.last_seq >= %s
WHERE f.program_id = %s AND f.first_seq <= %s AND f.last_seq >= %s
"""


def _table(apps: StateApps, model: str) -> str:
    return str(apps.get_model("leaderboard", model)._meta.db_table)


def ranked_rows_back(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    connection = schema_editor.connection
    row_model = apps.get_model("leaderboard", "LeaderboardRow")
    row, week = str(row_model._meta.db_table), _table(apps, "LeaderboardWeek")
    figure, unit_version = _table(apps, "LeaderboardFigure"), _table(apps, "LeaderboardUnitVersion")
    week_figure = _table(apps, "LeaderboardWeekFigure")
    snapshots = apps.get_model("leaderboard", "LeaderboardSnapshot").objects.using(connection.alias)
    with connection.cursor() as cursor:
        for snapshot_id, program_id, seq in list(snapshots.filter(hot=True).values_list("pk", "program_id", "seq")):
            sql: dict[str, Any] = {"figure": figure, "unit_version": unit_version}
            params = [snapshot_id, seq, seq, program_id, seq, seq]
            if connection.vendor == "postgresql":
                part = f"{row}_s{int(snapshot_id)}"
                cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [part])
                if not cursor.fetchone()[0]:
                    cursor.execute(f"CREATE TABLE {part} (LIKE {row} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
                    ids = f"{int(snapshot_id)} * 4294967296 + ROW_NUMBER() OVER (), "
                    cursor.execute(_INSERT_ROWS_SQL.format(table=part, id_column="id, ", id_value=ids, **sql), params)
                    cursor.execute(f"ALTER TABLE {part} ADD PRIMARY KEY (id, snapshot_id)")
                    for index in row_model._meta.indexes:
                        columns = ", ".join(row_model._meta.get_field(name).column for name in index.fields)
                        cursor.execute(f"CREATE INDEX ON {part} ({columns})")
                    cursor.execute(f"ALTER TABLE {part} ADD CHECK (snapshot_id = {int(snapshot_id)})")
                    cursor.execute(f"ALTER TABLE {row} ATTACH PARTITION {part} FOR VALUES IN ({int(snapshot_id)})")
                    cursor.execute(f"ANALYZE {part}")
            else:
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {row} WHERE snapshot_id = %s)", [snapshot_id])
                if not cursor.fetchone()[0]:
                    cursor.execute(_INSERT_ROWS_SQL.format(table=row, id_column="", id_value="", **sql), params)
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {week} WHERE snapshot_id = %s)", [snapshot_id])
            if not cursor.fetchone()[0]:
                cursor.execute(
                    f"INSERT INTO {week} (snapshot_id, unit_id, week, field_id, submitted) "
                    f"SELECT %s, unit_id, week, NULLIF(field_key, 0), submitted FROM {week_figure} v "
                    f"WHERE v.program_id = %s AND v.first_seq <= %s AND v.last_seq >= %s",
                    [snapshot_id, program_id, seq, seq],
                )
        cursor.execute(f"DELETE FROM {_table(apps, 'LeaderboardState')}")


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0005_figures_without_quarters"),
        ("unions", "0004_text_in_nfc"),
    ]

    operations = [
        migrations.AddField(
            model_name="leaderboardsnapshot",
            name="hot",
            field=models.BooleanField(default=False, verbose_name="in the current rows"),
        ),
        migrations.CreateModel(
            name="LeaderboardBlockScale",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "snapshot",
                        "phase_key",
                        "field_key",
                        "level",
                        "cluster_key",
                        "submitted",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("phase_key", models.IntegerField()),
                ("field_key", models.IntegerField()),
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
                ("cluster_key", models.IntegerField()),
                ("submitted", models.IntegerField()),
                ("rank", models.IntegerField()),
                (
                    "snapshot",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="leaderboard.leaderboardsnapshot",
                    ),
                ),
            ],
            options={
                "verbose_name": "block rank scale",
                "verbose_name_plural": "block rank scales",
            },
        ),
        migrations.CreateModel(
            name="LeaderboardCurrent",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "program_id",
                        "unit",
                        "phase_key",
                        "field_key",
                        "first_seq",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("program_id", models.IntegerField()),
                ("phase_key", models.IntegerField()),
                ("field_key", models.IntegerField()),
                ("first_seq", models.IntegerField()),
                ("last_seq", models.IntegerField()),
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
                ("submitted", models.IntegerField()),
                ("valid", models.IntegerField()),
                ("participating", models.IntegerField()),
                ("target", models.IntegerField()),
                ("value_vnd", models.BigIntegerField()),
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
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="unions.union",
                    ),
                ),
            ],
            options={
                "verbose_name": "current leaderboard row",
                "verbose_name_plural": "current leaderboard rows",
                "indexes": [
                    models.Index(
                        fields=["program_id", "phase_key", "field_key", "level", "submitted", "unit"],
                        name="lbcurrent_block",
                    )
                ],
            },
        ),
        # Last: backwards, it runs first, while the snapshots still have their `hot` flag.
        migrations.RunPython(migrations.RunPython.noop, ranked_rows_back, elidable=False),
    ]
