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
* A thing in a character's hands (the object of a verb of handling, or after WITH/HOLDING)
  is a prop; one that is only where something happens (on the COUNTER) is set dressing.
  Lowercase noun phrases are read only after such a verb or preposition (``_head_after``),
  where they are what the sentence is about, and never when they name the body, clothes,
  the set's structure or an abstraction; furniture is set dressing wherever it is seen.
* Every spelling's facts (capitals, whether a thing can follow it, whether it is in a class)
  are worked out once (``Token``): a feature has some 17,000 words of action, 3,000 spellings.

Paragraphs written entirely in capitals are shots or inserts (``ON MAISIE AND JUNO``): from
them only sounds, effects and the script's known characters are taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from operator import attrgetter

from soundstage.script import lexicon
from soundstage.script.vocabulary import (
    ABSTRACT_ENDINGS,
    ANIMALS,
    ATMOSPHERE,
    BODY,
    COVERING,
    CROWD_WORDS,
    DETERMINERS,
    DONE_TO,
    FURNITURE,
    HANDLING_FORMS,
    HANDLING_PREPOSITIONS,
    HANDLING_VERB_PREPOSITIONS,
    LOOKING_VERB_PREPOSITIONS,
    MEASURES,
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
    VFX_NOUNS,
    VFX_SHOTS,
    VOCAL_SOUNDS,
    WARDROBE,
    inflections,
)

# A title with its dot (MR., Dr.), a word (WILL'S, PRE-DAWN, McKEE), or a punctuation mark.
_TOKEN = re.compile(r"(?:MRS?|MS|DR|Mrs?|Ms|Dr)\.|[A-Za-z0-9][A-Za-z0-9'’-]*|[.!?;:,()\"—–]")
_SENTENCE_END = frozenset(".!?")
_AGE_WORDS = frozenset(["NOW", "AGE", "AGED", "ABOUT", "EARLY", "MID", "LATE"])
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
# picks UP the ladder, knocks OVER a tray, sets DOWN the glass, cracks OPEN the can
_PARTICLES = frozenset(["UP", "OFF", "OUT", "OVER", "DOWN", "BACK", "AWAY", "ASIDE", "OPEN"])
_BE = frozenset(["IS", "ARE", "WAS", "WERE", "BE", "BEEN", "BEING", "GETS", "GET"])
_SIMILE = frozenset(["LIKE", "AS"])


class Token:
    """A word or punctuation mark of an action line (its case worked out once: a feature has
    some 40,000 of them)."""

    __slots__ = ("caps", "classed", "is_word", "key", "lower", "plain", "text", "trigger", "up")

    def __init__(self, text: str) -> None:
        self.text = text
        self.up, self.is_word, self.caps, self.lower = _shape(text)
        self.key = singular(self.up.removesuffix("'S"))  # what it names: LANTERN for lanterns, lantern's
        self.trigger = self.is_word and _triggers(self.up)  # a thing may follow it (lifts, with, on)
        self.classed = self.lower and _classed(self.up)  # marked wherever it stands (gulls, fog)
        # Punctuation, or a lowercase word of no class that nothing follows: most of a line.
        self.plain = not self.is_word or self.lower and not self.trigger and not self.classed


def _shape(text: str) -> tuple[str, bool, bool, bool]:
    """In capitals; a word or not; written in capitals (LADDER and McKEE are, ladder and a
    lone A or I are not); starting in lowercase."""
    first = text[0]
    if first.islower() or not first.isalpha():
        caps = False
    elif text.isupper():
        caps = sum(c.isalpha() for c in text) >= 2
    else:
        letters = [c for c in text if c.isalpha()]
        upper = sum(c.isupper() for c in letters)
        caps = upper >= 2 and len(letters) - upper <= 1
    return text.upper().replace("’", "'"), first.isalnum(), caps, first.islower()


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
    # The sentences of the scene's action, read again for the script's own things and people
    # (``mentions``, ``met_again``), and every word's spelling and key in them, to skip that
    # reading where none of those can be named.
    sentences: list[_Sentence] = field(default_factory=list)
    spellings: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)
    text: str = ""  # the action in capitals, one paragraph a line
    introduced: set[str] = field(default_factory=set)  # things named in capitals
    introduced_people: set[str] = field(default_factory=set)  # people named in capitals (an OLD WOMAN)
    first_names: set[str] = field(default_factory=set)  # of the people found so far


@dataclass(slots=True)
class Names:
    """What the whole script tells about names: its characters, and the animals it names."""

    people: frozenset[str]  # cue names, and the surname of each cue of several words (PARK)
    # Each of those forms -> the cue it stands for, where only one cue has it (BENNETT -> YOUNG DR. BENNETT).
    cues: dict[str, str] = field(default_factory=dict)
    full: frozenset[str] = frozenset()  # the cue names themselves
    animals: set[str] = field(default_factory=set)  # PUDDING, once set beside "cat"


def tokens(text: str) -> list[Token]:
    """The words and punctuation marks of ``text`` (one Token per spelling, shared)."""
    return [_TOKENS.get(word) or _token(word) for word in _TOKEN.findall(text)]


_TOKENS: dict[str, Token] = {}
_UP, _KEY, _CAPS = attrgetter("up"), attrgetter("key"), attrgetter("caps")


def _token(text: str) -> Token:
    if len(_TOKENS) > 65536:  # a bound on what the cache holds across many scripts
        _TOKENS.clear()
    token = _TOKENS[text] = Token(text)
    return token


@lru_cache(maxsize=32768)
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


@lru_cache(maxsize=65536)
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
    return word in _SOUND_FORMS


