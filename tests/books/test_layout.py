"""The books package keeps the import rules of DESIGN.md: it knows no database, web or CLI, and
its data files ship with the package."""

from __future__ import annotations

import ast
from pathlib import Path

from soundstage.books.programs import builtin_folder, load_programs

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "soundstage" / "books"
FORBIDDEN = (
    "soundstage.project",
    "soundstage.web",
    "soundstage.cli",
    "soundstage.store",
    "sqlalchemy",
    "fastapi",
    "typer",
)


def test_books_imports_no_database_web_or_cli() -> None:
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"


def test_every_required_program_ships_and_names_a_source_on_every_figure() -> None:
    catalog = load_programs()
    assert {
        "ca-4.0",
        "ca-3.0",
        "cptc",
        "pstc",
        "on-ofttc",
        "on-ocase",
        "on-opstc",
        "bc-fibc",
        "bc-pstc",
        "bc-dave",
        "uk-avec",
        "ny",
        "ga",
    } <= set(catalog)
    assert len(list(builtin_folder().glob("*.toml"))) == len(catalog)
    for program in catalog.values():
        figures = [*program.rates, *program.rules, *program.eligibility, *program.caps, *program.uplifts, *program.fees]
        figures += [
            x for x in (program.tax, program.certification, program.refund, program.jobs_ratio) if x is not None
        ]
        for figure in figures:
            assert figure.source in program.sources, (program.id, figure)
            assert program.cite(figure).strip(), (program.id, figure)
