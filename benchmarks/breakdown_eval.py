"""How well the breakdown finds what a breakdown artist marks, and what it costs.

Scores ``break_down`` against the hand labels in ``tests/script/breakdown_truth`` (one TOML
file per screenplay, keyed by scene; see the README there): precision and recall per
category per screenplay, the tuning set and each held-out set reported apart. Then
times the whole breakdown of ``big_fish.fountain`` (190 scenes) in fresh processes, with the
part-of-speech lexicon and without it, and the lexicon's load against lemminflect's own
loader, side by side.

A found name matches a labelled one when, in capitals, singular and without articles, the
words of one are all in the other (``LANTERN`` matches ``BRASS LANTERN``); each label is
matched once, so a thing listed twice in a scene counts once right and once wrong.

Run: ``.venv/bin/python benchmarks/breakdown_eval.py`` (``--errors`` lists what was missed
and what was wrong on the tuning set; the held-out sets' errors are never printed, so that
their labels stay unseen while the rules are tuned; ``--no-lexicon`` scores the word-list
fallback alone).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from soundstage.script import lexicon
from soundstage.script.breakdown import CATEGORIES, SceneBreakdown, break_down
from soundstage.script.formats import parse_script
from soundstage.script.model import Script

REPO = Path(__file__).resolve().parents[1]
TRUTH = REPO / "tests" / "script" / "breakdown_truth"
SOURCES = {"shared": REPO.parent / "shared" / "screenplays", "example": REPO / "examples"}
_ARTICLES = frozenset({"A", "AN", "THE", "SOME", "TWO", "FOUR", "FORTY"})


@dataclass(frozen=True, slots=True)
class Truth:
    """One screenplay's labels."""

    name: str
    path: Path
    held_out: bool
    scenes: tuple[int, int] | None  # the positions (first, last) of the labelled scenes, or all
    labels: dict[int, dict[str, list[str]]]  # scene key (number or position) -> category -> names


@dataclass(slots=True)
class Score:
    """Matches, wrong finds and misses of one category."""

    hits: int = 0
    wrong: int = 0
    missed: int = 0

    def add(self, other: Score) -> None:
        """Add another count to this one."""
        self.hits, self.wrong, self.missed = (
            self.hits + other.hits,
            self.wrong + other.wrong,
            self.missed + other.missed,
        )

    @property
    def precision(self) -> float | None:
        """Share of the found names that are right; None when nothing was found."""
        found = self.hits + self.wrong
        return self.hits / found if found else None

    @property
    def recall(self) -> float | None:
        """Share of the labelled names that were found; None when nothing was labelled."""
        labelled = self.hits + self.missed
        return self.hits / labelled if labelled else None


