"""The example episode from screenplay to an animatic with moving previs: stage times, peak memory.

What the animatic holds is printed too.

Run: .venv/bin/python benchmarks/episode.py [SCRIPT] [--size 1280x720] [--no-checks-apart] [--keep DIR]
Prints markdown table rows for docs/benchmarks.md.

1. ``soundstage make SCRIPT -o OUT`` in a child process on a fresh production (the CLI's own
   path, at its defaults: previs clips of the moving shots at 1280x720, a previs take of every
   shot made by the queue and checked by its workers, the signed animatic with scratch
   dialogue). The stage times are the ones ``make`` prints. Peak memory: the largest resident
   set of any one process of the run (``getrusage(RUSAGE_CHILDREN)``, exact) and the largest
   sum over the whole process tree (psutil, sampled every 0.2 s: ``make`` and its take workers
   run side by side).
2. The intent checks run inside the takes stage (each worker checks its batch), so the takes
   stage's time is both; ``soundstage check --all`` on the same production afterwards, timed
   alone, says what the checks cost of it.
3. The animatic's facts from the OTIO timeline the cut wrote (shots, frames, shots that play a
   clip take) and from the MP4 itself (frames, duration), and whether the picture really moves:
   each clip shot's third frame against its clip's last, read back from the MP4, against the
   same for still shots (whose frames differ by the burn-ins alone).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import psutil

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "lantern_keepers.fountain"
# The figures group make's stages as the issue names them.
GROUPS = {"import": "import / plan", "breakdown": "import / plan", "plan": "import / plan"}
# A stage line as ``soundstage make`` prints it: "    layout  129 USD layouts written ...  (4.20 s)".
STAGE_LINE = re.compile(r"^\s*(\w+)  (.*?)  \((\d+\.\d+) s\)\s*$")


@dataclass(frozen=True, slots=True)
class Command:
    """One timed child process."""

    stdout: str
    seconds: float
    # (seconds since the start, MB): the sum of the resident sets of the child and its descendants
    memory: list[tuple[float, float]]

    @property
    def peak_tree_mb(self) -> float:
        return max((mb for _, mb in self.memory), default=0.0)

    def peak_between(self, start: float, end: float) -> float:
        """The largest sampled tree resident set from ``start`` to ``end`` seconds."""
        return max((mb for t, mb in self.memory if start <= t <= end), default=0.0)


@dataclass(frozen=True, slots=True)
class Shot:
    """One shot on the animatic's video track."""

    code: str
    start: int  # its first frame in the timeline
    frames: int
    clip_frames: int  # the frames of the clip take it plays; 0 for a still


@dataclass(frozen=True, slots=True)
class Animatic:
    """What the cut wrote, as the OTIO timeline and the MP4 say."""

    shots: int
    clip_shots: int  # shots that play a clip take (an .mp4 source with frames of its own)
    held: int  # of those, shots longer than their clip take, its last frame held
    timeline_frames: int
    movie_frames: int
    movie_seconds: float
    clip_change: dict[str, float]  # each clip shot's change from its first to its last clip frame
    still_change: dict[str, float]  # the same for still shots: the burn-ins alone


def _sample_tree(pid: int, started: float, stop: threading.Event, memory: list[tuple[float, float]]) -> None:
    """The sum of resident sets of ``pid`` and its descendants, sampled every 0.2 s."""
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        while not stop.wait(0.2):
            total = 0
            for process in (root, *root.children(recursive=True)):
                with contextlib.suppress(psutil.Error):  # a worker that has just left
                    total += process.memory_info().rss
            memory.append((time.perf_counter() - started, total / 2**20))


def _run(args: list[str], cwd: Path) -> Command:
    """Run one command to its end, its output captured and its process tree sampled."""
    # A wide console: Rich wraps at 80 columns when it is not a terminal, which would split the
    # stage lines this script reads.
    env = {**os.environ, "COLUMNS": "400", "SOUNDSTAGE_USER": "episode-benchmark"}
    started = time.perf_counter()
    child = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    memory: list[tuple[float, float]] = []
    stop = threading.Event()
    watcher = threading.Thread(target=_sample_tree, args=(child.pid, started, stop, memory), daemon=True)
    watcher.start()
    stdout, _ = child.communicate()
    seconds = time.perf_counter() - started
    stop.set()
    watcher.join()
    if child.returncode not in (0, 1):  # check exits 1 when a take fails a check: still a result
        sys.exit(f"{' '.join(args)} exited {child.returncode}:\n{stdout[-3000:]}")
    return Command(stdout, seconds, memory)


