"""Marking up action lines: the people, animals, things, sounds and effects a scene shows.

This is the breakdown artist's coloured pencil. It reads one action paragraph at a time as
tokens and sorts what it names, from the signals screenplay format gives:

* Runs of capitalised words are what writers flag: characters at their introduction, props,
  sounds and effects. A run is split at AND/OR and trimmed of camera and function words. A
  lone capitalised verb (the crates TOPPLE, Steel SMACKS him) is stress on an action, not a
  thing: it is a sound when it is a sound word, else nothing. A word the lexicon does not
  know, standing alone before ``!`` or reduplicated with hyphens (KA-BLAM!, POP-POP-POP), is
  an onomatopoeia. A run followed by a sound verb (a RADIO crackles) is a sound source.
* The script's own characters (cue names) are found in any case, which is how a silent
  character who was introduced earlier appears again (``Juno holds the ladder``).
* Animals, vehicles, weather and fire, on-screen effects and crowds are recognised by their
  head word (``vocabulary``) in any case, except in a simile (``like a train``). A capitalised
  name set beside an animal word (``a ginger cat, PUDDING``) is that animal from then on.
* A thing in a character's hands (the object of a verb, or after WITH/HOLDING) is a prop;
  one that is only where something happens (on the COUNTER) is set dressing. Lowercase noun
  phrases are taken only in those two positions, where they are what the sentence is about.

Paragraphs written entirely in capitals are shots or inserts (``ON MAISIE AND JUNO``): from
them only sounds, effects and the script's known characters are taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from soundstage.script import lexicon
from soundstage.script.vocabulary import (
    ANIMALS,
    ATMOSPHERE,
    CROWD_WORDS,
    DETERMINERS,
    HANDLING_PREPOSITIONS,
    NOT_ASSETS,
    PERSON_WORDS,
    PLACE_PREPOSITIONS,
    PRONOUNS,
    SHOT_WORDS,
    SOUND_VERBS,
    SOUNDS,
    STOP_WORDS,
    STRESS_WORDS,
    VEHICLES,
    VFX,
    VOCAL_SOUNDS,
)

# A title with its dot (MR., Dr.), a word (WILL'S, PRE-DAWN, McKEE), or a punctuation mark.
_TOKEN = re.compile(r"(?:MRS?|MS|DR|Mrs?|Ms|Dr)\.|[A-Za-z0-9][A-Za-z0-9'’-]*|[.!?;:,()\"—–]")
_SENTENCE_END = frozenset(".!?")
_AGE_AFTER = re.compile(
    r"\s*(?:,|\()\s*(?:now|age|aged|about|early|mid|late|in (?:his|her|their))?[\s-]*\d", re.IGNORECASE
)
_FAMILY_BEFORE = frozenset(
    [
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
        "FRIEND",
        "BOSS",
        "UNCLE",
        "AUNT",
        "GRANDMOTHER",
        "GRANDFATHER",
        "GIRLFRIEND",
        "BOYFRIEND",
        "PARTNER",
        "BRIDE",
        "GROOM",
    ]
)
# BZZZ, AAAH; and interjections heard from a crowd: AHH, OHH, SHH, HMM.
_ONOMATOPOEIA = re.compile(r"([A-Z])\1\1|^(?:[AEIOU]+H+|S+H+|H+M+)$")
_INFLECTIONS = ("ING", "IES", "ES", "ED", "S", "D")
_PARTICLES = frozenset(["UP", "DOWN", "OFF", "OUT", "OVER", "BACK", "AWAY", "IN"])
_BE = frozenset(["IS", "ARE", "WAS", "WERE", "BE", "BEEN", "BEING", "GETS", "GET"])
_SIMILE = frozenset(["LIKE", "AS"])


@dataclass(frozen=True, slots=True)
class Token:
    """A word or punctuation mark of an action line."""

    text: str
    up: str  # in capitals, curly apostrophes straightened
    start: int
    end: int

    @property
    def is_word(self) -> bool:
        return self.text[0].isalnum()

    @property
    def caps(self) -> bool:
        """Written in capitals: ladder is not, LADDER and McKEE are, a lone A or I is not."""
        letters = [c for c in self.text if c.isalpha()]
        upper = sum(c.isupper() for c in letters)
        return upper >= 2 and len(letters) - upper <= 1 and self.text[0].isupper()

    @property
    def lower(self) -> bool:
        return self.text[0].islower()


@dataclass(slots=True)
class Marks:
    """What one scene's action names, each in order of first mention (dicts as ordered sets)."""

    people: dict[str, None] = field(default_factory=dict)
    animals: dict[str, None] = field(default_factory=dict)
    # Things, each with whether a character handles it in this scene.
    things: dict[str, bool] = field(default_factory=dict)
    vehicles: dict[str, None] = field(default_factory=dict)
    sounds: dict[str, None] = field(default_factory=dict)
    atmosphere: dict[str, None] = field(default_factory=dict)
    vfx: dict[str, None] = field(default_factory=dict)
    first_names: set[str] = field(default_factory=set)  # of the people found so far


