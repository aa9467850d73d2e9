"""Extension points: the built-in backends and checks registered as entry points, and the two
example plugins of examples/plugins really installed (pip, into a folder of their own put on
sys.path) and used through the registries, ``soundstage take --backend`` and the intent checks;
the search path of data files."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from soundstage.checks import registry as check_registry
from soundstage.config import load_settings
from soundstage.errors import ConfigError, GenerateError
from soundstage.generate import registry as backend_registry
from soundstage.generate.backend import Recipe
from soundstage.plugins import SEARCH_PATH_VARIABLE, find_data_file, search_path
from soundstage.project import Production
from soundstage.render.previs import read_png, to_png
from soundstage.store.db import session_scope
from soundstage.store.tables import RenderRow, ShotRow, TakeRow

from conftest import REPO

PLUGINS = REPO / "examples" / "plugins"


@pytest.fixture(scope="module")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Both example plugins pip-installed into a folder of their own, on sys.path for the tests
    of this module (worker processes inherit it)."""
    work = tmp_path_factory.mktemp("plugins")
    sources = [shutil.copytree(PLUGINS / name, work / "src" / name) for name in ("sketch_backend", "blank_check")]
    target = work / "site"
    command = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps"]
    command += ["--no-build-isolation", "--target", str(target), *map(str, sources)]
    subprocess.run(command, check=True, capture_output=True)
    sys.path.insert(0, str(target))
    yield target
    sys.path.remove(str(target))
    for module in ("soundstage_sketch", "soundstage_blank_check"):
        sys.modules.pop(module, None)


def _sketch_production(copy_production: Production, extra: str = "") -> Production:
    toml = copy_production.root / "soundstage.toml"
    toml.write_text(toml.read_text() + '\n[generate.sketch]\nink = "#102030"\n' + extra)
    return Production.open(copy_production.root)


def test_the_built_in_ones_are_registered_as_plugins_are() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]
    assert project["soundstage.backends"] == backend_registry.BUILT_IN
    assert project["soundstage.checks"] == check_registry.BUILT_IN
    # ... and the installed package carries them.
    assert {
        p.name: p.value for p in entry_points(group="soundstage.backends")
    }.items() >= backend_registry.BUILT_IN.items()
    assert {p.name: p.value for p in entry_points(group="soundstage.checks")}.items() >= check_registry.BUILT_IN.items()


def test_an_unknown_backend_names_those_installed(plugins: Path, tmp_path: Path) -> None:
    with Production.init(tmp_path / "p") as production:
        settings = production.settings.generate
    with pytest.raises(
        GenerateError,
        match=r"unknown backend 'dreamer'; installed backends: comfyui, comfyui_video, diffusers, diffusers_video, previs, sketch$",
    ):
        backend_registry.backend_for("dreamer", settings, tmp_path)
    assert backend_registry.backend_for("sketch", settings, tmp_path).name == "sketch"


def test_a_plugin_backend_makes_takes_through_the_cli(plugins: Path, copy_production: Production, cli) -> None:
    with _sketch_production(copy_production) as production:
        code = next(s.code for s in production.shots("3") if s.subjects)
        result = cli("-p", production.root, "take", code, "--backend", "sketch", "--seed", "3", "--count", "2")
        assert result.code == 0, result.err
        assert "2 take(s) made" in result.out
        first, second = production.takes(code)
        assert first.recipe.backend == "sketch" and first.recipe.options == {"paper": "#f4efe1", "ink": "#102030"}
        with session_scope(production.engine) as session:
            render = session.scalars(select(RenderRow).join(ShotRow).where(ShotRow.code == code)).one()
        lines = read_png(production.media.path(render.lineart_sha256, ".png")) > 127
        ids = read_png(production.media.path(render.ids_sha256, ".png"))
        sketch = read_png(first.path)
        assert (sketch[lines] == (0x10, 0x20, 0x30)).all()  # the line art in the ink of soundstage.toml
        paper = ~lines & (ids == 0)
        assert (sketch[paper] == (0xF4, 0xEF, 0xE1)).all()
        characters = [int(i) for i in np.unique(ids[ids > 0])]
        assert characters  # the shot has a character in frame
        flats = [{tuple(p) for p in sketch[~lines & (ids == i)]} for i in characters]
        assert all(len(flat) == 1 and flat != {(0xF4, 0xEF, 0xE1)} for flat in flats)  # one flat colour each
        assert (first.recipe.seed, second.recipe.seed) == (3, 4)
        assert production.reproduce(f"{code}/2")[0]


