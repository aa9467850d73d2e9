"""The rendered example's previs passes, read once, and a shot's intent built from them the way
the evaluation (benchmarks/intent_checks.py) builds it: reference sheets cropped from other
shots, storyboards of the other scene as style references, neighbouring shots' takes. At the
tests' previs size (320x180) and at the demo's (1280x720)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from soundstage.checks import CharacterIntent, Embedder, FeatureEmbedder, ShotIntent, prepare_intent, signature
from soundstage.project import Production
from soundstage.render.previs import read_png
from soundstage.store.db import session_scope
from soundstage.store.tables import CharacterRow, RenderRow, ShotRow

from .helpers import IntentOf, ShotPasses, reference_sheet


def _read_shots(root: Path) -> dict[str, ShotPasses]:
    """Every rendered shot of a production, by code."""
    shots = {}
    with Production.open(root) as production, session_scope(production.engine) as session:
        names = {row.mask_id: row.name for row in session.scalars(select(CharacterRow))}
        rows = session.execute(select(ShotRow, RenderRow).join(RenderRow, RenderRow.shot_id == ShotRow.id)).all()
        for row, render in sorted(rows, key=lambda pair: pair[0].code):
            code, size = row.code, {**row.planned, **row.edits}["size"]
            passes = {
                name: read_png(production.media.path(getattr(render, f"{name}_sha256"), ".png"))
                for name in ("storyboard", "lineart", "depth", "ids")
            }
            cast = {names[int(i)]: int(i) for i in np.unique(passes["ids"]) if i}
            shots[code] = ShotPasses(code, size=size, cast=cast, **passes)
    return shots


@pytest.fixture(scope="session")
def example_shots(rendered_example: Path) -> dict[str, ShotPasses]:
    """Every rendered shot of the example (scenes 3 and 4 at 320x180), by code."""
    return _read_shots(rendered_example)


@pytest.fixture(scope="session")
def rendered_example_720(rendered_example: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rendered example again with scenes 3 and 4 rendered at 1280x720, the demo's size."""
    root = tmp_path_factory.mktemp("rendered_720") / "pilot"
    shutil.copytree(rendered_example, root)
    with Production.open(root) as production:
        for scene in ("3", "4"):
            production.previs(size=(1280, 720), scene=scene)
    return root


@pytest.fixture(scope="session")
def example_shots_720(rendered_example_720: Path) -> dict[str, ShotPasses]:
    """Every rendered shot of the example at 1280x720, by code."""
    return _read_shots(rendered_example_720)


def _intent_factory(example_shots: dict[str, ShotPasses]) -> IntentOf:
    signatures = {code: signature(shot.storyboard) for code, shot in example_shots.items()}
    codes = sorted(example_shots)

    def make(
        code: str,
        *,
        sheets: bool = True,
        style: bool = True,
        neighbours: bool = True,
        others: bool = True,
        storyboard: bool = True,
        embedder: Embedder | None = None,
    ) -> ShotIntent:
        shot = example_shots[code]
        characters = {
            name: CharacterIntent(mask_id, [reference_sheet(example_shots, name, code)] if sheets else [])
            for name, mask_id in shot.cast.items()
        }
        # As the evaluation picks them: two storyboards of the other scene with characters and
        # two of the set alone, spread over it (benchmarks/intent_checks.py style_references).
        looks = []
        for with_cast in (True, False):
            kind = [s for s in example_shots.values() if s.scene != shot.scene and bool(s.cast) == with_cast]
            looks += [kind[len(kind) // 4], kind[3 * len(kind) // 4]] if len(kind) >= 2 else kind
        index = codes.index(code)
        near = [c for c in codes[max(0, index - 2) : index + 3] if c != code and example_shots[c].scene == shot.scene]
        return prepare_intent(
            shot.lineart,
            shot.depth,
            shot.ids,
            characters,
            [s.storyboard for s in looks] if style else [],
            [(f"{c}/1", example_shots[c].storyboard) for c in near] if neighbours else [],
            {f"{c}/1": signatures[c] for c in codes if c != code} if others else {},
            embedder or FeatureEmbedder(),
            storyboard=shot.storyboard if storyboard else None,
        )

    return make


@pytest.fixture(scope="session")
def intent_of(example_shots: dict[str, ShotPasses]) -> IntentOf:
    """``intent_of(code, ...)``: the shot's intent; each keyword set to False leaves that part
    out (no reference sheets, no style references, no neighbours, no other takes, no storyboard)."""
    return _intent_factory(example_shots)


@pytest.fixture(scope="session")
def intent_of_720(example_shots_720: dict[str, ShotPasses]) -> IntentOf:
    """``intent_of`` on the passes rendered at 1280x720."""
    return _intent_factory(example_shots_720)
