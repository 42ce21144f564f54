"""The programme as a snapshot saw it: its name, target and dates, its phases, the active fields and
the emulation clusters, which the dashboard shows around the figures (the filters, the progress
line and its target under a phase, the charts). Each snapshot keeps them (a few hundred bytes) so
that its evidence pages show them as they were, whatever was renamed or re-dated since (issue 18,
item 3); leaderboard.views reads them back for a frozen page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Value

from initiatives.models import Field, Phase, Program
from sangkien.text import vietnamese_sort_key
from unions.models import EmulationCluster


def filter_choices_now() -> tuple[list[Field], list[EmulationCluster]]:
    """The active fields and the clusters as they are, in the order the filters list them: one query."""
    # No ORDER BY inside a UNION (SQLite refuses it): sorted below.
    fields = Field.objects.filter(is_active=True).annotate(kind=Value("f")).order_by()
    clusters = EmulationCluster.objects.annotate(kind=Value("c"), position=Value(0)).order_by()
    columns = ("kind", "pk", "name", "position")
    field_rows, cluster_rows = fields.values_list(*columns), clusters.values_list(*columns)
    rows = sorted(field_rows.union(cluster_rows, all=True), key=lambda r: (r[3], vietnamese_sort_key(r[2])))
    return (
        [Field(pk=pk, name=name, position=position) for kind, pk, name, position in rows if kind == "f"],
        [EmulationCluster(pk=pk, name=name) for kind, pk, name, _position in rows if kind == "c"],
    )


def as_it_is(program: Program) -> dict[str, Any]:
    """What a snapshot keeps of its programme (JSON: dates as ISO strings): two queries."""
    fields, clusters = filter_choices_now()
    phases = program.phases.order_by("number").values_list("pk", "number", "name", "starts_on", "ends_on")
    return {
        "name": program.name,
        "slug": program.slug,
        "target": program.target,
        "starts_on": program.starts_on.isoformat(),
        "ends_on": program.ends_on.isoformat(),
        "phases": [
            [pk, number, name, starts.isoformat(), ends.isoformat()] for pk, number, name, starts, ends in phases
        ],
        "fields": [[field.pk, field.name, field.position] for field in fields],
        "clusters": [[cluster.pk, cluster.name] for cluster in clusters],
    }


@dataclass(frozen=True)
class Seen:
    """The programme, its phases, fields and clusters as a snapshot saw them: unsaved instances with
    their ids, which the pages and the dashboard's reads use like the live ones."""

    program: Program
    phases: list[Phase]
    fields: list[Field]
    clusters: list[EmulationCluster]


def as_seen(kept: dict[str, Any], *, program_id: int) -> Seen | None:
    """The programme as kept by a snapshot (`as_it_is`); None for a snapshot taken before they were
    kept, whose pages show them as they are now."""
    if not kept:
        return None
    day = dt.date.fromisoformat
    program = Program(
        pk=program_id,
        name=kept["name"],
        slug=kept["slug"],
        target=kept["target"],
        starts_on=day(kept["starts_on"]),
        ends_on=day(kept["ends_on"]),
    )
    phases = [
        Phase(pk=pk, program_id=program_id, number=number, name=name, starts_on=day(starts), ends_on=day(ends))
        for pk, number, name, starts, ends in kept["phases"]
    ]
    fields = [Field(pk=pk, name=name, position=position) for pk, name, position in kept["fields"]]
    clusters = [EmulationCluster(pk=pk, name=name) for pk, name in kept["clusters"]]
    return Seen(program, phases, fields, clusters)
