"""A shot's prepared intent and the signatures kept per take: stable, JSON, and honest about
what does not fit."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from soundstage.checks import (
    CharacterIntent,
    FeatureEmbedder,
    TakeSignature,
    Verdict,
    check_take,
    prepare_intent,
    signature,
    take_verdict,
)
from soundstage.config import Checks

from .helpers import IntentOf, ShotPasses, hue_turned, jpeg, of, reference_sheet


def test_a_signature_is_stable_and_survives_json(example_shots: dict[str, ShotPasses]) -> None:
    storyboard = example_shots["003_0030"].storyboard

    first, again = signature(storyboard), signature(storyboard.copy())
    stored = json.loads(json.dumps(first.to_dict()))
    back = TakeSignature.from_dict(stored)

    assert first == again == back
    assert stored["version"] == 1 and len(stored["tone"]) == 8 and len(stored["layout"]) == 432
    # The same picture through JPEG keeps its thumbnail; a large copy of it too.
    large = cv2.resize(storyboard, (1280, 720), interpolation=cv2.INTER_AREA)
    for variant in (jpeg(storyboard), large):
        assert float(np.dot(signature(variant).layout, first.layout)) > 0.98


def test_a_signature_of_another_version_or_shape_is_refused(example_shots: dict[str, ShotPasses]) -> None:
    stored = signature(example_shots["003_0030"].storyboard).to_dict()

    with pytest.raises(ValueError, match="version 0, expected 1"):
        TakeSignature.from_dict(stored | {"version": 0})
    with pytest.raises(ValueError, match="wrong length"):
        TakeSignature.from_dict(stored | {"layout": stored["layout"][:100]})


def test_neighbours_and_other_takes_may_come_as_stored_signatures(intent_of: IntentOf, example_shots) -> None:
    shot = example_shots["003_0030"]
    as_images = intent_of("003_0030")
    as_stored = prepare_intent(
        shot.lineart,
        shot.depth,
        shot.ids,
        {"MAISIE": CharacterIntent(shot.cast["MAISIE"], [reference_sheet(example_shots, "MAISIE", "003_0030")])},
        [],
        [(name, TakeSignature.from_dict(json.loads(json.dumps(signature(example_shots[name[:8]].storyboard).to_dict()))))
         for name in as_images.neighbours],
        {name: signature(example_shots[name[:8]].storyboard) for name in as_images.others},
        FeatureEmbedder(),
        storyboard=shot.storyboard,
    )  # fmt: skip
    take = (shot.storyboard * np.array([0.3, 0.38, 0.65])).astype(np.uint8)

    expected, found = check_take(take, as_images, Checks()), check_take(take, as_stored, Checks())

    assert of(found, "continuity") == of(expected, "continuity")
    assert of(found, "duplicates") == of(expected, "duplicates")


def test_a_reference_sheet_on_a_plain_backdrop_works_like_one_with_transparency(example_shots) -> None:
    shot = example_shots["003_0030"]
    sheet = reference_sheet(example_shots, "MAISIE", "003_0030")
    inside = sheet[:, :, 3:] > 127
    on_white = np.pad(
        np.where(inside, sheet[:, :, :3], 255).astype(np.uint8), ((20, 20), (30, 30), (0, 0)), constant_values=255
    )

    def character(take: np.ndarray, references: list[np.ndarray]):
        intent = prepare_intent(
            shot.lineart, shot.depth, shot.ids, {"MAISIE": CharacterIntent(shot.cast["MAISIE"], references)},
            [], [], {}, FeatureEmbedder(),
        )  # fmt: skip
        return of(check_take(take, intent, Checks()), "character", "MAISIE")

    recoloured = hue_turned(shot.storyboard, shot.ids == shot.cast["MAISIE"], 90)
    for references in ([sheet], [on_white]):
        assert character(shot.storyboard, references).verdict == Verdict.PASS
        assert character(recoloured, references).verdict == Verdict.FAIL
    assert abs(character(shot.storyboard, [sheet]).score - character(shot.storyboard, [on_white]).score) < 0.05


def test_a_character_too_small_to_judge_or_out_of_frame_is_said_so(example_shots) -> None:
    shot = example_shots["003_0030"]
    ids = np.zeros_like(shot.ids)
    ids[100:104, 150:153] = 9  # a dozen pixels of a far-off figure
    characters = {"JUNO": CharacterIntent(9, [shot.storyboard]), "FUSE": CharacterIntent(8, [shot.storyboard])}

    intent = prepare_intent(shot.lineart, shot.depth, ids, characters, [], [], {}, FeatureEmbedder())
    findings = check_take(shot.storyboard, intent, Checks())

    assert of(findings, "character", "JUNO").reason == "JUNO is too small in the blocking to judge; not checked"
    assert of(findings, "composition", "JUNO").reason == "JUNO is too small in the blocking to place; not checked"
    assert of(findings, "character", "FUSE").reason == "FUSE is not in frame in the blocking; not checked"
    assert of(findings, "composition", "FUSE").reason == "FUSE is not in frame in the blocking; not checked"
    # Its own verdict, not a pass; and having nothing to compare leaves the take checked.
    assert {f.verdict for f in findings if f.subject} == {Verdict.NOT_CHECKED}
    assert take_verdict(findings) is Verdict.PASS


def test_passes_of_different_sizes_are_refused(example_shots) -> None:
    shot = example_shots["003_0030"]
    with pytest.raises(ValueError, match="previs passes of different sizes"):
        prepare_intent(shot.lineart, shot.depth[:90], shot.ids, {}, [], [], {}, FeatureEmbedder())
