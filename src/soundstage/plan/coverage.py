"""Coverage rules: how a scene is broken into shots.

Animation boards only what goes into the cut, so the plan is a sequence, not live-action
coverage of the same action from many set-ups: each shot covers the next stretch of the scene
and the durations add up to the scene's screen time. The rules, in order:

- an establishing shot (EWS outside, WS inside) when the scene moves to a new location,
  covering the heading and the opening action;
- a master (WS on everyone present) on the opening action when there was no establishing shot;
- action paragraphs framed by who is in them (MS on one character, WS on several), with the
  size the writer asks for ("CLOSE ON", "ANGLE ON", "POV", "INSERT"), and a tracking move
  when the action moves; an INSERT for each prop written in caps (up to a limit per scene);
- a two-character exchange opens on a two-shot, then cuts between over-the-shoulders (or
  singles, by setting); three or more speakers get singles; a parenthetical with a strong
  feeling gets a close-up; dual dialogue is one two-shot;
- voice-over and off-screen lines are heard over the shot they fall in, not given their own.

Every number and switch comes from ``[plan]`` in soundstage.toml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from soundstage.config import Plan
from soundstage.plan.model import Angle, Move, Purpose, Shot, ShotSize, shot_code
from soundstage.plan.timing import seconds, to_frames
from soundstage.script.breakdown import SceneBreakdown
from soundstage.script.model import SPOKEN, Element, Kind, Scene

_OFF_SCREEN = {"V.O.", "VO", "O.S.", "OS", "O.C.", "OC", "PRE-LAP", "ON PHONE", "FILTERED"}
_MOTION = re.compile(
    r"\b(runs?|running|races?|racing|chases?|chasing|drives?|driving|walks?|walking|flies|flying|"
    r"falls?|falling|rush(es)?|rushing|sprints?|climbs?|climbing|swims?|swimming|gallops?|"
    r"dashes|dashing|tumbles?|leaps?|leaping|zooms?)\b",
    re.IGNORECASE,
)
_EMOTION = re.compile(
    r"\b(tears?|crying|cries|sob|sobbing|whisper(s|ing)?|furious|angry|terrified|scared|"
    r"heartbroken|softly|quietly|trembling|devastated|moved|choked)\b",
    re.IGNORECASE,
)
# Camera directions writers put in action, and the size each asks for.
_DIRECTIONS = (
    (re.compile(r"\b(EXTREME CLOSE[- ]?UP|ECU)\b"), ShotSize.ECU),
    (re.compile(r"\b(CLOSE ON|CLOSE[- ]?UP|CLOSE SHOT)\b"), ShotSize.CU),
    (re.compile(r"\bINSERT\b"), ShotSize.INSERT),
    (re.compile(r"\bPOV\b"), ShotSize.POV),
    (re.compile(r"\b(WIDE ON|WIDE SHOT|WIDER)\b"), ShotSize.WS),
    (re.compile(r"\b(ANGLE ON|ON [A-Z]{2,})"), ShotSize.MS),
)


def _off_screen(cue: Element) -> bool:
    """A cue whose speaker is heard, not seen (V.O., O.S. and the like)."""
    return any(ext.upper().replace(" ", "") in _OFF_SCREEN for ext in cue.extensions)


@dataclass(slots=True)
class _Beat:
    """A stretch of the scene that one shot may cover: an action paragraph or a speech."""

    elements: list[Element]
    speaker: str = ""  # "" for action
    off_screen: bool = False
    dual_with: list[Element] = field(default_factory=list)  # the second side of dual dialogue


def _beats(scene: Scene) -> list[_Beat]:
    beats: list[_Beat] = []
    for element in scene.elements:
        if element.kind in (Kind.ACTION, Kind.CENTERED):
            beats.append(_Beat([element]))
        elif element.kind is Kind.CHARACTER:
            off = _off_screen(element)
            previous = beats[-1] if beats else None
            # The second cue of a dual pair joins the first speech: both are said at once.
            if element.dual and previous and previous.speaker and previous.elements[0].dual and not previous.dual_with:
                previous.dual_with.append(element)
                continue
            beats.append(_Beat([element], speaker=element.character.upper(), off_screen=off))
        elif element.kind is Kind.LYRICS and not element.character:
            # Lyrics outside a speech are sung over the picture, like an action line.
            beats.append(_Beat([element]))
        elif element.kind in SPOKEN and beats:
            beat = beats[-1]
            (beat.dual_with if beat.dual_with else beat.elements).append(element)
    return beats


@lru_cache(maxsize=4096)
def _name_pattern(name: str) -> re.Pattern[str] | None:
    """A pattern for any word of a character's name of three letters or more ("MR. PARK"
    is mentioned as "Park"); compiled once per name for a whole feature."""
    parts = [re.escape(p) for p in re.split(r"[^\w']+", name.lower()) if len(p) >= 3]
    return re.compile(rf"\b(?:{'|'.join(parts)})\b", re.IGNORECASE) if parts else None


def _mentioned(text: str, cast: tuple[str, ...]) -> tuple[str, ...]:
    """Characters of the cast named in an action paragraph."""
    return tuple(name for name in cast if (p := _name_pattern(name)) is not None and p.search(text))


def _direction(text: str) -> ShotSize | None:
    for pattern, size in _DIRECTIONS:
        if pattern.search(text):
            return size
    return None


def _describe(beat: _Beat) -> str:
    text = " ".join(e.plain for e in beat.elements if e.kind is not Kind.CHARACTER and e.kind is not Kind.PARENTHETICAL)
    text = " ".join(text.split())
    if beat.speaker:
        text = f"{beat.speaker}: {text}"
    return text if len(text) <= 90 else text[:87].rstrip() + "..."


class _ShotList:
    """Accumulates the shots of one scene with their codes, lenses and frame counts."""

    def __init__(self, number: str, plan: Plan, fps: int) -> None:
        self.number, self.plan, self.fps = number, plan, fps
        self.shots: list[Shot] = []

    def add(
        self,
        size: ShotSize,
        purpose: Purpose,
        elements: list[Element],
        *,
        subjects: tuple[str, ...] = (),
        angle: Angle = Angle.EYE,
        move: Move = Move.STATIC,
        duration_s: float | None = None,
        lines: tuple[int, ...] | None = None,
        description: str = "",
    ) -> None:
        timing = self.plan.timing
        duration = seconds(elements, timing) if duration_s is None else duration_s
        self.shots.append(
            Shot(
                code=shot_code(self.number, len(self.shots)),
                scene=self.number,
                size=size,
                angle=angle,
                lens_mm=self.plan.lenses.get(size, 35.0),
                move=move,
                subjects=subjects,
                lines=lines if lines is not None else tuple(e.line for e in elements),
                frames=to_frames(duration, self.fps, timing.min_shot_s),
                purpose=purpose,
                description=description,
            )
        )

    def extend_last(self, elements: list[Element]) -> None:
        """Hold the last shot longer to carry lines heard over it."""
        last = self.shots[-1]
        extra = to_frames(seconds(elements, self.plan.timing), self.fps, 0)
        self.shots[-1] = last.model_copy(
            update={"frames": last.frames + extra, "lines": last.lines + tuple(e.line for e in elements)}
        )


def cover_scene(
    scene: Scene, breakdown: SceneBreakdown, number: str, previous_location: str | None, plan: Plan, fps: int
) -> list[Shot]:
    """Propose the shots of one scene.

    ``number`` is the production's scene number (it makes the shot codes) and
    ``previous_location`` the location of the scene before, which decides establishing shots.
    """
    rules, timing = plan.coverage, plan.timing
    cast = breakdown.speaking + tuple(n for n in breakdown.non_speaking if n not in breakdown.speaking)
    on_screen_speakers = _on_screen_speakers(scene)
    shots = _ShotList(number, plan, fps)
    beats = _beats(scene)

    shown_props: list[str] = []

    def add_inserts(elements: list[Element]) -> None:
        """An INSERT for each prop first called out in these elements, up to the scene's limit."""
        text = "\n".join(e.text for e in elements)
        for prop in breakdown.props:
            if not rules.inserts or len(shown_props) >= rules.max_inserts_per_scene:
                return
            if prop in text and prop not in shown_props:
                shown_props.append(prop)
                shots.add(
                    ShotSize.INSERT,
                    Purpose.INSERT,
                    [],
                    angle=Angle.HIGH,
                    duration_s=timing.insert_s,
                    lines=(elements[0].line,),
                    description=prop,
                )

    new_location = breakdown.location != (previous_location or None)
    if rules.establishing == "always" or (rules.establishing == "new-location" and new_location):
        opening = beats.pop(0).elements if beats and not beats[0].speaker else []
        shots.add(
            ShotSize.EWS if breakdown.int_ext.startswith("EXT") else ShotSize.WS,
            Purpose.ESTABLISHING,
            opening,
            angle=rules.establishing_angle,
            duration_s=max(timing.establishing_s, seconds(opening, timing)),
            lines=(scene.line, *(e.line for e in opening)),
            description=breakdown.location or scene.heading,
        )
        add_inserts(opening)
    elif rules.master and beats and not beats[0].speaker:
        opening = beats.pop(0).elements
        shots.add(
            ShotSize.WS,
            Purpose.MASTER,
            opening,
            subjects=cast,
            lines=(scene.line, *(e.line for e in opening)),
            description=_describe(_Beat(opening)),
        )
        add_inserts(opening)

    previous_speaker = ""
    for beat in beats:
        if not beat.speaker:
            text = "\n".join(e.text for e in beat.elements)
            present = _mentioned(text, cast)
            size = _direction(text) or (ShotSize.MS if len(present) == 1 else ShotSize.WS)
            move = rules.action_move if _MOTION.search(text) else Move.STATIC
            purpose = {ShotSize.INSERT: Purpose.INSERT, ShotSize.POV: Purpose.POV}.get(size, Purpose.ACTION)
            shots.add(size, purpose, beat.elements, subjects=present, move=move, description=_describe(beat))
            add_inserts(beat.elements)
            continue
        if beat.off_screen and shots.shots:
            shots.extend_last(beat.elements)
            continue
        if beat.dual_with:
            both = (beat.speaker, beat.dual_with[0].character.upper())
            duration = max(seconds(beat.elements, timing), seconds(beat.dual_with, timing))
            shots.add(
                ShotSize.TWO_SHOT,
                Purpose.TWO_SHOT,
                beat.elements + beat.dual_with,
                subjects=both,
                duration_s=duration,
                description=f"{both[0]} and {both[1]} at once",
            )
            previous_speaker = ""
            continue
        size, purpose, subjects = _dialogue_framing(beat, on_screen_speakers, previous_speaker, plan)
        shots.add(size, purpose, beat.elements, subjects=subjects, description=_describe(beat))
        previous_speaker = beat.speaker

    if not shots.shots:
        # A heading with nothing under it still needs a frame in the cut.
        shots.add(ShotSize.WS, Purpose.MASTER, [], subjects=cast, lines=(scene.line,), description=scene.heading)
    return shots.shots


