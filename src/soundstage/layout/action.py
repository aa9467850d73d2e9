"""Blocking read off the page: the moves and looks of a shot, from the lines it covers.

A first AD reads "OSWIN shuffles in from the back" as an entrance and "Maisie climbs to LAMP
NUMBER ONE" as a cross to the lamp. This module reads action lines the same way, with a small
lexicon of general English (verbs of travel with their speed, the particles that make them an
entrance, an exit or a cross, sitting, standing and turning), and names the character who
moves from the sentence:

* the subject is the run of characters a clause opens with ("Maisie and Juno burst in"),
  possessives skipped ("Maisie's grandfather" is not Maisie); else the pronoun just before the
  verb, meaning whoever the shot's action last named; else the characters right after the
  verb ("Under it ... sits McKEE"); "everyone" and "all" are everyone in the shot;
* "Fuse close behind" and "Fuse trundles after them" follow the movers just before;
* a move starts where its sentence falls in the shot's screen time (the plan's own timing of
  the covered elements, stretched to the shot's frames) and lasts as long as walking the
  distance takes at the verb's pace (hurries is quicker than shuffles);
* where a move goes: the character's mark for an entrance; off for an exit (through the back
  of an interior, off the side of frame outside); beside a named character or prop for "to
  X"; across the frame otherwise.

Dialogue gives the looks: when someone starts speaking during the shot, everyone else in it
turns their head to them (a speech that opens the shot needs no turn: the cut finds them
already looking).

It is a reading of conventions, not of meaning, meant to start blocking that people correct:
every move says which line it came from, and ``ShotMotion.describe`` lists them. The words
themselves are in ``layout.movement_words``.

Long because who moves, what kind of move it is, where it goes and when it starts are read
from the same clause and depend on one another; split, each part would need the others'.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from soundstage.config import Timing
from soundstage.layout import movement_words as movement
from soundstage.layout.framing import Blocking, CameraSetup, Mark, scene_cast, stage_cast
from soundstage.layout.motion import (
    CameraMotion,
    CharacterMove,
    Look,
    ShotMotion,
    Verb,
    figure_keys,
    frame_rate,
    frames_at,
    heading,
)
from soundstage.plan.model import Move, Shot
from soundstage.plan.timing import element_seconds, words
from soundstage.script.breakdown import SceneBreakdown
from soundstage.script.model import Element, Kind, Scene
from soundstage.script.vocabulary import CROWD_WORDS

TURN_S = 0.5  # a body turn on the spot
SIT_S = 0.8  # sitting down or standing up
LOOK_S = 0.25  # a head turning to a speaker
MIN_MOVE_S = 0.5
FOLLOW_DELAY_S = 0.4  # "Fuse close behind": the follower starts this much later
BESIDE = 0.8  # metres from a character someone crosses to
AT_PROP = 0.55  # metres from a prop someone crosses to
OFF_MARGIN = 1.0  # metres beyond the edge of frame where an exit ends outside
UPSTAGE_DOOR = 0.5  # metres in front of an interior's back wall where entrances begin


@dataclass(frozen=True, slots=True)
class _Mention:
    name: str
    start: int
    end: int
    possessive: bool


@dataclass(slots=True)
class _Context:
    """What a shot's derivation reads: its blocking, the scene's marks, its time line."""

    shot: Shot
    blocking: Blocking
    marks: dict[str, Mark]  # every character of the scene on their scene mark
    rate: Fraction
    in_shot: tuple[str, ...]
    last_named: tuple[str, ...] = ()
    last_movers: tuple[CharacterMove, ...] = ()


# ----------------------------------------------------------------------------- time line


def shot_timeline(shot: Shot, scene: Scene, timing: Timing) -> list[tuple[Element, float, float]]:
    """The elements a shot covers, each with where it starts and ends as a fraction of the
    shot (the plan's screen time of each element, stretched to the shot's length)."""
    covered = set(shot.lines)
    elements = [e for e in scene.elements if e.line in covered]
    spans = [element_seconds(e, timing) for e in elements]
    total = sum(spans)
    out, at = [], 0.0
    for element, span in zip(elements, spans, strict=True):
        start = at / total if total else 0.0
        at += span
        out.append((element, start, at / total if total else 0.0))
    return out


def _frame(shot: Shot, fraction: float) -> int:
    return min(shot.frames - 1, max(0, round(fraction * shot.frames)))


# ----------------------------------------------------------------------------- derivation


def derive_moves(
    shot: Shot,
    scene: Scene,
    blocking: Blocking,
    scene_marks: dict[str, Mark],
    rate: Fraction,
    timing: Timing | None = None,
) -> tuple[CharacterMove, ...]:
    """The moves of the characters in a shot, read from the action lines it covers.

    ``scene_marks`` holds every character of the scene on their mark (``framing.stage_cast``),
    so that "crosses to JUNO" finds Juno whether or not she is in this shot."""
    context = _Context(shot, blocking, {**scene_marks, **blocking.marks}, rate, tuple(blocking.marks))
    if not context.in_shot:
        return ()
    moves: list[CharacterMove] = []
    for element, start, end in shot_timeline(shot, scene, timing or Timing()):
        if element.kind is not Kind.ACTION:
            continue
        text = element.plain
        total = max(1, words(text))
        for sentence in movement.SENTENCE.finditer(text):
            at = start + (end - start) * words(text[: sentence.start()]) / total
            moves += _read_sentence(context, sentence.group(), element.line, _frame(shot, at), moves)
    return tuple(moves)


def derive_looks(
    shot: Shot,
    scene: Scene,
    blocking: Blocking,
    scene_marks: dict[str, Mark],
    rate: Fraction,
    timing: Timing | None = None,
    moves: Sequence[CharacterMove] = (),
) -> tuple[Look, ...]:
    """Heads turning to whoever starts speaking during the shot: everyone else in the shot
    looks at the speaker (where they stand then, after any of ``moves``); the speaker looks
    at the one a "(to X)" parenthetical names."""
    in_shot = tuple(blocking.marks)
    marks = {**scene_marks, **blocking.marks}
    names = _cast_names(scene, tuple(marks))
    turn = max(1, frames_at(LOOK_S, rate))
    looks: list[Look] = []
    current = ""

    def look(who: str, at: str, frame: int, line: int) -> Look | None:
        if at not in marks:
            return None
        there = figure_keys(marks[at], [m for m in moves if m.character == at], rate).at(frame + turn)
        return Look(who, at, round(there.x, 3), round(there.z, 3), frame, min(shot.frames - 1, frame + turn), line)

    for element, start, _end in shot_timeline(shot, scene, timing or Timing()):
        frame = _frame(shot, start)
        if element.kind is Kind.PARENTHETICAL and element.character:
            whom = movement.TO_SOMEONE.match(element.plain)
            speaker = _cast_name(element.character, names)
            target = _mentions(whom.group("whom"), names) if whom else []
            if speaker in in_shot and target and target[0].name != speaker and frame > 0:
                looks += filter(None, [look(speaker, target[0].name, frame, element.line)])
            continue
        if element.kind is not Kind.CHARACTER:
            continue
        speaker = _cast_name(element.character, names)
        # Dual dialogue is said at once: the second speaker starts no new look.
        if speaker and speaker != current and frame > 0 and not element.dual:
            looks += filter(None, [look(name, speaker, frame, element.line) for name in in_shot if name != speaker])
        current = speaker or current
    return tuple(looks)


def shot_motion(
    shot: Shot,
    scene: Scene,
    blocking: Blocking,
    scene_marks: dict[str, Mark],
    fps: int | Fraction,
    timing: Timing | None = None,
    seed: int | None = None,
) -> ShotMotion:
    """Everything that moves in one shot: the moves and looks read from its lines, and the
    camera performing the shot list's move (following the shot's first mover, for a track or
    a pan). ``seed`` drives handheld noise; by default it comes from the shot code."""
    rate = frame_rate(fps)
    moves = derive_moves(shot, scene, blocking, scene_marks, rate, timing)
    looks = derive_looks(shot, scene, blocking, scene_marks, rate, timing, moves)
    travellers = [m.character for m in moves if m.verb in (Verb.ENTERS, Verb.CROSSES, Verb.EXITS)]
    follow = ""
    if shot.move in (Move.TRACK, Move.PAN) and travellers:
        follow = next((n for n in shot.subjects if n in travellers), travellers[0])
    if seed is None:
        seed = int.from_bytes(hashlib.sha256(f"handheld\x1f{shot.code}".encode()).digest()[:4], "big")
    return ShotMotion(rate, shot.frames, moves, looks, CameraMotion(shot.move, seed, follow))


def scene_motion(
    shots: Sequence[Shot],
    scene: Scene,
    breakdown: SceneBreakdown,
    blockings: dict[str, Blocking],
    fps: int | Fraction,
    timing: Timing | None = None,
) -> dict[str, ShotMotion]:
    """The motion of every shot of one scene (as ``framing.block_scene`` blocked them), keyed
    by shot code."""
    marks = stage_cast(scene_cast(shots, breakdown))
    return {shot.code: shot_motion(shot, scene, blockings[shot.code], marks, fps, timing) for shot in shots}


def _cast_names(scene: Scene, in_shot: Sequence[str]) -> tuple[str, ...]:
    cues = [e.character.upper() for e in scene.elements if e.kind is Kind.CHARACTER and e.character]
    return tuple(dict.fromkeys([*in_shot, *cues]))


def _cast_name(cue: str, names: Sequence[str]) -> str:
    upper = cue.upper()
    return upper if upper in names else next((n for n in names if n.split()[-1] == upper.split()[-1]), upper)


def _read_sentence(
    context: _Context, sentence: str, line: int, frame: int, earlier: list[CharacterMove]
) -> list[CharacterMove]:
    """The moves one sentence of action gives, all starting at the sentence's frame (after
    the same character's earlier moves)."""
    mentions = _mentions(sentence, tuple(context.marks))
    out: list[CharacterMove] = []
    subject: tuple[str, ...] = ()
    for match in movement.VERB.finditer(sentence):
        before, after = sentence[: match.start()], sentence[match.end() :]
        if movement.NEGATED.search(before):
            continue
        clause = _clause(after, match.end(), mentions)
        kind, word = match.lastgroup or "", match.group().lower()
        if kind == "travel" and movement.TRAVEL[word][0] in movement.NEEDS_PARTICLE and not _particle(word, clause):
            continue
        if kind == "travel" and movement.TRAVEL[word][0] in movement.CARRYING and not _carries(clause):
            continue
        if kind == "turn" and not movement.TURN_AFTER.match(after):
            continue
        if kind == "exit" and word in ("leaves", "leaving") and not movement.LEAVES_PLACE.match(after):
            continue
        who = _subject(context, before, mentions, match, subject)
        who = tuple(n for n in who if n in context.in_shot)
        # A bare "hurry" or "walk" is a noun ("in a hurry") unless a plural subject says it.
        base = kind == "travel" and word == movement.TRAVEL[word][0]
        plural = len(who) > 1 or who[-1:] and who[-1].split()[-1] in CROWD_WORDS or movement.PLURAL.search(before)
        if not who or (base and not plural):
            continue
        subject = who
        made = _moves_for(context, kind, word, clause, who, frame, line, [*earlier, *out])
        out += made
        if made:
            context.last_movers = tuple(made)
            out += _followers(context, after, made, line, [*earlier, *out])
    named = tuple(dict.fromkeys(m.name for m in mentions if not m.possessive))
    context.last_named = named or context.last_named
    return out