@dataclass(slots=True)
class Names:
    """What the whole script tells about names: its characters, and the animals it names."""

    people: frozenset[str]  # cue names, and the first and last word of each cue of several words
    # Each of those forms -> the cue it stands for, where only one cue has it (BENNETT -> YOUNG DR. BENNETT).
    cues: dict[str, str] = field(default_factory=dict)
    animals: set[str] = field(default_factory=set)  # PUDDING, once set beside "cat"


def tokens(text: str) -> list[Token]:
    """The words and punctuation marks of ``text``."""
    return [Token(m[0], m[0].upper().replace("’", "'"), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def singular(word: str) -> str:
    """A plural in capitals taken back to its singular (LAMPS, WOLVES stay close enough)."""
    if word.endswith("IES") and len(word) > 4:
        return word[:-3] + "Y"
    if word.endswith(("SSES", "XES", "CHES", "SHES")):
        return word[:-2]
    if word.endswith("MEN") and len(word) > 3:
        return word[:-3] + "MAN"
    if word.endswith("S") and not word.endswith(("SS", "US", "IS")) and len(word) > 3:
        return word[:-1]
    return word


def _in(word: str, words: frozenset[str]) -> bool:
    return word in words or singular(word) in words


@lru_cache(maxsize=8192)
def is_sound_word(word: str) -> bool:
    """BANG, KNOCKS, RINGING, TICK-TOCK, BZZZ: a word that is a sound in this form."""
    if word in SOUNDS or _ONOMATOPOEIA.search(word):
        return True
    if "-" in word:
        parts = [p for p in word.split("-") if p]
        # POP-POP-POP, TICK-TOCK, KA-BOOM: reduplication is how English spells a sound.
        return (len(parts) > 1 and len(set(parts)) == 1 and len(parts[0]) <= 5) or any(map(is_sound_word, parts))
    for ending in _INFLECTIONS:
        if word.endswith(ending) and len(word) > len(ending) + 2:
            stem = word[: -len(ending)] + ("Y" if ending == "IES" else "")
            # SLAMMED, KNOCKS, RINGING, CRASHES; SLAMMING drops its doubled consonant and
            # WHISTLING, RATTLING its silent E.
            restored_e = stem + "E" if ending in ("ING", "ED", "D") else ""
            for base in (stem, stem[:-1] if stem[-1] == stem[-2] else "", restored_e):
                if base in SOUNDS or base in SOUND_VERBS:
                    return True
    return False


def _base(word: str) -> str:
    """The word without a verb ending, for looking it up in a class (SIGHS -> SIGH)."""
    for ending in ("ING", "ES", "ED", "S"):
        if word.endswith(ending) and len(word) > len(ending) + 2:
            stem = word[: -len(ending)]
            return stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] else stem
    return word


def _verb_form(word: str) -> bool:
    """Morphology alone: SLAMS, TOPPLES, STUNNED, SWINGING (not GLASS, not NEWS)."""
    return len(word) > 3 and (
        (word.endswith("S") and not word.endswith(("SS", "US", "IS", "'S"))) or word.endswith(("ED", "ING"))
    )


def is_verb(word: str, after_subject: bool) -> bool:
    """Whether a word is used as a verb: it can only be one, or it can be one and follows
    its subject (the door SLAMS). Without the lexicon, its ending and place decide."""
    readings = lexicon.readings(word)
    if readings is None:
        return after_subject and _verb_form(word)
    if "VERB" not in readings:
        return False
    return not readings & {"NOUN", "PROPN"} or after_subject


def _can_be_noun(word: str) -> bool:
    readings = lexicon.readings(word)
    return readings is None or not readings or bool(readings & {"NOUN", "PROPN"})


def _unknown_word(word: str) -> bool:
    """Not an English word: a name or an onomatopoeia. Unknowable without the lexicon."""
    readings = lexicon.readings(word)
    return readings is not None and not readings and "-" not in word.strip("-")


def _trimmed(words: list[str]) -> tuple[int, int]:
    """The run's bounds without leading and trailing camera, transition and function words."""
    start, end = 0, len(words)
    while start < end and (words[start] in SHOT_WORDS or words[start] in STOP_WORDS):
        start += 1
    while end > start and (words[end - 1] in SHOT_WORDS or words[end - 1] in STOP_WORDS):
        end -= 1
    return start, end


def _starts_with_name(words: list[str], names: frozenset[str] | set[str]) -> bool:
    """Whether the run is, or starts with, one of ``names`` (MAISIE TALLOW starts with MAISIE)."""
    return any(" ".join(words[:end]) in names for end in range(1, len(words) + 1))


def _is_person_word(word: str) -> bool:
    """MAN, NURSES, FISHERMEN, WELL-WISHER: a word that names a person or people."""
    word = word.rsplit("-", 1)[-1]
    return _in(word, PERSON_WORDS) or word.endswith(("MAN", "MEN")) and len(word) > 4


class _Sentence:
    """One sentence's tokens, with the questions the rules ask about a place in it."""

    def __init__(self, toks: list[Token]) -> None:
        self.toks = toks

    def word(self, i: int) -> Token | None:
        return self.toks[i] if 0 <= i < len(self.toks) and self.toks[i].is_word else None

    def after_subject(self, i: int, names: Names) -> bool:
        """Whether the word at ``i`` stands where a verb does: after a noun, a name or a
        pronoun, or after a form of BE (is SLAMMED)."""
        prev = self.word(i - 1)
        if prev is None:
            return False
        if prev.up in PRONOUNS or prev.up in _BE or prev.up in names.people:
            return True
        return not (prev.up in DETERMINERS or prev.up in STOP_WORDS or prev.up in _SIMILE) and _can_be_noun(prev.up)

    def handled(self, start: int) -> bool:
        """Whether the noun phrase starting at ``start`` (its determiner, if any) is in a
        character's hands: the object of a verb, or after WITH/HOLDING."""
        i = start - 1
        prev = self.word(i)
        if prev is not None and prev.up in _PARTICLES:  # picks UP the ladder
            i, prev = i - 1, self.word(i - 1)
        if prev is None or prev.up in PLACE_PREPOSITIONS:
            return False
        if prev.up in HANDLING_PREPOSITIONS:
            return True
        readings = lexicon.readings(prev.up)
        if readings is None:
            return prev.lower and _verb_form(prev.up) and prev.up not in STOP_WORDS
        return "VERB" in readings and prev.up not in STOP_WORDS and prev.up not in _BE

    def placed(self, start: int) -> bool:
        """Whether the noun phrase at ``start`` follows a preposition of place (on the COUNTER)."""
        prev = self.word(start - 1)
        return prev is not None and prev.up in PLACE_PREPOSITIONS

    def in_simile(self, start: int) -> bool:
        """LIKE a train, slow AS a heron: a comparison, not a thing in the scene."""
        return any((t := self.word(j)) is not None and t.up in _SIMILE for j in range(start - 3, start))

    def phrase_start(self, i: int) -> int:
        """Where the noun phrase holding the word at ``i`` starts (its determiner, if any)."""
        j = i
        while (prev := self.word(j - 1)) is not None and prev.lower and prev.up not in STOP_WORDS:
            if prev.up in DETERMINERS:
                return j - 1
            j -= 1
        prev = self.word(j - 1)
        return j - 1 if prev is not None and prev.up in DETERMINERS else j


def _sentences(toks: list[Token]) -> list[_Sentence]:
    sentences, current = [], []
    for token in toks:
        current.append(token)
        if token.text in _SENTENCE_END:
            sentences.append(_Sentence(current))
            current = []
    if current:
        sentences.append(_Sentence(current))
    return sentences


def _add_person(marks: Marks, words: list[str]) -> None:
    # MAISIE after MAISIE TALLOW is the same person, not another one.
    new = words[0] not in marks.first_names or len(words) > 1 and " ".join(words) not in marks.people
    if new and not any(set(words) <= set(p.split()) for p in marks.people):
        marks.people[" ".join(words)] = None
    marks.first_names.add(words[0])


def _add_thing(marks: Marks, name: str, handled: bool) -> None:
    """A thing, merged with one already named in the scene (the lantern is the BRASS LANTERN)."""
    words = {singular(w) for w in name.split()}
    for known in marks.things:
        known_words = {singular(w) for w in known.split()}
        if words <= known_words or known_words <= words:
            marks.things[known] = marks.things[known] or handled
            return
    marks.things[name] = handled


def _add(found: dict[str, None], name: str) -> None:
    words = {singular(w) for w in name.split()}
    if not any(words <= {singular(w) for w in known.split()} for known in found):
        found[name] = None


def mark_action(text: str, names: Names, marks: Marks, *, lowercase_things: bool = True) -> None:
    """Mark what one action paragraph names into ``marks``."""
    toks = tokens(text)
    shot_like = text == text.upper()
    for sentence in _sentences(toks):
        _mark_caps(sentence, text, names, marks, shot_like)
        _mark_lowercase(sentence, names, marks, shot_like, lowercase_things)


def mark_heading(location: str, names: Names, marks: Marks) -> None:
    """A heading without INT/EXT may name who is in it (MONTAGE - MAISIE AND FUSE RACE DOWN)
    or an effect (OPENING TITLES); take the script's known characters and effects from it."""
    mark_action(location.upper(), names, marks, lowercase_things=False)
    words = location.upper().split()
    if any(_in(w, VFX) for w in words):
        _add(marks.vfx, " ".join(w for w in words if w not in SHOT_WORDS) or location.upper())


def _runs(sentence: _Sentence) -> list[tuple[int, int]]:
    """The token bounds of each run of capitalised words in the sentence."""
    runs, start = [], None
    for i, token in enumerate(sentence.toks):
        if token.is_word and token.caps:
            start = i if start is None else start
        else:
            if start is not None:
                runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(sentence.toks)))
    return runs