def test_a_plugin_check_runs_beside_the_built_in_ones(plugins: Path, copy_production: Production) -> None:
    toml = copy_production.root / "soundstage.toml"
    text = toml.read_text().replace('run = ["drift"]', 'run = ["drift", "blank"]')
    toml.write_text(text + "\n[checks.blank]\nwarn = 0.5\n")
    with Production.open(copy_production.root) as production:
        code = next(s.code for s in production.shots("3") if s.subjects)
        with session_scope(production.engine) as session:
            shot = session.scalars(select(ShotRow).where(ShotRow.code == code)).one()
            render = session.scalars(select(RenderRow).where(RenderRow.shot_id == shot.id)).one()
            grey = np.full((render.height, render.width, 3), 128, np.uint8)
            for number, png in (
                (1, production.media.path(render.storyboard_sha256, ".png").read_bytes()),
                (2, to_png(grey)),
            ):
                recipe = Recipe(shot=code, backend="previs", seed=number)
                sha = production.media.put_bytes(png, ".png")
                session.add(
                    TakeRow(shot_id=shot.id, number=number, backend="previs", recipe=recipe.model_dump(mode="json"),
                            recipe_sha256=recipe.sha256(), output_sha256=sha)
                )  # fmt: skip
        report = production.check([code])
        blank = {take: [f for f in found if f.check == "blank"] for take, found in report.findings.items()}
        assert [f.verdict.value for f in blank[f"{code}/1"]] == ["pass"]  # the storyboard has contrast
        assert [f.verdict.value for f in blank[f"{code}/2"]] == ["fail"]  # one flat grey
        assert {f.check for f in report.findings[f"{code}/1"]} >= {"composition", "style", "blank"}
        assert [f.check for f in production.findings(f"{code}/2")].count("blank") == 1  # stored


def test_an_unknown_check_names_those_installed(plugins: Path, copy_production: Production) -> None:
    toml = copy_production.root / "soundstage.toml"
    toml.write_text(toml.read_text().replace('run = ["drift"]', 'run = ["drift", "sharpness"]'))
    with pytest.raises(ConfigError, match=r"no check 'sharpness' installed; installed checks: blank, drift$"):
        check_registry.checks_for(load_settings(copy_production.root).checks.run)


def test_plugin_tables_are_tables_and_a_check_table_needs_its_check(tmp_path: Path) -> None:
    with Production.init(tmp_path / "p") as production:
        root = production.root
    toml = root / "soundstage.toml"
    original = toml.read_text()
    toml.write_text(original.replace("workers = 2", "workers = 2\nwokers = 3"))
    with pytest.raises(ConfigError, match="wokers: not a setting here"):
        load_settings(root)
    toml.write_text(original + "\n[checks.blank]\nwarn = 0.5\n")
    with pytest.raises(ConfigError, match=r"\[checks.blank\]: not a check in \[checks\] run \(drift\)"):
        load_settings(root)
    toml.write_text(original + '\n[generate.sketch]\nink = "#000000"\n')
    assert load_settings(root).generate.options("sketch") == {"ink": "#000000"}
    assert load_settings(root).generate.options("diffusers") == {}


def test_data_files_are_found_on_the_search_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    production, studio, shared = tmp_path / "pilot", tmp_path / "studio", tmp_path / "shared"
    for folder, names in ((production, ["a.toml"]), (studio, ["a.toml", "b.toml"]), (shared, ["b.toml", "c.toml"])):
        (folder / "rules").mkdir(parents=True)
        for name in names:
            (folder / "rules" / name).write_text(str(folder))
    monkeypatch.setenv(SEARCH_PATH_VARIABLE, f"{studio}:{shared}")
    assert search_path(production, "rules")[:3] == [production / "rules", studio / "rules", shared / "rules"]
    assert search_path(production, "rules")[-1].parts[-3:] == ("soundstage", "defaults", "rules")
    assert find_data_file(production, "rules", "a.toml") == production / "rules" / "a.toml"
    assert find_data_file(production, "rules", "b.toml") == studio / "rules" / "b.toml"
    assert find_data_file(None, "rules", "c.toml") == shared / "rules" / "c.toml"
    assert find_data_file(production, "rules", "d.toml") is None
