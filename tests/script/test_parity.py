"""The same screenplay saved as Final Draft and as Fountain reads the same."""

from __future__ import annotations

import pytest

from soundstage.script.breakdown import break_down
from soundstage.script.fdx import parse_fdx
from soundstage.script.fountain import parse_fountain
from soundstage.script.model import Kind, Script
from soundstage.script.source import read_bytes, read_text

from conftest import SCREENPLAYS


def _pair(n: int) -> tuple[Script, Script]:
    fdx = SCREENPLAYS / f"sample-0{n}.fdx"
    fountain = SCREENPLAYS / f"sample-0{n}.fountain"
    return parse_fdx(read_bytes(fdx), str(fdx)), parse_fountain(read_text(fountain), str(fountain))


def _dialogue(script: Script) -> list[list[tuple[str, str]]]:
    """Per scene, (speaker, plain whitespace-normalised text) of each dialogue line."""
    return [
        [(e.character, " ".join(e.plain.split())) for e in scene.elements if e.kind is Kind.DIALOGUE]
        for scene in script.scenes
    ]


@pytest.mark.parametrize("n", range(1, 7))
def test_fdx_and_fountain_agree(n):
    fdx, fountain = _pair(n)
    assert fdx.scenes, "a sample without scenes would make this test vacuous"
    assert [s.heading for s in fdx.scenes] == [s.heading for s in fountain.scenes]
    assert [b.speaking for b in break_down(fdx)] == [b.speaking for b in break_down(fountain)]
    assert _dialogue(fdx) == _dialogue(fountain)
    assert any(_dialogue(fdx))
