"""The app map of docs/architecture.md, held against the code: every import points down the map
(or within its own app), and no module imports itself back through others."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The portal's own modules that gather every app: the top of the house.
TOP = {"sangkien.urls", "sangkien.views"}
# What each part may import besides itself (docs/architecture.md, "Who may import whom").
HELPERS = "sangkien"  # the shared helpers: every module of sangkien/ but TOP
MAY_IMPORT: dict[str, set[str]] = {
    HELPERS: set(),
    "unions": {HELPERS},
    "notifications": {HELPERS, "unions"},
    "initiatives": {HELPERS, "unions", "notifications"},
    "questions": {HELPERS, "unions", "notifications", "initiatives"},
    "leaderboard": {HELPERS, "unions", "notifications", "initiatives"},
    "emulation": {HELPERS, "unions", "notifications", "initiatives"},
    "honours": {HELPERS, "unions", "notifications", "initiatives", "leaderboard"},
    "councils": {HELPERS, "unions", "notifications", "initiatives"},
    # The API reads what the public pages and the officers' pages read: every app but the demo.
    "api": {
        HELPERS,
        "unions",
        "notifications",
        "initiatives",
        "questions",
        "leaderboard",
        "emulation",
        "honours",
        "councils",
    },
    "demo": {
        HELPERS,
        "unions",
        "notifications",
        "initiatives",
        "questions",
        "leaderboard",
        "emulation",
        "honours",
        "councils",
    },
    "top": {
        HELPERS,
        "unions",
        "notifications",
        "initiatives",
        "questions",
        "leaderboard",
        "emulation",
        "honours",
        "councils",
    },
}
PACKAGES = (
    "sangkien",
    "unions",
    "notifications",
    "initiatives",
    "questions",
    "leaderboard",
    "emulation",
    "honours",
    "councils",
    "api",
    "demo",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}


def part_of(module: str) -> str:
    return "top" if module in TOP else module.split(".")[0]


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules a file imports, wherever the import stands (inside a function or under
    TYPE_CHECKING too): `from a import b` names module a.b when there is one, else a."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(
                f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in known else node.module
                for alias in node.names
            )
    return {name for name in found if name.split(".")[0] in PACKAGES and name in known}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {module: imports_of(path, known) - {module} for module, path in known.items()}


def test_every_import_points_down_the_app_map() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph().items()
        for target in targets
        if part_of(target) != part_of(module) and part_of(target) not in MAY_IMPORT[part_of(module)]
    )
    assert not wrong, "imports against docs/architecture.md:\n" + "\n".join(wrong)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back_through_others() -> None:
    assert cycles(graph()) == []


def test_the_checks_catch_what_they_are_for() -> None:
    """A wrong import and a loop, in a made-up graph, are both found."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert "notifications" not in MAY_IMPORT["unions"] and "questions" not in MAY_IMPORT["leaderboard"]
    assert part_of("sangkien.views") == "top" and part_of("sangkien.text") == HELPERS


def test_the_map_in_the_docs_names_every_app() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    assert all(f"`{package}`" in text for package in PACKAGES)