def _carries(clause: str) -> bool:
    """Whether "pushes", "drags"... moves its subject: a thing or a person carried somewhere
    ("pushes a WHEELBARROW down the pier"), not a phrasal verb ("pulls up his collar"), a
    door ("pulls the door shut") or a hand ("shoves his hand into his pocket")."""
    particle = movement.PARTICLE.search(clause)
    if particle is None or not clause[: particle.start()].strip():
        return False
    carried = clause[: particle.start()].lower()
    return not re.search(rf"\b(?:shut|open|closed|{movement.BODY})\b", carried)


def _clause(after: str, offset: int = 0, mentions: Sequence[_Mention] = ()) -> str:
    """What follows a verb up to the end of its clause; "and" or a comma between two names
    (``shoves Maisie and Fuse inside``) joins them rather than ending it. ``offset`` is where
    ``after`` starts in the sentence the ``mentions`` were found in."""
    ends = {m.end for m in mentions}
    starts = {m.start for m in mentions}
    for end in movement.CLAUSE_END.finditer(after):
        joins = end.group().strip() in (",", "and") and offset + end.start() in ends
        if joins and offset + end.end() + (len(after[end.end() :]) - len(after[end.end() :].lstrip())) in starts:
            continue
        return after[: end.start()]
    return after


def _particle(word: str, clause: str) -> re.Match[str] | None:
    """The first particle after a verb of travel ("in", "to", "down"...); "heads for" is a
    cross to where it names."""
    if movement.TRAVEL.get(word, ("",))[0] == "head" and (match := re.match(r"\s+(?P<word>for)\b", clause)):
        return match
    return movement.PARTICLE.search(clause)


