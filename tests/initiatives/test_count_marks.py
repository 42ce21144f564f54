"""Count marks (docs/leaderboard-storage.md §2.3): every write that may change what an initiative
counts for leaves a mark in the writer's transaction, so a snapshot can re-count only the marked
initiatives.

Two halves. The guard reads the apps' source and fails on any write to initiatives that goes round
the model's save and delete (a queryset's `.update()`, `bulk_create`, `bulk_update`, raw SQL that
writes `initiatives_initiative`) and is not on its covered list, where each entry says how it marks
or why it needs no mark. The write-path test runs every covered path and reads the marks."""

from __future__ import annotations

import ast
import datetime as dt
import re
import textwrap
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from initiatives.counting import mark
from initiatives.models import CountMark, Initiative
from initiatives.services import (
    AuthorData,
    initiative_review,
    initiative_save_draft,
    initiative_submit,
    initiatives_review,
)
from tests.factories import FieldFactory, InitiativeFactory, ProgramFactory, UserFactory
from tests.forms import admin_change_data

ROOT = Path(__file__).resolve().parents[2]
APPS = ("sangkien", "unions", "notifications", "initiatives", "questions", "leaderboard", "emulation", "demo")
ORM_WRITES = ("update", "bulk_create", "bulk_update")
TABLE = Initiative._meta.db_table
# A statement that writes a table named by `{t}`: the table right after the verb, or in TRUNCATE's list.
_SQL_WRITE = (
    r"\b(?:UPDATE|INSERT\s+INTO|DELETE\s+FROM|COPY)\s+(?:ONLY\s+)?{t}"
    r"|\bTRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?(?:[\w\"{{}}.]+\s*,\s*)*{t}"
)
WRITES_THE_TABLE = re.compile(_SQL_WRITE.format(t=rf'"?{TABLE}"?(?![\w])'), re.IGNORECASE)
WRITES_A_NAMED_TABLE = re.compile(_SQL_WRITE.format(t=r"\{([^{}]+)\}"), re.IGNORECASE)

# Every write to initiatives outside the model's save and delete: (file, function, operation), with
# how it marks or why no mark is needed. The guard fails on one missing here, and on an entry that
# no longer matches the code (so the list stays true).
COVERED: dict[tuple[str, str, str], str] = {
    ("initiatives/services.py", "initiative_submit", "update"): "counting.mark after the claim",
    ("initiatives/services.py", "initiatives_review", "update"): "counting.mark after each claim",
    ("initiatives/services.py", "initiative_refresh_search_text", "update"): "search_text only: counts nothing",
    ("initiatives/imports.py", "_create", "bulk_create"): "counting.mark of the created ids",
    # Development data. seed_demo and seed_scale build the programme from nothing: they delete the
    # LeaderboardState, so the next snapshot is full (§2.3), as marking millions would cost more.
    ("demo/seed.py", "_create_initiatives", "bulk_create"): "development data: the next snapshot is full",
    ("demo/scale.py", "reset", "sql"): "seed_scale's TRUNCATE: development data, the next snapshot is full",
    ("demo/scale.py", "_copy", "sql"): "seed_scale's COPY loader: development data, the next snapshot is full",
    # Text columns only (the NFC migrations): no counted column.
    ("sangkien/cleaning.py", "nfc_normalise_columns", "sql"): "text columns to NFC: counts nothing",
    ("sangkien/cleaning.py", "_nfc_column_in_python", "update"): "text columns to NFC: counts nothing",
    # Receivers the guard cannot name; none is an initiative.
    ("sangkien/app_moves.py", "move_content_types.relabel", "update"): "Permission rows",
    ("notifications/admin.py", "NotificationAdmin.send_again", "update"): "Notification rows",
    ("leaderboard/views.py", "_unit_figures", "update"): "a dict (the template context)",
    ("leaderboard/migrations/0002_snapshot_seq.py", "number_snapshots", "bulk_update"): "snapshots' seq",
    ("leaderboard/history.py", "<module>", "sql"): "INSERT_ROWS_SQL: a snapshot's rows, into {table}",
    ("leaderboard/history.py", "_close", "sql"): "versions of the history, into {kind.table}",
    ("leaderboard/history.py", "_weeks", "sql"): "temporary tables of weekly counts and of the tier-2 map",
    ("initiatives/counting.py", "roll_up", "sql"): "a temporary table of figures",
    ("leaderboard/history.py", "forget", "sql"): "deletes versions of the history no snapshot sees",
    # Old snapshots' rows into versions and back: the leaderboard's own tables.
    ("leaderboard/migrations/0004_history_of_old_snapshots.py", "<module>", "sql"): "ranked rows, into {table}",
    ("leaderboard/migrations/0004_history_of_old_snapshots.py", "_diff", "sql"): "versions, into {table}",
    ("leaderboard/migrations/0004_history_of_old_snapshots.py", "_snapshot_to_versions", "sql"): "temporary tables",
    ("leaderboard/migrations/0004_history_of_old_snapshots.py", "old_snapshots_to_versions", "sql"): "versions",
    ("leaderboard/migrations/0004_history_of_old_snapshots.py", "versions_to_old_snapshots", "sql"): "rows, weeks",
    # Backwards, the current rows' snapshots get their ranked rows and weeks back: the leaderboard's tables.
    ("leaderboard/migrations/0006_current_rows.py", "<module>", "sql"): "ranked rows, into {table}",
    ("leaderboard/migrations/0006_current_rows.py", "ranked_rows_back", "sql"): "rows, weeks, the history state",
}

