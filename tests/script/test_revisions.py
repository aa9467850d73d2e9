"""Matching a revised draft's scenes to the production's, and numbering new scenes."""

from soundstage.script.model import Element, Kind, Scene
from soundstage.script.revisions import KnownScene, body_sha256, match_scenes, number_scenes


def _scene(heading: str, *lines: str, number: str | None = None) -> Scene:
    return Scene(heading=heading, line=1, number=number, elements=[Element(Kind.ACTION, t, 2) for t in lines])


def _known(i: int, number: str, scene: Scene) -> KnownScene:
    return KnownScene(i, number, scene.heading, scene.body_text())


KITCHEN = _scene("INT. KITCHEN - DAY", "Mara fries an egg while the radio hums a waltz.")
ROOF = _scene("EXT. ROOF - NIGHT", "Pip counts the stars out loud and loses track at forty.")
LANE = _scene("EXT. LANE - DAY", "A bicycle bell rings twice; nobody is riding it.")


def test_unchanged_draft_matches_every_scene_in_place():
    known = [_known(1, "1", KITCHEN), _known(2, "2", ROOF)]
    m = match_scenes(known, [KITCHEN, ROOF])
    assert m.matched == [1, 2]
    assert m.changed == [False, False]
    assert m.removed == []


def test_revised_text_matches_by_similarity_and_is_marked_changed():
    revised = _scene("EXT. ROOF - NIGHT", "Pip counts the stars out loud and loses track at fifty.")
    known = [_known(1, "1", KITCHEN), _known(2, "2", ROOF)]
    m = match_scenes(known, [KITCHEN, revised])
    assert m.matched == [1, 2]
    assert m.changed == [False, True]


def test_moved_scenes_keep_their_identity_and_new_ones_are_added():
    known = [_known(1, "1", KITCHEN), _known(2, "2", ROOF)]
    m = match_scenes(known, [ROOF, LANE, KITCHEN])
    assert m.matched == [2, None, 1]
    assert m.removed == []


def test_removed_scene_is_reported():
    known = [_known(1, "1", KITCHEN), _known(2, "2", ROOF), _known(3, "3", LANE)]
    m = match_scenes(known, [KITCHEN, LANE])
    assert m.matched == [1, 3]
    assert m.removed == [2]


def test_scene_number_wins_over_text():
    rewritten = _scene("INT. GREENHOUSE - DAY", "Entirely new words about tomatoes.", number="2")
    known = [_known(1, "1", KITCHEN), _known(2, "2", ROOF)]
    m = match_scenes(known, [KITCHEN, rewritten])
    assert m.matched == [1, 2]
    assert m.changed == [False, True]


def test_a_different_scene_is_not_forced_onto_a_removed_one():
    known = [_known(1, "1", KITCHEN), _known(2, "2", ROOF)]
    m = match_scenes(known, [KITCHEN, LANE])
    assert m.matched == [1, None]
    assert m.removed == [2]


def test_hash_changes_with_text_only():
    assert body_sha256(KITCHEN) == body_sha256(
        _scene("INT. KITCHEN - DAY", "Mara fries an egg while the radio hums a waltz.")
    )
    assert body_sha256(KITCHEN) != body_sha256(ROOF)


def test_first_draft_is_numbered_from_one():
    assert number_scenes([None, None, None], set()) == ["1", "2", "3"]


def test_script_numbers_are_kept_and_gaps_get_letters():
    assert number_scenes(["1", None, "2"], set()) == ["1", "1A", "2"]


def test_inserted_scenes_take_the_previous_number_plus_a_letter():
    assert number_scenes(["1", None, None, "2"], set()) == ["1", "1A", "1B", "2"]
    assert number_scenes([None, "1"], set()) == ["0A", "1"]


def test_numbers_of_removed_scenes_are_not_reused():
    assert number_scenes(["1", None, "3"], {"1A"}) == ["1", "1B", "3"]


def test_repeated_number_is_renumbered():
    assert number_scenes(["5", "5"], set()) == ["5", "5A"]