def _subject(
    context: _Context, before: str, mentions: list[_Mention], verb: re.Match[str], previous: tuple[str, ...]
) -> tuple[str, ...]:
    """Who does ``verb`` (see the module docstring); nobody when its clause opens with
    something else ("the wind rushes in"), unless the verb carries characters ("the wind
    shoves Maisie and Fuse inside")."""
    own_start = max((m.end() for m in movement.CLAUSE_END.finditer(before)), default=0)
    own_clause = before[own_start:]
    following = [m for m in mentions if m.start >= verb.end()]
    right_after = bool(following) and not verb.string[verb.end() : following[0].start].strip()
    word = verb.group().lower()
    if not _clear(verb.string, own_start, verb.start(), mentions):
        carried = movement.TRAVEL.get(word, ("",))[0] in movement.CARRYING and right_after
        return _opening_group(following, verb.string) if carried else ()
    if movement.EVERYONE.search(own_clause):
        return context.in_shot
    group = _opening_group([m for m in mentions if m.start < verb.start()], before)
    if group:
        return group
    pronoun = movement.PRONOUN.search(before)
    if pronoun:
        if pronoun.group("p").lower() == "they":
            return previous or context.last_named
        # "she" is whoever the action last named, or the one character in the shot.
        alone = context.in_shot if len(context.in_shot) == 1 else ()
        return previous[:1] or context.last_named[:1] or alone
    if previous:
        return previous
    # "Under it ... sits McKEE": the subject right after the verb.
    return _opening_group(following, verb.string) if right_after else ()


