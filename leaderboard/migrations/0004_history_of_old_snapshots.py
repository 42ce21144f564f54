# The history of the snapshots taken before it (issue 18, docs/leaderboard-storage.md §2.8).
#
# Snapshots taken before 0003 kept full ranked rows (a partition each on PostgreSQL, a plain table on
# SQLite) and weekly rows, and no versions. Forwards, each programme's old snapshots, oldest seq
# first, are turned into versions by diffing each one's own rows against the versions left open by
# the one before (a key whose figures stay the same keeps its version), and get their rank scale.
# No partition is dropped, and no LeaderboardState is written: the first snapshot after the deploy
# is a full recount, which writes the mirror and the quarter keys that old snapshots never had.
#
# What old snapshots cannot tell: a unit's code, name, short name, parent and depth are only known as
# they are now, so every old snapshot's unit versions carry them as they are now (level, cluster and
# target, which the old rows kept, are taken from the snapshot's own whole-programme row where the
# unit has one). A unit deleted since keeps its level, cluster and target with an empty code and
# name, no parent and depth 0.
#
# Backwards, every snapshot whose ranked rows are gone (a partition dropped outside the hot window,
# SQLite rows deleted) or whose weekly rows are gone is rebuilt from the versions it sees, ranked
# exactly as the snapshot service ranks, then all the history is deleted (versions, mirror, scales
# and the programmes' LeaderboardState, which would otherwise stand for versions that are gone).
#
# All in SQL, one snapshot at a time, in temporary tables; nothing is imported from leaderboard's
# modules, which will change after this migration.

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models import Min

# The last_seq of a version still open (leaderboard.models.OPEN when this was written).
OPEN = 2147483647

_SUMS = ("submitted", "valid", "value_vnd", "participating")
_UNIT_VALUES = ("code", "name", "short_name", "parent_id", "level", "cluster_id", "depth", "target")


@dataclass(frozen=True)
class _Tables:
    snapshot: str
    row: str
    week: str
    union: str
    target: str
    figure: str
    week_figure: str
    unit_version: str
    counted: str
    scale: str
    state: str
    row_index_columns: tuple[tuple[str, ...], ...]  # LeaderboardRow's indexes, as their columns

    @classmethod
    def of(cls, apps: StateApps) -> _Tables:
        def table(app: str, model: str) -> str:
            return str(apps.get_model(app, model)._meta.db_table)

        row = apps.get_model("leaderboard", "LeaderboardRow")
        return cls(
            snapshot=table("leaderboard", "LeaderboardSnapshot"),
            row=str(row._meta.db_table),
            week=table("leaderboard", "LeaderboardWeek"),
            union=table("unions", "Union"),
            target=table("initiatives", "Target"),
            figure=table("leaderboard", "LeaderboardFigure"),
            week_figure=table("leaderboard", "LeaderboardWeekFigure"),
            unit_version=table("leaderboard", "LeaderboardUnitVersion"),
            counted=table("leaderboard", "LeaderboardCounted"),
            scale=table("leaderboard", "LeaderboardScale"),
            state=table("leaderboard", "LeaderboardState"),
            row_index_columns=tuple(
                tuple(row._meta.get_field(name).column for name in index.fields) for index in row._meta.indexes
            ),
        )


@dataclass(frozen=True)
class _Kind:
    """A versioned table: its key and value columns, and those of the values that may be NULL."""

    name: str  # of its open versions' temporary table
    table: str
    keys: tuple[str, ...]
    values: tuple[str, ...]
    nullable: tuple[str, ...] = ()


def _temp(cursor: Any, vendor: str, name: str, select: str, params: Any = (), *, analyze: bool = False) -> None:
    """A temporary table from a SELECT; `analyze` where a join with a large table follows
    (PostgreSQL never analyses temporary tables by itself)."""
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(f"CREATE TEMP TABLE {name} AS {select}", params)
    if analyze and vendor == "postgresql":
        cursor.execute(f"ANALYZE {name}")


def _drop(cursor: Any, *names: str) -> None:
    for name in names:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")


# ---------------------------------------------------------------------------------------------------
# Forwards


def _open_table(kind: _Kind) -> str:
    return f"lb_mig_open_{kind.name}"


