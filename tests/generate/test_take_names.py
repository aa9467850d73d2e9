"""How people name takes ("012_0030/2"), and the names that are refused before any lookup."""

from __future__ import annotations

import pytest

from soundstage.errors import ShotError
from soundstage.generate.backend import parse_take_name, take_name


@pytest.mark.parametrize(
    ("written", "parsed"),
    [
        ("012_0030/2", ("012_0030", 2)),
        (" 3a_0010 ", ("3A_0010", None)),
        ("001_0010/999999999", ("001_0010", 999999999)),
    ],
)
def test_take_names_read_back(written: str, parsed: tuple[str, int | None]) -> None:
    assert parse_take_name(written) == parsed
    code, number = parsed
    if number is not None:
        assert parse_take_name(take_name(code, number)) == parsed


@pytest.mark.parametrize(
    "written",
    ["001_0010/" + "9" * 40, "001_0010/1234567890", "001\x00_0010/1", "x" * 65, "001_0010/-1", "001_0010/", ""],
    ids=["40-digits", "10-digits", "nul", "long-code", "negative", "empty-number", "empty"],
)
def test_names_no_database_could_hold_are_one_line_errors(written: str) -> None:
    with pytest.raises(ShotError, match=r"expected SHOT/NUMBER") as failure:
        parse_take_name(written)
    assert "\n" not in str(failure.value) and len(str(failure.value)) < 200