def _pieces(sentence: _Sentence, start: int, end: int) -> list[tuple[int, int]]:
    """A run split at AND/OR/& and trimmed, as token bounds."""
    pieces, begin = [], start
    for i in range(start, end + 1):
        if i == end or sentence.toks[i].up in ("AND", "OR", "&"):
            a, b = _trimmed([t.up for t in sentence.toks[begin:i]])
            if a < b:
                pieces.append((begin + a, begin + b))
            begin = i + 1
    return pieces


def _mark_caps(sentence: _Sentence, text: str, names: Names, marks: Marks, shot_like: bool) -> None:
    for run_start, run_end in _runs(sentence):
        for start, end in _pieces(sentence, run_start, run_end):
            words = [t.up for t in sentence.toks[start:end]]
            run = " ".join(words)
            after = sentence.toks[end] if end < len(sentence.toks) else None
            if any(is_sound_word(w) for w in words):
                _add(marks.sounds, run)
                continue
            exclaimed = after is not None and after.text == "!"
            if len(words) == 1 and exclaimed and _unknown_word(words[0]) and not _known(words[0], names):
                _add(marks.sounds, run)  # KA-BLAM!
                continue
            heard = after is not None and after.is_word and after.lower and is_sound_word(after.up)
            if heard and not _in(after.up, VOCAL_SOUNDS) and not _starts_with_name(words, names.people):
                _add(marks.sounds, run)  # a RADIO crackles: the source is the cue
                continue
            if any(_in(w, VFX) for w in words) and not _starts_with_name(words, names.people):
                _add(marks.vfx, run)
                continue
            if shot_like:
                if _starts_with_name(words, names.people):
                    _add_person(marks, words)
                continue
            if len(words) == 1 and (words[0] in STRESS_WORDS or words[0].endswith("LY")):
                continue
            if (
                len(words) == 1
                and words[0] not in names.people
                and is_verb(words[0], sentence.after_subject(start, names))
            ):
                continue  # the crates TOPPLE: an action in capitals, not a thing
            head = words[-1]
            if words[0] in names.animals or (_in(head, ANIMALS) and not _starts_with_name(words, names.people)):
                _add(marks.animals, run)
            elif _is_person(words, text, sentence.toks[start], sentence.toks[end - 1], sentence, start, names, marks):
                _add_person(marks, words)
            elif _named_animal(sentence, start):
                names.animals.add(run)
                _add(marks.animals, run)
            elif _in(head, VEHICLES):
                _add(marks.vehicles, run)
            elif _in(head, ATMOSPHERE):
                _add(marks.atmosphere, run)
            elif len(words) > 1 or not (words[0].endswith("ED") and len(words[0]) > 5):
                # A lone past participle (STUNNED) is stress, not a prop.
                _add_thing(marks, run, sentence.handled(sentence.phrase_start(start)))