def _stages(stdout: str) -> list[tuple[str, str, float]]:
    """(stage, summary, seconds) of every stage line ``make`` printed."""
    return [(m[1], m[2], float(m[3])) for line in stdout.splitlines() if (m := STAGE_LINE.match(line))]


def _animatic(cut: Path, stills: int) -> Animatic:
    """The facts of the cut in ``cut`` (one .otio timeline and one .mp4 animatic)."""
    (timeline_path,) = cut.glob("*.otio")
    timeline = otio.adapters.read_from_file(str(timeline_path))
    (video,) = timeline.video_tracks()
    shots: list[Shot] = []
    held, position = 0, 0
    for item in video:
        frames = round(item.source_range.duration.to_frames())
        meta = item.metadata.get("soundstage", {})
        if meta.get("hold"):  # the held rest of the shot before: its frames are that shot's
            held += 1
            last = shots[-1]
            shots[-1] = Shot(last.code, last.start, last.frames + frames, last.clip_frames)
        else:
            shots.append(Shot(item.name, position, frames, int(meta.get("clip_frames", 0))))
        position += frames
    movie = next(p for p in cut.glob("*.mp4") if not p.name.startswith("."))
    clips = [s for s in shots if s.clip_frames]
    with av.open(str(movie)) as container:
        stream = container.streams.video[0]
        movie_frames = stream.frames
        movie_seconds = float(container.duration / av.time_base)
        slate = movie_frames - position  # the head slate: in the animatic, not in the timeline
        clip_change = {s.code: _change(container, slate + s.start, s.clip_frames) for s in clips}
        still_change = {s.code: _change(container, slate + s.start, s.frames) for s in shots if not s.clip_frames}
    still_change = dict(list(still_change.items())[:stills])
    return Animatic(len(shots), len(clips), held, position, movie_frames, movie_seconds, clip_change, still_change)


def _change(container: av.container.InputContainer, first: int, frames: int) -> float:
    """The mean absolute change (0-255 a channel) between a shot's third frame and its last
    one (the last of its clip take, for a shot that plays one), read from the animatic."""
    a, b = (_frame(container, first + offset) for offset in (min(2, frames - 1), frames - 1))
    return float(np.abs(a.astype(np.int16) - b).mean())


def _frame(container: av.container.InputContainer, index: int) -> np.ndarray:
    """Frame ``index`` of the animatic (constant frame rate), seeking to the key frame before it."""
    stream = container.streams.video[0]
    rate, base = stream.average_rate, stream.time_base
    start = stream.start_time or 0
    target = start + round(index / rate / base)
    container.seek(target, stream=stream, backward=True)
    half = round(1 / rate / base / 2)
    for frame in container.decode(stream):
        if frame.pts is not None and frame.pts >= target - half:
            return frame.to_ndarray(format="rgb24")
    raise SystemExit(f"the animatic has no frame {index}")