# SLAMMED, KNOCKS, RINGING, CRASHES, WHISTLING, RATTLING: every form of a sound word, and the
# inflected forms of the sound sources (RINGS, BELLS), whose bare form is a thing (a RING).
_SOUND_FORMS = SOUNDS | (inflections(SOUNDS | SOUND_VERBS) - SOUND_VERBS)


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


def is_handling_verb(word: str) -> bool:
    """LIFTS, POURING, SET, TOOK: a form of a verb of handling, whose object is a prop."""
    return word in HANDLING_FORMS


def _can_be_noun(word: str) -> bool:
    readings = lexicon.readings(word)
    if readings is None:
        return True
    if not readings:  # a name can be; a hyphenated word is what its last part is (candle-stubs, bruise-coloured)
        last = word.rsplit("-", 1)[-1]
        return "-" not in word or bool(last) and last != word and _can_be_noun(last)
    return bool(readings & {"NOUN", "PROPN"})


def _subject_like(word: str) -> bool:
    """A noun that is not also an adjective: what a verb can follow (the door SLAMS, not the
    steady FLAME). Without the lexicon, any word that is not a function word."""
    readings = lexicon.readings(word)
    if readings is None or not readings:
        return _can_be_noun(word)
    return bool(readings & {"NOUN", "PROPN"}) and "ADJ" not in readings


def _unknown_word(word: str) -> bool:
    """Not an English word: a name or an onomatopoeia. Without the lexicon, any word may be."""
    readings = lexicon.readings(word)
    return readings is None or not readings


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
        self.first = 0 if toks[0].is_word else next((i for i, t in enumerate(toks) if t.is_word), -1)

    def word(self, i: int) -> Token | None:
        return self.toks[i] if 0 <= i < len(self.toks) and self.toks[i].is_word else None

    def after_subject(self, i: int, names: Names) -> bool:
        """Whether the word at ``i`` stands where a verb does: after a noun, a name or a
        pronoun, or after a form of BE (is SLAMMED); not after a possessive (the lantern's FLAME)."""
        prev = self.word(i - 1)
        if prev is None or prev.up.endswith("'S"):
            return False
        if prev.up in PRONOUNS or prev.up in _BE or prev.up in names.people:
            return True
        if prev.up in DETERMINERS or prev.up in STOP_WORDS or prev.up in _SIMILE:
            return False
        return _subject_like(prev.up)

    def person_before(self, i: int, names: Names, marks: Marks, verb: Token | None = None) -> bool:
        """Whether someone is named before ``i`` in the sentence: the subject who handles a
        thing. A participle that opens the sentence or follows a comma (Under it, MENDING a
        net, sits McKee) has its subject anywhere in the sentence."""
        end = i
        if verb is not None and verb.up.endswith(("ING", "ED")) and (i == self.first or self.toks[i - 1].text == ","):
            end = len(self.toks)
        for k in range(end):
            token = self.toks[k]
            up = token.up.removesuffix("'S")
            if not token.is_word or token.up.endswith("'S"):
                continue
            if up in _PERSON_PRONOUNS or _is_person_word(up):
                return True
            if not token.lower and (up in names.people or up in marks.first_names):
                return True  # Maisie, not "his voice" when a cue is VOICE
            if token.lower or token.caps or up in _CLOSED or k == self.first or up.endswith("LY"):
                continue  # every sentence opens with a capital; a name is known by more than that
            if lexicon.readings(up) == frozenset():
                return True  # a capitalised word no dictionary has: a name (then Maisie lifts the lantern)
        return False

    def handled(self, start: int, names: Names, marks: Marks) -> bool:
        """Whether the noun phrase starting at ``start`` (its determiner, if any) is in a
        character's hands: the object of a verb of handling whose subject is a person (she
        LIFTS the lantern, he HANDS Zacky his flashlight, she REACHES FOR the pole), or after
        WITH/HOLDING."""
        i = start - 1
        prev = self.word(i)
        if prev is not None and prev.up in _PARTICLES:
            i, prev = i - 1, self.word(i - 1)
        if prev is not None and prev.up == "AND" and (before := self.word(i - 1)) is not None and before.lower:
            # with tapers AND candle-stubs: the second shares the first's place in the sentence
            return self.handled(self.phrase_start(i - 1), names, marks)
        # hands HIM the lantern: the lantern is what is handed
        indirect = prev is not None and (prev.up in _OBJECT_PRONOUNS or prev.up in names.people)
        if indirect and (verb := self.word(i - 1)) is not None and verb.up in HANDLING_FORMS:
            i, prev = i - 1, verb
        if prev is not None and (verb_at := self._verb_before(i, HANDLING_VERB_PREPOSITIONS)) is not None:
            # reaches FOR the pole, tugs AT the rope (asked before AT reads as a place)
            return self.person_before(verb_at, names, marks, self.toks[verb_at])
        if prev is None or prev.up in PLACE_PREPOSITIONS:
            return False
        if prev.up in HANDLING_PREPOSITIONS:
            # covered WITH soot: a material; with a lantern: in someone's hands
            before = self.word(i - 1)
            return (before is None or before.up not in COVERING) and self.person_before(i, names, marks)
        if not is_handling_verb(prev.up):
            return False
        return self.person_before(i, names, marks, prev)

    def _verb_before(self, i: int, verbs: dict[str, frozenset[str]]) -> int | None:
        """Where the verb is that the preposition at ``i`` goes with in ``verbs`` (reaches FOR,
        looks over AT, with a particle between), or None."""
        prep, verb_at = self.word(i), i - 1
        if (particle := self.word(verb_at)) is not None and particle.up in _PARTICLES:
            verb_at -= 1
        verb = self.word(verb_at)
        if prep is None or verb is None or verb.up not in verbs.get(prep.up, ()):
            return None
        return verb_at

    def seen(self, start: int, names: Names, marks: Marks) -> bool:
        """Whether the noun phrase at ``start`` is what a character looks at (she stares AT
        the clock, he looks over AT a pitcher): a thing the camera is asked to show."""
        verb_at = self._verb_before(start - 1, LOOKING_VERB_PREPOSITIONS)
        return verb_at is not None and self.person_before(verb_at, names, marks, self.toks[verb_at])

    def placed(self, start: int) -> bool:
        """Whether the noun phrase at ``start`` follows a preposition of place (on the COUNTER)."""
        prev = self.word(start - 1)
        return prev is not None and prev.up in PLACE_PREPOSITIONS

    def in_simile(self, start: int) -> bool:
        """LIKE a train, slow AS a heron: a comparison, not a thing in the scene."""
        return any((t := self.word(j)) is not None and t.up in _SIMILE for j in range(start - 3, start))

    def phrase_start(self, i: int) -> int:
        """Where the noun phrase ending at ``i`` starts: its determiner (a big brass LANTERN),
        else the word after WITH (with TAPERS), else ``i`` itself."""
        j = i
        while j > i - 4 and (prev := self.word(j - 1)) is not None:
            if prev.up in DETERMINERS:
                return j - 1
            if prev.up in HANDLING_PREPOSITIONS:
                return j
            if prev.up.endswith("'S") and not prev.caps:  # Juno's notebook
                return j - 1
            if prev.caps or prev.up in STOP_WORDS or prev.up in PRONOUNS or not _modifier(prev.up):
                break
            j -= 1
        return i

    def opens_phrase(self, start: int) -> bool:
        """Whether a noun phrase truly starts at ``start``: a determiner, or after WITH."""
        token, prev = self.word(start), self.word(start - 1)
        if token is not None and (token.up in DETERMINERS or token.up.endswith("'S") and not token.caps):
            return True  # a lamp, Juno's notebook
        if prev is not None and prev.up == "AND" and (before := self.word(start - 2)) is not None and before.lower:
            return self.opens_phrase(self.phrase_start(start - 2))  # tapers and candle-stubs
        return prev is not None and prev.up in HANDLING_PREPOSITIONS


