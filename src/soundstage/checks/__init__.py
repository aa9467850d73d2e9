"""Intent checks: flag takes that drift from the blocking, the characters and the style.

Pure functions from pictures to findings; storing findings, running the checks on new takes
and the CLI live elsewhere. Prepare a shot's intent once (``prepare_intent``), then check
each of its takes (``check_take``); keep each take's ``signature`` for the continuity and
duplicate checks of other shots. Every check has one signature (``Check``: the measured take,
the intent, the limits -> findings); ``BUILT_IN_CHECKS`` names the built-in ones.
"""

from __future__ import annotations

from soundstage.checks.drift import BUILT_IN_CHECKS, Check, MeasuredTake, check_take
from soundstage.checks.embedders import Embedder, FeatureEmbedder, embedder_for
from soundstage.checks.findings import CHECKS, Finding, Verdict, needs_override, take_verdict
from soundstage.checks.intent import CharacterIntent, OtherTakes, ShotIntent, TakeSignature, prepare_intent, signature

__all__ = [
    "BUILT_IN_CHECKS",
    "CHECKS",
    "Check",
    "CharacterIntent",
    "Embedder",
    "FeatureEmbedder",
    "Finding",
    "MeasuredTake",
    "OtherTakes",
    "ShotIntent",
    "TakeSignature",
    "Verdict",
    "check_take",
    "embedder_for",
    "needs_override",
    "prepare_intent",
    "signature",
    "take_verdict",
]
