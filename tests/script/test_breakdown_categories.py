"""The breakdown's categories: joint cues, sounds against verbs, animals, crowds, vehicles,
atmosphere, effects, props against set dressing; on snippets and on the real screenplays,
and scored against the hand labels in ``breakdown_truth`` (as ``benchmarks/breakdown_eval.py``
does)."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from soundstage.script import lexicon
from soundstage.script.breakdown import CATEGORIES, SceneBreakdown, break_down
from soundstage.script.cast import names_in_cue
from soundstage.script.formats import parse_script
from soundstage.script.fountain import parse_fountain

from conftest import EXAMPLE, REPO, SCREENPLAYS


def _sheets(text: str) -> list[SceneBreakdown]:
    return break_down(parse_fountain(text))


def _one(text: str) -> SceneBreakdown:
    (sheet,) = _sheets(text)
    return sheet


@pytest.fixture(params=[True, False], ids=["lexicon", "morphology"])
def with_lexicon(request):
    """Run a test with the part-of-speech lexicon and with morphology alone."""
    with lexicon.enabled(request.param):
        yield request.param


def test_a_joint_cue_credits_each_speaker():
    sheet = _one(
        "INT. SHOP - DAY\n\nMaisie and Fuse polish lamps.\n\nMAISIE AND FUSE\nDone!\n\n"
        "MR. AND MRS. PARK\nWell done.\n\nJUNO & PIP\nHooray.\n"
    )
    assert sheet.speaking == ("MAISIE", "FUSE", "MR. PARK", "MRS. PARK", "JUNO", "PIP")
    assert names_in_cue("MAISIE/FUSE") == ("MAISIE", "FUSE")
    assert names_in_cue("BOTH") == ("BOTH",)


def test_both_is_the_two_characters_present():
    sheet, _ = _sheets(
        "EXT. PIER - NIGHT\n\nMaisie and Juno run.\n\nMAISIE\nNow!\n\nBOTH\nOne, two, three!\n\n"
        "INT. SHOP - DAY\n\nJUNO\nHello.\n"
    )
    assert sheet.speaking == ("MAISIE", "JUNO")  # Juno is present without a line of her own
    assert sheet.non_speaking == ()


def test_both_among_three_is_the_last_two_who_spoke():
    sheet = _one("INT. HALL - DAY\n\nOSWIN\nHello.\n\nMAISIE\nHi.\n\nJUNO\nHey.\n\nBOTH\nGrandpa!\n")
    assert sheet.speaking == ("OSWIN", "MAISIE", "JUNO")
    lone = _one("INT. HALL - DAY\n\nNobody else is here.\n\nBOTH\nHello?\n")
    assert lone.speaking == ("BOTH",)  # nothing to resolve it to: kept as written


def test_all_is_everyone_present():
    sheet, _ = _sheets(
        "INT. HALL - DAY\n\nOswin, Maisie and Juno wait. Fuse beeps.\n\nOSWIN\nReady?\n\nALL\nReady!\n\n"
        "FUSE\nBeep.\n\nEXT. PIER - DAY\n\nMAISIE\nHi.\n\nJUNO\nHey.\n"
    )
    assert set(sheet.speaking) == {"OSWIN", "MAISIE", "JUNO", "FUSE"}


def test_onomatopoeia_and_sound_verbs_are_sounds_and_capitalised_verbs_are_not_props(with_lexicon):
    sheet = _one(
        "EXT. BARN - DAY\n\nKA-BLAM! A stack of crates TOPPLES. The barn door RATTLES. Twenty lamps go out, "
        "pop-pop-pop. Steel SMACKS him. A LADDER leans on the wall.\n"
    )
    assert {"RATTLES", "POP-POP-POP", "KA-BLAM"} <= set(sheet.sounds)
    assert not {"TOPPLES", "RATTLES", "SMACKS", "KA-BLAM"} & set(sheet.props + sheet.set_dressing)
    assert "LADDER" in sheet.set_dressing


def test_animals_in_caps_and_named_ones_are_animals_not_props():
    first, later = _sheets(
        "EXT. YARD - DAY\n\nA GOAT chews a ROPE. A fat ginger cat, PUDDING, sleeps. Gulls wheel overhead.\n\n"
        "INT. SHOP - DAY\n\nPudding jumps to the floor.\n"
    )
    assert first.animals == ("GOAT", "PUDDING", "GULLS")
    assert "GOAT" not in first.props and "PUDDING" not in first.non_speaking
    assert later.animals == ("PUDDING",)


def test_a_crowd_is_background():
    sheet = _one("EXT. SQUARE - DAY\n\nA crowd of VILLAGERS gathers. Neighbours in dressing gowns come out.\n")
    assert sheet.non_speaking == ("VILLAGERS", "NEIGHBOURS")


def test_vehicles_atmosphere_and_effects():
    sheets = _sheets(
        "EXT. ROAD - NIGHT\n\nFOG rolls in. Rain hammers the roof. She parks the VAN. A GUST roars up the lane "
        "like a train.\n\nJUNO\n(in French, subtitled)\nAllo?\n\n.OPENING TITLES\n\n> BIG FISH <\n"
    )
    road, titles = sheets
    assert road.vehicles == ("VAN",)  # the train is a simile
    assert set(road.atmosphere) == {"FOG", "RAIN", "GUST"}
    assert road.vfx == ("SUBTITLES",)
    assert titles.vfx == ("OPENING TITLES",)


def test_handled_things_are_props_and_the_rest_set_dressing(with_lexicon):
    first, later = _sheets(
        "INT. SHOP - DAY\n\nA BRASS LANTERN burns on the COUNTER beside a WICK-BOX.\n\n"
        "Maisie lifts the lantern and carries it out.\n\n"
        "EXT. LANE - NIGHT\n\nMaisie holds the brass lantern up. She emerges with two cold beers.\n\nMAISIE\nLight!\n"
    )
    assert first.props == ("BRASS LANTERN",)  # handled later in the scene, and so a prop
    assert set(first.set_dressing) == {"COUNTER", "WICK-BOX"}
    assert later.props[0] == "BRASS LANTERN"
    assert "COLD BEERS" in later.props


def test_objects_of_verbs_of_handling_are_props_and_the_body_wardrobe_and_abstractions_are_not():
    sheet = _one(
        "INT. KITCHEN - DAY\n\nWill rolls his eyes and gives a wry smile. Sandra shakes her head and "
        "loosens her scarf. He leads his team to victory. The moon casts long shadows.\n\n"
        "Sandra hands Will a can of Ensure from the case. Will pours him a glass of water, then sets down "
        "the glass. She takes a sip of coffee, picks up a stack of letters and drinks the rest of the Ensure.\n\n"
        "WILL\nHi.\n\nSANDRA\nHello.\n"
    )
    # one glass (the glass is the GLASS OF WATER), the coffee a sip is of, the letters of the stack
    assert sheet.props == ("CAN OF ENSURE", "GLASS OF WATER", "COFFEE", "LETTERS")
    assert sheet.set_dressing == ()
    assert "TEAM" in sheet.non_speaking  # people, not a thing


def test_a_verb_after_and_is_not_a_noun_and_a_lamp_glass_is_not_a_lamp(with_lexicon):
    sheet = _one(
        "INT. SHOP - DAY\n\nA LAMP GLASS sits on the SHELF. Maisie lifts the lantern and carries it out.\n\n"
        "MAISIE\nGone!\n"
    )
    assert "CARRIES" not in sheet.props + sheet.set_dressing
    assert "LAMP GLASS" in sheet.set_dressing and "LAMP" not in sheet.props


def test_furniture_is_set_dressing_wherever_seen_and_a_prop_where_handled():
    seen, handled = _sheets(
        "INT. BEDROOM - NIGHT\n\nA lamp hangs over the bed. Will sits on the couch.\n\nWILL\nHi.\n\n"
        "INT. HALL - DAY\n\nWill drags a chair to the door.\n\nWILL\nThere.\n"
    )
    assert set(seen.set_dressing) == {"LAMP", "BED", "COUCH"}
    assert handled.props == ("CHAIR",)


def test_a_sounds_source_is_seen_and_a_characters_action_is_not_a_sound():
    sheet = _one(
        "EXT. HARBOUR - DAY\n\nThe GIRLS SQUEAL. A FERRY HORN sounds. Will cracks open the can. "
        "Will catches his breath.\n\nWILL\nHi.\n"
    )
    assert set(sheet.sounds) == {"GIRLS SQUEAL", "FERRY HORN"}
    assert "GIRLS" in sheet.non_speaking and sheet.vehicles == ("FERRY",)
    assert sheet.props == ("CAN",)


def test_people_introduced_in_capitals_are_found_again_in_any_case():
    _, later = _sheets(
        "EXT. STREET - DAY\n\nAn OLD WOMAN waits.\n\nWILL\nHi.\n\n"
        "EXT. PARK - DAY\n\nThe Old Woman smiles. An old mansion looms.\n\nWILL\nHey.\n"
    )
    assert later.non_speaking == ("OLD WOMAN",)


def test_the_example_and_the_fountain_sample():
    example = break_down(parse_script(EXAMPLE.read_bytes(), EXAMPLE))
    by_number = {s.number: s for s in example}
    assert by_number["3"].animals == ("PUDDING",)
    assert {"BRASS LANTERN", "WICK-BOX", "NOTEBOOK"} <= set(by_number["3"].props)
    assert {"MAISIE", "FUSE"} <= set(by_number["8"].non_speaking)  # named in the montage heading
    assert {"JUNO", "NEIGHBOURS"} <= set(by_number["12"].non_speaking)
    assert "FERRY HORN" in by_number["13"].sounds
    brick = break_down(
        parse_script((SCREENPLAYS / "brick_and_steel.fountain").read_bytes(), "brick_and_steel.fountain")
    )
    assert brick[6].vehicles == ("PORSCHE",)
    assert brick[3].vfx == ("CROSS-HAIRS",)


def _eval_module():
    spec = importlib.util.spec_from_file_location("breakdown_eval", REPO / "benchmarks" / "breakdown_eval.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["breakdown_eval"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_scores_against_the_hand_labels_of_the_tuning_set():
    evaluation = _eval_module()
    totals = {category: evaluation.Score() for category in CATEGORIES}
    for truth in evaluation.load_truths():
        if truth.held_out:
            continue
        scores, _ = evaluation.evaluate(truth, break_down(evaluation.read(truth)))
        for category, score in scores.items():
            totals[category].add(score)
    assert totals["cast"].precision == 1 and totals["cast"].recall == 1
    # Floors a little under today's figures (props 96% and 89%, background recall 98%, sound
    # 81% and 85%, set dressing 71% and 68%): a rule change that loses props fails.
    assert totals["props"].precision >= 0.93 and totals["props"].recall >= 0.85
    assert totals["background"].recall >= 0.9 and totals["sound"].precision >= 0.75
    assert totals["set_dressing"].precision >= 0.65 and totals["set_dressing"].recall >= 0.6


def test_the_matching_of_names_is_loose_on_words_but_not_on_joint_names():
    evaluation = _eval_module()
    result, wrong, missed = evaluation.score(
        ["BRASS LANTERN", "COLD BEERS", "EDWARD AND WILL"], ["LANTERN", "BEER", "EDWARD"]
    )
    assert (result.hits, wrong, missed) == (2, ["EDWARD AND WILL"], ["EDWARD"])


def test_a_thing_that_makes_the_sound_its_sentence_opens_with_is_a_prop(with_lexicon):
    sheet = _one(
        "INT. GARAGE - DAY\n\nA chainsaw SCREAMS in the dark. The kettle whistles. The door SLAMS. "
        "The crowd ROARS.\n\nNELL\nWho's there?\n"
    )
    assert set(sheet.props) == {"CHAINSAW", "KETTLE"}  # a door is the set's, a crowd people
    assert "CROWD" in sheet.non_speaking


def test_things_something_was_done_to_are_props(with_lexicon):
    sheet = _one(
        "INT. CELLAR - NIGHT\n\nEvery candle is snuffed out. Coins, keys, and a broken compass are "
        "scattered across the floor. The porch is painted. The old man is tired. The firm is called Acme. "
        "The service is crowded.\n\nNELL\nSomeone was here.\n"
    )
    assert sheet.props == ("CANDLE", "COINS", "KEYS", "BROKEN COMPASS")
    assert sheet.set_dressing == ()


def test_it_handled_is_the_thing_the_sentence_before_opened_with():
    sheet = _one("INT. ATTIC - DAY\n\nA wooden box sits under the window. Nell opens it.\n\nNELL\nFound it.\n")
    assert sheet.props == ("WOODEN BOX",)
    unhandled = _one("INT. ATTIC - DAY\n\nA wooden box sits under the window. Nell ignores it.\n\nNELL\nNo.\n")
    assert unhandled.props == ()
    # no thing opens "Still grinning, ...": IT there names nothing the breakdown can say
    assert _one("INT. ATTIC - DAY\n\nStill grinning, Nell waves. She grabs it.\n\nNELL\nHa.\n").props == ()


def test_a_thing_a_character_looks_at_is_a_prop_and_furniture_stays_the_sets(with_lexicon):
    sheet = _one(
        "INT. KITCHEN - DAY\n\nNell glances up at the kettle on the stove. Bram stares at the desk. "
        "Nell tugs at the rope.\n\nNELL\nTea?\n"
    )
    assert set(sheet.props) == {"KETTLE", "ROPE"}  # tugs AT: handled, not a place
    assert set(sheet.set_dressing) == {"STOVE", "DESK"}


def test_the_thing_a_capitalised_sound_is_of_is_a_prop(with_lexicon):
    sheet = _one(
        "EXT. YARD - DAY\n\nThe THWACK of an axe echoes. The CREAK of a door. The ROAR of the crowd.\n\nNELL\nAgain.\n"
    )
    assert sheet.props == ("AXE",)
    assert {"THWACK", "CREAK", "ROAR"} <= set(sheet.sounds)


def test_the_object_of_a_capitalised_verb_of_handling_is_the_prop(with_lexicon):
    sheet = _one(
        "INT. HALL - NIGHT\n\nBram GRABS THE POKER. Nell PICKS UP THE RECEIVER, then RINGS THE GONG.\n\n"
        "NELL\nDinner.\n\nBRAM\nComing.\n"
    )
    assert set(sheet.props) == {"POKER", "RECEIVER", "GONG"}
    assert sheet.set_dressing == ()
    assert "RINGS THE GONG" in sheet.sounds


def test_an_apposition_names_the_thing_to_build(with_lexicon):
    sheet = _one("INT. SHED - DAY\n\nNell hands Bram her creation, a gadget of cogs.\n\nNELL\nLook.\n\nBRAM\nOh.\n")
    assert sheet.props == ("GADGET OF COGS",)
    listed = _one("INT. SHED - DAY\n\nThe map is on his knee, a compass in his hand.\n\nNELL\nLook.\n")
    assert "COMPASS" not in listed.props  # after a body part, a list, not an apposition