_PERSON_PRONOUNS = frozenset(["HE", "SHE", "THEY", "I", "WE", "YOU", "EVERYONE", "SOMEONE"])
_OBJECT_PRONOUNS = frozenset(["HIM", "HER", "THEM", "ME", "US"])


def _modifier(word: str) -> bool:
    """A word that can stand inside a noun phrase before its head (cold, brass, lamp)."""
    readings = lexicon.readings(word)
    if readings is None:
        return not word.endswith("LY")
    # iced tea, broken glass: a past participle stands as an adjective
    return not readings or bool(readings & {"NOUN", "ADJ", "PROPN", "NUM"}) or word.endswith(("ED", "EN"))


def _sentences(toks: list[Token]) -> list[_Sentence]:
    ends = [i + 1 for i, token in enumerate(toks) if token.text in _SENTENCE_END]
    if not ends or ends[-1] < len(toks):
        ends.append(len(toks))
    return [_Sentence(toks[start:end]) for start, end in zip([0, *ends], ends, strict=False) if end > start]


def _add_person(marks: Marks, words: list[str]) -> None:
    if " ".join(words) in marks.people:  # the common case: named again in the scene
        return
    # MAISIE after MAISIE TALLOW is the same person, not another one.
    new = words[0] not in marks.first_names or len(words) > 1 and " ".join(words) not in marks.people
    if new and not any(set(words) <= set(p.split()) for p in marks.people):
        marks.people[" ".join(words)] = None
    marks.first_names.add(words[0])


@lru_cache(maxsize=8192)
def thing_head(name: str) -> str:
    """The noun a thing's name is about, singular: GLASS for GLASS OF WATER, LAMP for LAMP
    NUMBER (ONE), LANTERN for BRASS LANTERN."""
    words = name.split()
    if "OF" in words[1:]:
        return singular(words[words.index("OF", 1) - 1])
    if len(words) > 1 and words[-1] == "NUMBER":
        return singular(words[-2])
    return singular(words[-1])


def _contents(name: str) -> str:
    """What a thing holds, by its name: ENSURE for CAN OF ENSURE, "" for a LANTERN."""
    return name.partition(" OF ")[2]


def _add_thing(marks: Marks, name: str, handled: bool) -> None:
    """A thing, merged with one already named in the scene (the lantern is the BRASS LANTERN)."""
    words = {singular(w) for w in name.split()}
    head = thing_head(name)
    for known in marks.things:
        known_words = {singular(w) for w in known.split()}
        # one thing when one name holds the other and they have the same head (a LAMP GLASS
        # is not a lamp; the glass is the GLASS OF WATER), or one names what the other holds
        # (the Ensure is the CAN OF ENSURE)
        same = thing_head(known) == head or _contents(known) == name or _contents(name) == known
        if (words <= known_words or known_words <= words) and same:
            marks.things[known] = marks.things[known] or handled
            return
    marks.things[name] = handled


def _add(found: dict[str, None], name: str) -> None:
    words = {singular(w) for w in name.split()}
    if not any(words <= {singular(w) for w in known.split()} for known in found):
        found[name] = None


def mentions(marks: Marks, heads: set[str] | frozenset[str], names: Names) -> set[str]:
    """Which of ``heads`` the scene names in lowercase as a noun (the lantern, the lantern's
    door; not the lantern glass): the script's own things, named again after their introduction."""
    found: set[str] = set()
    if marks.keys.isdisjoint(heads):
        return found
    for sentence in marks.sentences:
        for i, token in enumerate(sentence.toks):
            if not token.lower or token.key not in heads:
                continue
            # the lantern's door, the lantern; not Edward drops (a verb), not the lantern glass
            before = sentence.word(i - 1)
            verb = before is not None and (before.up in PRONOUNS or not before.lower and before.up in names.people)
            if token.up.endswith("'S") or _is_head(sentence, i) and not verb:
                found.add(token.key)
    return found


