"""Scene breakdown: what each scene needs (setting, cast, props, sound, length).

A breakdown sheet is what a first AD marks up with coloured pencils; here it is read off
the screenplay's conventions, which are strong enough to get most of it right:

* The heading gives INT/EXT, the location and the time of day (``parse_heading``).
* Speaking characters are the cue names of the scene's dialogue, without extensions
  (``EDWARD (V.O.)`` is EDWARD), in order of their first line.
* Everything else comes from runs of capitalised words (two or more letters each) in the
  scene's action, which is how screenwriters introduce characters and flag sounds and
  props. Each run is split at AND/OR and trimmed of camera and transition words (CLOSE ON,
  ANGLE ON, CUT TO, INTERCUT, CONT'D, ...) and of function words; a lone word of stress
  (LOOK, HUGE, RIGHT, ...) is dropped. Then:

  - a *sound* is a run holding a sound word: an onomatopoeia or sound noun in any form
    (BANG, CRASH, KNOCKS, THUNDER), a sound source used as a verb or plural (RINGS,
    WHISTLING, BELLS, while a RING is a prop), a word with a letter repeated three times
    (BZZZ, AAAH), or a hyphenated pair holding a sound (TICK-TOCK);
  - a *person* is a run that is, or starts with, a cue name anywhere in the script or the
    last word of a cue of several words (PARK for MR. PARK); or that is followed by an
    age (``MAISIE TALLOW, AGE 11``, ``OSWIN GREY, 70's``, ``JUNO (11)``); or that holds a
    person word (MAN, GIRLS, GUIDES, NURSE, MR., ... and words ending in MAN or MEN); or
    that follows a family word (``her grandfather OSWIN``); or that starts with the first name
    of a person already found in the scene (MAISIE after MAISIE TALLOW, listed once). People who
    speak in the scene (the run starts with a speaker's name, or is the last word of one:
    PARK for MR. PARK) are not listed again as non-speaking;
  - a *prop* is any other run, except a lone past participle (STUNNED: stress).

  Action paragraphs written entirely in capitals are shots or inserts (``ON MAISIE AND
  JUNO``, ``THE HARBOUR.``) rather than introductions; only sounds are taken from them.
* The length in eighths comes from the pagination model (``eighths.page_eighths``).

It is a heuristic: a word capitalised for stress that is in none of the lists (``a SUDDEN
gust``), a verb in the present tense (``she YANKS it``) and a character whose introduction
shows no sign of a person all come out as props. Good enough to start a breakdown that
people then correct.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from soundstage.script.eighths import page_eighths
from soundstage.script.model import Element, Kind, Scene, Script


@dataclass(frozen=True, slots=True)
class SceneBreakdown:
    """The breakdown sheet of one scene."""

    index: int  # 0-based position in the script
    number: str | None  # scene number as written, if any
    heading: str
    int_ext: str  # "INT", "EXT", "INT/EXT" or "" when the heading does not say
    location: str  # e.g. "WILL'S BEDROOM"; "" when the heading names none
    time_of_day: str  # e.g. "NIGHT", "DAY", "CONTINUOUS"; "" when missing
    speaking: tuple[str, ...]  # characters with dialogue, in order of first line
    non_speaking: tuple[str, ...]  # characters introduced in caps in action who do not speak
    props: tuple[str, ...]  # props written in caps in action
    sounds: tuple[str, ...]  # sound cues written in caps in action
    eighths: int  # length in page eighths from the pagination model


# ----------------------------------------------------------------------------- headings

# INT. / EXT. / INT./EXT. / EXT/INT / I/E / EST. (establishing: an exterior by convention).
_PREFIX = re.compile(
    r"^(?P<prefix>INT\.?\s*/\s*EXT|EXT\.?\s*/\s*INT|I\.?\s*/\s*E|E\.?\s*/\s*I|INT|EXT|EST)(?:\.|(?=\s)|$)\s*",
    re.IGNORECASE,
)
# Parts of a heading are separated by dashes with spaces around (PRE-DAWN is one word).
_PART_SEPARATOR = re.compile(r"\s+-{1,2}\s+|\s*[–—]\s*")
# Story-time notes: (1973), [FLASHBACK], [STORY VERSION]. They say when in the story, not
# the light, so they are kept out of the time of day.
_NOTE = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_TIMES = frozenset(
    [
        "DAY",
        "NIGHT",
        "MORNING",
        "AFTERNOON",
        "EVENING",
        "DUSK",
        "DAWN",
        "PRE-DAWN",
        "SUNSET",
        "SUNRISE",
        "TWILIGHT",
        "NOON",
        "MIDNIGHT",
        "NIGHTFALL",
        "DAYBREAK",
        "CONTINUOUS",
        "LATER",
        "SAME",
        "SIMULTANEOUS",
        "MOMENTS",
        "MAGIC",
    ]
)
# Words that qualify a time (ANOTHER DAY, THE NEXT MORNING, DAY TO NIGHT, MAGIC HOUR).
_TIME_QUALIFIERS = frozenset(
    [
        "A",
        "AN",
        "ANOTHER",
        "NEXT",
        "THE",
        "EARLY",
        "LATE",
        "PRESENT",
        "TIME",
        "HOUR",
        "TO",
        "AND",
        "/",
        "FEW",
        "SOME",
        "MOMENT",
        "SECONDS",
        "MINUTES",
        "HOURS",
        "DAYS",
        "WEEKS",
        "MONTHS",
        "YEARS",
        "FOLLOWING",
    ]
)


def parse_heading(heading: str) -> tuple[str, str, str]:
    """Split a scene heading into (int_ext, location, time_of_day).

    ``INT.  WILL'S BEDROOM - NIGHT (1973)`` -> ("INT", "WILL'S BEDROOM", "NIGHT");
    ``INT./EXT. CAR - MOVING - DAY`` -> ("INT/EXT", "CAR - MOVING", "DAY");
    ``EXT. APPROACHING THE HOUSE`` -> ("EXT", "APPROACHING THE HOUSE", "").
    The time of day is the trailing dash-separated parts made of time words (``NIGHT -
    CONTINUOUS``); story notes in brackets or parentheses (years, [FLASHBACK]) are left out
    of it, as is a last part that is nothing but a note. A forced heading (``.FLASHBACK``)
    has no INT/EXT and its text is the location.
    """
    text = " ".join(heading.strip().lstrip(".").split())
    int_ext = ""
    match = _PREFIX.match(text)
    if match:
        prefix = match["prefix"].upper()
        int_ext = "INT/EXT" if "/" in prefix else ("INT" if prefix.startswith("INT") else "EXT")
        text = text[match.end() :]
    parts = [part for part in _PART_SEPARATOR.split(text) if part]
    # A trailing part that is only a story note ("- [THE STORM]") is neither place nor light.
    while len(parts) > 1 and not _NOTE.sub("", parts[-1]).strip():
        parts.pop()
    times: list[str] = []
    # A lone part after INT./EXT. is the location ("EXT. APPROACHING THE HOUSE"); a forced
    # heading's lone part may be a time (".LATER").
    while parts and (len(parts) > 1 or not int_ext) and (time := _time_of_day(parts[-1])):
        times.insert(0, time)
        parts.pop()
    return int_ext, " - ".join(parts), " - ".join(times)


def _time_of_day(part: str) -> str:
    """The time of day in a heading part, or "" when the part is not one."""
    words = _NOTE.sub(" ", part.upper()).replace("/", " / ").split()
    if _is_time(words):
        return " ".join(words)
    # "DAY / DRIVING": keep the pieces that are times.
    pieces = [piece.split() for piece in " ".join(words).split("/")]
    return " / ".join(" ".join(p) for p in pieces if _is_time(p))


def _is_time(words: list[str]) -> bool:
    return any(w in _TIMES for w in words) and all(w in _TIMES or w in _TIME_QUALIFIERS for w in words)


# ----------------------------------------------------------------------------- action

# A capitalised word of two or more letters (WILL'S, PRE-DAWN, CONT'D), or a title (MR.).
_CAPS_WORD = r"(?:MRS?\.|MS\.|DR\.|[A-Z][A-Z'’-]*[A-Z])"
_CAPS_RUN = re.compile(rf"(?<![\w'’-]){_CAPS_WORD}(?: +{_CAPS_WORD})*(?![\w'’])")
_RUN_SPLIT = re.compile(r" +(?:AND|OR|&) +")
_AGE_AFTER = re.compile(
    r"\s*(?:,|\()\s*(?:now|age|aged|about|early|mid|late|in (?:his|her|their))?[\s-]*\d",
    re.IGNORECASE,
)
_FAMILY_BEFORE = re.compile(
    r"\b(?:mother|father|mom|dad|wife|husband|son|daughter|brother|sister|friend|boss|"
    r"uncle|aunt|grandmother|grandfather|girlfriend|boyfriend|partner)\s+$",
    re.IGNORECASE,
)
# BZZZ, AAAH; and interjections heard from a crowd: AHH, OHH, SHH, HMM.
_ONOMATOPOEIA = re.compile(r"([A-Z])\1\1|^(?:[AEIOU]+H+|S+H+|H+M+)$")
_SHOT_WORDS = frozenset(
    [
        "CLOSE",
        "ANGLE",
        "WIDE",
        "CUT",
        "FADE",
        "FADES",
        "DISSOLVE",
        "DISSOLVES",
        "INTERCUT",
        "INSERT",
        "POV",
        "SUPER",
        "TITLE",
        "TITLES",
        "MONTAGE",
        "FLASHBACK",
        "SERIES",
        "SHOT",
        "SHOTS",
        "SLOW",
        "MOTION",
        "FREEZE",
        "FRAME",
        "CONTINUED",
        "CONT'D",
        "CONT’D",
        "MORE",
        "PUSH",
        "PULL",
        "PAN",
        "TILT",
        "TRACKING",
        "REVERSE",
        "ZOOM",
        "DOLLY",
        "CRANE",
        "AERIAL",
        "ESTABLISHING",
        "SPLIT",
        "SCREEN",
        "SMASH",
        "MATCH",
        "BACK",
        "END",
        "BLACK",
        "VO",
        "OS",
        "OC",
        "ECU",
        "CU",
        "MCU",
        "EXT",
        "INT",
        "THE",
        "CAMERA",
        "FRAME",
    ]
)
# Function words, trimmed from the ends of a run (CLOSE ON THE RING is RING).
_STOP_WORDS = frozenset(
    [
        "A",
        "AN",
        "AND",
        "OR",
        "OF",
        "TO",
        "IN",
        "ON",
        "AT",
        "BY",
        "FOR",
        "WITH",
        "FROM",
        "UP",
        "DOWN",
        "OUT",
        "OFF",
        "OVER",
        "INTO",
        "IS",
        "IT",
        "ITS",
        "HE",
        "SHE",
        "WE",
        "US",
        "THEY",
        "YOU",
        "HIS",
        "HER",
        "THEIR",
        "THIS",
        "THAT",
        "THESE",
        "THOSE",
        "BUT",
        "NOT",
        "NO",
        "YES",
        "NOW",
        "ALL",
        "VERY",
        "NEVER",
        "EVER",
        "OK",
        "OKAY",
        "REALLY",
        "JUST",
        "SO",
        "TOO",
        "HERE",
        "THERE",
        "HEAR",
        "HEARS",
        "SEE",
        "SEES",
        "WHAT",
        "WHO",
        "WHY",
        "HOW",
        "AGE",
        "TOWARDS",
        "TOWARD",
        "AWAY",
        "ACROSS",
        "THROUGH",
        "BEHIND",
        "AGAIN",
        "AM",
        "PM",
        "TM",
    ]
)
# Verbs and adjectives capitalised for stress (He does NOT LOOK; a HUGE fish): ignored when
# they stand alone, kept inside a longer run (YOUNG EDWARD, BIG TOP).
_STRESS_WORDS = frozenset(
    [
        "BIG",
        "HUGE",
        "LOOK",
        "LOOKS",
        "HOLD",
        "HOLDS",
        "STOP",
        "STOPS",
        "STAY",
        "SHUT",
        "RUSH",
        "GO",
        "GOES",
        "RUN",
        "RUNS",
        "WAIT",
        "JUMP",
        "JUMPS",
        "FALL",
        "FALLS",
        "DROP",
        "DROPS",
        "TURN",
        "TURNS",
        "GRAB",
        "GRABS",
        "HIT",
        "HITS",
        "KISS",
        "KISSES",
        "SWEEP",
        "SWEEPS",
        "MOVE",
        "MOVES",
        "RIGHT",
        "TIGHT",
        "QUICK",
        "LOW",
        "HIGH",
        "YOUNG",
        "OLD",
        "MASSIVE",
        "VARIOUS",
        "SINGLE",
        "LOUD",
        "SOFT",
        "FAST",
    ]
)
_PERSON_WORDS = frozenset(
    [
        "MAN",
        "MEN",
        "WOMAN",
        "WOMEN",
        "BOY",
        "BOYS",
        "GIRL",
        "GIRLS",
        "KID",
        "KIDS",
        "CHILD",
        "CHILDREN",
        "BABY",
        "GUY",
        "GUYS",
        "LADY",
        "LADIES",
        "GENTLEMAN",
        "GENTLEMEN",
        "PEOPLE",
        "CROWD",
        "FAMILY",
        "MOTHER",
        "FATHER",
        "MOM",
        "DAD",
        "WIFE",
        "HUSBAND",
        "SON",
        "DAUGHTER",
        "BROTHER",
        "SISTER",
        "UNCLE",
        "AUNT",
        "GRANDMA",
        "GRANDPA",
        "FRIEND",
        "FRIENDS",
        "DOCTOR",
        "DOC",
        "NURSE",
        "NURSES",
        "COP",
        "COPS",
        "OFFICER",
        "OFFICERS",
        "GUARD",
        "GUARDS",
        "SOLDIER",
        "SOLDIERS",
        "DRIVER",
        "WAITER",
        "WAITRESS",
        "BARTENDER",
        "CLERK",
        "TEACHER",
        "STUDENT",
        "STUDENTS",
        "PRIEST",
        "PREACHER",
        "SHERIFF",
        "DEPUTY",
        "AGENT",
        "AGENTS",
        "CAPTAIN",
        "KING",
        "QUEEN",
        "PRINCE",
        "PRINCESS",
        "GUIDE",
        "GUIDES",
        "WORKER",
        "WORKERS",
        "PATRON",
        "PATRONS",
        "CUSTOMER",
        "CUSTOMERS",
        "NEIGHBOR",
        "NEIGHBOUR",
        "STRANGER",
        "STRANGERS",
        "TWINS",
        "GIANT",
        "WITCH",
        "MAYOR",
        "REPORTER",
        "REPORTERS",
        "SECRETARY",
        "ASSISTANT",
        "MANAGER",
        "PASSENGER",
        "PASSENGERS",
        "TOWNSPEOPLE",
        "TOWNSFOLK",
        "VILLAGERS",
        "PLAYER",
        "PLAYERS",
        "DANCER",
        "DANCERS",
        "SINGER",
        "MUSICIAN",
        "MUSICIANS",
        "STEWARDESS",
        "STEWARD",
        "JUDGE",
        "EMPLOYEE",
        "EMPLOYEES",
        "PASSERSBY",
        "CONGREGATION",
        "SCOUT",
        "SCOUTS",
        "AUDIENCE",
        "PATIENT",
        "PILOT",
        "SAILOR",
        "FARMER",
        "HUNTER",
        "MAID",
        "BUTLER",
        "COOK",
        "CHEF",
        "BRIDE",
        "GROOM",
        "TWIN",
        "WIDOW",
        "FANS",
        "CLOWN",
        "CLOWNS",
        "SPECTATORS",
        "ONLOOKERS",
        "GUESTS",
        "HUMAN",
        "PRINCIPAL",
        "CITIZEN",
        "CARNIE",
        "CARNIES",
        "CARNY",
        "ATTENDANT",
        "EMCEE",
        "CAST",
        "PROFESSOR",
        "VENTRILOQUIST",
        "FIDDLER",
        "BAND",
        "MOB",
        "LEADER",
        "TEEN",
        "TEENAGER",
        "WISHER",
        "MR.",
        "MRS.",
        "MS.",
        "DR.",
    ]
)
# Words that are sounds in any form: onomatopoeia and nouns that are nothing but a sound.
_SOUNDS = frozenset(
    [
        "BANG",
        "BOOM",
        "KABOOM",
        "CRASH",
        "KNOCK",
        "SLAM",
        "THUD",
        "THUMP",
        "CLICK",
        "CLANG",
        "CLANK",
        "CLATTER",
        "BEEP",
        "BUZZ",
        "HONK",
        "SCREAM",
        "SHRIEK",
        "SPLASH",
        "CREAK",
        "RUMBLE",
        "ROAR",
        "WHOOSH",
        "SMASH",
        "SHATTER",
        "EXPLOSION",
        "EXPLODE",
        "GUNSHOT",
        "GUNFIRE",
        "THUNDER",
        "SIREN",
        "ALARM",
        "HISS",
        "GROWL",
        "SQUEAL",
        "SCREECH",
        "RATTLE",
        "DING",
        "DONG",
        "SPLAT",
        "WHACK",
        "ZAP",
        "VROOM",
        "BLARE",
        "HOWL",
        "WAIL",
        "THWACK",
        "CRUNCH",
        "SIZZLE",
        "TWANG",
        "RANG",
        "RUNG",
        "SNARL",
        "YELP",
        "APPLAUSE",
        "FOOTSTEPS",
        "GASP",
        "SOB",
        "TOCK",
        "LAUGH",
        "LAUGHTER",
        "CHEER",
        "COUGH",
        "GIGGLE",
        "SNORE",
        "SIGH",
        "GROAN",
        "MOAN",
        "WHIMPER",
        "WHIRR",
        "BREATH",
        "MUSIC",
        "CHANT",
        "CRACK",
        "APPLAUD",
        "CLINK",
        "CHIRP",
        "BLEAT",
        "TITTER",
        "HUFF",
        "SCRAPE",
    ]
)
# Sound sources that are also things (a RING, a BELL, a HORN): sounds only as a verb or a
# plural (RINGS, RINGING, BELLS), props otherwise.
_SOUND_VERBS = frozenset(
    [
        "RING",
        "BELL",
        "HORN",
        "WHISTLE",
        "CHIME",
        "BARK",
        "SNAP",
        "POP",
        "HUM",
        "TICK",
        "DRIP",
        "SHOUT",
        "YELL",
        "CLAP",
        "HAMMER",
        "SING",
        "HACK",
        "HOLLER",
        "CRY",
    ]
)
_INFLECTIONS = ("ING", "IES", "ES", "ED", "S", "D")
# FISHERMAN, POLICEMEN, CHAIRWOMAN.
_PERSON_ENDINGS = ("MAN", "MEN")


@lru_cache(maxsize=4096)
def _is_sound_word(word: str) -> bool:
    if word in _SOUNDS or _ONOMATOPOEIA.search(word):
        return True
    if "-" in word:  # TICK-TOCK, KA-BOOM
        return any(_is_sound_word(part) for part in word.split("-") if part)
    for ending in _INFLECTIONS:
        if word.endswith(ending) and len(word) > len(ending) + 2:
            stem = word[: -len(ending)] + ("Y" if ending == "IES" else "")
            # SLAMMED, KNOCKS, RINGING, CRASHES; SLAMMING drops its doubled consonant and
            # WHISTLING, RATTLING its silent E.
            restored_e = stem + "E" if ending in ("ING", "ED", "D") else ""
            for base in (stem, stem[:-1] if stem[-1] == stem[-2] else "", restored_e):
                if base in _SOUNDS or base in _SOUND_VERBS:
                    return True
    return False


def _trimmed(words: list[str]) -> list[str]:
    """The run without leading and trailing camera, transition and function words."""
    start, end = 0, len(words)
    while start < end and (words[start] in _SHOT_WORDS or words[start] in _STOP_WORDS):
        start += 1
    while end > start and (words[end - 1] in _SHOT_WORDS or words[end - 1] in _STOP_WORDS):
        end -= 1
    return words[start:end]


@dataclass(slots=True)
class _Findings:
    """What a scene's action flags, each in order of first mention (dicts as ordered sets)."""

    people: dict[str, None] = field(default_factory=dict)
    props: dict[str, None] = field(default_factory=dict)
    sounds: dict[str, None] = field(default_factory=dict)
    first_names: set[str] = field(default_factory=set)  # of the people found so far