def _on_screen_speakers(scene: Scene) -> tuple[str, ...]:
    names: list[str] = []
    for e in scene.elements:
        if e.kind is Kind.CHARACTER and not _off_screen(e) and e.character.upper() not in names:
            names.append(e.character.upper())
    return tuple(names)


def _dialogue_framing(
    beat: _Beat, speakers: tuple[str, ...], previous_speaker: str, plan: Plan
) -> tuple[ShotSize, Purpose, tuple[str, ...]]:
    rules = plan.coverage
    parentheticals = " ".join(e.text for e in beat.elements if e.kind is Kind.PARENTHETICAL)
    if rules.emotional_close_ups and _EMOTION.search(parentheticals):
        return ShotSize.CU, Purpose.SINGLE, (beat.speaker,)
    if len(speakers) == 2 and beat.speaker in speakers:
        listener = speakers[0] if speakers[1] == beat.speaker else speakers[1]
        if rules.two_shot and not previous_speaker:
            return ShotSize.TWO_SHOT, Purpose.TWO_SHOT, (beat.speaker, listener)
        if rules.dialogue == "ots":
            return ShotSize.OTS, Purpose.OTS, (beat.speaker, listener)
        return ShotSize.MCU, Purpose.SINGLE, (beat.speaker,)
    if len(speakers) <= 1:
        # A monologue opens medium and moves in once the speech carries on.
        return (ShotSize.MCU if previous_speaker else ShotSize.MS), Purpose.SINGLE, (beat.speaker,)
    return ShotSize.MCU, Purpose.SINGLE, (beat.speaker,)