def met_again(marks: Marks, people: set[str]) -> list[str]:
    """Which of ``people`` (introduced in capitals: OLD WOMAN) the scene names again in
    another case (the Old Woman, the old woman), not already among its people."""
    return [
        person
        for person in people - marks.people.keys()
        if person.split(" ", 1)[0] in marks.spellings and _whole_words(person).search(marks.text)
    ]


@lru_cache(maxsize=1024)
def _whole_words(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w'])" + re.escape(phrase) + r"(?![\w'])")


def mark_action(text: str, names: Names, marks: Marks, *, lowercase_things: bool = True) -> None:
    """Mark what one action paragraph names into ``marks``."""
    shot_like = text == text.upper()
    toks = tokens(text)
    if not shot_like:  # a shot (ON THE OLD WOMAN) is read as one; what it names is marked there
        marks.text += text.upper() + "\n"
    marks.spellings.update(map(_UP, toks))
    marks.keys.update(map(_KEY, toks))
    previous: _Sentence | None = None  # the sentence before, whose opening IT can name
    for sentence in _sentences(toks):
        marks.sentences.append(sentence)
        _mark_caps(sentence, text, names, marks, shot_like)
        _mark_lowercase(sentence, names, marks, shot_like, lowercase_things)
        if not shot_like and lowercase_things:
            _mark_subject(sentence, names, marks)
            _mark_pronoun(sentence, previous, names, marks)
            previous = sentence


def mark_business(text: str, names: Names, marks: Marks) -> None:
    """Mark a parenthetical: the actor's business, whose objects are props (lowering the
    spyglass), and the effects it asks for (subtitled). Its subject is the speaker."""
    for sentence in _sentences(tokens(text)):
        for i, token in enumerate(sentence.toks):
            if not token.is_word:
                continue
            if token.up in VFX or token.up in VFX_NOUNS:
                _add(marks.vfx, VFX_NOUNS.get(token.up, token.up))
            elif _is_head(sentence, i) and sentence.opens_phrase(start := sentence.phrase_start(i)) and start < i:
                prev = sentence.word(start - 1)
                readings = lexicon.readings(prev.up) if prev is not None else None
                verb = prev is not None and (_verb_form(prev.up) if readings is None else "VERB" in readings)
                if verb and _asset_noun(token.up):
                    _add_thing(marks, _phrase(sentence, start, i), True)


def mark_heading(location: str, names: Names, marks: Marks) -> None:
    """A heading without INT/EXT may name who is in it (MONTAGE - MAISIE AND FUSE RACE DOWN)
    or an effect (OPENING TITLES); take the script's known characters and effects from it."""
    words = location.upper().split()
    if any(_in(w, VFX) for w in words):
        _add(marks.vfx, " ".join(words))
        return
    mark_action(location.upper(), names, marks, lowercase_things=False)


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
    """A run split at AND/OR/& and trimmed (of camera, function and -LY words), as token bounds."""
    pieces, begin = [], start
    for i in range(start, end + 1):
        if i == end or sentence.toks[i].up in ("AND", "OR", "&"):
            a, b = _trimmed([t.up for t in sentence.toks[begin:i]])
            while a < b - 1 and sentence.toks[begin + a].up.endswith("LY"):  # an EXTREMELY HANDSOME MAN
                a += 1
            if a < b:
                pieces.append((begin + a, begin + b))
            begin = i + 1
    return pieces


def _mark_caps(sentence: _Sentence, text: str, names: Names, marks: Marks, shot_like: bool) -> None:
    if not any(map(_CAPS, sentence.toks)):
        return  # most sentences: nothing in capitals
    for run_start, run_end in _runs(sentence):
        whole = " ".join(t.up for t in sentence.toks[run_start:run_end])
        if any(effect in whole for effect in VFX_SHOTS):  # FREEZE FRAME: trimmed below as shot words
            _add(marks.vfx, next(effect for effect in VFX_SHOTS if effect in whole))
        for start, end in _pieces(sentence, run_start, run_end):
            _mark_run(sentence, start, end, text, names, marks, shot_like)


