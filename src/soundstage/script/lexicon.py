"""Parts of speech of English words, so that the breakdown can tell a thing from an action.

A capitalised word in an action line may be a thing to build (a LADDER) or a verb written in
capitals for stress (the crates TOPPLE); a lowercase word after a determiner may be a noun (a
ladder) or not. The breakdown asks this module which parts of speech a word can be.

The readings come from lemminflect's lexicon (the SPECIALIST lexicon of the US National
Library of Medicine, shipped inside the lemminflect wheel, so nothing is downloaded at run
time). Only the word forms and their parts of speech are read, straight from the table in the
wheel; the library's own loader is not used (see ``_table``). Without lemminflect, or with the
lexicon switched off, ``readings`` answers None and callers fall back to morphology: action is
written in the present tense, so a verb after its subject ends in -s (``she polishes``), which
is most of what is needed. The benchmark (``benchmarks/breakdown_eval.py``) scores both.
"""

from __future__ import annotations

import bisect
import contextlib
import gzip
import importlib.util
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

# lemminflect's table of word forms: one "form,category,lemma/lemma" line per form and category
# (``lamps,noun,lamp``), and its hand-written additions (pronouns it files as nouns).
_TABLE = ("resources", "lemma_lu.csv.gz")
_OVERRIDES = ("resources", "lemma_overrides.csv")

_lines: list[str] | None = None  # the table's lines, sorted, so that a form's lines are together
_enabled = True
_loaded = False


def _package_folder() -> Path | None:
    """lemminflect's folder, found without importing it (importing it loads numpy)."""
    spec = importlib.util.find_spec("lemminflect")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _table(folder: Path) -> list[str]:
    """The lexicon as sorted "form,category,..." lines.

    Why not ``lemminflect.getAllLemmas``: its first call imports numpy and builds a dict of
    every form with its lemmas (about 0.5 s and 200 MB in a process whose whole import of a
    feature is meant to take 0.5 s), and each answer is deep-copied. The breakdown needs only
    which categories a form has, so the table is kept as its text lines (about 20 ms, 8 MB)
    and a form is looked up by bisection.
    """
    text = gzip.decompress(folder.joinpath(*_TABLE).read_bytes()).decode("utf-8")
    lines = text.splitlines()
    overrides = folder.joinpath(*_OVERRIDES)
    if overrides.is_file():
        lines += [line for line in overrides.read_text(encoding="utf-8").splitlines() if line and line[0] != "#"]
    lines.sort()
    return lines


def load() -> None:
    """Load the lexicon now (it loads by itself on first use; this lets a caller time it)."""
    global _lines, _loaded
    if _loaded:
        return
    _loaded = True
    folder = _package_folder()
    if folder is not None and folder.joinpath(*_TABLE).is_file():
        _lines = _table(folder)


def source() -> str:
    """Where the readings come from, for reports: the library and version, or "none"."""
    load()
    if _lines is None:
        return "none (morphology alone)"
    from importlib.metadata import version

    return f"lemminflect {version('lemminflect')}"


@contextlib.contextmanager
def enabled(on: bool) -> Iterator[None]:
    """Use the lexicon (``on``) or morphology alone inside the block (for the benchmark)."""
    global _enabled
    before, _enabled = _enabled, on
    try:
        yield
    finally:
        _enabled = before


def readings(word: str) -> frozenset[str] | None:
    """The parts of speech ``word`` can be (``{"NOUN", "VERB"}`` for RATTLES), an empty set
    for a word the lexicon does not know (a name, an onomatopoeia: KA-BLAM), or None when
    there is no lexicon."""
    if not _enabled:
        return None
    if not _loaded:
        load()
    if _lines is None:
        return None
    return _readings(word.lower())


# lemminflect's categories as universal part-of-speech tags (its modals are auxiliaries).
_CATEGORIES = {"noun": "NOUN", "verb": "VERB", "adj": "ADJ", "adv": "ADV", "aux": "AUX", "modal": "AUX"}


@lru_cache(maxsize=16384)
def _readings(word: str) -> frozenset[str]:
    assert _lines is not None
    prefix = word + ","
    found = set()
    i = bisect.bisect_left(_lines, prefix)
    while i < len(_lines) and _lines[i].startswith(prefix):
        category = _lines[i][len(prefix) :].split(",", 1)[0]
        found.add(_CATEGORIES.get(category.lower(), category.upper()))
        i += 1
    return frozenset(found)
