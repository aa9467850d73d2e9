"""The instance readers on the published files and on broken ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundstage.errors import ScheduleError, SoundstageError
from soundstage.schedules.instances import TalentInstance, parse_ddo, parse_dzn, read_instance

from .conftest import SCHEDULES, instance_files, known_optima


def test_both_formats_hold_the_same_numbers() -> None:
    names = sorted(known_optima())
    assert len(names) == 10
    for name in names:
        dzn = read_instance(SCHEDULES / "minizinc" / f"{name}.dzn")
        ddo_path = next(p for p in (SCHEDULES / "ddo").iterdir() if p.stem == name)
        ddo = read_instance(ddo_path)
        assert (dzn.durations, dzn.casts, dzn.cast_costs) == (ddo.durations, ddo.casts, ddo.cast_costs), name


def test_the_ddo_files_have_crlf_line_ends_and_are_read() -> None:
    raw = (SCHEDULES / "ddo" / "film103.dat").read_bytes()
    assert b"\r\n" in raw
    instance = read_instance(SCHEDULES / "ddo" / "film103.dat")
    assert (instance.scenes, instance.cast_size) == (19, 8)
    assert instance.cast_costs == (10, 4, 5, 5, 5, 40, 4, 20)
    assert instance.durations[1] == 2 and sum(instance.durations) == 20


def test_mobstory_scene_25_has_no_cast() -> None:
    instance = read_instance(SCHEDULES / "minizinc" / "MobStory.dzn")
    assert instance.scenes == 28
    assert instance.casts[24] == frozenset()
    assert all(instance.casts[s] for s in range(28) if s != 24)


def test_every_shared_file_reads() -> None:
    files = instance_files()
    assert len(files) == 20
    for path in files:
        instance = read_instance(path)
        assert instance.scenes == len(instance.casts) > 0


def test_cost_follows_the_readme_convention() -> None:
    # tiny: the file's own solution s = [3,2,1,4] (1-based) costs the optimum, 29.
    instance = read_instance(SCHEDULES / "minizinc" / "tiny.dzn")
    order = [2, 1, 0, 3]
    assert instance.cost(order) == 29
    # By hand: scene 2 takes days 0-3, scene 1 days 3-5, scene 0 day 5, scene 3 day 6. Actor 0
    # (cost 1, scenes 0 and 2) is there days 0-6: 6 days; actor 1 (cost 2, scenes 0, 1, 3) days
    # 3-7: 4; actor 2 (cost 3, scenes 1 and 2) days 0-5: 5. They play 4, 4 and 5 days: idle 2.
    assert instance.cost(order) == 1 * 6 + 2 * 4 + 3 * 5
    assert instance.idle_cost(order) == 2


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "numScenes = 2;\nnumActors = 1;\nia = [| 1, 0 |];\nc = [1];\nd = [1, 2, 3];\n",
            5,
            "d has 3 entries; numScenes is 2",
        ),
        (
            "numScenes = 2;\nnumActors = 2;\nia = [| 1, 0\n | 1 |];\nc = [1, 2];\nd = [1, 2];\n",
            4,
            "a row of ia has 1 entries",
        ),
        (
            "numScenes = 2;\nnumActors = 1;\nia = [| 1, 0 |];\nc = [x];\nd = [1, 2];\n",
            4,
            "expected a whole number, found 'x'",
        ),
        ("numScenes = 2;\nnumActors = 1;\nia = [| 1, 0 |];\nc = [1.5];\nd = [1, 2];\n", 4, "found '1.5'"),
        ("numScenes = 2;\nnumActors = 1;\nia = [| 1, 2 |];\nc = [1];\nd = [1, 2];\n", 3, "ia entries are 0 or 1"),
        (
            "numScenes = 2;\nnumActors = 2;\nia = [| 1, 0 |];\nc = [1, 1];\nd = [1, 2];\n",
            3,
            "ia has 1 rows; numActors is 2",
        ),
        ("numScenes = 2;\nnumActors = 1;\nia = [| 1, 0 |]\nc = [1];\nd = [1, 1];\n", 4, "expected ';', found 'c'"),
        ("numScenes = 0;\nnumActors = 1;\n", 1, "numScenes must be a positive whole number"),
    ],
)
def test_dzn_errors_name_the_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "broken.dzn"
    path.write_text(text)
    with pytest.raises(ScheduleError) as caught:
        read_instance(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, SoundstageError)


def test_a_missing_dzn_parameter_names_it(tmp_path: Path) -> None:
    path = tmp_path / "short.dzn"
    path.write_text("numScenes = 2;\nnumActors = 1;\nia = [| 1, 0 |];\nc = [1];\n")
    with pytest.raises(ScheduleError, match=r"short\.dzn: d is missing"):
        read_instance(path)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("bad\r\n3\r\n1\r\n1 0 1 5\r\n1 1\r\n", 5, "2 durations; the number of scenes is 3"),
        ("bad\r\n3\r\n2\r\n1 0 1 5\r\n1 1 4\r\n1 1 1\r\n", 5, "a cast row has 3 numbers"),
        ("bad\r\n3\r\n1\r\n1 0 one 5\r\n1 1 1\r\n", 4, "expected a whole number, found 'one'"),
        ("bad\r\nthree\r\n1\r\n", 2, "found 'three'"),
        ("bad\r\n2\r\n1\r\n1 0 5\r\n1 1\r\n7 7\r\n", 6, "unexpected line after the durations"),
        ("bad\r\n2\r\n1\r\n1 0 5\r\n1 0\r\n", 5, "scene durations must be positive"),
        ("bad\r\n2\r\n1 2\r\n", 3, "expected the number of cast alone on the line"),
    ],
)
def test_ddo_errors_name_the_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "broken"
    path.write_bytes(text.encode())
    with pytest.raises(ScheduleError) as caught:
        read_instance(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value)


def test_unreadable_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ScheduleError, match="file not found"):
        read_instance(tmp_path / "nope.dzn")
    (tmp_path / "empty").write_bytes(b"\r\n")
    with pytest.raises(ScheduleError, match="file is empty"):
        read_instance(tmp_path / "empty")
    (tmp_path / "latin1").write_bytes(b"caf\xe9\n2\n1\n")
    with pytest.raises(ScheduleError, match=r"latin1:1: not UTF-8"):
        read_instance(tmp_path / "latin1")


def test_parsers_accept_text_directly() -> None:
    dzn = parse_dzn("numScenes = 2; numActors = 1; ia = [| 1, 1 |]; c = [3]; d = [1, 2];")
    ddo = parse_ddo("x\n2\n1\n1 1 3\n1 2\n")
    assert dzn.casts == ddo.casts == (frozenset({0}), frozenset({0}))
    assert dzn.cost([1, 0]) == ddo.cost([0, 1]) == 9
    assert isinstance(dzn, TalentInstance)
