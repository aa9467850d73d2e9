"""Finding real people's names in a prompt: the production's performers (and their aliases) and
the names the production watches for, matched whole-word, ignoring case and accents.

"Ada Lind" matches "ADA LIND", "ada-lind" and "(Ada Lind:1.2)", and "Zoë" matches "Zoe"; "Ada"
never matches inside "Adam" or "Canada". The regex module's Unicode word boundaries would not
ignore accents, so the text and the names are folded first (NFKD, marks dropped, casefolded),
then compared with boundaries on the folded text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

from soundstage.guardrails.model import Performer, unique

# Letters that NFKD leaves whole (they are letters of their own, not a letter plus an accent)
# but that people write without the stroke in prompts: "Søren" is typed "Soren".
_UNSTROKED = str.maketrans({"ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ŧ": "t", "æ": "ae", "œ": "oe", "þ": "th"})


def fold(text: str) -> str:
    """``text`` without accents, in case-folded form: what names are compared in."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.translate(_UNSTROKED)


@lru_cache(maxsize=4096)
def _pattern(name: str) -> re.Pattern[str] | None:
    """A whole-word pattern for ``name``; any run of spaces or punctuation may stand between
    its words ("Ada Lind", "Ada-Lind", "ada_lind")."""
    words = re.findall(r"[^\W_]+", fold(name))
    if not words:
        return None
    # (?<![^\W_]) and (?![^\W_]): no letter or digit right before or after the name.
    return re.compile(r"(?<![^\W_])" + r"[\W_]+".join(map(re.escape, words)) + r"(?![^\W_])")


def mentions(text: str, name: str) -> bool:
    """Whether ``text`` names ``name`` as whole words, ignoring case and accents."""
    pattern = _pattern(name)
    return pattern is not None and pattern.search(fold(text)) is not None


def names_in(text: str, names: Iterable[str]) -> tuple[str, ...]:
    """The entries of ``names`` that ``text`` mentions, in the order given, each once."""
    folded = fold(text)
    found = []
    for name in names:
        pattern = _pattern(name)
        if pattern is not None and pattern.search(folded):
            found.append(name)
    return unique(found)


def people_named(prompt: str, performers: Sequence[Performer], watched: Iterable[str] = ()) -> tuple[str, ...]:
    """The real people a prompt names: performers of the production (by name or alias, given
    by their name) and the names on the production's watch list. Synthetic performers are not
    people and are left out."""
    found = [p.name for p in performers if not p.synthetic and names_in(prompt, p.names)]
    known = {fold(name) for p in performers for name in p.names}
    found += [name for name in names_in(prompt, watched) if fold(name) not in known]
    return unique(found)
