"""The prompt of a take, composed from the production bible and the shot.

Order matters to text encoders (earlier words weigh more, and long prompts are cut at the
end), so the artist's own words come first and win; then the framing of the shot, the action
it covers, the characters in it and the place, and the bible's style last.
"""

from __future__ import annotations

from soundstage.config import Bible
from soundstage.plan.model import Angle, Shot, ShotSize
from soundstage.script.breakdown import SceneBreakdown
from soundstage.script.model import Kind, Scene

_SIZE_WORDS = {
    ShotSize.EWS: "extreme wide shot",
    ShotSize.WS: "wide shot",
    ShotSize.MS: "medium shot",
    ShotSize.MCU: "medium close-up",
    ShotSize.CU: "close-up",
    ShotSize.ECU: "extreme close-up",
    ShotSize.OTS: "over-the-shoulder shot",
    ShotSize.TWO_SHOT: "two-shot",
    ShotSize.POV: "point-of-view shot",
    ShotSize.INSERT: "insert shot, detail",
}
_ANGLE_WORDS = {
    Angle.HIGH: "high angle",
    Angle.LOW: "low angle",
    Angle.OVERHEAD: "overhead view",
    Angle.DUTCH: "dutch angle",
}
# Action text beyond this many characters adds little and pushes the style out of the window.
MAX_ACTION_CHARS = 240
# The artist's own words (--prompt, --negative): CLIP-style text encoders read 77 tokens (a few
# hundred characters), so more is never seen by the model, while the words are stored in every
# take's recipe, embedded in its file and printed in the disclosure. 2,000 leaves room for any
# encoder with a longer window (T5 reads 512 tokens) and refuses a pasted file.
MAX_PROMPT_CHARS = 2_000


def compose_prompt(shot: Shot, scene: Scene, breakdown: SceneBreakdown, bible: Bible, artist: str = "") -> str:
    """The prompt for a take of ``shot``."""
    framing = _SIZE_WORDS[shot.size]
    if shot.angle in _ANGLE_WORDS:
        framing = f"{framing}, {_ANGLE_WORDS[shot.angle]}"
    covered = set(shot.lines)
    action = " ".join(e.plain for e in scene.elements if e.kind is Kind.ACTION and e.line in covered)
    action = " ".join(action.split())
    if len(action) > MAX_ACTION_CHARS:
        action = action[:MAX_ACTION_CHARS].rsplit(" ", 1)[0]
    people = [
        f"{name}: {bible.characters[name].description}"
        if name in bible.characters and bible.characters[name].description
        else name
        for name in shot.subjects
    ]
    place = bible.locations.get(breakdown.location)
    where = f"{breakdown.location}: {place.description}" if place and place.description else breakdown.location
    if breakdown.time_of_day:
        where = f"{where}, {breakdown.time_of_day.lower()}"
    parts = [artist.strip(), framing, action, "; ".join(people), where, bible.style.strip()]
    return ". ".join(p for p in parts if p)


def compose_negative(bible: Bible, artist: str = "") -> str:
    """The negative prompt: the artist's, then the bible's."""
    return ", ".join(p for p in (artist.strip(), bible.negative.strip()) if p)
