"""``soundstage cut`` killed or failing at any point leaves the previous cut byte for byte: real
cut processes SIGKILLed as their hidden folder fills, an encode that runs out of room, and the
next cut putting back or removing what they left."""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Collection
from pathlib import Path

import opentimelineio as otio

from soundstage.cut.swap import ASIDE, sibling
from soundstage.cut.timeline import resolve_media_url
from soundstage.project import Production
from soundstage.review.workflow import Action

SRC = Path(__file__).resolve().parents[2] / "src"


def _hashes(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) by its path there: its sha256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _command(root: Path, out: Path, *scenes: str) -> list[str]:
    chosen = [a for s in scenes for a in ("--scene", s)]
    return [sys.executable, "-m", "soundstage", "-p", str(root), "cut", "-o", str(out), *chosen]


def _environment() -> dict[str, str]:
    # The test's own settings (SOUNDSTAGE_CUT__*) travel with it: the child cuts as the fixture does.
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}


def _building(out: Path, left: Collection[Path] = ()) -> Path | None:
    """The hidden folder a running cut is writing beside ``out``, once there is one (not one
    of those in ``left``, what earlier killed cuts left)."""
    return next((p for p in out.parent.glob(f".{out.name}.cut-tmp-*") if p not in left), None)


def _kill_when(command: list[str], ready: Callable[[Path], bool], out: Path) -> None:
    """Run a cut and SIGKILL it (no clean-up of any kind runs) once ``ready(its folder)``."""
    left = set(out.parent.glob(f".{out.name}.cut-tmp-*"))
    process = subprocess.Popen(command, env=_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while process.poll() is None:
            folder = _building(out, left)
            if folder is not None and ready(folder):
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        process.wait(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL, f"the cut ended before it was killed: {process.stderr.read()}"


def _whole(out: Path) -> None:
    """``out`` is one cut: its timelines' media all inside it."""
    timeline = otio.adapters.read_from_file(str(out / "cut.otio"))
    references = [c.media_reference.target_url for c in timeline.find_clips() if c.media_reference.target_url]
    assert references and all(resolve_media_url(url, out).is_file() for url in references)


def test_a_cut_killed_at_any_point_leaves_the_previous_cut(taken: Production, tmp_path: Path, cli) -> None:
    out = tmp_path / "cuts" / "cut"
    assert cli("-p", taken.root, "cut", "-o", out, "--scene", "3").code == 0
    previous = _hashes(out)
    assert "cut.mp4" in previous and any(name.startswith("takes/") for name in previous)

    # Killed as the new cut's folder appears, with its first signed take, with its timelines
    # written (the animatic being encoded), and with its signed animatic (the disclosure being
    # written): each time the previous cut is there, byte for byte, and nothing else shows.
    points: list[Callable[[Path], bool]] = [
        lambda folder: True,
        lambda folder: any((folder / "takes").glob("*.png")),
        lambda folder: (folder / "cut.otio").exists(),
        lambda folder: (folder / "cut.mp4").exists(),
    ]
    for ready in points:
        _kill_when(_command(taken.root, out, "3", "4"), ready, out)
        assert _hashes(out) == previous
        assert [p.name for p in out.parent.iterdir() if not p.name.startswith(".")] == ["cut"]

    # Killed between the swap's two renames: the previous cut aside, nothing at the output. The
    # next cut puts it back first, even one refused at once (no scene 99).
    out.rename(sibling(out, ASIDE))
    result = cli("-p", taken.root, "cut", "-o", out, "--scene", "99")
    assert result.code == 2 and "99" in result.err
    assert _hashes(out) == previous

    # A cut that runs to the end replaces it, and removes what the killed ones left.
    result = cli("-p", taken.root, "cut", "-o", out, "--scene", "3", "--scene", "4")
    assert result.code == 0, result.err
    assert sorted(p.name for p in out.parent.iterdir()) == ["cut"]
    assert _hashes(out) != previous
    _whole(out)


def test_an_encode_that_fails_leaves_the_previous_cut(taken: Production, tmp_path: Path, cli) -> None:
    out = tmp_path / "cuts" / "cut"
    assert cli("-p", taken.root, "cut", "-o", out, "--scene", "3").code == 0
    previous = _hashes(out)
    # A disk that fills up while the animatic is joined: files may grow to twice the largest
    # one the cut writes but the animatic (the file size limit, RLIMIT_FSIZE, which makes a
    # write past it fail with EFBIG as a full disk's fails with ENOSPC), not to the animatic's.
    sizes = {name: (out / name).stat().st_size for name in previous}
    others = max(size for name, size in sizes.items() if name != "cut.mp4")
    assert sizes["cut.mp4"] > 3 * others
    limit = 2 * others
    # The re-cut changes one shot (its older take approved): that segment is encoded, and the
    # movie is joined from it and the cached ones until the disk is full.
    first = taken.shots(scene="3")[0].code
    taken.decide(f"{first}/1", Action.APPROVE, by="Sol", override_reason="the blocking is ours")

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run(
        _command(taken.root, out, "3"),
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=small_disk,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert line == f"error: {out / 'cut.mp4'}: cannot write the animatic: File too large"
    assert _hashes(out) == previous
    assert sorted(p.name for p in out.parent.iterdir()) == ["cut"]  # nothing half written beside it

    # A cut replaces its folder whole: never the production's, nor one holding it.
    for folder in (taken.root, taken.root.parent):
        result = cli("-p", taken.root, "cut", "-o", folder, "--scene", "3")
        assert (
            result.code == 2
            and result.err.strip()
            == f"error: {folder}: holds the production; a cut replaces its folder whole: name a folder of its own"
        )
    assert _hashes(out) == previous


def test_a_take_whose_media_cannot_be_read_is_one_line_and_leaves_the_previous_cut(
    taken: Production, tmp_path: Path, cli
) -> None:
    out = tmp_path / "cut"
    assert cli("-p", taken.root, "cut", "-o", out, "--scene", "3").code == 0
    previous = _hashes(out)
    first = taken.shots(scene="3")[0].code
    (newest,) = [take for take in taken.takes(first) if take.name == f"{first}/2"]
    # The media store's file turned into a folder (a restore gone wrong): unreadable as a file.
    newest.path.unlink()
    newest.path.mkdir()
    result = cli("-p", taken.root, "cut", "-o", out, "--scene", "3")
    assert result.code == 2
    assert result.err.strip() == f"error: {newest.path}: cannot read take {first}/2's media: Is a directory"
    assert _hashes(out) == previous