def _mark_run(
    sentence: _Sentence, start: int, end: int, text: str, names: Names, marks: Marks, shot_like: bool
) -> None:
    words = [t.up for t in sentence.toks[start:end]]
    run = " ".join(words)
    head = words[-1]
    after = sentence.toks[end] if end < len(sentence.toks) else None
    # MAISIE, MAISIE TALLOW, MR. PARK: a run holding a cue name is that character
    # (but a DOORBELL RINGS is not the cue BELL's).
    starts = _starts_with_name(words, names.people)
    holds = len(words) <= 3 and any(w in names.full for w in words) and not any(map(is_sound_word, words))
    if (starts or holds) and words[0] not in names.animals:
        if shot_like and starts:  # ON MAISIE AND FUSE RACING: a shot of the known character
            words = max((words[:n] for n in range(1, len(words) + 1) if " ".join(words[:n]) in names.people), key=len)
        _add_person(marks, words)
        return
    if len(words) > 1 and is_handling_verb(words[0]) and sentence.person_before(start, names, marks):
        # He GRABS THE KNIFE, RINGS THE DOORBELL: an action in capitals whose object is the prop
        obj = [w for w in words[1:] if w not in DETERMINERS and w not in _PARTICLES]
        # every word English (a name is no dictionary's: GRABS JENNY is a person), the head a thing
        english = all(lexicon.readings(w) != frozenset() for w in obj) and not _is_person(
            obj, sentence, start, end, marks
        )
        if obj and english and _asset_noun(obj[-1]) and not _classed(obj[-1]):
            _add_thing(marks, " ".join(obj), True)
            if not is_sound_word(words[0]):
                return
    if _in(head, ATMOSPHERE):  # a GUST (roars): the effect to build, heard or not
        _add(marks.atmosphere, run)
        return
    if any(is_sound_word(w) for w in words):
        _add(marks.sounds, run)
        # The GIRLS SQUEAL, a FERRY HORN: a person, an animal or a vehicle in front of the
        # sound is seen too.
        if words[:-1] and not any(map(is_sound_word, words[:-1])):
            _add_source(marks, words[:-1])
        if after is not None and after.up == "OF":
            _mark_sound_of(sentence, end, names, marks)
        return
    exclaimed = after is not None and after.text == "!"
    if len(words) == 1 and exclaimed and _unknown_word(head) and not _known(head, names):
        _add(marks.sounds, run)  # KA-BLAM!
        return
    if (
        after is not None
        and after.is_word
        and after.lower
        and is_sound_word(after.up)
        and not _in(after.up, VOCAL_SOUNDS)
    ):
        _add(marks.sounds, run)  # a RADIO crackles: the source is the cue
        _add_source(marks, words)
        return
    if any(_in(w, VFX) for w in words):
        _add(marks.vfx, run)
        return
    if shot_like or run in marks.sounds:
        return
    if len(words) == 1 and (head in STRESS_WORDS or head.endswith("LY")):
        return
    if len(words) == 1 and is_verb(head, sentence.after_subject(start, names)):
        return  # the crates TOPPLE: an action in capitals, not a thing
    if words[0] in names.animals or _in(head, ANIMALS):
        _add(marks.animals, run)
    elif _is_person(words, sentence, start, end, marks):
        _add_person(marks, words)
        if len(words) > 1 and _is_person_word(words[-1]):
            marks.introduced_people.add(" ".join(words))
    elif _named_animal(sentence, start):
        names.animals.add(run)
        marks.animals.pop(sentence.toks[start - 2].up, None)  # the cat is PUDDING, one animal
        _add(marks.animals, run)
    elif _in(head, VEHICLES):
        _add(marks.vehicles, run)
    elif len(words) > 1 or not (head.endswith("ED") and len(head) > 5):
        # A lone past participle (STUNNED) is stress, not a prop.
        _add_thing(marks, run, sentence.handled(sentence.phrase_start(start), names, marks))
        marks.introduced.add(run)


def _mark_sound_of(sentence: _Sentence, of: int, names: Names, marks: Marks) -> None:
    """The CRACK OF a bat, the CLINK OF glasses: the thing that makes the sound is seen
    making it, a prop (but the SLAM of a door is the set's, the ROAR of the crowd a crowd)."""
    phrase = _head_after(sentence, of, names)
    if phrase is None:
        return
    start, head = phrase
    if head > start and is_sound_word(sentence.toks[head].up):
        head -= 1  # the THWACK of an axe echoes: the sound's verb read as the head of a compound
    word = sentence.toks[head].up
    if _asset_noun(word) and not _classed(word) and word not in names.people:
        _add_thing(marks, _phrase(sentence, start, head), True)


def _add_source(marks: Marks, words: list[str]) -> None:
    """The source of a sound, when it is someone or something seen: the GIRLS (squeal), a
    GOAT (bleats), the FERRY (horn)."""
    if _is_person_word(words[-1]):
        _add_person(marks, words)
    elif _in(words[-1], ANIMALS):
        _add(marks.animals, " ".join(words))
    else:
        for word in words:
            if _in(word, VEHICLES):
                _add(marks.vehicles, word)


def _known(word: str, names: Names) -> bool:
    return word in names.people or word in names.animals


def _is_person(words: list[str], sentence: _Sentence, start: int, end: int, marks: Marks) -> bool:
    if words[0] in marks.first_names or any(_is_person_word(w) for w in words):
        return True
    if _age_after(sentence.toks, end):  # MAISIE (11), WILL BLOOM, AGE 3
        return True
    prev = sentence.word(start - 1)
    return prev is not None and prev.up in _FAMILY_BEFORE  # her grandfather OSWIN


def _age_after(toks: list[Token], k: int) -> bool:
    """Whether an age follows at ``k``: (11), , 61,  (70s), , age 3, , in his 30s, (mid-30s)."""
    if k + 1 >= len(toks) or toks[k].text not in (",", "("):
        return False
    j = k + 1
    qualifier, _, rest = toks[j].up.partition("-")
    if qualifier in _AGE_WORDS and rest[:1].isdigit():
        return True
    if toks[j].up == "IN" and j + 1 < len(toks) and toks[j + 1].up in ("HIS", "HER", "THEIR"):
        j += 2
    elif toks[j].up in _AGE_WORDS:
        j += 1
    return j < len(toks) and toks[j].text[0].isdigit()


def _named_animal(sentence: _Sentence, start: int) -> bool:
    """A name set beside an animal word: a ginger cat, PUDDING."""
    before = sentence.toks[start - 1] if start > 0 else None
    if before is not None and before.text == ",":
        animal = sentence.word(start - 2)
        return animal is not None and _in(animal.up, ANIMALS)
    return False


