"""The leadership dashboard and the unit drill-down, as of the latest leaderboard snapshot; and as
of any kept snapshot, exactly as it was (evidence: leaderboard.evidence)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from initiatives.models import Program
from initiatives.selectors import current_program
from leaderboard import dashboard as board
from leaderboard import evidence, history, programme
from leaderboard.forms import DashboardFilterForm
from leaderboard.models import LeaderboardSnapshot
from sangkien.charts import bar_chart, line_chart
from sangkien.text import parse_id
from unions.http import AuthenticatedHttpRequest
from unions.levels import BLOCK_NAMES
from unions.models import Union
from unions.permissions import dashboard_scope, evidence_scope, in_scope, may_rebuild_snapshot, sees_as_it_was

CHILDREN_PER_PAGE = 50


def _scope(request: AuthenticatedHttpRequest) -> Union:
    scope = dashboard_scope(request.user)
    if scope is None:
        raise PermissionDenied(_("The dashboard is for union officers, the board and leadership."))
    return scope


def _program() -> Program:
    program = current_program()
    if program is None:
        raise Http404(_("No programme is open at the moment."))
    return program


def _query(filters: board.Filters) -> str:
    """The filters as a query string, for the links that keep them (built from the valid filters
    only, so what a cached page links to never depends on stray parameters)."""
    chosen = {"phase": filters.phase, "field": filters.field, "cluster": filters.cluster}
    return urlencode({name: obj.pk for name, obj in chosen.items() if obj is not None})


def _page(
    request: AuthenticatedHttpRequest,
    template: str,
    program: Program,
    unit: Union,
    body: Callable[[dict[str, Any]], None],
    page: int = 1,
    snaps: board.Snapshots | None = None,
    **extra: Any,
) -> HttpResponse:
    """Render a dashboard page: the filters, and below them the body, which depends only on the
    snapshots, the scope, the unit, the filters and the page number. A snapshot never changes, so
    the first page's body is rendered once per snapshot and then served from the cache: a hit costs
    the few queries that find the user, the unit, the filters and the latest snapshots. Later pages
    of a long list of subunits are rendered each time (a cache entry per typed page number would
    let anyone fill the cache).

    Evidence (`snaps` frozen, from `_evidence`): the same, as the snapshot saw it, under keys of its
    own; the body prepares the snapshots' rows first (only when it is rendered)."""
    seen = programme.as_seen(snaps.current.programme, program_id=program.pk) if snaps and snaps.current else None
    if seen is not None:  # evidence: the programme, its phases, fields and clusters as the snapshot saw them
        program, phases, fields, clusters = seen.program, seen.phases, seen.fields, seen.clusters
    else:
        (fields, clusters), phases = board.filter_choices(), list(program.phases.all())
    form = DashboardFilterForm(request.GET or None, phases=phases, fields=fields, clusters=clusters)
    filters = board.Filters(**form.chosen())
    snaps = snaps or board.snapshots(program=program)
    scope = _evidence_scope(request) if snaps.frozen else _scope(request)
    context = {
        "program": program,
        "unit": unit,
        "scope": scope,
        "form": form,
        "filters": filters,
        "query": _query(filters),
        "page": page,
        "snapshot": snaps.current,
        "previous_snapshot": snaps.previous,
        "snaps": snaps,
        "fields": fields,
        "as_of": snaps.current if snaps.frozen else None,
        **extra,
    }

    def render_body() -> str:
        if snaps.frozen:
            assert snaps.current is not None
            evidence.prepare(
                snaps.current, snaps.previous, may_rebuild=may_rebuild_snapshot(request.user, snaps.current)
            )
        body(context)
        return render_to_string(f"leaderboard/includes/{template}_body.html", context)

    try:
        _render_into(context, render_body, template, snaps, scope, unit, filters, page)
    except evidence.Preparing:
        return render(request, "leaderboard/preparing.html", context, status=202)
    except evidence.NotKept:
        raise Http404(_("Only the snapshots kept as evidence can be shown again as they were.")) from None
    return render(request, f"leaderboard/{template}.html", context)


