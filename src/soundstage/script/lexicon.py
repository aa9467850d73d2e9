"""Parts of speech of English words, so that the breakdown can tell a thing from an action.

A capitalised word in an action line may be a thing to build (a LADDER) or a verb written in
capitals for stress (the crates TOPPLE); a lowercase word after a determiner may be a noun (a
ladder) or not. The breakdown asks this module which parts of speech a word can be.

The readings come from lemminflect's lexicon (the SPECIALIST lexicon of the US National
Library of Medicine, shipped inside the lemminflect wheel, so nothing is downloaded at run
time), installed with the ``nlp`` extra. Without it, or with it switched off, ``readings``
answers None and callers fall back to morphology: action is written in the present tense, so a
verb after its subject ends in -s (``she polishes``), which is most of what is needed. The
benchmark (``benchmarks/breakdown_eval.py``) scores both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from functools import lru_cache

_lookup: Callable[[str], dict[str, tuple[str, ...]]] | None = None
_enabled = True
_loaded = False


def load() -> None:
    """Load the lexicon now (it loads by itself on first use; this lets a caller time it)."""
    global _lookup, _loaded
    if _loaded:
        return
    _loaded = True
    try:
        import lemminflect
    except ImportError:  # the nlp extra is not installed: morphology alone
        return
    lemminflect.getAllLemmas("lamps")  # reads the lexicon files once
    _lookup = lemminflect.getAllLemmas


def source() -> str:
    """Where the readings come from, for reports: the library and version, or "none"."""
    load()
    if _lookup is None:
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
    load()
    if _lookup is None:
        return None
    return _readings(word.lower())


@lru_cache(maxsize=16384)
def _readings(word: str) -> frozenset[str]:
    assert _lookup is not None
    return frozenset(_lookup(word))
