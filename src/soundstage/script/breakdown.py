"""Scene breakdown: what each scene needs built, heard and cast, and how long it is.

For animation the breakdown is the list of things to build. A breakdown sheet is what a first
AD marks up with coloured pencils; here it is read off the screenplay's conventions:

* The heading gives INT/EXT, the location and the time of day (``headings.parse_heading``).
* The cast is the characters with a line in the scene (``cast.speakers``): cue names without
  extensions, a joint cue (``MAISIE AND FUSE``, ``BOTH``) credited to each speaker.
* Everything else is marked in the action (``marking``): capitalised introductions, the
  script's own characters in any case, and the word classes of ``vocabulary`` (people,
  animals, vehicles, weather and fire, sounds, on-screen effects), with a part-of-speech
  lexicon (``lexicon``) to tell a capitalised verb (the crates TOPPLE) from a thing.
* A thing that some character handles somewhere in the script (the object of a verb of
  handling, or after WITH) is a prop in every scene it appears in; one that nobody ever
  handles (the COUNTER a lantern stands on) is set dressing.
* The length in eighths comes from the pagination model (``eighths.page_eighths``).

It is a reading of conventions, not of meaning: a thing capitalised for stress that no rule
knows becomes a prop, and a thing named only in lowercase in a sentence that does not handle
or place it is not listed. Good enough to start a breakdown that people then correct;
``benchmarks/breakdown_eval.py`` measures how good against hand-labelled scripts.
"""

from __future__ import annotations

from dataclasses import dataclass

from soundstage.script import lexicon
from soundstage.script.cast import cue_name, is_group, names_in_cue, speakers
from soundstage.script.eighths import page_eighths
from soundstage.script.headings import parse_heading
from soundstage.script.marking import (
    Marks,
    Names,
    mark_action,
    mark_business,
    mark_heading,
    mentions,
    met_again,
    singular,
    thing_head,
)
from soundstage.script.model import Kind, Scene, Script
from soundstage.script.vocabulary import PERSON_WORDS, SHOT_WORDS, STOP_WORDS

__all__ = ["CATEGORIES", "SceneBreakdown", "break_down", "parse_heading"]


@dataclass(frozen=True, slots=True)
class SceneBreakdown:
    """The breakdown sheet of one scene."""

    index: int  # 0-based position in the script
    number: str | None  # scene number as written, if any
    heading: str
    int_ext: str  # "INT", "EXT", "INT/EXT" or "" when the heading does not say
    location: str  # e.g. "WILL'S BEDROOM"; "" when the heading names none
    time_of_day: str  # e.g. "NIGHT", "DAY", "CONTINUOUS"; "" when missing
    speaking: tuple[str, ...]  # cast: characters with a line, in order of first line
    non_speaking: tuple[str, ...]  # background: people seen without a line (named or not, crowds)
    props: tuple[str, ...]  # things a character handles (somewhere in the script)
    sounds: tuple[str, ...]  # sound effects the action calls for
    eighths: int  # length in page eighths from the pagination model
    animals: tuple[str, ...] = ()  # animals seen or heard that do not speak
    set_dressing: tuple[str, ...] = ()  # things of the set that nobody handles
    vehicles: tuple[str, ...] = ()
    atmosphere: tuple[str, ...] = ()  # FX and atmosphere: weather, fire, smoke, wind, waves
    vfx: tuple[str, ...] = ()  # work over the picture: on-screen titles, overlays, freeze frames


# The categories of a breakdown sheet, as breakdown tools name them -> the field that lists them.
CATEGORIES: dict[str, str] = {
    "cast": "speaking",
    "background": "non_speaking",
    "animals": "animals",
    "props": "props",
    "set_dressing": "set_dressing",
    "vehicles": "vehicles",
    "sound": "sounds",
    "atmosphere": "atmosphere",
    "vfx": "vfx",
}


