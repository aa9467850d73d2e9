"""Coverage rules turn scenes into shots."""

from soundstage.config import Plan
from soundstage.plan.coverage import cover_scene
from soundstage.plan.model import Move, Purpose, ShotSize
from soundstage.script.breakdown import SceneBreakdown
from soundstage.script.model import Element, Kind, Scene

PLAN = Plan()


def _breakdown(location: str, speaking=(), non_speaking=(), props=(), int_ext="INT") -> SceneBreakdown:
    return SceneBreakdown(
        index=0, number=None, heading=f"{int_ext}. {location} - DAY", int_ext=int_ext, location=location,
        time_of_day="DAY", speaking=tuple(speaking), non_speaking=tuple(non_speaking), props=tuple(props),
        sounds=(), eighths=2,
    )  # fmt: skip


def _speech(name: str, text: str, line: int, *extensions: str, paren: str = "", dual: bool = False) -> list[Element]:
    out = [Element(Kind.CHARACTER, name, line, character=name, extensions=extensions, dual=dual)]
    if paren:
        out.append(Element(Kind.PARENTHETICAL, paren, line + 1, character=name, dual=dual))
    out.append(Element(Kind.DIALOGUE, text, line + 2, character=name, dual=dual))
    return out


def _two_hander() -> Scene:
    return Scene(
        heading="INT. LIGHTHOUSE - NIGHT",
        line=10,
        elements=[
            Element(Kind.ACTION, "MARA climbs the stairs with the BRASS LANTERN.", 12),
            *_speech("MARA", "Is it lit yet?", 14),
            *_speech("PIP", "Almost. Hold the door.", 18),
            *_speech("MARA", "I am holding it.", 22),
            *_speech("PIP", "Then hold it harder.", 26),
        ],
    )


def test_new_location_opens_on_an_establishing_shot_covering_the_heading():
    shots = cover_scene(
        _two_hander(), _breakdown("LIGHTHOUSE", ["MARA", "PIP"], props=["BRASS LANTERN"]), "7", None, PLAN, 24
    )
    first = shots[0]
    assert first.purpose is Purpose.ESTABLISHING
    assert first.size is ShotSize.WS  # interior: wide, not extreme wide
    assert first.lines[0] == 10
    assert first.frames >= PLAN.timing.establishing_s * 24


def test_exterior_establishing_shot_is_extreme_wide():
    scene = _two_hander()
    shots = cover_scene(scene, _breakdown("LIGHTHOUSE", ["MARA", "PIP"], int_ext="EXT"), "7", None, PLAN, 24)
    assert shots[0].size is ShotSize.EWS


def test_same_location_gets_a_master_instead():
    shots = cover_scene(_two_hander(), _breakdown("LIGHTHOUSE", ["MARA", "PIP"]), "7", "LIGHTHOUSE", PLAN, 24)
    assert shots[0].purpose is Purpose.MASTER
    assert set(shots[0].subjects) == {"MARA", "PIP"}


def test_two_hander_opens_on_two_shot_then_alternates_over_the_shoulders():
    shots = cover_scene(_two_hander(), _breakdown("LIGHTHOUSE", ["MARA", "PIP"]), "7", "LIGHTHOUSE", PLAN, 24)
    dialogue = [s for s in shots if s.purpose in (Purpose.TWO_SHOT, Purpose.OTS)]
    assert [s.size for s in dialogue] == [ShotSize.TWO_SHOT, ShotSize.OTS, ShotSize.OTS, ShotSize.OTS]
    assert [s.subjects[0] for s in dialogue] == ["MARA", "PIP", "MARA", "PIP"]
    assert dialogue[1].subjects == ("PIP", "MARA")  # over MARA's shoulder onto PIP


def test_singles_setting_replaces_over_the_shoulders():
    plan = Plan(coverage={"dialogue": "singles", "two_shot": False})
    shots = cover_scene(_two_hander(), _breakdown("LIGHTHOUSE", ["MARA", "PIP"]), "7", "LIGHTHOUSE", plan, 24)
    sizes = {s.size for s in shots if s.purpose is Purpose.SINGLE}
    assert sizes == {ShotSize.MCU}