def _render_into(
    context: dict[str, Any],
    render_body: Callable[[], str],
    template: str,
    snaps: board.Snapshots,
    scope: Union,
    unit: Union,
    filters: board.Filters,
    page: int,
) -> None:
    """The page's body into the context: rendered, or from the cache for a first page."""
    if snaps.current is None or page != 1:
        context["body"] = render_body()
    else:
        parts = (template, snaps.current.pk, snaps.previous.pk if snaps.previous else 0, scope.pk, unit.pk)
        prefix = "dashboard-evidence:" if snaps.frozen else "dashboard-body:"
        key = prefix + ":".join(str(part) for part in (*parts, filters.cache_key(), get_language()))
        cached = cache.get(key)
        if cached is None:
            cached = render_body()
            cache.set(key, cached, board.LIVE_CACHE_SECONDS)
        context["body"] = mark_safe(cached)  # our own rendering, escaped when it was rendered


def _unit_figures(context: dict[str, Any]) -> None:
    """What both pages show about their unit: its figures, progress and both charts."""
    snaps, unit, filters = context["snaps"], context["unit"], context["filters"]
    figures = board.unit_figures(snaps=snaps, unit=unit, filters=filters, fields=context["fields"])
    weekly = board.weekly_series(snaps=snaps, unit=unit, filters=filters)
    context.update(
        figures=figures,
        progress=board.progress(
            program=context["program"], snapshot=snaps.current, scope=unit, figures=figures, filters=filters
        ),
        weekly=weekly,
        weekly_chart=line_chart(weekly),
        field_chart=bar_chart([(field.name, submitted) for field, submitted, _valid in figures.by_field]),
    )


def _dashboard_body(context: dict[str, Any]) -> None:
    """The dashboard's body: its scope's figures, the leading units of each block, the trends."""
    _unit_figures(context)
    program, filters = context["program"], context["filters"]
    rankings = board.block_rankings(snaps=context["snaps"], scope=context["unit"], filters=filters)
    context["blocks"] = [
        {
            "level": level,
            "name": BLOCK_NAMES[level],
            "standings": board.with_targets_in(standings, program=program, filters=filters),
        }
        for level, standings in rankings.items()
    ]
    context["leaders"] = _leaders_sentence(context["snapshot"], rankings)


@login_required
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Bảng điều hành: progress, the leading units of each block, top 10s with movement, trends."""
    return _page(request, "dashboard", _program(), _scope(request), _dashboard_body)


def _leaders_sentence(snapshot: LeaderboardSnapshot | None, rankings: dict[str, list[board.Standing]]) -> str:
    """ "Tính đến ngày …, đơn vị dẫn đầu khối … là …; khối … là …" (ties name every leader)."""
    parts = []
    for level, standings in rankings.items():
        leaders = [standing for standing in standings if standing.rank == 1]
        if leaders:
            names = format_html_join(f" {_('and')} ", "<strong>{}</strong>", ((s.unit.name,) for s in leaders))
            count = ngettext("%(n)s initiative", "%(n)s initiatives", leaders[0].submitted) % {
                "n": intcomma(leaders[0].submitted)
            }
            parts.append(
                format_html(
                    _("{block} is {units} ({count})"),
                    block=str(BLOCK_NAMES[level]).lower(),
                    units=names,
                    count=count,
                )
            )
    if snapshot is None or not parts:
        return ""
    day = date_format(timezone.localtime(snapshot.taken_at), "d/m/Y")
    return format_html(_("As of {day}, the leading unit of the {parts}."), day=day, parts=mark_safe("; ".join(parts)))


@login_required
def dashboard_unit(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """A unit's drill-down: its figures, its children ranked, its weekly trend and rank history."""
    scope = _scope(request)
    unit = get_object_or_404(Union, code=code)
    if not (unit.is_in_subtree_of(scope) and in_scope(request.user, unit)):
        raise PermissionDenied(_("This unit is outside your unit's subtree."))
    trail = [ancestor for ancestor in Union.objects.ancestors(unit) if ancestor.is_in_subtree_of(scope)]
    return _page(
        request,
        "dashboard_unit",
        _program(),
        unit,
        _unit_body,
        page=_page_number(request),
        trail=trail,
        block_name=BLOCK_NAMES.get(unit.level, ""),
    )


