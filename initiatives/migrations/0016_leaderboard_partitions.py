"""On PostgreSQL, leaderboard rows live in one partition per snapshot.

A snapshot writes ~360,000 rows at national scale. Into one table with live indexes that took
6 s; into a table of its own, indexed after the rows are in, 2 s (bench/README.md §6). So the
snapshot service fills a new table, indexes it and attaches it as the snapshot's partition, and
pruning drops whole partitions instead of deleting rows. Django sees the same model either way;
on SQLite (the demo) the table stays a plain one.

This migration turns the existing table into the partitioned one and moves each snapshot's rows
into its partition. Its reverse leaves the table partitioned: nothing in the model depends on it.
"""

from django.db import migrations

TABLE = "initiatives_leaderboardrow"
OLD = "initiatives_leaderboardrow_unpartitioned"
# The model's indexes (Meta.indexes), declared on the partitioned table so that each partition's
# matching index is attached to them.
INDEXES = {
    "lbrow_block_rank": "snapshot_id, phase_key, field_key, level, rank, unit_id",
    "lbrow_units": "snapshot_id, unit_id, phase_key, field_key",
}


def partition(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = %s", [TABLE])
        if cursor.fetchone()[0] == "p":
            return  # already partitioned (migrated back, then forward again)
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
        cursor.execute(f"ALTER TABLE {OLD} RENAME CONSTRAINT {TABLE}_pkey TO {OLD}_pkey")
        for name in INDEXES:
            cursor.execute(f"ALTER INDEX {name} RENAME TO {name}_unpartitioned")
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS) "
            "PARTITION BY LIST (snapshot_id)"
        )
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, snapshot_id)")
        for name, columns in INDEXES.items():
            cursor.execute(f"CREATE INDEX {name} ON {TABLE} ({columns})")
        cursor.execute(f"SELECT DISTINCT snapshot_id FROM {OLD} ORDER BY snapshot_id")
        for (snapshot_id,) in cursor.fetchall():
            cursor.execute(f"CREATE TABLE {TABLE}_s{snapshot_id} PARTITION OF {TABLE} FOR VALUES IN ({snapshot_id})")
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {OLD}")
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {OLD}"
        )
        cursor.execute(f"DROP TABLE {OLD}")


class Migration(migrations.Migration):
    dependencies = [("initiatives", "0015_leaderboard_write_cost")]

    operations = [migrations.RunPython(partition, migrations.RunPython.noop, elidable=False)]