def _clear(sentence: str, start: int, end: int, mentions: list[_Mention]) -> bool:
    """Whether a clause (``sentence[start:end]``, up to its verb) leaves the verb to a
    character: it opens with a name (what follows the name describes them: "Neighbours in
    dressing gowns come out") or with nothing but pronouns, auxiliaries, conjunctions,
    adverbs, capitalised introductions and ages. A clause that opens with anything else
    ("the wind", "a river of flames") has the verb's own subject."""
    named = [m.start for m in mentions if not m.possessive and start <= m.start < end]
    opening = sentence[start : min(named, default=end)]
    for token in re.findall(r"\([^)]*\)|[\w'’.]+", opening):
        if token.startswith("(") or not re.search(r"\w", token):
            continue
        if token.lower() in movement.GLUE or token.lower().endswith("ly") or token.isdigit():
            continue
        if len(token.strip(".")) >= 2 and token.isupper():
            continue
        return False
    return True


def _opening_group(mentions: list[_Mention], before: str) -> tuple[str, ...]:
    """The characters a clause opens with: the first mention that is not a possessive and the
    ones joined to it by commas and "and" (``Maisie, Juno and Fuse``)."""
    plain = [m for m in mentions if not m.possessive]
    if not plain:
        return ()
    group = [plain[0]]
    for mention in plain[1:]:
        between = before[group[-1].end : mention.start]
        if re.fullmatch(r"\s*(?:,|and|,\s*and|&)\s*", between):
            group.append(mention)
        else:
            break
    return tuple(dict.fromkeys(m.name for m in group))