def _diff(cursor: Any, vendor: str, kind: _Kind, *, new: str, program_id: int, seq: int, limit: int) -> int:
    """Make the open versions of `kind` equal `new` (the keys and values of snapshot `seq`), as the
    snapshot service does: a version whose values differ or whose key is gone is closed at seq - 1,
    changed and new keys get a version from seq, the others keep theirs. The open versions are those
    of this migration's chain (first_seq < limit), kept in a temporary table of their own, which
    becomes `new`. Returns the number of keys changed."""
    keys, values = kind.keys, kind.values
    opened = _open_table(kind)

    def differs(column: str) -> str:
        if column in kind.nullable:
            return f"COALESCE(o.{column}, -1) <> COALESCE(n.{column}, -1)"
        return f"o.{column} <> n.{column}"

    on = " AND ".join(f"n.{key} = o.{key}" for key in keys)
    either = ", ".join(f"COALESCE(n.{key}, o.{key}) AS {key}" for key in keys)
    news = ", ".join(f"n.{value}" for value in values)
    _temp(
        cursor,
        vendor,
        "lb_mig_changed",
        f"SELECT {either}, o.open_, n.present_, {news} "
        f"FROM (SELECT 1 AS present_, x.* FROM {new} x) n FULL OUTER JOIN (SELECT 1 AS open_, y.* FROM {opened} y) o "
        f"ON {on} WHERE o.open_ IS NULL OR n.present_ IS NULL OR {' OR '.join(differs(v) for v in values)}",
        analyze=True,
    )
    cursor.execute("SELECT COUNT(*) FROM lb_mig_changed")
    count = int(cursor.fetchone()[0])
    if count:
        table = kind.table
        match = " AND ".join(f"{table}.{key} = c.{key}" for key in keys)
        cursor.execute(
            f"UPDATE {table} SET last_seq = %s FROM lb_mig_changed c WHERE c.open_ IS NOT NULL AND "
            f"{table}.program_id = %s AND {match} AND {table}.last_seq = {OPEN} AND {table}.first_seq < %s",
            [seq - 1, program_id, limit],
        )
        columns = ", ".join((*keys, *values))
        cursor.execute(
            f"INSERT INTO {table} (program_id, first_seq, last_seq, {columns}) "
            f"SELECT %s, %s, {OPEN}, {columns} FROM lb_mig_changed WHERE present_ IS NOT NULL",
            [program_id, seq],
        )
    _drop(cursor, "lb_mig_changed", opened)
    cursor.execute(f"ALTER TABLE {new} RENAME TO {opened}")
    return count


def _snapshot_to_versions(
    cursor: Any, vendor: str, t: _Tables, kinds: tuple[_Kind, _Kind, _Kind], *, snapshot_id: int, program_id: int,
    seq: int, limit: int,
) -> None:  # fmt: skip
    figures, weeks, units = kinds
    _temp(
        cursor,
        vendor,
        "lb_mig_rows",
        f"SELECT unit_id, phase_key, field_key, level, cluster_id, submitted, valid, value_vnd, participating, "
        f"target, rank FROM {t.row} WHERE snapshot_id = %s",
        [snapshot_id],
    )
    _temp(
        cursor,
        vendor,
        "lb_mig_new_figures",
        f"SELECT unit_id, phase_key, field_key, 0 AS quarter_key, {', '.join(_SUMS)} FROM lb_mig_rows",
    )
    _temp(
        cursor,
        vendor,
        "lb_mig_new_weeks",
        f"SELECT unit_id, week, COALESCE(field_id, 0) AS field_key, submitted FROM {t.week} WHERE snapshot_id = %s",
        [snapshot_id],
    )
    # Every unit as it is now, with the level, cluster and target the snapshot's rows kept where
    # the unit has its whole-programme row (a unit with any row has that one); units deleted since
    # are known by their rows alone.
    _temp(
        cursor,
        vendor,
        "lb_mig_new_units",
        f"""
        SELECT u.id AS unit_id, u.code, u.name, u.short_name, u.parent_id,
               CASE WHEN r.unit_id IS NULL THEN u.level ELSE r.level END AS level,
               CASE WHEN r.unit_id IS NULL THEN u.cluster_id ELSE r.cluster_id END AS cluster_id,
               CAST(u.depth AS INTEGER) AS depth,
               CAST(CASE WHEN r.unit_id IS NULL THEN COALESCE(t.quantity, 0) ELSE r.target END AS INTEGER) AS target
        FROM {t.union} u
        LEFT JOIN {t.target} t ON t.unit_id = u.id AND t.program_id = %s
        LEFT JOIN lb_mig_rows r ON r.unit_id = u.id AND r.phase_key = 0 AND r.field_key = 0
        UNION ALL
        SELECT r.unit_id, '', '', '', NULL, r.level, r.cluster_id, 0, r.target
        FROM lb_mig_rows r
        WHERE r.phase_key = 0 AND r.field_key = 0 AND NOT EXISTS (SELECT 1 FROM {t.union} u WHERE u.id = r.unit_id)
        """,
        [program_id],
    )
    for kind, new in ((figures, "lb_mig_new_figures"), (weeks, "lb_mig_new_weeks"), (units, "lb_mig_new_units")):
        _diff(cursor, vendor, kind, new=new, program_id=program_id, seq=seq, limit=limit)
    # The rank of each count in the whole programme's blocks, from the ranks the rows kept.
    cursor.execute(
        f"INSERT INTO {t.scale} (snapshot_id, level, submitted, rank) "
        f"SELECT %s, level, submitted, MIN(rank) FROM lb_mig_rows WHERE phase_key = 0 AND field_key = 0 "
        f"GROUP BY level, submitted",
        [snapshot_id],
    )
    _drop(cursor, "lb_mig_rows")