def _page_number(request: AuthenticatedHttpRequest) -> int:
    return max(parse_id(request.GET.get("page", ""), max_digits=9) or 1, 1)


def _unit_body(context: dict[str, Any]) -> None:
    """A unit page's body: its figures, its children ranked, its trends and its rank history."""
    _unit_figures(context)
    program, unit, snaps, filters = context["program"], context["unit"], context["snaps"], context["filters"]
    children = board.with_targets_in(
        board.children_ranking(program=program, snaps=snaps, unit=unit, filters=filters),
        program=program,
        filters=filters,
    )
    context["children"] = Paginator(children, CHILDREN_PER_PAGE).get_page(context["page"])
    until = snaps.current if snaps.frozen else None
    context["history"] = board.rank_history(program=program, unit=unit, until=until)


# ---------------------------------------------------------------------------------------------------
# Evidence: any snapshot with its history, as it was.


def _evidence_scope(request: AuthenticatedHttpRequest) -> Union:
    scope = evidence_scope(request.user)
    if scope is None:
        raise PermissionDenied(_("Snapshots kept as evidence are for the board and leadership."))
    return scope


def _evidence(request: AuthenticatedHttpRequest, snapshot_id: int) -> board.Snapshots:
    """The snapshot asked for and the one before it, frozen; 404 for a snapshot that does not
    exist or was taken before the history (nothing can show it as it was)."""
    _evidence_scope(request)
    snapshot = LeaderboardSnapshot.objects.filter(pk=snapshot_id).select_related("program", "previous__program").first()
    if snapshot is None or not history.has_history(snapshot):
        raise Http404(_("No such snapshot is kept."))
    return board.Snapshots(snapshot, snapshot.previous, frozen=True)


def _unit_as_it_was(request: AuthenticatedHttpRequest, snaps: board.Snapshots, unit: Union | None) -> list[Union]:
    """The units above `unit` as the snapshot saw them (403 outside the user's scope then, 404 when
    it saw no such unit)."""
    assert snaps.current is not None
    if unit is None:
        raise Http404(_("This unit was not in the snapshot."))
    lineage = evidence.ancestors(snaps.current, unit)
    if not sees_as_it_was(request.user, [unit.pk, *(ancestor.pk for ancestor in lineage)]):
        raise PermissionDenied(_("This unit is outside your unit's subtree."))
    return lineage


@login_required
def dashboard_as_of(request: AuthenticatedHttpRequest, snapshot_id: int) -> HttpResponse:
    """The dashboard exactly as a kept snapshot showed it (its scope as the snapshot saw it)."""
    snaps = _evidence(request, snapshot_id)
    assert snaps.current is not None
    scope = evidence.unit(snaps.current, pk=_evidence_scope(request).pk)
    _unit_as_it_was(request, snaps, scope)
    assert scope is not None
    return _page(request, "dashboard", snaps.current.program, scope, _dashboard_body, snaps=snaps)


@login_required
def dashboard_unit_as_of(request: AuthenticatedHttpRequest, code: str, snapshot_id: int) -> HttpResponse:
    """A unit's drill-down exactly as a kept snapshot showed it: the unit found by its code then."""
    snaps = _evidence(request, snapshot_id)
    assert snaps.current is not None
    unit = evidence.unit(snaps.current, code=code)
    lineage = _unit_as_it_was(request, snaps, unit)
    assert unit is not None
    scope = _evidence_scope(request)
    trail = lineage[[ancestor.pk for ancestor in lineage].index(scope.pk) :] if unit.pk != scope.pk else []
    return _page(
        request,
        "dashboard_unit",
        snaps.current.program,
        unit,
        _unit_body,
        page=_page_number(request),
        snaps=snaps,
        trail=trail,
        block_name=BLOCK_NAMES.get(unit.level, ""),
    )


@login_required
def dashboard_evidence(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The programme's snapshots kept as evidence (quarter and phase ends, those a decision cites)."""
    _evidence_scope(request)
    program = _program()
    return render(request, "leaderboard/evidence.html", {"program": program, "snapshots": evidence.pinned(program.pk)})