def _is_head(sentence: _Sentence, i: int, obj: bool = False) -> bool:
    """Whether the word at ``i`` ends a noun phrase: a noun with no noun after it (two cold
    BEERS.), or before an adverb of direction (turns her face RIGHT, pushes the can AWAY).
    ``obj``: the phrase is a verb's object, so no verb follows inside it (throws the bean
    plants, not "the bean" that "plants")."""
    word = sentence.toks[i].up
    if word in STOP_WORDS or word in DETERMINERS or word in PRONOUNS or word.endswith("'S") or word in _DIRECTIONS:
        return False
    if not _can_be_noun(word):
        return False
    after = sentence.toks[i + 1] if i + 1 < len(sentence.toks) else None
    if after is not None and after.up in _DIRECTIONS:
        return True
    if after is None or not after.is_word:
        # a small, steady flame: an adjective before a comma and another adjective is not the head
        if after is None or after.text != ",":
            return True
        readings, following = lexicon.readings(word), sentence.word(i + 2)
        if not readings or "ADJ" not in readings or following is None:
            return True
        return not (following_readings := lexicon.readings(following.up)) or "ADJ" not in following_readings
    if after.caps:  # a cat SCREAMS: a verb in capitals after its subject; a BRASS LANTERN: one phrase
        return is_sound_word(after.up) or lexicon.readings(after.up) is not None and is_verb(after.up, False)
    known = lexicon.readings(after.up) is not None  # without the lexicon, BEERS after COLD reads as a verb
    if (
        not obj
        and known
        and _verb_form(after.up)
        and after.up.endswith("S")
        and not word.endswith("S")
        and is_verb(after.up, True)
    ):
        return True  # the ladder WOBBLES, a notebook GOES flying
    return after.up in STOP_WORDS or after.up in DETERMINERS or not _can_be_noun(after.up) or not after.lower


def _mark_lowercase(sentence: _Sentence, names: Names, marks: Marks, shot_like: bool, things: bool) -> None:
    toks = sentence.toks
    head = -1  # the head of the noun phrase after the last verb of handling or preposition
    phrase: tuple[int, int] | None = None
    i = -1
    while (i := i + 1) < len(toks):
        token = toks[i]
        if token.plain and i != head and (i - 1 != head or not token.is_word):
            continue
        if i != head and (token.trigger or i - 1 == head and token.up == "AND"):  # with tapers AND candle-stubs
            phrase = _head_after(sentence, i, names)
            head = phrase[1] if phrase else -1
        if token.caps and not shot_like or token.lower and i != head and not token.classed:
            continue  # no phrase to read and no class: the common case, decided cheaply
        # The script's characters, as written after their introduction: Maisie, Mr. Park.
        pair = token.up + " " + toks[i + 1].up.removesuffix("'S") if i + 1 < len(toks) else ""
        if not token.lower and pair in names.people:
            _add_person(marks, names.cues.get(pair, pair).split())
            i += 1
            continue
        name = token.up.removesuffix("'S")
        if not token.lower and name in names.people:
            _add_person(marks, names.cues.get(name, name).split())
        elif not token.lower and name in names.animals:
            _add(marks.animals, name)
        elif not shot_like and (token.lower or i == sentence.first):  # Gulls wheel.
            _mark_word(sentence, i, names, marks, things, phrase[0] if i == head and phrase else None)


def _head_after(sentence: _Sentence, i: int, names: Names) -> tuple[int, int] | None:
    """Where the lowercase noun phrase that follows the word at ``i`` starts and where its
    head is (picks UP the old ladder, hands HIM a glass, pouring iced tea, with two cold
    beers), or None when no noun phrase follows."""
    j = i + 1
    token = sentence.word(j)
    if token is not None and token.up in _PARTICLES:
        j, token = j + 1, sentence.word(j + 1)
    if token is not None and (token.up in _OBJECT_PRONOUNS or token.up in names.people):
        j, token = j + 1, sentence.word(j + 1)  # the one handed something
    start = j
    if token is None:
        return None
    bare = not (token.up in DETERMINERS or token.up.endswith("'S") and not token.caps)
    if not bare:
        j += 1
    elif (readings := lexicon.readings(token.up)) and "ADV" in readings:
        return None  # holds still, turns back: no noun phrase without a determiner
    for k in range(j, min(j + 5, len(sentence.toks))):
        token = sentence.word(k)
        if token is None or not token.lower or token.up in _CLOSED:
            return None
        if _is_head(sentence, k, obj=True):
            # tapers AND candle-stubs, ...; but the lantern AND carries it: a verb and its object
            if bare and sentence.toks[i].up == "AND" and sentence.word(k + 1) is not None:
                return None
            return start, k
        if not _modifier(token.up):
            return None
    return None


_CLOSED = STOP_WORDS | DETERMINERS | PRONOUNS | _BE
# Adverbs of direction, which end a noun phrase before them (pushes the can AWAY).
_DIRECTIONS = frozenset(["RIGHT", "LEFT", "STRAIGHT", "AWAY", "ASIDE", "AROUND", "FORWARD", "BACKWARD", "HOME"])


@lru_cache(maxsize=16384)
def _triggers(word: str) -> bool:
    """A verb of handling, or a preposition of handling or place: what a thing can follow."""
    return (
        word in HANDLING_PREPOSITIONS
        or word in PLACE_PREPOSITIONS
        or word in HANDLING_VERB_PREPOSITIONS
        or word in HANDLING_FORMS
    )


@lru_cache(maxsize=8192)
def _asset_noun(word: str) -> bool:
    """Whether a noun can name a thing to build: not the body, wardrobe, the set's structure,
    an abstraction (by class or by its ending: sadness, direction), a person."""
    base = singular(word)
    if _in(word, NOT_ASSETS) or _is_person_word(word) or base.endswith(ABSTRACT_ENDINGS):
        return False
    return "-" not in word or _asset_noun(word.rsplit("-", 1)[-1])


_CLASSES = CROWD_WORDS | ANIMALS | VEHICLES | ATMOSPHERE | VFX | VOCAL_SOUNDS | FURNITURE
# Every form of the vocal sounds (sighs, laughing, coughed), made once.
_VOCAL_FORMS = inflections(VOCAL_SOUNDS)


def _classed(word: str) -> bool:
    """Whether a lowercase word is in one of the classes marked wherever it stands (asked
    once per spelling, by ``Token``)."""
    return word in _CLASSES or word in _VOCAL_FORMS or singular(word) in _CLASSES or is_sound_word(word)


