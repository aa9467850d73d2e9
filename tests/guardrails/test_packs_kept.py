"""The rule packs of an open production: parsed once and kept (every approval checks them), read
again when a pack file changes, and refused every time while a pack folder is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundstage.errors import GuardrailError
from soundstage.project import Production, guardrails

HOUSE = """
[pack]
id = "house"
version = "1"
agreement = "Studio house rules"
kind = "studio"
title = "House rules"

[sources]
H1 = "Studio AI policy, section 4"

[[rules]]
id = "HOUSE-1"
status = "I"
sources = ["H1"]
gates = ["approve"]
requires = "consent"
scope = {{ replica = ["voice"] }}
reason = "{reason}: {{detail}}."
"""


def test_the_packs_are_kept_and_read_again_when_a_file_changes(tmp_path: Path) -> None:
    root = tmp_path / "pilot"
    Production.init(root).close()
    settings = root / "soundstage.toml"
    text = settings.read_text(encoding="utf-8")
    text = text.replace("agreements = []", 'agreements = ["house@1"]').replace(
        "pack_dirs = []", 'pack_dirs = ["rules"]'
    )
    settings.write_text(text, encoding="utf-8")
    studio = root / "rules" / "house.toml"
    studio.parent.mkdir()
    studio.write_text(HOUSE.format(reason="A voice replica needs consent"), encoding="utf-8")
    with Production.open(root) as production:
        first = guardrails.pack(production.context)
        assert first.ids == ("HOUSE-1",)
        assert guardrails.pack(production.context) is first  # parsed once, not per approval
        # The studio edits its pack while the review room runs: the next check reads the new rule.
        studio.write_text(HOUSE.format(reason="Voice replicas need a signed consent"), encoding="utf-8")
        changed = guardrails.pack(production.context)
        assert changed is not first and changed.rule("HOUSE-1").reason.startswith("Voice replicas need")
        # A pack file that goes away is missed at once, and a missing folder every time.
        studio.unlink()
        with pytest.raises(GuardrailError, match=r"no rule pack house@1"):
            guardrails.pack(production.context)
        studio.parent.rmdir()
        for _ in range(2):
            with pytest.raises(GuardrailError, match="rule pack folder not found"):
                guardrails.pack(production.context)