def _scan_action(text: str, names: frozenset[str], findings: _Findings) -> None:
    """Sort the capitalised runs of one action paragraph into people, props and sounds."""
    shot_like = text == text.upper()
    for match in _CAPS_RUN.finditer(text):
        for piece in _RUN_SPLIT.split(match[0]):
            words = _trimmed(piece.split())
            if not words or (len(words) == 1 and words[0] in _STRESS_WORDS):
                continue
            run = " ".join(words)
            if any(_is_sound_word(w) for w in words):
                findings.sounds[run] = None
            elif shot_like:
                continue
            elif _is_person(words, text, match, names, findings.first_names):
                # MAISIE after MAISIE TALLOW is the same person, not another one.
                if words[0] not in findings.first_names or len(words) > 1:
                    findings.people[run] = None
                findings.first_names.add(words[0])
            # A lone past participle (STUNNED) is stress, not a prop. -ING is not treated the
            # same way because too many props end so (RING, PAINTING).
            elif len(words) > 1 or not (words[0].endswith("ED") and len(words[0]) > 5):
                findings.props[run] = None


def _is_person_word(word: str) -> bool:
    """MAN, NURSES, FISHERMEN, WELL-WISHER: a word that names a person or people."""
    word = word.rsplit("-", 1)[-1]
    singular = word[:-1] if word.endswith("S") else word
    return word in _PERSON_WORDS or singular in _PERSON_WORDS or word.endswith(_PERSON_ENDINGS)