def _mark_word(sentence: _Sentence, i: int, names: Names, marks: Marks, things: bool, opens: int | None) -> None:
    """Mark one word written in lowercase (or opening its sentence). ``opens``: where the noun
    phrase starts that the word is the head of, after a verb of handling or a preposition
    (``_head_after``); None when it is not such a head."""
    word = sentence.toks[i].up
    if word in _CLOSED or word.endswith("'S") or opens is None and not _classed(word):
        return
    if opens is not None and not _classed(word):  # the common case: a thing after its verb
        if things and word not in names.people and not sentence.in_simile(opens):
            _mark_thing(sentence, i, opens, names, marks)
        return
    start = sentence.phrase_start(i)
    plural = singular(word) != word
    noun = sentence.opens_phrase(start) and start < i or not sentence.after_subject(i, names)
    # The head of its phrase, not a word naming another thing (a horse costume, chicken pox,
    # a fire truck); a plural seldom stands before a noun (gulls wheel). Morphology alone
    # cannot tell the wind (tugs) from a wind (chime), so it does not ask.
    noun = noun and (plural or lexicon.readings(word) is None or _is_head(sentence, i))
    next_word = sentence.word(i + 1)
    if _in(word, CROWD_WORDS) and not (next_word is not None and next_word.up == "OF"):
        if noun or plural:  # neighbours, a crowd (but a crowd of VILLAGERS is the villagers; nobody mobs him)
            _add_person(marks, [word])
        return
    if sentence.in_simile(start):
        return
    if noun and _in(word, ANIMALS):
        if not _names_animal(sentence, i, names):
            _add(marks.animals, word)
    elif noun and _in(word, VEHICLES):
        _add(marks.vehicles, word)
    elif noun and _in(word, ATMOSPHERE):
        _add(marks.atmosphere, word)
    elif noun and _in(word, FURNITURE) and things:
        # the object of a verb of handling or after a preposition of place, else just seen
        # (a lamp hangs over the bed)
        if opens is None or not _mark_thing(sentence, i, opens, names, marks):
            _add_thing(marks, _phrase(sentence, start, i), False)
    elif word in VFX:
        _add(marks.vfx, word)
    elif _in(word, VOCAL_SOUNDS) or word in _VOCAL_FORMS:
        # A sigh (a noun) is a sound cue; they laugh (a verb) is the actor's performance, and
        # so is his breath, her laugh: what a character's own body does.
        owned = sentence.toks[start].up in _POSSESSIVES or sentence.toks[start].up.endswith("'S")
        owned = owned and not _in(word, _CROWD_SOUNDS)  # but his applause is the crowd's
        if sentence.opens_phrase(start) and start < i and _is_head(sentence, i) and not owned:
            _add(marks.sounds, word)
    elif is_sound_word(word) and ("-" not in word or _reduplicated(word)):
        prev = sentence.word(i - 1)
        if prev is not None and prev.caps:
            return  # THUNDER rumbles: the capitalised source is the cue
        if prev is not None and _is_someone(prev, names):
            return  # Will cracks open the can: a character's action, not a sound cue
        if prev is not None and prev.up not in STOP_WORDS and prev.up not in DETERMINERS and _can_be_noun(prev.up):
            _add(marks.sounds, f"{prev.up} {word}")  # the doors rattle
        else:
            _add(marks.sounds, word)
    elif opens is not None and things and word not in names.people:
        _mark_thing(sentence, i, opens, names, marks)


def _mark_thing(sentence: _Sentence, i: int, start: int, names: Names, marks: Marks) -> bool:
    """A lowercase noun phrase from ``start`` to its head at ``i``: a prop when a character
    handles it, set dressing when it is where something is, else nothing (and False)."""
    word = sentence.toks[i].up
    following = sentence.toks[i + 1 : i + 3]
    if _in(word, MEASURES) and len(following) == 2 and following[0].up == "OF":
        # a stack of crates, a sip of coffee, the rest of the Ensure: the thing is what the
        # measure is of (a name there is a brand)
        of = i + 2 + (following[1].up in DETERMINERS)
        brand = of < len(sentence.toks) and sentence.toks[of].is_word and not sentence.toks[of].lower
        heads = (k for k in range(of, min(of + 4, len(sentence.toks))) if _is_head(sentence, k, obj=True))
        head = of if brand else next(heads, None)
        if head is None or any(t.caps or not t.is_word for t in sentence.toks[of : head + 1]):
            return False
        phrase, word = _phrase(sentence, of, head), sentence.toks[head].up
    else:
        phrase = _phrase(sentence, start, i)
    owned = _in(word, BODY) or _in(word, WARDROBE)  # on his lap, the pen in his hand: a list
    if not _asset_noun(word) and not owned and (apposed := _apposition(sentence, i, names)) is not None:
        # his invention, a machine with wheels: the apposition names the thing to build
        phrase, word = _phrase(sentence, *apposed), sentence.toks[apposed[1]].up
    if not _asset_noun(word):
        return False
    if sentence.handled(start, names, marks):
        _add_thing(marks, phrase, True)
    elif sentence.seen(start, names, marks) and not _in(word, FURNITURE):
        _add_thing(marks, phrase, True)  # looked at: a prop; a desk looked at stays the set's
    elif sentence.placed(start):
        _add_thing(marks, phrase, False)
    else:
        return False
    return True