def _mentions(text: str, names: Sequence[str]) -> list[_Mention]:
    """Where the text names a character, in order: the whole name, or any word of it of three
    letters or more ("Park" for MR. PARK), the whole name winning where both match. Hand-made
    rather than ``plan.coverage``'s matcher because moves need the positions, not only who."""
    found: list[_Mention] = []
    taken: list[tuple[int, int]] = []
    for whole in (True, False):
        for name in sorted(names, key=len, reverse=True):
            parts = [name] if whole else [p for p in re.split(r"[^\w']+", name) if len(p) >= 3 and p != name]
            for part in parts:
                for match in re.finditer(rf"(?<![\w']){re.escape(part)}(?![\w])", text, re.I):
                    span = (match.start(), match.end())
                    if any(a < span[1] and span[0] < b for a, b in taken):
                        continue
                    taken.append(span)
                    possessive = bool(re.match(r"['’]s?\b", text[match.end() :]))
                    found.append(_Mention(name, span[0], span[1], possessive))
    return sorted(found, key=lambda m: m.start)


def _followers(
    context: _Context, after: str, leaders: list[CharacterMove], line: int, earlier: list[CharacterMove]
) -> list[CharacterMove]:
    """ "Maisie and Juno burst in, Fuse close behind": Fuse makes the leaders' move after them."""
    rest = after[len(_clause(after)) :]
    match = re.match(r"^\s*,\s*(?P<names>[^,;.!?]+?)\s+(?:close\s+|right\s+|just\s+)?(?:behind|after|in tow)\b", rest)
    if not match:
        return []
    followers = [m.name for m in _mentions(match.group("names"), tuple(context.marks)) if m.name in context.in_shot]
    leader = leaders[0]
    delay = frames_at(FOLLOW_DELAY_S, context.rate)
    out = []
    for name in followers:
        if any(m.character == name for m in leaders):
            continue
        made = _moves_for_verb(context, leader.verb, name, leader, leader.start_frame + delay, line, [*earlier, *out])
        out += made
    return out