def _names(script: Script) -> Names:
    """The script's characters: each cue (each name of a joint cue), with the first and last
    words of a cue of several words (PARK for MR. PARK, BENNETT for YOUNG DR. BENNETT)."""
    cues = {
        name
        for s in script.scenes
        for e in s.elements
        if e.kind is Kind.CHARACTER and e.character
        for name in names_in_cue(e.character)
        if not is_group(name)
    }
    forms: dict[str, set[str]] = {cue: {cue} for cue in cues}
    for cue in cues:
        words = cue.split()
        # A surname stands for its cue (Bennett is YOUNG DR. BENNETT), unless it is a common
        # English word (RADIO ANNOUNCER is not every radio).
        # So does a first name that no dictionary has (Wilbur is WILBUR FREELY; without the
        # lexicon, none: RADIO ANNOUNCER's RADIO would be taken).
        for name, known in ((words[-1], lexicon.readings(words[-1])), (words[0], lexicon.readings(words[0]) != set())):
            if len(words) > 1 and name not in STOP_WORDS | SHOT_WORDS | PERSON_WORDS and not known:
                forms.setdefault(name, set()).add(cue)
    unique = {form: next(iter(owners)) for form, owners in forms.items() if len(owners) == 1}
    return Names(people=frozenset(forms), cues=unique, full=frozenset(cues))


def _mark_scene(scene: Scene, names: Names) -> Marks:
    marks = Marks()
    int_ext, location, _ = parse_heading(scene.heading)
    if not int_ext and location:
        mark_heading(location, names, marks)
    for element in scene.elements:
        if element.kind is Kind.ACTION:
            mark_action(element.plain, names, marks)
        elif element.kind is Kind.PARENTHETICAL:
            mark_business(element.plain, names, marks)
    return marks


def break_down(script: Script) -> list[SceneBreakdown]:
    """Break every scene of ``script`` down (see the module docstring for the rules)."""
    names = _names(script)
    scenes = script.scenes
    marked = [_mark_scene(scene, names) for scene in scenes]
    # A thing introduced in capitals is the script's own: a later "the lantern" is that thing.
    introduced: dict[str, str] = {}
    for marks in marked:
        for thing in marks.things:
            if thing in marks.introduced:
                introduced.setdefault(thing_head(thing), thing)
    for marks in marked:
        for head in mentions(marks, introduced.keys(), names):
            # "the lamp" in a scene with LAMP NUMBER ONE is that lamp, not the first lamp introduced.
            if not any(head in map(singular, t.split()) for t in marks.things):
                marks.things[introduced[head]] = False
    # Someone introduced in capitals (an OLD WOMAN) is that person when named again (the Old Woman).
    strangers = {person for marks in marked for person in marks.introduced_people}
    for marks in marked:
        for person in met_again(marks, strangers):
            marks.people.setdefault(person, None)
    # A thing handled in one scene is a prop wherever it appears (the LADDER Oswin stands on).
    handled = {thing_head(thing) for marks in marked for thing, used in marks.things.items() if used}
    sheets = []
    for index, (scene, marks, eighths) in enumerate(zip(scenes, marked, page_eighths(script), strict=True)):
        present = [p for p in marks.people if p in names.cues.values()]
        speaking = speakers(scene.elements, present)
        # PARK is the cue MR. PARK speaking; MAISIE TALLOW is the cue MAISIE speaking.
        spoken = set(speaking) | {names.cues.get(w, w) for s in speaking for w in s.split()}
        spoken |= {w for s in speaking for w in s.split()[-1:] if " " in s}
        int_ext, location, time_of_day = parse_heading(scene.heading)
        sheets.append(
            SceneBreakdown(
                index=index,
                number=scene.number,
                heading=scene.heading,
                int_ext=int_ext,
                location=location,
                time_of_day=time_of_day,
                speaking=speaking,
                non_speaking=tuple(p for p in marks.people if not _speaks(p, spoken)),
                props=tuple(t for t in marks.things if thing_head(t) in handled),
                sounds=tuple(marks.sounds),
                eighths=eighths,
                animals=tuple(marks.animals),
                set_dressing=tuple(t for t in marks.things if thing_head(t) not in handled),
                vehicles=tuple(marks.vehicles),
                atmosphere=tuple(marks.atmosphere),
                vfx=tuple(marks.vfx),
            )
        )
    return sheets


def _speaks(person: str, spoken: set[str]) -> bool:
    """Whether a person found in the action is one who speaks: the run starts with the cue
    (MAISIE TALLOW) or ends with it (an EXTREMELY HANDSOME MAN)."""
    words = person.split()
    return any(" ".join(words[:end]) in spoken or " ".join(words[-end:]) in spoken for end in range(1, len(words) + 1))


# Kept for callers of the old module: the cue form of a name.
_name = cue_name
