"""The guardrails package is a stage: it knows no database, web, CLI or project layer."""

from __future__ import annotations

import ast
from pathlib import Path

import soundstage.guardrails

FORBIDDEN = ("soundstage.project", "soundstage.web", "soundstage.cli", "soundstage.store", "soundstage.make")


def test_the_package_imports_no_layer_above_it() -> None:
    package = Path(soundstage.guardrails.__file__).parent
    modules = sorted(package.glob("*.py"))
    assert {m.stem for m in modules} >= {"model", "names", "uses", "rules", "evaluate", "report"}
    for module in modules:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{module.name} imports {name}"