def _kinds(t: _Tables) -> tuple[_Kind, _Kind, _Kind]:
    return (
        _Kind("figures", t.figure, ("unit_id", "phase_key", "field_key", "quarter_key"), _SUMS),
        _Kind("weeks", t.week_figure, ("unit_id", "week", "field_key"), ("submitted",)),
        _Kind("units", t.unit_version, ("unit_id",), _UNIT_VALUES, ("parent_id", "cluster_id")),
    )


def old_snapshots_to_versions(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Versions and scales for every snapshot that has none (see the top of the file).

    A programme whose history was already begun by the new snapshot service (it has unit versions
    from seq `limit` on) gets the versions of its older snapshots only, closed at limit - 1; those
    of the service are left as they are."""
    connection = schema_editor.connection
    vendor = connection.vendor
    t = _Tables.of(apps)
    kinds = _kinds(t)
    snapshots = apps.get_model("leaderboard", "LeaderboardSnapshot").objects.using(connection.alias)
    unit_versions = apps.get_model("leaderboard", "LeaderboardUnitVersion").objects.using(connection.alias)
    programs = snapshots.order_by("program_id").values_list("program_id", flat=True).distinct()
    with connection.cursor() as cursor:
        for program_id in list(programs):
            begun = unit_versions.filter(program_id=program_id).aggregate(first=Min("first_seq"))["first"]
            limit = OPEN if begun is None else begun
            # The chain starts with nothing open.
            for kind in kinds:
                columns = ", ".join((*kind.keys, *kind.values))
                _temp(cursor, vendor, _open_table(kind), f"SELECT {columns} FROM {kind.table} WHERE 1 = 0")
            old = snapshots.filter(program_id=program_id, seq__lt=limit).order_by("seq").values_list("pk", "seq")
            for snapshot_id, seq in list(old):
                _snapshot_to_versions(
                    cursor, vendor, t, kinds, snapshot_id=snapshot_id, program_id=program_id, seq=seq, limit=limit
                )
            if limit != OPEN:
                for kind in kinds:
                    cursor.execute(
                        f"UPDATE {kind.table} SET last_seq = %s "
                        f"WHERE program_id = %s AND last_seq = {OPEN} AND first_seq < %s",
                        [limit - 1, program_id, limit],
                    )
            _drop(cursor, *(_open_table(kind) for kind in kinds))


# ---------------------------------------------------------------------------------------------------
# Backwards


# The ranked rows, as leaderboard.history.INSERT_ROWS_SQL wrote them when this migration was written:
# from {source} (unit_id, p, f, figures) and {units} (unit_id, level, cluster_id, target).
_INSERT_ROWS_SQL = """
INSERT INTO {table} ({id_column}snapshot_id, unit_id, phase_key, field_key, level, cluster_id, submitted, valid,
                    value_vnd, participating, target, rank, cluster_rank)
SELECT {id_value}%s, r.unit_id, r.p, r.f, u.level, u.cluster_id,
       r.submitted, r.valid, r.value_vnd, r.participating, u.target,
       RANK() OVER (PARTITION BY r.p, r.f, u.level ORDER BY r.submitted DESC),
       CASE WHEN u.cluster_id IS NOT NULL
            THEN RANK() OVER (PARTITION BY r.p, r.f, u.level, u.cluster_id ORDER BY r.submitted DESC) END
FROM {source} r
JOIN {units} u ON u.unit_id = r.unit_id
"""


def _visible(seq: int) -> str:
    return f"v.first_seq <= {int(seq)} AND v.last_seq >= {int(seq)}"


def _rows_from_versions(cursor: Any, vendor: str, t: _Tables, *, snapshot_id: int, program_id: int, seq: int) -> None:
    """The snapshot's ranked rows from the versions it sees; on PostgreSQL into a partition of their
    own, made as leaderboard.snapshots._write_partition made it (filled, then indexed, checked,
    attached and analysed)."""
    _temp(
        cursor,
        vendor,
        "lb_mig_source",
        f"SELECT unit_id, phase_key AS p, field_key AS f, {', '.join(_SUMS)} FROM {t.figure} v "
        f"WHERE v.program_id = %s AND v.quarter_key = 0 AND {_visible(seq)}",
        [program_id],
        analyze=True,
    )
    _temp(
        cursor,
        vendor,
        "lb_mig_units",
        f"SELECT unit_id, level, cluster_id, target FROM {t.unit_version} v WHERE v.program_id = %s AND {_visible(seq)}",
        [program_id],
        analyze=True,
    )
    if vendor == "postgresql":
        part = f"{t.row}_s{int(snapshot_id)}"
        cursor.execute(f"DROP TABLE IF EXISTS {part}")
        cursor.execute(f"CREATE TABLE {part} (LIKE {t.row} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        ids = f"{int(snapshot_id)} * 4294967296 + ROW_NUMBER() OVER (), "
        cursor.execute(
            _INSERT_ROWS_SQL.format(
                table=part, id_column="id, ", id_value=ids, source="lb_mig_source", units="lb_mig_units"
            ),
            [snapshot_id],
        )
        cursor.execute(f"ALTER TABLE {part} ADD PRIMARY KEY (id, snapshot_id)")
        for columns in t.row_index_columns:
            cursor.execute(f"CREATE INDEX ON {part} ({', '.join(columns)})")
        cursor.execute(f"ALTER TABLE {part} ADD CHECK (snapshot_id = {int(snapshot_id)})")
        cursor.execute(f"ALTER TABLE {t.row} ATTACH PARTITION {part} FOR VALUES IN ({int(snapshot_id)})")
        cursor.execute(f"ANALYZE {part}")
    else:
        cursor.execute(
            _INSERT_ROWS_SQL.format(
                table=t.row, id_column="", id_value="", source="lb_mig_source", units="lb_mig_units"
            ),
            [snapshot_id],
        )
    _drop(cursor, "lb_mig_source", "lb_mig_units")


def _has_rows(cursor: Any, vendor: str, t: _Tables, snapshot_id: int) -> bool:
    if vendor == "postgresql":
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{t.row}_s{int(snapshot_id)}"])
    else:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {t.row} WHERE snapshot_id = %s)", [snapshot_id])
    return bool(cursor.fetchone()[0])


def versions_to_old_snapshots(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Rows and weekly rows back for every snapshot that lost them, then no history at all (see the
    top of the file). A snapshot with no rows and no versions to see (nothing submitted yet) gets
    none: rebuilding gives back exactly what it had."""
    connection = schema_editor.connection
    vendor = connection.vendor
    t = _Tables.of(apps)
    snapshots = apps.get_model("leaderboard", "LeaderboardSnapshot").objects.using(connection.alias)
    with connection.cursor() as cursor:
        for snapshot_id, program_id, seq in list(
            snapshots.order_by("program_id", "seq").values_list("pk", "program_id", "seq")
        ):
            if not _has_rows(cursor, vendor, t, snapshot_id):
                _rows_from_versions(cursor, vendor, t, snapshot_id=snapshot_id, program_id=program_id, seq=seq)
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {t.week} WHERE snapshot_id = %s)", [snapshot_id])
            if not cursor.fetchone()[0]:
                cursor.execute(
                    f"INSERT INTO {t.week} (snapshot_id, unit_id, week, field_id, submitted) "
                    f"SELECT %s, unit_id, week, NULLIF(field_key, 0), submitted FROM {t.week_figure} v "
                    f"WHERE v.program_id = %s AND {_visible(seq)}",
                    [snapshot_id, program_id],
                )
        for table in (t.figure, t.week_figure, t.unit_version, t.counted, t.scale, t.state):
            cursor.execute(f"DELETE FROM {table}")


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0003_history"),
    ]

    operations = [
        migrations.RunPython(old_snapshots_to_versions, versions_to_old_snapshots),
    ]