def _moves_for(
    context: _Context,
    kind: str,
    word: str,
    clause: str,
    who: tuple[str, ...],
    start: int,
    line: int,
    earlier: list[CharacterMove],
) -> list[CharacterMove]:
    """The moves of ``who`` for one verb and what follows it in its clause."""
    rate, shot = context.rate, context.shot
    out: list[CharacterMove] = []
    if kind in ("sit", "stand"):
        verb = Verb.SITS if kind == "sit" else Verb.STANDS
        for name in who:
            mark = _where(name, context, earlier + out)
            out.append(
                _timed(CharacterMove(name, verb, mark, mark, start, start, line), SIT_S, rate, shot, earlier + out)
            )
        return out
    if kind == "turn":
        for name in who:
            mark = _where(name, context, earlier + out)
            facing, towards = _turn_to(context, name, mark, clause)
            end = Mark(mark.x, mark.z, facing, mark.height)
            out.append(
                _timed(CharacterMove(name, Verb.TURNS, mark, end, start, start, line, towards), TURN_S, rate, shot, out)
            )
        return out
    particle = _particle(word, clause)
    particle_word = particle.group("word").lower() if particle else ""
    pace = movement.TRAVEL.get(word, ("", 1.3))[1]
    if kind == "enter" or (
        kind == "travel"
        and particle_word in movement.ENTERING
        and (particle_word != "in" or movement.IN_ENTERS.match(clause[particle.end() :]))  # type: ignore[union-attr]
    ):
        verb = Verb.ENTERS
    elif kind == "travel" and particle_word in ("out", "out of", "outside") and movement.TRAVEL[word][0] == "come":
        verb = Verb.ENTERS  # "neighbours come out": out of somewhere, into the scene
    elif kind == "travel" and movement.TRAVEL[word][0] == "return" and particle_word not in movement.TO:
        verb = Verb.ENTERS  # "she returns with her camera"
    elif kind == "exit" or (kind == "travel" and particle_word in movement.LEAVING):
        verb = Verb.EXITS
    elif (
        kind == "travel"
        and particle_word == "into"
        and re.match(r"(?:\w+\s+)?(?:frame|view|shot)\b", clause[particle.end() :].strip())
    ):  # type: ignore[union-attr]
        verb = Verb.ENTERS  # "steps back into frame"
    elif kind == "travel":
        verb = Verb.CROSSES
    else:
        return out
    phrase = clause[particle.end() :].strip() if particle else clause.strip()
    if word.startswith(("approach", "follow")) and not particle:
        particle_word = "to" if word.startswith("approach") else "after"
    side = _cross_side(context, who)
    for name in who:
        here = _where(name, context, earlier + out)
        if verb is Verb.ENTERS:
            mark = context.marks[name]
            begin = _offstage(context, mark)
            move = CharacterMove(
                name, verb, Mark(begin[0], begin[1], mark.facing_deg, mark.height), mark, start, start, line
            )
        elif verb is Verb.EXITS:
            off = _offstage(context, here)
            move = CharacterMove(
                name, verb, here, Mark(off[0], off[1], here.facing_deg, here.height), start, start, line
            )
        else:
            end, towards = _destination(context, name, here, particle_word, phrase, side, earlier + out)
            move = CharacterMove(name, verb, here, end, start, start, line, towards)
        distance = math.hypot(move.end.x - move.start.x, move.end.z - move.start.z)
        out.append(_timed(move, max(MIN_MOVE_S, distance / pace + TURN_S), rate, shot, earlier + out))
    return out


def _moves_for_verb(
    context: _Context, verb: Verb, name: str, leader: CharacterMove, start: int, line: int, earlier: list[CharacterMove]
) -> list[CharacterMove]:
    """A follower's version of a leader's move: the same kind, to their own place."""
    here = _where(name, context, earlier)
    if verb is Verb.ENTERS:
        mark = context.marks[name]
        begin = _offstage(context, mark)
        move = CharacterMove(
            name, verb, Mark(begin[0], begin[1], mark.facing_deg, mark.height), mark, start, start, line
        )
    elif verb is Verb.EXITS:
        off = _offstage(context, here)
        move = CharacterMove(name, verb, here, Mark(off[0], off[1], here.facing_deg, here.height), start, start, line)
    elif verb is Verb.CROSSES:
        end = _behind(leader, here)
        move = CharacterMove(name, verb, here, end, start, start, line, f"after {leader.character}")
    else:
        return []
    distance = math.hypot(move.end.x - move.start.x, move.end.z - move.start.z)
    return [_timed(move, max(MIN_MOVE_S, distance / 1.3 + TURN_S), context.rate, context.shot, earlier)]