def _starts_with_name(words: list[str], names: frozenset[str] | set[str]) -> bool:
    """Whether the run is, or starts with, one of ``names`` (MAISIE TALLOW starts with MAISIE)."""
    return any(" ".join(words[:end]) in names for end in range(1, len(words) + 1))


def _is_person(words: list[str], text: str, match: re.Match[str], names: frozenset[str], seen: set[str]) -> bool:
    if _starts_with_name(words, names) or words[0] in seen:
        return True
    if any(_is_person_word(w) for w in words):
        return True
    return bool(_AGE_AFTER.match(text, match.end()) or _FAMILY_BEFORE.search(text, 0, match.start()))


def _speakers(elements: Iterable[Element]) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for element in elements:
        if element.kind in (Kind.DIALOGUE, Kind.LYRICS) and element.character:
            names[_name(element.character)] = None
    return tuple(names)


def _name(cue: str) -> str:
    """A cue name as one form: capitals, single spaces, no dual-dialogue or forcing marks."""
    return " ".join(cue.strip("@^ ").upper().split())


def _people_names(script: Script) -> frozenset[str]:
    """Cue names, and the last word of each cue of several words (DR. BENNETT: BENNETT)."""
    cues = {_name(e.character) for s in script.scenes for e in s.elements if e.kind is Kind.CHARACTER and e.character}
    last_words = {cue.rsplit(" ", 1)[1] for cue in cues if " " in cue}
    return frozenset(cues | {w for w in last_words if w not in _STOP_WORDS and w not in _SHOT_WORDS})


