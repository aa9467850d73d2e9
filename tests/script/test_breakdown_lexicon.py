"""The part-of-speech lexicon: the same readings as lemminflect's own lookup, read from its
table without its loader (which imports numpy and builds a dict of every lemma)."""

from __future__ import annotations

import re
import subprocess
import sys

import lemminflect

from soundstage.script import lexicon

from conftest import REPO, SCREENPLAYS


def test_readings_are_lemminflects_for_every_word_of_a_screenplay():
    words = set(re.findall(r"[A-Za-z][A-Za-z'-]*", (SCREENPLAYS / "big_fish.fountain").read_text(encoding="utf-8")))
    words |= {"rattles", "topples", "polishes", "ka-blam", "lamps", "took", "he", "everyone"}
    differing = [w for w in words if lexicon.readings(w) != frozenset(lemminflect.getAllLemmas(w.lower()))]
    assert len(words) > 4000 and differing == []
    assert lexicon.readings("RATTLES") == {"NOUN", "VERB"} and lexicon.readings("KA-BLAM") == frozenset()


def test_switched_off_it_answers_none():
    with lexicon.enabled(False):
        assert lexicon.readings("lamp") is None
    assert lexicon.readings("lamp") == {"NOUN"}


def test_loading_it_does_not_import_lemminflect_or_numpy():
    code = (
        "import sys; from soundstage.script import lexicon; lexicon.load(); "
        "assert lexicon.readings('ladder') == {'NOUN', 'VERB'}; "
        "print(sorted(m for m in ('numpy', 'lemminflect') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONPATH": str(REPO / "src")}
    )
    assert out.stdout.strip() == "[]"
