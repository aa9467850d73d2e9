"""The house's import rules (docs/architecture.md), read from the source with ``ast``: the stages
never reach up into project, web or cli; the project never imports web or cli; the web reaches
the database only through the project's services; no two modules import each other, however
indirectly; and the rooms keep to their size."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

SRC = REPO / "src"
PACKAGE = SRC / "soundstage"
# Pure stages: plain functions from typed values to typed values; no database, web or CLI.
STAGES = {
    "script", "plan", "layout", "render", "generate", "checks", "review", "cut", "provenance", "reports",
    "books", "schedules", "guardrails",
}  # fmt: skip
UPPER = {"project", "web", "cli"}  # the rooms that orchestrate and present
# What every room may lean on: settings, errors, files, logging, passwords, plugins, the store.
# ("" is soundstage/__init__.py itself; __main__ is the CLI's ``python -m soundstage``.)
BASE = {"config", "errors", "files", "logs", "passwords", "plugins", "store", ""}
LONG_MODULE = 500  # lines; a longer module says at its top why it is long ("Long because ...")


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The soundstage modules ``name`` imports, anywhere in it (inside functions too)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {t for t in found if t in MODULES and t != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_graph_sees_the_house() -> None:
    # The check must be looking at real code: the CLI imports the project, the project the stages.
    assert "soundstage.project" in GRAPH["soundstage.cli.app"]
    assert "soundstage.plan.coverage" in GRAPH["soundstage.project.shotlist"]
    assert "soundstage.project.board" in GRAPH["soundstage.web.routes.api"]


def test_stages_never_reach_up() -> None:
    reaching = [
        f"{m} imports {t}" for m, targets in GRAPH.items() for t in targets if _room(m) in STAGES and _room(t) in UPPER
    ]
    assert not reaching


def test_base_modules_import_no_room_above_them() -> None:
    reaching = [
        f"{m} imports {t}"
        for m, targets in GRAPH.items()
        for t in targets
        if _room(m) in BASE and _room(t) in UPPER | (STAGES - {"plan", "guardrails"})
        # config takes plan's shot sizes and the guardrails' Policy (its [policy] section)
    ]
    assert not reaching


def test_the_project_imports_neither_web_nor_cli() -> None:
    reaching = [
        f"{m} imports {t}"
        for m, ts in GRAPH.items()
        for t in ts
        if _room(m) == "project" and _room(t) in {"web", "cli"}
    ]
    assert not reaching


def test_the_web_reaches_the_database_only_through_the_project() -> None:
    reaching = [f"{m} imports {t}" for m, ts in GRAPH.items() for t in ts if _room(m) == "web" and _room(t) == "store"]
    assert not reaching
    assert not [m for m, ts in GRAPH.items() if _room(m) == "web" and any(t.startswith("sqlalchemy") for t in ts)]
    # Nothing but the CLI's serve command opens the app; its routes never import it back.
    assert {m for m, ts in GRAPH.items() if "soundstage.web.app" in ts} == {"soundstage.cli.people"}


def test_no_import_cycles() -> None:
    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            here = todo.pop()
            if here == goal:
                return True
            if here not in seen:
                seen.add(here)
                todo += GRAPH[here]
        return False

    cycles = sorted(f"{a} <-> {b}" for a, targets in GRAPH.items() for b in targets if reaches(b, a))
    assert not cycles


def test_review_keeps_only_the_pure_workflow_and_audit() -> None:
    assert sorted(p.name for p in (PACKAGE / "review").glob("*.py")) == [
        "__init__.py",
        "anchor.py",
        "audit.py",
        "workflow.py",
    ]


def test_rooms_of_the_house_are_small_or_say_why() -> None:
    long = []
    for name, path in MODULES.items():
        if _room(name) not in UPPER:
            continue  # the stages' owners keep theirs; docs/architecture.md lists the long ones
        text = path.read_text(encoding="utf-8")
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if text.count("\n") > LONG_MODULE and "Long because" not in docstring:
            long.append(f"{name}: {text.count(chr(10))} lines")
    assert not long