def _known(word: str, names: Names) -> bool:
    return word in names.people or word in names.animals


def _is_person(
    words: list[str], text: str, first: Token, last: Token, sentence: _Sentence, start: int, names: Names, marks: Marks
) -> bool:
    if _starts_with_name(words, names.people) or words[0] in marks.first_names:
        return True
    if any(_is_person_word(w) for w in words):
        return True
    if _AGE_AFTER.match(text, last.end):
        return True
    prev = sentence.word(start - 1)
    return prev is not None and prev.up in _FAMILY_BEFORE


def _named_animal(sentence: _Sentence, start: int) -> bool:
    """A name set beside an animal word: a ginger cat, PUDDING (or PUDDING, a ginger cat)."""
    before = sentence.toks[start - 1] if start > 0 else None
    if before is not None and before.text == ",":
        animal = sentence.word(start - 2)
        return animal is not None and _in(animal.up, ANIMALS)
    return False


def _mark_lowercase(sentence: _Sentence, names: Names, marks: Marks, shot_like: bool, things: bool) -> None:
    toks = sentence.toks
    i = 0
    while i < len(toks):
        token = toks[i]
        if not token.is_word or token.caps and not shot_like:
            i += 1
            continue
        # The script's characters, as written after their introduction: Maisie, Mr. Park.
        pair = token.up + " " + toks[i + 1].up.removesuffix("'S") if i + 1 < len(toks) else ""
        if not token.lower and pair in names.people:
            _add_person(marks, names.cues.get(pair, pair).split())
            i += 2
            continue
        name = token.up.removesuffix("'S")
        if not token.lower and name in names.people:
            _add_person(marks, names.cues.get(name, name).split())
            i += 1
            continue
        if not token.lower and name in names.animals:
            _add(marks.animals, name)
            i += 1
            continue
        if not token.lower or shot_like:
            i += 1
            continue
        word = token.up
        start = sentence.phrase_start(i)
        in_simile = sentence.in_simile(start)
        next_word = sentence.word(i + 1)
        # The head of a noun phrase is its last noun: the next word is no noun (two cold BEERS.).
        is_head = (
            next_word is None
            or not next_word.lower
            or next_word.up in STOP_WORDS
            or next_word.up in DETERMINERS
            or not _can_be_noun(next_word.up)
        )
        if _in(word, CROWD_WORDS) and not (next_word is not None and next_word.up == "OF"):
            _add_person(marks, [word])
        elif in_simile:
            pass
        elif _in(word, ANIMALS) and not sentence.after_subject(i, names):
            _add(marks.animals, word)
        elif _in(word, VEHICLES) and not sentence.after_subject(i, names):
            _add(marks.vehicles, word)
        elif _in(word, ATMOSPHERE) and not sentence.after_subject(i, names):
            _add(marks.atmosphere, word)
        elif _in(word, VFX):
            _add(marks.vfx, word)
        elif is_sound_word(word) and not _in(_base(word), VOCAL_SOUNDS) and not _in(word, VOCAL_SOUNDS):
            source = sentence.word(i - 1)
            if source is not None and source.lower and source.up not in STOP_WORDS and source.up not in DETERMINERS:
                _add(marks.sounds, f"{source.up} {word}")  # the doors rattle
            else:
                _add(marks.sounds, word)
        elif things and start < i and is_head and _can_be_noun(word) and not _in(word, NOT_ASSETS):
            if _in(word, PERSON_WORDS) or word in names.people:
                pass
            elif sentence.handled(start):
                _add_thing(marks, _phrase(sentence, start, i), True)
            elif sentence.placed(start):
                _add_thing(marks, _phrase(sentence, start, i), False)
        i += 1


def _phrase(sentence: _Sentence, start: int, head: int) -> str:
    """The noun phrase from after its determiner to its head, in capitals (two cold BEERS)."""
    words = [t.up for t in sentence.toks[start : head + 1] if t.up not in DETERMINERS]
    # A phrase of "N of N" keeps its second noun (a bundle of MAIL, trays of ROLLS).
    following = sentence.toks[head + 1 : head + 3]
    if len(following) == 2 and following[0].up == "OF" and following[1].is_word and following[1].lower:
        words += ["OF", following[1].up]
    return " ".join(words)