# The covered functions that hold more than one such write (every other holds one).
TIMES: dict[tuple[str, str, str], int] = {
    ("leaderboard/history.py", "_close", "sql"): 4,
    ("leaderboard/history.py", "_weeks", "sql"): 3,
    ("leaderboard/migrations/0004_history_of_old_snapshots.py", "_diff", "sql"): 2,
    ("leaderboard/migrations/0004_history_of_old_snapshots.py", "versions_to_old_snapshots", "sql"): 2,
    ("leaderboard/migrations/0006_current_rows.py", "ranked_rows_back", "sql"): 2,
}


def initiative_models() -> set[str]:
    """The names an initiative's class goes by: the model and its proxies (the review queue)."""
    return {model.__name__ for model in apps.get_models() if model._meta.concrete_model is Initiative}


def _model_of(node: ast.AST, aliases: dict[str, str | None]) -> str | None:
    """The model class a queryset expression starts from (`Union.objects.filter(...)` → "Union"),
    through names assigned in the same function; None when it cannot be told."""
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            base = node.value
            if node.attr in ("objects", "_default_manager") and isinstance(base, ast.Name) and base.id[:1].isupper():
                return base.id
            node = base
        elif isinstance(node, ast.Name):
            return node.id if node.id[:1].isupper() else aliases.get(node.id)
        else:
            return None


def _table_of(expression: str, tables: dict[str, str | None]) -> str | None:
    """The model whose table an f-string placeholder names (`Union._meta.db_table`, or a name
    assigned it); None when it cannot be told."""
    expression = expression.strip()
    if found := re.fullmatch(r"(\w+)\._meta\.db_table", expression):
        return found.group(1) if found.group(1)[:1].isupper() else None
    return tables.get(expression)


