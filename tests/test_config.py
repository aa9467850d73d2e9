"""Settings: soundstage.toml, the environment, and clear errors."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from soundstage.config import SETTINGS_FILE, default_toml, load_settings, timecode_rate, timecode_text
from soundstage.errors import ConfigError
from soundstage.plan.model import ShotSize


def _production(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / SETTINGS_FILE).write_text(default_toml("Pilot") + extra)
    return tmp_path


def test_defaults_round_trip_through_the_written_file(tmp_path: Path) -> None:
    settings = load_settings(_production(tmp_path))
    assert settings.title == "Pilot" and settings.fps == 24
    assert settings.plan.lenses[ShotSize.CU] == 85


def test_a_partial_lens_table_changes_only_what_it_names(tmp_path: Path) -> None:
    root = tmp_path
    text = default_toml().split("[plan.lenses]")[0] + '[plan.lenses]\n"CU" = 75\n'
    (root / SETTINGS_FILE).write_text(text)
    lenses = load_settings(root).plan.lenses
    assert lenses[ShotSize.CU] == 75 and lenses[ShotSize.EWS] == 18


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOUNDSTAGE_FPS", "25")
    monkeypatch.setenv("SOUNDSTAGE_PLAN__TIMING__WORDS_PER_SECOND", "2.2")
    monkeypatch.setenv("SOUNDSTAGE_PLAN__LENSES__WS", "20")
    settings = load_settings(_production(tmp_path))
    assert settings.fps == 25
    assert settings.plan.timing.words_per_second == 2.2
    assert settings.plan.lenses[ShotSize.WS] == 20


def test_a_bad_environment_value_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOUNDSTAGE_FPS", "abc")
    with pytest.raises(ConfigError, match="environment SOUNDSTAGE_FPS: fps"):
        load_settings(_production(tmp_path))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("\n[plan.timing]\nwords_per_second = 0\n", "plan.timing.words_per_second"),
        ("\nsurprise = 1\n", "surprise"),
        ("\nfps = [\n", "soundstage.toml"),
    ],
)
def test_bad_files_are_one_line_naming_the_key(tmp_path: Path, extra: str, message: str) -> None:
    text = default_toml()
    if "words_per_second" in extra:
        text = text.replace("words_per_second = 2.5", "words_per_second = 0")
    elif "surprise" in extra:
        text = "surprise = 1\n" + text
    else:
        text += extra
    (tmp_path / SETTINGS_FILE).write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(tmp_path)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("setting", "changed", "message"),
    [
        # Both loaded, then failed at plan as a pydantic ValidationError traceback on the shots.
        ("min_shot_s = 1.0", "min_shot_s = 1e300", "plan.timing.min_shot_s: Input should be less than or equal to 600"),
        ('"CU" = 85', '"CU" = 0', "plan.lenses.CU: Input should be greater than 4"),
        # The encoder refused it at cut, naming its temporary file instead of the setting.
        ("width = 1280", "width = 1281", "cut.width: Input should be a multiple of 2"),
    ],
)
def test_settings_that_would_plan_impossible_shots_are_refused_at_load(
    tmp_path: Path, setting: str, changed: str, message: str
) -> None:
    text = default_toml()
    assert setting in text
    (tmp_path / SETTINGS_FILE).write_text(text.replace(setting, changed, 1))
    with pytest.raises(ConfigError, match=message):
        load_settings(tmp_path)


def test_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="soundstage init"):
        load_settings(tmp_path)


@pytest.mark.parametrize(
    ("written", "rate"),
    [
        ("24", Fraction(24)),
        ('"25"', Fraction(25)),
        ('"24000/1001"', Fraction(24000, 1001)),
        ("23.976", Fraction(24000, 1001)),
        ('"29.97"', Fraction(30000, 1001)),
        ("59.94", Fraction(60000, 1001)),
        ("12.5", Fraction(25, 2)),
    ],
)
def test_frame_rates_are_exact_fractions(tmp_path: Path, written: str, rate: Fraction) -> None:
    text = default_toml("Pilot").replace("\nfps = 24\n", f"\nfps = {written}\n")
    (tmp_path / SETTINGS_FILE).write_text(text)
    assert load_settings(tmp_path).fps == rate


@pytest.mark.parametrize("bad", ['"abc"', "0", "-24", '"1/0"', "121", "true", '"24/0"'])
def test_a_bad_frame_rate_is_one_line(tmp_path: Path, bad: str) -> None:
    (tmp_path / SETTINGS_FILE).write_text(default_toml().replace("\nfps = 24\n", f"\nfps = {bad}\n"))
    with pytest.raises(ConfigError, match=r"soundstage.toml: fps: ") as caught:
        load_settings(tmp_path)
    assert "\n" not in str(caught.value)


def test_an_ntsc_production_writes_its_rate_as_a_fraction_and_reads_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = default_toml("Pilot", fps="23.976")
    assert '\nfps = "24000/1001"\n' in text
    (tmp_path / SETTINGS_FILE).write_text(text)
    settings = load_settings(tmp_path)
    assert settings.fps == Fraction(24000, 1001) and settings.model_dump(mode="json")["fps"] == "24000/1001"
    monkeypatch.setenv("SOUNDSTAGE_FPS", "29.97")
    assert load_settings(tmp_path).fps == Fraction(30000, 1001)
    assert (timecode_rate(Fraction(24000, 1001)), timecode_rate(Fraction(30000, 1001))) == (24, 30)
    assert timecode_text(24 * 3600 + 23, Fraction(24000, 1001)) == "01:00:00:23"