def _gl_renderer() -> str:
    """The GL renderer previs ran on (one context made here, after the run)."""
    from soundstage.render.gl import gl_context

    return str(gl_context().info["GL_RENDERER"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", nargs="?", type=Path, default=EXAMPLE)
    parser.add_argument("--size", default="1280x720", help="previs frame size (make's default)")
    parser.add_argument(
        "--no-checks-apart", action="store_true", help="skip timing `soundstage check --all` after the run"
    )
    parser.add_argument("--stills", type=int, default=8, help="still shots compared with the clip shots")
    parser.add_argument(
        "--keep", type=Path, default=None, help="run in this new folder and keep it (default: a temporary one)"
    )
    args = parser.parse_args()
    if args.keep is not None and args.keep.exists():
        sys.exit(f"--keep {args.keep}: it exists; name a new folder")
    soundstage = [sys.executable, "-m", "soundstage"]
    loads = [os.getloadavg()]
    with contextlib.ExitStack() as stack:
        root = args.keep.resolve() if args.keep else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        root.mkdir(parents=True, exist_ok=True)
        out = root / "out"
        made = _run([*soundstage, "make", str(args.script.resolve()), "-o", str(out), "--size", args.size], root)
        loads.append(os.getloadavg())
        # The largest resident set of any one descendant waited for: make, or one of its workers.
        # (Linux keeps ru_maxrss across exec, so a child starts from this small parent's peak.)
        largest_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        _print_make(args, made, largest_mb)  # now, so that a failure below leaves these figures
        if not args.no_checks_apart:
            checked = _run([*soundstage, "--production", str(out / "production"), "check", "--all"], root)
            loads.append(os.getloadavg())
            print(
                f"| &nbsp;&nbsp;&nbsp;&nbsp;of the takes stage, the intent checks (`soundstage check --all` alone, "
                f"after make, one process) | {checked.seconds:.1f} s | {checked.peak_tree_mb:.0f} MB |",
                flush=True,
            )
        _print_animatic(_animatic(out / "cut", args.stills))
    after = "after make, after the checks" if len(loads) == 3 else "after make"
    print(f"\n# load average (1, 5, 15 min) before, {after}: {' / '.join(_load(v) for v in loads)}")


def _print_make(args: argparse.Namespace, made: Command, largest_mb: float) -> None:
    """The machine, and the rows of make's stages and memory."""
    stages = _stages(made.stdout)
    if not stages or stages[-1][0] != "cut":
        sys.exit(f"make did not reach the cut:\n{made.stdout[-3000:]}")
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, PyAV {av.__version__}, "
        f"{_gl_renderer()}"
    )
    print(f"# {args.script.name} at {args.size}; {machine}")
    print("| figure | value | peak resident, process tree |")
    print("| --- | --- | --- |")
    total = sum(seconds for _, _, seconds in stages)
    print(
        f"| `soundstage make`, screenplay to signed animatic (wall time of the command) | {made.seconds:.1f} s | "
        f"{made.peak_tree_mb:.0f} MB |"
    )
    # Each stage's window, counted back from the command's end (the stages run last, then make
    # prints and exits; the interpreter's start and imports come before them).
    end = made.seconds
    windows = {}
    for name, _, seconds in reversed(stages):
        windows[name] = (end - seconds, end)
        end -= seconds
    grouped: dict[str, tuple[list[str], float, float]] = {}
    for name, summary, seconds in stages:
        label = GROUPS.get(name, name)
        summaries, so_far, peak = grouped.get(label, ([], 0.0, 0.0))
        grouped[label] = ([*summaries, summary], so_far + seconds, max(peak, made.peak_between(*windows[name])))
    for label, (summaries, seconds, peak) in grouped.items():
        memory = f"{peak:.0f} MB" if peak else "(between two samples)"
        print(f"| &nbsp;&nbsp;{label}: {'; '.join(summaries)} | {seconds:.1f} s ({seconds / total:.0%}) | {memory} |")
    print(
        f"| peak resident memory, the largest one process (make or a take worker; getrusage) | | {largest_mb:.0f} MB |"
    )
    print(end="", flush=True)


def _print_animatic(a: Animatic) -> None:
    """The rows of the animatic's facts, and whether its clip shots move."""
    print(
        f"| animatic: shots / of them playing a clip take ({a.held} held on its last frame) | {a.shots} / {a.clip_shots} | |"
    )
    print(
        f"| animatic: frames (timeline + head slate) / duration | {a.movie_frames:,} ({a.timeline_frames:,} + "
        f"{a.movie_frames - a.timeline_frames}) / {a.movie_seconds:.1f} s ({a.movie_seconds / 60:.1f} min) | |"
    )
    if not a.clip_change or not a.still_change:
        print("| moving previs in the animatic | NOT SHOWN: no shot plays a clip take (or no still to compare) | |")
        return
    burn_in = max(a.still_change.values())
    moved = [code for code, change in a.clip_change.items() if change > 2 * burn_in]
    changes = sorted(a.clip_change.values())
    print(
        f"| moving previs in the animatic: change from a shot's third frame to its clip's last, clip shots "
        f"median / min / max vs the largest of {len(a.still_change)} still shots (burn-ins only), of 255 | "
        f"{statistics.median(changes):.2f} / {changes[0]:.2f} / {changes[-1]:.2f} vs {burn_in:.2f} | |"
    )
    print(f"| clip shots that change more than twice the burn-ins | {len(moved)} of {len(a.clip_change)} | |")
    print()
    for code, change in a.clip_change.items():
        print(f"# {code}: {change:.2f}{'' if code in moved else ' (hardly moves)'}")


def _load(values: tuple[float, float, float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


if __name__ == "__main__":
    main()
