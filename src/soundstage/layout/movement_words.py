"""The words an action line moves a character with: general English, not one script's.

Verbs of travel by the pace they say, the particles that make them an entrance, an exit or a
cross, sitting, standing and turning, and the small words that may stand between a subject
and its verb. Written from general knowledge of screenplays and English (like
``script.vocabulary``), not fitted to the sample scripts; ``layout.action`` reads with them.
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Verbs of travel by pace (metres per second): a stand-in crosses at the speed the verb says.
PACES = {
    2.6: "run race dash sprint rush hurry charge dart scurry scramble burst bolt zoom hurtle gallop flee",
    1.3: "walk cross step head go come move stride march pace skip hop trot jog roll climb follow approach "
    "return wander stroll saunter amble drive ride swim fly glide slip edge back retreat lead push pull drag wheel "
    "carry shove usher",
    0.6: "shuffle limp trundle creep crawl sneak tiptoe stumble stagger trudge plod totter waddle hobble lumber inch",
}
# These say nothing about where without a particle ("she moves", "he comes"): no move alone.
NEEDS_PARTICLE = _words("go come move head step back lead push pull drag wheel roll climb slip edge carry shove usher")
DOUBLED = _words("run skip step hop jog trot drag plod slip")  # running, skipping...
ENTER_VERBS = "enter enters entering arrive arrives arriving appear appears appearing emerge emerges emerging"
EXIT_VERBS = "exit exits exiting depart departs departing disappear disappears disappearing"
SIT = r"sits? down|sits|sitting down|takes a seat|sinks (?:down )?(?:into|onto)|slumps|perches|kneels|crouches|squats|lies down"
STAND = (
    r"stands up|standing up|gets up|getting up|(?:jumps|springs|leaps) up|"
    r"(?:gets|rises|rolls|jumps|springs|leaps|scrambles|struggles|staggers|climbs) to (?:his|her|their) feet|rises|rising"
)
TURN = r"turns|turning|spins|spinning|whirls|swivels|pivots"
# After a turn verb, what makes it the body turning (not "turns the key", "turns pale").
TURN_AFTER = re.compile(r"^(?:\s*$|\s*[,;.!?]|\s+(?:around|round|back|away|to|toward|towards|and|from|as|on)\b)")
# Words that end a clause: what comes after belongs to another verb.
CLAUSE_END = re.compile(r"[,;:.!?]|\s(?:and|but|while|as|then|until|before|after which)\s|\s--\s")
PARTICLE = re.compile(
    r"\b(?P<word>in from|in|inside|indoors|into|out of|out|outside|off|offscreen|away|over to|up to|across to|"
    r"back to|onto|toward|towards|to|across|along|down|up|around|round|through|past|over|forward|back|closer|"
    r"after|behind|ahead)\b"
)
ENTERING = frozenset({"in", "in from", "inside", "indoors"})
LEAVING = frozenset({"out of", "out", "outside", "off", "offscreen", "away"})
TO = frozenset({"over to", "up to", "across to", "back to", "onto", "toward", "towards", "to", "into", "for"})
FOLLOWING = frozenset({"after", "behind"})
PRONOUN = re.compile(r"\b(?P<p>he|she|they)\s+(?:\w+ly\s+|is\s+|are\s+|then\s+|already\s+|still\s+|also\s+)*$", re.I)
EVERYONE = re.compile(r"\b(?:everyone|everybody|all three|all four|all of them|both|the two)\b", re.I)
NEGATED = re.compile(r"\b(?:not|never|n't|cannot|can't|won't|doesn't|don't|refuses to)\s+(?:\w+\s+){0,2}$", re.I)
# Words that may stand between a clause's subject and its verb.
GLUE = _words(
    "he she they both all everyone everybody is are was were has have had then already still also just again finally even soon now and but as when while so once until before after because if together"
)
# Verbs that carry or push someone: "the wind shoves Maisie inside" moves Maisie.
CARRYING = _words("push pull drag shove carry usher lead wheel")
BODY = "hands?|arms?|heads?|feet|foot|fingers?|face|legs?|eyes?|nose|mouth|hair|sleeves?|collar|pants?|pant legs"
PLURAL = re.compile(r"\b(?:they|we|both|all)\s+(?:\w+ly\s+)?$", re.I)
SENTENCE = re.compile(r"[^.!?]+[.!?]*")
TO_SOMEONE = re.compile(r"^\(?\s*to\s+(?P<whom>[^,)]+)", re.I)


def forms(verb: str) -> list[str]:
    """The present-tense forms a screenplay writes: hurry, hurries, hurrying."""
    if verb.endswith("y") and verb[-2] not in "aeiou":
        third = verb[:-1] + "ies"
    elif verb.endswith(("s", "sh", "ch", "x", "z", "o")):
        third = verb + "es"
    else:
        third = verb + "s"
    if verb in DOUBLED:
        ing = verb + verb[-1] + "ing"
    elif verb.endswith("e") and not verb.endswith("ee"):
        ing = verb[:-1] + "ing"
    else:
        ing = verb + "ing"
    return [verb, third, ing]


TRAVEL: dict[str, tuple[str, float]] = {
    form: (verb, pace) for pace, verbs in PACES.items() for verb in verbs.split() for form in forms(verb)
}
VERB = re.compile(
    rf"\b(?P<sit>{SIT})\b|\b(?P<stand>{STAND})\b|\b(?P<turn>{TURN})\b|\b(?P<enter>{'|'.join(ENTER_VERBS.split())})\b|"
    rf"\b(?P<exit>{'|'.join(EXIT_VERBS.split())}|leaves|leaving)\b|\b(?P<travel>{'|'.join(sorted(TRAVEL, key=len, reverse=True))})\b",
    re.I,
)
# "leaves" is an exit when nothing follows it, or a room: not "leaves the door open".
LEAVES_PLACE = re.compile(
    r"^(?:\s*$|\s*[,;.!?]|\s+(?:the\s+)?(?:room|house|building|shop|office|kitchen|frame|scene|stage)\b)", re.I
)
# "in" is an entrance when it ends the clause or leads to how ("hurries in clutching a bag"),
# not where ("walks in the park").
IN_ENTERS = re.compile(r"^(?:\s*$|\s+(?:from|with|after|behind|and|to|\w+ing)\b)", re.I)
