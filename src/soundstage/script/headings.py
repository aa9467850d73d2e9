"""Scene headings: INT/EXT, the location and the time of day.

``parse_heading`` reads the slug line the way a first AD does: the prefix says interior or
exterior, the dash-separated parts name the place, and the trailing parts made of time words
say the light. Story notes in brackets (years, [FLASHBACK]) say when in the story, not the
light, so they are left out of the time of day.
"""

from __future__ import annotations

import re

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