def _timed(
    move: CharacterMove, seconds: float, rate: Fraction, shot: Shot, earlier: Sequence[CharacterMove]
) -> CharacterMove:
    """The move given its length, after the same character's earlier moves, inside the shot:
    a move that would run past the last frame starts earlier, or quickens if it must."""
    last = shot.frames - 1
    busy = max((m.end_frame for m in earlier if m.character == move.character), default=0)
    length = max(1, frames_at(seconds, rate))
    start = max(move.start_frame, busy)
    if start + length > last:
        start = max(busy, last - length) if busy < last else last
        length = max(1, last - start)
    start = min(start, max(0, last - 1))
    end = min(last, start + length)
    return CharacterMove(
        move.character, move.verb, move.start, move.end, start, max(end, start), move.line, move.towards
    )


# ----------------------------------------------------------------------------- places


def _where(name: str, context: _Context, earlier: Sequence[CharacterMove]) -> Mark:
    """Where a character is after their earlier moves in this shot."""
    moved = [m for m in earlier if m.character == name]
    return moved[-1].end if moved else context.marks[name]


def _frame_half_width(camera: CameraSetup, point: tuple[float, float]) -> float:
    """Half the frame's width (metres) at the depth of a floor point."""
    position = np.asarray(camera.position)
    forward = np.asarray(camera.target) - position
    forward /= np.linalg.norm(forward)
    depth = float(np.dot(np.array([point[0], position[1], point[1]]) - position, forward))
    return max(depth, 0.5) * camera.horizontal_aperture_mm / camera.focal_length_mm / 2


def _offstage(context: _Context, mark: Mark) -> tuple[float, float]:
    """Where an entrance starts or an exit ends: at a door upstage in an interior, off the
    near side of frame outside."""
    stage_set = context.blocking.set
    if stage_set.interior:
        return (mark.x, round(-stage_set.depth + UPSTAGE_DOOR, 3))
    camera = context.blocking.camera
    side = 1.0 if mark.x >= camera.target[0] else -1.0
    half = _frame_half_width(camera, (mark.x, mark.z))
    return (round(camera.target[0] + side * (half + OFF_MARGIN), 3), mark.z)


def _cross_side(context: _Context, who: Sequence[str]) -> float:
    """Which way a group crosses the frame when the line names nowhere: towards the side of
    frame they are not on, together."""
    mean_x = sum(context.marks[n].x for n in who) / len(who)
    return -1.0 if mean_x > context.blocking.camera.target[0] + 0.05 else 1.0


def _destination(
    context: _Context,
    name: str,
    here: Mark,
    particle: str,
    phrase: str,
    side: float,
    earlier: Sequence[CharacterMove],
) -> tuple[Mark, str]:
    """Where a cross ends, facing which way, and what it goes to as a reader says it."""
    names = tuple(context.marks)
    target_text = _noun_phrase(phrase)
    if particle in movement.TO or particle in movement.FOLLOWING or particle == "closer":
        named = [m.name for m in _mentions(target_text, names) if m.name != name and not m.possessive]
        if particle in movement.FOLLOWING and re.match(r"(?i)(them|him|her)\b", target_text) and context.last_movers:
            return _behind(context.last_movers[0], here), f"after {context.last_movers[0].character}"
        if particle == "closer":
            # Closer to the nearest other character of the scene, in this shot or not.
            others = [n for n in context.marks if n != name]
            if others:
                named = [
                    min(others, key=lambda n: math.hypot(context.marks[n].x - here.x, context.marks[n].z - here.z))
                ]
        if named:
            other = _where(named[0], context, earlier)
            return _beside(here, (other.x, other.z), BESIDE, here.height), f"to {named[0]}"
        prop = _named_prop(target_text, tuple(context.blocking.props))
        if prop is not None:
            spot = context.blocking.props[prop]
            return _beside(here, (spot[0], spot[2]), AT_PROP, here.height), f"to {_reader_text(target_text) or prop}"
    if particle == "back" and not target_text:
        facing = math.radians(here.facing_deg)
        x, z = here.x - 0.6 * math.sin(facing), here.z - 0.6 * math.cos(facing)
        return Mark(round(x, 3), round(z, 3), here.facing_deg, here.height), "back"
    camera = context.blocking.camera
    width = 2 * _frame_half_width(camera, (here.x, here.z))
    # With the camera still, a cross stays in frame; a track or pan follows a longer one.
    distance = min(3.0, max(0.8, 0.5 * width)) if context.shot.move is Move.STATIC else 3.0
    x = round(here.x + side * distance, 3)
    facing = 90.0 if side > 0 else -90.0
    return Mark(x, here.z, facing, here.height), " ".join(filter(None, [particle, _reader_text(target_text)]))


