"""Intent checks: flag takes that drift from the blocking, the characters and the style.

Pure functions from pictures to findings; storing findings, running the checks on new takes
and the CLI live elsewhere. Prepare a shot's intent once (``prepare_intent``), then check
each of its takes (``check_take``); keep each take's ``signature`` for the continuity and
duplicate checks of other shots.
"""

from __future__ import annotations

from soundstage.checks.drift import check_take
from soundstage.checks.embedders import Embedder, FeatureEmbedder, embedder_for
from soundstage.checks.findings import CHECKS, Finding, Verdict
from soundstage.checks.intent import CharacterIntent, OtherTakes, ShotIntent, TakeSignature, prepare_intent, signature

__all__ = [
    "CHECKS",
    "CharacterIntent",
    "Embedder",
    "FeatureEmbedder",
    "OtherTakes",
    "Finding",
    "ShotIntent",
    "TakeSignature",
    "Verdict",
    "check_take",
    "embedder_for",
    "prepare_intent",
    "signature",
]