def test_props_in_caps_get_inserts_up_to_the_limit():
    bd = _breakdown("LIGHTHOUSE", ["MARA", "PIP"], props=["BRASS LANTERN"])
    shots = cover_scene(_two_hander(), bd, "7", "LIGHTHOUSE", PLAN, 24)
    inserts = [s for s in shots if s.purpose is Purpose.INSERT]
    assert [s.description for s in inserts] == ["BRASS LANTERN"]
    none = cover_scene(_two_hander(), bd, "7", "LIGHTHOUSE", Plan(coverage={"max_inserts_per_scene": 0}), 24)
    assert not [s for s in none if s.purpose is Purpose.INSERT]


def test_codes_step_in_tens_with_the_scene_number():
    shots = cover_scene(_two_hander(), _breakdown("LIGHTHOUSE", ["MARA", "PIP"]), "12A", None, PLAN, 24)
    assert [s.code for s in shots[:3]] == ["012A_0010", "012A_0020", "012A_0030"]


def test_lenses_follow_the_settings():
    plan = Plan(lenses={**Plan().lenses, ShotSize.OTS: 65})
    shots = cover_scene(_two_hander(), _breakdown("LIGHTHOUSE", ["MARA", "PIP"]), "7", "LIGHTHOUSE", plan, 24)
    assert {s.lens_mm for s in shots if s.size is ShotSize.OTS} == {65}


def test_voice_over_is_heard_over_the_previous_shot():
    scene = Scene(
        heading="EXT. HARBOUR - DAY",
        line=1,
        elements=[
            Element(Kind.ACTION, "Gulls wheel over the boats.", 3),
            *_speech("NARRATOR", "Every harbour keeps a secret, and this one kept two.", 5, "V.O."),
        ],
    )
    shots = cover_scene(scene, _breakdown("HARBOUR", ["NARRATOR"], int_ext="EXT"), "1", None, PLAN, 24)
    assert len(shots) == 1
    assert 7 in shots[0].lines  # the V.O. dialogue line is covered by the establishing shot
    spoken_s = 10 / PLAN.timing.words_per_second
    assert shots[0].frames >= (PLAN.timing.establishing_s + spoken_s) * 24 - 1


def test_dual_dialogue_is_one_two_shot_as_long_as_the_longer_side():
    scene = Scene(
        heading="INT. ATTIC - DAY",
        line=1,
        elements=[
            *_speech("MARA", "It was mine first and you know it!", 3, dual=True),
            *_speech("PIP", "Mine!", 7, dual=True),
        ],
    )
    shots = cover_scene(scene, _breakdown("ATTIC", ["MARA", "PIP"]), "1", "ATTIC", PLAN, 24)
    assert len(shots) == 1
    assert shots[0].size is ShotSize.TWO_SHOT
    assert shots[0].frames == -(-int(8 / PLAN.timing.words_per_second * 24 * 1000) // 1000)


def test_emotional_parenthetical_gets_a_close_up():
    scene = Scene(
        heading="INT. ATTIC - DAY",
        line=1,
        elements=[*_speech("MARA", "I miss him.", 3, paren="(in tears)"), *_speech("PIP", "Me too.", 8)],
    )
    shots = cover_scene(scene, _breakdown("ATTIC", ["MARA", "PIP"]), "1", "ATTIC", PLAN, 24)
    assert shots[0].size is ShotSize.CU


def test_action_with_motion_tracks_and_camera_directions_are_obeyed():
    scene = Scene(
        heading="EXT. PIER - DAY",
        line=1,
        elements=[
            Element(Kind.ACTION, "The pier creaks.", 3),
            Element(Kind.ACTION, "Pip runs the length of the pier.", 5),
            Element(Kind.ACTION, "CLOSE ON the knot in the rope.", 7),
        ],
    )
    shots = cover_scene(scene, _breakdown("PIER", [], ["PIP"], int_ext="EXT"), "3", None, PLAN, 24)
    assert shots[1].move is Move.TRACK and shots[1].size is ShotSize.MS and shots[1].subjects == ("PIP",)
    assert shots[2].size is ShotSize.CU


def test_an_empty_scene_still_gets_a_shot():
    shots = cover_scene(Scene(heading="EXT. SKY - DAY", line=4), _breakdown("SKY", int_ext="EXT"), "2", "SKY", PLAN, 24)
    assert len(shots) == 1 and shots[0].lines == (4,)