def load_truths() -> list[Truth]:
    """Every truth file, tuning set first and the held-out one last."""
    truths = []
    for path in sorted(TRUTH.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        kind, _, file_name = data["source"].partition(":")
        labels = {int(key): value for key, value in data.get("scene", {}).items()}
        scenes = data.get("scenes")
        span = (1, scenes) if isinstance(scenes, int) else tuple(scenes) if scenes else None
        truths.append(Truth(path.stem, SOURCES[kind] / file_name, data["held_out"], span, labels))
    return sorted(truths, key=lambda t: t.held_out)


def read(truth: Truth) -> Script:
    """The screenplay a truth file labels."""
    return parse_script(truth.path.read_bytes(), truth.path)


def _singular(word: str) -> str:
    if word.endswith("IES") and len(word) > 4:
        return word[:-3] + "Y"
    if word.endswith(("SSES", "XES", "CHES", "SHES")):
        return word[:-2]
    if word.endswith("S") and not word.endswith(("SS", "US", "IS")) and len(word) > 3:
        return word[:-1]
    if word.endswith("MEN"):
        return word[:-3] + "MAN"
    # SLAMMED is the SLAM, RINGING the RING: a sound written as a verb names the same thing.
    for ending in ("ING", "ED"):
        if word.endswith(ending) and len(word) > len(ending) + 3:
            stem = word[: -len(ending)]
            return stem[:-1] if stem[-1] == stem[-2] else stem
    return word


def words_of(name: str) -> frozenset[str]:
    """A name as a set of singular words in capitals, articles and counts left out."""
    words = re.findall(r"[A-Z0-9][A-Z0-9'.-]*", name.upper().replace("’", "'"))
    kept = [_singular(w.strip(".'")) for w in words if w not in _ARTICLES]
    return frozenset(w for w in kept if w)


def score(found: Iterable[str], labelled: Iterable[str]) -> tuple[Score, list[str], list[str]]:
    """Match found names to labelled ones (exact first, then words inside words)."""
    found_left = [(name, words_of(name)) for name in dict.fromkeys(found)]
    labels_left = [(name, words_of(name)) for name in labelled]
    hits = 0
    for loose in (False, True):
        for label in list(labels_left):
            for item in found_left:
                same = item[1] == label[1]
                # A joint name (EDWARD AND WILL) is two things, never loosely one of them.
                joint = "AND" in item[1] or "AND" in label[1]
                inside = bool(item[1]) and bool(label[1]) and not joint and (item[1] <= label[1] or label[1] <= item[1])
                if same or (loose and inside):
                    found_left.remove(item)
                    labels_left.remove(label)
                    hits += 1
                    break
    wrong = [name for name, _ in found_left]
    missed = [name for name, _ in labels_left]
    return Score(hits, len(wrong), len(missed)), wrong, missed


def found_in(sheet: SceneBreakdown, category: str) -> tuple[str, ...]:
    """What the breakdown sheet lists under one category."""
    return tuple(getattr(sheet, CATEGORIES[category]))


def evaluate(truth: Truth, sheets: list[SceneBreakdown]) -> tuple[dict[str, Score], list[str]]:
    """Scores per category for one screenplay, and the error lines."""
    totals = {category: Score() for category in CATEGORIES}
    errors = []
    first, last = truth.scenes or (1, len(sheets))
    for position, sheet in enumerate(sheets[first - 1 : last], start=first):
        key = int(sheet.number) if sheet.number and sheet.number.isdigit() else position
        labels = truth.labels.get(key, {})
        for category in CATEGORIES:
            result, wrong, missed = score(found_in(sheet, category), labels.get(category, []))
            totals[category].add(result)
            if wrong or missed:
                errors.append(f"{truth.name} {key} {category}: wrong {wrong} missed {missed}")
    return totals, errors


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _row(label: str, category: str, s: Score) -> str:
    return (
        f"| {label} | {category} | {s.hits + s.missed} | {s.hits + s.wrong} | {s.hits} "
        f"| {_percent(s.precision)} | {_percent(s.recall)} |"
    )


def print_scores(truths: list[Truth], show_errors: bool) -> None:
    """The precision and recall table: each screenplay, then the tuning set and held-out totals."""
    print("| screenplay | category | labelled | found | right | precision | recall |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    totals = {"**tuning set**": {category: Score() for category in CATEGORIES}}
    all_errors = []
    for truth in truths:
        scores, errors = evaluate(truth, break_down(read(truth)))
        label = f"{truth.name}{' (held out)' if truth.held_out else ''}"
        total = totals.setdefault(f"**{truth.name} (held out)**" if truth.held_out else "**tuning set**", {})
        for category, s in scores.items():
            total.setdefault(category, Score()).add(s)
            if s.hits + s.wrong + s.missed:
                print(_row(label, category, s))
        if not truth.held_out:
            all_errors += errors
    for label, scores in totals.items():
        for category, s in scores.items():
            print(_row(label, category, s))
    if show_errors:
        print()
        print("\n".join(all_errors))


def _child(what: str) -> dict[str, float]:
    """In a fresh process: the cost of one way of loading parts of speech, or of a whole
    breakdown of big_fish from a cold start (what an import pays), as CPU seconds and the
    growth of the resident set."""

    def peak_mb() -> float:
        # the resident set now (Linux), so that what the parse freed does not hide the growth
        return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 2**20

    path = SOURCES["shared"] / "big_fish.fountain"
    script = parse_script(path.read_bytes(), path)
    before, start = peak_mb(), time.process_time()
    if what == "lemminflect":  # the library's own loader, as the breakdown first used it
        import lemminflect

        lemminflect.getAllLemmas("lamps")
        return {"load": time.process_time() - start, "mb": peak_mb() - before}
    lexicon.load()
    loaded = time.process_time()
    with lexicon.enabled(what == "lexicon"):
        break_down(script)
        cold = time.process_time()
        break_down(script)
    return {
        "load": loaded - start,
        "cold": cold - loaded,
        "warm": time.process_time() - cold,
        "mb": peak_mb() - before,
    }


def time_breakdown(repeat: int) -> None:
    """The cost of the breakdown of big_fish and of its lexicon, each way in ``repeat`` fresh
    processes, side by side; the best run of each (CPU time: the machine is shared)."""
    print()
    print("| figure (big_fish, 190 scenes; best of fresh processes, CPU time) | value |")
    print("| --- | ---: |")
    runs: dict[str, list[dict[str, float]]] = {"lexicon": [], "morphology": [], "lemminflect": []}
    for _ in range(repeat):
        for what, found in runs.items():
            child = subprocess.run(
                [sys.executable, __file__, "--child", what], capture_output=True, text=True, check=True
            )
            found.append(json.loads(child.stdout))
    best = {what: {key: min(run[key] for run in found) for key in found[0]} for what, found in runs.items()}
    ours, alone, library = best["lexicon"], best["morphology"], best["lemminflect"]
    print(f"| break_down, first run in a process, with the lexicon | {1000 * ours['cold']:.0f} ms |")
    print(f"| break_down, again in the same process, with the lexicon | {1000 * ours['warm']:.0f} ms |")
    print(f"| break_down, first run in a process, morphology alone | {1000 * alone['cold']:.0f} ms |")
    print(f"| loading the lexicon: its table of forms, read directly | {1000 * ours['load']:.0f} ms |")
    print(f"| loading the lexicon: lemminflect's own loader | {1000 * library['load']:.0f} ms |")
    print(f"| resident memory growth: load and breakdown, with the lexicon | {ours['mb']:.0f} MB |")
    print(f"| resident memory growth: lemminflect's own loader alone | {library['mb']:.0f} MB |")


def main() -> None:
    """Print the precision and recall table and the timings."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--errors", action="store_true", help="list the tuning set's misses and wrong finds")
    parser.add_argument("--no-lexicon", action="store_true", help="score without the part-of-speech lexicon")
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes timed for each figure")
    parser.add_argument("--child", choices=("lexicon", "morphology", "lemminflect"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child)))
        return
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}, "
        f"lexicon: {lexicon.source()}"
    )
    print()
    with lexicon.enabled(not args.no_lexicon):
        print_scores(load_truths(), args.errors)
    if args.repeat:
        time_breakdown(args.repeat)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