def _break_down_scene(index: int, scene: Scene, eighths: int, names: frozenset[str]) -> SceneBreakdown:
    int_ext, location, time_of_day = parse_heading(scene.heading)
    speaking = _speakers(scene.elements)
    findings = _Findings()
    for element in scene.elements:
        if element.kind is Kind.ACTION:
            _scan_action(element.plain, names, findings)
    # PARK is the cue MR. PARK speaking; MAISIE TALLOW is the cue MAISIE speaking.
    speakers = set(speaking) | {cue.rsplit(" ", 1)[1] for cue in speaking if " " in cue}
    non_speaking = tuple(p for p in findings.people if not _starts_with_name(p.split(), speakers))
    return SceneBreakdown(
        index=index,
        number=scene.number,
        heading=scene.heading,
        int_ext=int_ext,
        location=location,
        time_of_day=time_of_day,
        speaking=speaking,
        non_speaking=non_speaking,
        props=tuple(findings.props),
        sounds=tuple(findings.sounds),
        eighths=eighths,
    )


def break_down(script: Script) -> list[SceneBreakdown]:
    """Break every scene of ``script`` down (see the module docstring for the rules)."""
    names = _people_names(script)
    return [
        _break_down_scene(index, scene, eighths, names)
        for index, (scene, eighths) in enumerate(zip(script.scenes, page_eighths(script), strict=True))
    ]