def _beside(here: Mark, there: tuple[float, float], gap: float, height: float) -> Mark:
    """A mark ``gap`` short of ``there`` on the way from ``here``, facing ``there``."""
    dx, dz = here.x - there[0], here.z - there[1]
    length = math.hypot(dx, dz)
    ux, uz = (dx / length, dz / length) if length > 1e-6 else (0.0, 1.0)
    x, z = there[0] + ux * gap, there[1] + uz * gap
    return Mark(round(x, 3), round(z, 3), round(heading(x, z, there[0], there[1], here.facing_deg), 3), height)


def _behind(leader: CharacterMove, here: Mark) -> Mark:
    """A follower's end: a little behind where the leader ends, facing the same way."""
    dx, dz = leader.end.x - leader.start.x, leader.end.z - leader.start.z
    length = math.hypot(dx, dz)
    ux, uz = (dx / length, dz / length) if length > 1e-6 else (0.0, 0.0)
    x, z = leader.end.x - ux * BESIDE + (here.x - leader.start.x) * 0.3, leader.end.z - uz * BESIDE
    return Mark(round(x, 3), round(z, 3), leader.end.facing_deg, here.height)


def _turn_to(context: _Context, name: str, mark: Mark, clause: str) -> tuple[float, str]:
    """The facing after a turn and what it turns to: a named character or prop, away or
    around (half a turn), else towards the cameras."""
    named = [m.name for m in _mentions(clause, tuple(context.marks)) if m.name != name]
    if named:
        other = context.marks[named[0]]
        return round(heading(mark.x, mark.z, other.x, other.z, mark.facing_deg), 3), f"to {named[0]}"
    prop = _named_prop(clause, tuple(context.blocking.props))
    if prop is not None:
        spot = context.blocking.props[prop]
        return round(heading(mark.x, mark.z, spot[0], spot[2], mark.facing_deg), 3), f"to {prop}"
    if re.search(r"\b(away|around|round|back)\b", clause, re.I):
        return round((mark.facing_deg + 180.0 + 180.0) % 360.0 - 180.0, 3), "away"
    camera = context.blocking.camera
    return round(heading(mark.x, mark.z, camera.position[0], camera.position[2], mark.facing_deg), 3), "to the camera"


def _noun_phrase(phrase: str) -> str:
    """The noun phrase at the start of what follows a particle: "the counter" of "the
    counter with the lamp"."""
    phrase = re.split(r"\s(?:with|for|as|to|and|where|which|who|holding|carrying|clutching)\s", f" {phrase} ")[0]
    return phrase.strip()


def _reader_text(phrase: str) -> str:
    """A place as written ("the counter"), short, for a move's one-line description."""
    return " ".join(phrase.split()[:5]).rstrip(",;:").lower() if phrase else ""


def _named_prop(text: str, props: Sequence[str]) -> str | None:
    """The prop a phrase names: its whole name, else its last word ("the lantern")."""
    upper = text.upper()
    for prop in sorted(props, key=len, reverse=True):
        if re.search(rf"(?<!\w){re.escape(prop.upper())}(?!\w)", upper):
            return prop
    for prop in props:
        last = prop.split()[-1].upper()
        if len(last) >= 3 and re.search(rf"(?<!\w){re.escape(last)}S?(?!\w)", upper):
            return prop
    return None