def _sql_text(node: ast.AST) -> str | None:
    """A string literal's text; an f-string's with each placeholder as `{its source}`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) else "{" + ast.unparse(part.value) + "}"  # type: ignore[attr-defined]
            for part in node.values
        )
    return None


def _scopes(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    """The module and each function in it, with its qualified name (Class.method)."""
    found: list[tuple[str, ast.AST]] = [("<module>", tree)]

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                found.append((prefix + child.name, child))
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")

    visit(tree, "")
    return found


def _own_nodes(scope: ast.AST) -> list[ast.AST]:
    """The nodes of a scope, without those of the functions defined in it (scopes of their own)."""
    nodes: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            nodes.append(node)
            if not isinstance(node, ast.JoinedStr):  # an f-string is read whole, not again part by part
                stack.extend(ast.iter_child_nodes(node))
    return nodes


def _names(nodes: list[ast.AST], models: dict[str, str | None], tables: dict[str, str | None]) -> None:
    """Add to `models` the names assigned a queryset of a known model, to `tables` the names
    assigned a model's table name (`Initiative._meta.db_table`, quoted or not) or a string literal;
    a name assigned two different things is unknown (None)."""

    def learn(known: dict[str, str | None], name: str, value: str | None) -> None:
        known[name] = value if known.get(name, value) == value else None

    for node in nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, node.value
            if model := _model_of(value, models):
                learn(models, name, model)
            if found := re.search(r"\b(\w+)\._meta\.db_table\b", ast.unparse(value)):
                learn(tables, name, found.group(1) if found.group(1)[:1].isupper() else None)
            elif isinstance(value, ast.Constant) and isinstance(value.value, str):
                learn(tables, name, "(a literal)")


def write_paths(source: str, path: str) -> list[tuple[str, str, str]]:
    """The writes to initiatives in `source` that go round the model's save and delete, as
    (path, function, operation): ORM bulk writes whose queryset is an initiative's or cannot be
    told, and SQL strings that write `initiatives_initiative` or a table that cannot be told."""
    tree = ast.parse(source, path)
    initiative = initiative_models()
    found: list[tuple[str, str, str]] = []
    known: dict[str, tuple[dict[str, str | None], dict[str, str | None]]] = {}
    for name, scope in _scopes(tree):  # an enclosing scope comes before the functions inside it
        nodes = _own_nodes(scope)
        outer = known.get(name.rpartition(".")[0], known.get("<module>", ({}, {})))
        models, tables = dict(outer[0]), dict(outer[1])
        _names(nodes, models, tables)
        known[name] = (models, tables)
        for node in nodes:
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ORM_WRITES:
                # QuerySet.update takes keywords only: a positional argument is a dict's or a set's update.
                if node.func.attr == "update" and node.args:
                    continue
                model = _model_of(node.func.value, models)
                if model is None or model in initiative:
                    found.append((path, name, node.func.attr))
            elif (text := _sql_text(node)) is not None:
                writes = bool(WRITES_THE_TABLE.search(text)) or any(
                    _table_of(match.group(1), tables) in initiative | {None}
                    for match in WRITES_A_NAMED_TABLE.finditer(text)
                )
                if writes:
                    found.append((path, name, "sql"))
    return found


def app_sources() -> list[Path]:
    return sorted(path for app in APPS for path in (ROOT / app).rglob("*.py"))


def test_every_write_to_initiatives_round_the_model_marks_or_is_listed() -> None:
    found = Counter(
        key for path in app_sources() for key in write_paths(path.read_text(), path.relative_to(ROOT).as_posix())
    )
    uncovered = sorted(key for key in found if key not in COVERED)
    assert not uncovered, (
        "A write to initiatives that bypasses the model's save and delete (so sends no signal) must "
        "call initiatives.counting.mark with the ids it changed, in its transaction, and be added to "
        f"COVERED with how it marks: {uncovered}"
    )
    stale = sorted(key for key in COVERED if key not in found)
    assert not stale, f"COVERED lists writes the code no longer has: {stale}"
    # An entry covers one write: a second one in the same function must be looked at too.
    again = sorted(key for key, times in found.items() if times != TIMES.get(key, 1))
    assert not again, f"More writes than COVERED says in: {again}"


@pytest.mark.parametrize(
    ("code", "operation"),
    [
        ("Initiative.objects.filter(pk=1).update(status='valid')", "update"),
        ("ReviewQueue.objects.filter(pk=1).update(value_vnd=0)", "update"),
        ("queryset.update(status='valid')", "update"),
        ("Initiative.objects.bulk_update(rows, ['unit'])", "bulk_update"),
        ("Initiative.objects.bulk_create(rows)", "bulk_create"),
        ("rows = Initiative.objects.filter(unit=unit)\nrows.update(unit=other)", "update"),
        ("cursor.execute('UPDATE initiatives_initiative SET status = %s', ['valid'])", "sql"),
        ("cursor.execute(f'UPDATE {Initiative._meta.db_table} SET status = %s', ['valid'])", "sql"),
        ("cursor.execute(f'DELETE FROM {_INITIATIVE} WHERE id = %s', [1])", "sql"),
        ("cursor.execute(f'COPY {table} (id) FROM STDIN')", "sql"),
        ("cursor.execute('TRUNCATE initiatives_author, initiatives_initiative')", "sql"),
    ],
)
def test_the_guard_finds_a_new_write_round_the_model(code: str, operation: str) -> None:
    source = "_INITIATIVE = Initiative._meta.db_table\n\n\ndef change(queryset, cursor, rows, unit, other, table):\n"
    assert write_paths(source + textwrap.indent(code, "    "), "x.py") == [("x.py", "change", operation)]


@pytest.mark.parametrize(
    "code",
    [
        "Union.objects.filter(pk=1).update(name='x')",
        "jobs = ExportJob.objects.filter(pk=1)\njobs.update(rows_done=2)",
        "context.update({'a': 1})",
        "seen.update(ids)",
        "Author.objects.bulk_create(rows)",
        "cursor.execute(f'UPDATE {User._meta.db_table} SET unit_id = NULL')",
        "cursor.execute('INSERT INTO lb_tmp SELECT id FROM initiatives_initiative')",
        "cursor.execute('UPDATE initiatives_initiative_editors SET user_id = 1')",
    ],
)
def test_the_guard_leaves_other_tables_and_reads_alone(code: str) -> None:
    source = "def change(context, seen, ids, rows, cursor):\n" + textwrap.indent(code, "    ")
    assert write_paths(source, "x.py") == []


# The write paths, each run on a fresh database; each returns the ids it must have marked.

pytestmark = pytest.mark.django_db
AUTHORS = [AuthorData("Nguyễn Văn An", Decimal(100))]


def _new(program, unit, field) -> Initiative:
    return Initiative(
        program=program,
        unit=unit,
        title="Cải tiến lò nung",
        field=field,
        kind=Initiative.Kind.TECHNICAL,
        summary="Giảm tiêu hao.",
        description="Giải pháp.",
        first_applied_on=dt.date(2022, 3, 1),
    )


def submit(ctx) -> list[int]:
    return [initiative_submit(initiative=_new(ctx.program, ctx.unit, ctx.field), authors=AUTHORS, by=ctx.officer).pk]


def resubmit(ctx) -> list[int]:
    ctx.returned.value_vnd = 7_000_000
    return [initiative_submit(initiative=ctx.returned, authors=AUTHORS, by=ctx.officer).pk]


def edit_returned(ctx) -> list[int]:
    ctx.returned.value_vnd = 7_000_000
    return [initiative_save_draft(initiative=ctx.returned, authors=AUTHORS, by=ctx.officer).pk]


def review(decision: str) -> Callable:
    def run(ctx) -> list[int]:
        initiative_review(initiative=ctx.submitted, decision=decision, by=ctx.reviewer, reason="Lý do")
        return [ctx.submitted.pk]

    run.__name__ = f"review_{decision}"
    return run


def bulk_review(ctx) -> list[int]:
    ids = [ctx.submitted.pk, ctx.other.pk]
    initiatives_review(ids=ids, decision="returned", by=ctx.reviewer, reason="Bổ sung")
    return ids


def import_file(ctx) -> list[int]:
    from initiatives.imports import import_initiatives
    from tests.initiatives.test_import_initiatives import good_row, workbook

    before = set(Initiative.objects.values_list("pk", flat=True))
    assert import_initiatives(workbook([good_row(), good_row(title="Quản lý kho")]), user=ctx.officer,
                              program=ctx.program).created == 2  # fmt: skip
    return sorted(set(Initiative.objects.values_list("pk", flat=True)) - before)


def admin_edit(change: str, admin: str = "initiative") -> Callable:
    def run(ctx) -> list[int]:
        url = reverse(f"admin:initiatives_{admin}_change", args=[ctx.submitted.pk])
        data = admin_change_data(ctx.board, url)
        data[change] = {"unit": ctx.other_unit.pk, "field": ctx.other_field.pk, "phase": ctx.phase_two.pk,
                        "value_vnd": "2.500.000"}[change]  # fmt: skip
        response = ctx.board.post(url, data)
        assert response.status_code == 302, response.content.decode()[:3000]
        ctx.submitted.refresh_from_db()
        assert str(getattr(ctx.submitted, change if change == "value_vnd" else f"{change}_id")) == str(
            data[change]
        ).replace(".", "")
        return [ctx.submitted.pk]

    run.__name__ = f"admin_edit_{change}_{admin}"
    return run


def admin_delete(ctx) -> list[int]:
    url = reverse("admin:initiatives_initiative_delete", args=[ctx.submitted.pk])
    assert ctx.board.post(url, {"post": "yes"}).status_code == 302
    assert not Initiative.objects.filter(pk=ctx.submitted.pk).exists()
    return [ctx.submitted.pk]


def admin_bulk_delete(ctx) -> list[int]:
    ids = [ctx.submitted.pk, ctx.other.pk]
    changelist = reverse("admin:initiatives_initiative_changelist")
    ctx.board.post(changelist, {"action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert not Initiative.objects.filter(pk__in=ids).exists()
    return ids


def factory_save(ctx) -> list[int]:
    return [InitiativeFactory(program=ctx.program, unit=ctx.unit, field=ctx.field).pk]


WRITE_PATHS = [
    submit,
    resubmit,
    edit_returned,
    review("valid"),
    review("returned"),
    review("rejected"),
    bulk_review,
    import_file,
    admin_edit("unit"),
    admin_edit("field"),
    admin_edit("phase"),
    admin_edit("value_vnd"),
    admin_edit("value_vnd", admin="reviewqueue"),
    admin_delete,
    admin_bulk_delete,
    factory_save,
]


class Context:
    def __init__(self, program, field, unit_tree, officer) -> None:
        self.program, self.field, self.officer, self.unit = program, field, officer, unit_tree.gang_thep
        self.other_unit, self.other_field = unit_tree.thep, FieldFactory(name="Môi trường")
        self.phase_two = program.phases.get(number=2)
        self.reviewer = UserFactory(username="ban.tw", unit=None, is_staff=True)
        from tests.conftest import role_group
        from unions.permissions import REVIEWERS_GROUP

        self.reviewer.groups.add(role_group(REVIEWERS_GROUP))
        self.board = Client()
        self.board.force_login(UserFactory(username="quantri", is_staff=True, is_superuser=True))
        self.submitted, self.other = InitiativeFactory.create_batch(2, program=program, unit=self.unit, field=field)
        self.returned = InitiativeFactory(
            program=program,
            unit=self.unit,
            field=field,
            status="returned",
            created_by=officer,
            summary="Giảm tiêu hao.",
            description="Giải pháp.",
            first_applied_on=dt.date(2022, 3, 1),
        )


@pytest.mark.parametrize("write", WRITE_PATHS, ids=[write.__name__ for write in WRITE_PATHS])
def test_each_write_path_marks_what_it_changed(program, field, unit_tree, officer, write) -> None:
    ctx = Context(program, field, unit_tree, officer)
    CountMark.objects.all().delete()
    marked = write(ctx)
    assert sorted(set(CountMark.objects.values_list("initiative_id", flat=True))) == sorted(marked)


def test_a_submission_writes_one_mark_with_one_insert(program, field, unit_tree, officer) -> None:
    draft = initiative_save_draft(initiative=_new(program, unit_tree.gang_thep, field), authors=AUTHORS, by=officer)
    CountMark.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        initiative_submit(initiative=draft, authors=AUTHORS, by=officer)
    inserts = [q["sql"] for q in queries if CountMark._meta.db_table in q["sql"]]
    assert len(inserts) == 1 and inserts[0].startswith("INSERT"), inserts
    assert list(CountMark.objects.values_list("initiative_id", flat=True)) == [draft.pk]


def test_a_failed_submission_leaves_no_mark(program, field, unit_tree, officer) -> None:
    from initiatives.services import InitiativeStateError

    initiative = initiative_submit(initiative=_new(program, unit_tree.gang_thep, field), authors=AUTHORS, by=officer)
    CountMark.objects.all().delete()
    with pytest.raises(InitiativeStateError):
        initiative_submit(initiative=initiative, authors=AUTHORS, by=officer)
    assert not CountMark.objects.exists()


def test_many_marks_are_one_insert(program, field, unit_tree) -> None:
    with CaptureQueriesContext(connection) as queries:
        mark([5, 3, 5, *range(100, 1100)])
    assert len(queries) == 1
    assert CountMark.objects.count() == 1002  # each id once
    assert not CountMark.objects.filter(marked_at__isnull=True).exists()
    with CaptureQueriesContext(connection) as queries:
        mark([])
    assert len(queries) == 0


def test_marks_have_no_index_but_the_primary_key() -> None:
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, CountMark._meta.db_table)
    assert [name for name, spec in indexes.items() if spec["index"] and not spec["primary_key"]] == []
    assert not any(spec["foreign_key"] for spec in indexes.values())


def test_other_databases_mark_through_bulk_create(monkeypatch) -> None:
    """The SQLite demo has no arrays: the same marks, one bulk INSERT (run here on PostgreSQL)."""
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with CaptureQueriesContext(connection) as queries:
        mark([7, 7, 8])
    assert len(queries) == 1
    assert sorted(CountMark.objects.values_list("initiative_id", flat=True)) == [7, 8]
    assert not CountMark.objects.filter(marked_at__isnull=True).exists()


def test_the_nightly_job_drops_the_week_old_marks_no_snapshot_will_consume(program) -> None:
    """Snapshots consume the marks of active programmes; those of an inactive programme's
    initiatives (or of deleted ones no snapshot counted) would stay for ever: kept a week."""
    import datetime as dt

    from django.utils import timezone

    from initiatives.models import CountMark
    from leaderboard.tasks import prune_count_marks

    closed = ProgramFactory(slug="da-ket-thuc", is_active=False)
    awaited = InitiativeFactory(program=program)
    elsewhere = InitiativeFactory(program=closed)
    CountMark.objects.all().delete()
    CountMark.objects.bulk_create(
        [CountMark(initiative_id=awaited.pk), CountMark(initiative_id=elsewhere.pk), CountMark(initiative_id=10**9)]
    )
    CountMark.objects.update(marked_at=timezone.now() - dt.timedelta(days=8))
    CountMark.objects.create(initiative_id=10**9 + 1)  # a fresh one stays, whatever it is
    assert prune_count_marks() == 2
    assert sorted(CountMark.objects.values_list("initiative_id", flat=True)) == [awaited.pk, 10**9 + 1]