def _mark_subject(sentence: _Sentence, names: Names, marks: Marks) -> None:
    """The things a sentence (or what follows a colon) opens with as its subject, marked as
    props where the sentence says they are a thing the action shows: what makes the sound
    (a lawnmower ROARS, the kettle whistles) or what something was done to (every match is
    soaked; money, drugs and props are strewn about)."""
    toks = sentence.toks
    if not any(t.up in _BE or not t.plain and is_sound_word(t.up) for t in toks):
        return  # most sentences: no such verb, so no phrase to read
    for opening in [sentence.first] + [k + 1 for k, t in enumerate(toks) if t.text == ":"]:
        phrases, k = _opening_phrases(sentence, opening, names)
        verb, after = sentence.word(k), sentence.word(k + 1)
        sounding = verb is not None and is_sound_word(verb.up) and is_verb(verb.up, True)
        done_to = verb is not None and verb.up in _BE and after is not None and _participle(after)
        if phrases and (sounding or done_to):
            for phrase in phrases:
                _add_thing(marks, phrase, True)


def _antecedent(sentence: _Sentence, names: Names) -> str:
    """The thing a sentence opens with behind a determiner (a box sits on the shelf), which a
    later IT can name; "" where it opens otherwise (Still fighting, ...)."""
    if sentence.first < 0 or sentence.toks[sentence.first].up not in DETERMINERS:
        return ""
    phrases, _ = _opening_phrases(sentence, sentence.first, names)
    return phrases[0] if phrases else ""


def _opening_phrases(sentence: _Sentence, start: int, names: Names) -> tuple[list[str], int]:
    """The lowercase noun phrases (joined by commas and AND) that start at ``start``, each
    naming a thing to build, and where the word after them is; none where another kind of
    word starts there or a phrase names a person, an animal or anything of a class."""
    toks, phrases, k = sentence.toks, [], start
    while k < len(toks):
        if toks[k].up in DETERMINERS:
            k += 1
        head = None
        while k < len(toks) and (token := sentence.word(k)) is not None and head is None:
            known = token.lower or k == sentence.first and not token.caps and lexicon.readings(token.up) != frozenset()
            if not known or token.up in _CLOSED or token.up in names.people or token.up.endswith("'S"):
                break
            # the door frame | buckles, a compass | are, the kettle | whistles: it ends before its verb
            after = sentence.word(k + 1)
            ends = _is_head(sentence, k) or after is not None and (after.up in _BE or is_sound_word(after.up))
            if not ends and not _modifier(token.up):
                break
            head, k = (k if ends else None), k + 1
        if head is None:
            return [], k
        word = toks[head].up
        if not _can_be_noun(word) or not _asset_noun(word) or _classed(word) or word in names.people:
            return [], k
        phrases.append(" ".join(t.up for t in toks[start : head + 1] if t.up not in DETERMINERS))
        while k < len(toks) and toks[k].text == ",":
            k += 1
        if k < len(toks) and toks[k].up == "AND":
            k += 1
        if k == head + 1 or len(phrases) > 5:  # no comma or AND after it: the list has ended
            break
        start = k
    return phrases, k


def _participle(token: Token) -> bool:
    """A participle after BE that says what was done to the subject where it lies (is soaked,
    are strewn, is lifted); not one that says what it is (is called, is crowded)."""
    up = token.up
    return token.lower and (up in DONE_TO or up in HANDLING_FORMS and up.endswith(("ED", "EN", "WN")))


def _mark_pronoun(sentence: _Sentence, previous: _Sentence | None, names: Names, marks: Marks) -> None:
    """IT handled by a character (who's pushing IT) is the thing its sentence, or the one
    before, opened with (a lawnmower ROARS along), a prop."""
    for i, token in enumerate(sentence.toks):
        if token.up == "IT" and i > 0 and sentence.handled(i, names, marks):
            antecedent = _antecedent(sentence, names) or (_antecedent(previous, names) if previous else "")
            if antecedent:
                _add_thing(marks, antecedent, True)
            return


def _apposition(sentence: _Sentence, i: int, names: Names) -> tuple[int, int] | None:
    """The noun phrase set after the head at ``i`` behind a comma (his invention, A MACHINE
    with wheels), as its start and head, or None."""
    comma, determiner = sentence.toks[i + 1 : i + 2], sentence.word(i + 2)
    if not comma or comma[0].text != "," or determiner is None or determiner.up not in DETERMINERS:
        return None
    return _head_after(sentence, i + 1, names)


def _names_animal(sentence: _Sentence, i: int, names: Names) -> bool:
    """A ginger cat, PUDDING: the animal word is the named animal's, not another animal."""
    comma, name = sentence.toks[i + 1 : i + 2], sentence.word(i + 2)
    return bool(comma) and comma[0].text == "," and name is not None and name.caps


_POSSESSIVES = frozenset(["HIS", "HER", "THEIR", "MY", "YOUR", "OUR", "ITS"])
_CROWD_SOUNDS = frozenset(["APPLAUSE", "APPLAUD", "CHEER", "CHANT"])


def _is_someone(token: Token, names: Names) -> bool:
    """A character, a person or a pronoun for one: the subject of an action."""
    up = token.up
    return up in _PERSON_PRONOUNS or _is_person_word(up) or not token.lower and up in names.people


def _reduplicated(word: str) -> bool:
    parts = [p for p in word.split("-") if p]
    return len(parts) > 1 and len(set(parts)) == 1


def _phrase(sentence: _Sentence, start: int, head: int) -> str:
    """The noun phrase from after its determiner to its head, in capitals (two cold BEERS)."""
    words = [t.up for t in sentence.toks[start : head + 1] if t.up not in DETERMINERS]
    # A phrase of "N of N" keeps its second noun (a bundle of MAIL, trays of ROLLS).
    following = sentence.toks[head + 1 : head + 3]
    second = following[1] if len(following) == 2 and following[0].up == "OF" else None
    # A can of Ensure: a name after OF (a brand) is what the thing holds too.
    if second is not None and second.is_word and not second.caps and second.up not in DETERMINERS | STOP_WORDS:
        words += ["OF", second.up]
    return " ".join(words)
