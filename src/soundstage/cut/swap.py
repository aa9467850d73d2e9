"""The cut's folder, replaced whole: a cut is built in a hidden folder beside its output folder
and swapped into place at the very end, so a cut that fails or is stopped at any point (an
error, Ctrl-C, ``kill -9``, a power cut) leaves the previous cut as it was, never a mix of the
two, and leftovers never appear as a cut.

Why a folder swap and not a rename per file: a cut is a set of files that refer to each other
(the timelines name the takes and spoken lines by relative paths, the animatic's credentials
name its takes as ingredients), and no run of per-file renames is atomic as a set: a kill
between two of them leaves a new EDL beside an old animatic. A folder's rename is atomic, but
there is no portable rename that replaces a folder holding files, so the swap is two renames:
the previous cut aside, the new one into place, then the previous one deleted. A kill between
the two renames leaves no folder at the output and the previous cut aside; ``recover``, which
every cut runs first, renames it back. (Linux's ``renameat2(RENAME_EXCHANGE)`` would close that
window, but the recovery is needed on every other system anyway, so there is one way.)

The names beside an output folder ``OUT``, all hidden:

- ``.OUT.cut-tmp-PID-HEX``: a cut being built; its writer holds a lock on it, so a recovery
  removes only a dead writer's (without ``flock``, Windows: one untouched for an hour);
- ``.OUT.cut-old-PID-HEX``: the previous cut, set aside for the moment of a swap;
- ``.OUT.cut-del-PID-HEX``: a replaced cut being deleted (renamed first, so a deletion cut
  short is never taken for a cut to restore).

Both recovery and swap run under a lock on the folder that holds ``OUT`` (``flock`` on the
folder itself: no lock file is left behind), so two cuts into one folder take turns at the
swap and the later one wins, each whole. Entries of ``OUT`` that are not the cut's own (an
editor's project file saved beside the cut, a ``.DS_Store``) are carried into the new folder,
by hard link where the filesystem has them, so a re-cut keeps them. A folder that holds other
files and no cut is refused: swapping it would move files that were never the cut's.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType

from soundstage.errors import CutError, SoundstageError
from soundstage.files import ABANDONED_S, fsync_folder

try:
    import fcntl
except ImportError:  # Windows: no flock
    fcntl = None  # type: ignore[assignment]

BUILDING, ASIDE, DELETING = "tmp", "old", "del"
# What a cut writes into its folder, by the cut's name (``cut`` by default): see docs/cut.md.
_CUT_SUFFIXES = (".otio", ".edl", ".xml", ".fcpxml", ".mp4", ".mov", "_disclosure.html", "_disclosure.pdf")
_CUT_FOLDERS = ("takes", "dialogue")


def is_cut_entry(entry: str, name: str = "cut") -> bool:
    """Whether ``entry`` (a name in a cut folder) is written by a cut named ``name``: its files,
    its takes/ and dialogue/, and the hidden temporary files its writers make beside them
    (``.cut.otio.HEX.tmp``, ``.cut.unsigned.mp4``: a killed cut's before this module, never
    carried into the next one)."""
    if entry in _CUT_FOLDERS or entry in {f"{name}{suffix}" for suffix in _CUT_SUFFIXES}:
        return True
    return entry.startswith((f".{name}.", f".{name}_disclosure.", ".soundstage-probe-"))


def sibling(target: Path, kind: str) -> Path:
    """A new name beside ``target`` for one of the kinds above."""
    return target.with_name(f".{target.name}.cut-{kind}-{os.getpid()}-{secrets.token_hex(4)}")


def _siblings(target: Path, kind: str) -> list[Path]:
    prefix = f".{target.name}.cut-{kind}-"
    try:
        return sorted(p for p in target.parent.iterdir() if p.name.startswith(prefix))
    except (FileNotFoundError, NotADirectoryError):
        return []


def recover(target: Path) -> None:
    """Put the folder ``target`` back as its last whole cut left it: a previous cut set aside by
    a swap that was killed is renamed back (when nothing is at ``target``), and what killed cuts
    left beside it (half-built cuts, replaced cuts half deleted) is removed. Builds of cuts
    still running are left alone. CutError when the folder beside it cannot be changed."""
    target = _real(target)
    if not target.parent.is_dir():
        return  # nothing was ever cut here
    try:
        with _locked(target.parent):
            _recover(target)
    except OSError as error:
        raise CutError(f"{target}: cannot tidy what an earlier cut left: {_reason(error)}") from None


def _recover(target: Path) -> None:
    """``recover``, the lock on ``target``'s folder held."""
    aside = _siblings(target, ASIDE)
    if aside and not os.path.lexists(target):
        # Killed between the swap's two renames: the previous cut goes back. (At most one is
        # aside: every cut recovers first, under the same lock as the swap.)
        latest = max(aside, key=lambda p: p.stat().st_mtime)
        os.rename(latest, target)
        fsync_folder(target.parent)
        aside.remove(latest)
    for old in aside:  # the swap was done: the new cut is in place
        _delete(old, target)
    for trash in _siblings(target, DELETING):
        shutil.rmtree(trash, ignore_errors=True)
    for build in _siblings(target, BUILDING):
        if _abandoned(build):
            shutil.rmtree(build, ignore_errors=True)


class CutFolder:
    """A cut built in a hidden folder beside ``target`` (``folder``) and swapped into its place
    by ``commit``. As a context manager: entered, it recovers what earlier cuts left, checks
    ``target`` may be replaced and makes the folder; left without a commit (an error, Ctrl-C),
    it removes the folder, and error messages that name the hidden folder name ``target``.
    ``owned(entry)`` says which entries of ``target`` are the cut's (the rest are carried)."""

    def __init__(self, target: Path, owned: Callable[[str], bool] = is_cut_entry) -> None:
        self.shown = target  # as the user named it, for messages
        self.target = _real(target)
        self.owned = owned
        self.folder = sibling(self.target, BUILDING)
        self._hold: int | None = None
        self.committed = False

    def __enter__(self) -> CutFolder:
        target = self.target
        if target.is_file():
            raise CutError(f"{self.shown}: is a file, not a folder for the cut")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with _locked(target.parent):
                _recover(target)
                self._check()
                self.folder.mkdir()
                self._hold = _hold(self.folder)
        except OSError as error:
            raise CutError(f"{self.shown}: cannot write the cut there: {_reason(error)}") from None
        return self

    def _check(self) -> None:
        """Refuse a ``target`` that holds files and no cut, or that sits on another filesystem."""
        target = self.target
        if not target.is_dir():
            return
        try:
            here = Path.cwd().resolve()
        except OSError:  # the current folder was deleted: it is not this one
            here = None
        if here is not None and here.is_relative_to(target.resolve()):
            raise CutError(f"{self.shown}: is the current folder; a cut replaces its folder whole: run it from outside")
        entries = [e.name for e in target.iterdir()]
        visible = [e for e in entries if not e.startswith(".")]
        if visible and not any(self.owned(e) for e in visible):
            raise CutError(
                f"{self.shown}: holds other files ({', '.join(sorted(visible)[:3])}) and no cut; a cut replaces "
                "its folder whole: name a new or empty folder"
            )
        if target.stat().st_dev != target.parent.stat().st_dev:
            raise CutError(f"{self.shown}: is a mount point; a cut replaces its folder whole: name a folder inside it")

    def commit(self) -> None:
        """Swap the built folder into ``target``'s place (the previous cut's own entries go, the
        others are carried over) and delete the previous cut. Atomic: a kill at any point leaves
        the previous cut, or this one, whole at ``target`` (after ``recover``)."""
        target = self.target
        try:
            with _locked(target.parent):
                if target.is_dir():
                    self._carry()
                fsync_folder(self.folder)
                if os.path.lexists(target):
                    aside = sibling(target, ASIDE)
                    os.rename(target, aside)
                    try:
                        os.rename(self.folder, target)
                    except OSError:
                        os.rename(aside, target)  # the previous cut back before the failure is told
                        raise
                    fsync_folder(target.parent)
                    self.committed = True
                    _delete(aside, target)
                else:
                    os.rename(self.folder, target)
                    fsync_folder(target.parent)
                    self.committed = True
        except OSError as error:
            raise CutError(f"{self.shown}: cannot put the new cut in place: {_reason(error)}") from None
        finally:
            self._release()

    def _carry(self) -> None:
        """Hard-link (else copy) ``target``'s entries that are not the cut's into the new folder.
        The originals stay where they are until the swap, so a kill before it loses nothing."""
        for entry in self.target.iterdir():
            if self.owned(entry.name) or os.path.lexists(self.folder / entry.name):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.copytree(entry, self.folder / entry.name, symlinks=True, copy_function=_link)
            else:
                _link(str(entry), str(self.folder / entry.name))

    def _release(self) -> None:
        if self._hold is not None:
            os.close(self._hold)
            self._hold = None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if not self.committed:
            self._release()
            shutil.rmtree(self.folder, ignore_errors=True)
        if isinstance(error, SoundstageError) and str(self.folder) in str(error):
            # "out/.out.cut-tmp-1-ab/cut.mp4: cannot write..." is the user's "out/cut.mp4".
            error.args = (str(error).replace(str(self.folder), str(self.shown)),)


def _real(target: Path) -> Path:
    """The folder a cut replaces, absolute (``-o .`` has a name to put a sibling beside), and
    a link's own target (the link stays a link to the new cut)."""
    target = Path(os.path.abspath(target))
    return target.resolve() if target.is_symlink() else target


def _delete(old: Path, target: Path) -> None:
    """Delete a replaced cut: renamed first, so a deletion cut short is seen as rubbish."""
    trash = sibling(target, DELETING)
    with suppress(OSError):
        os.rename(old, trash)
        old = trash
    shutil.rmtree(old, ignore_errors=True)


def _link(source: str, destination: str) -> None:
    try:
        os.link(source, destination, follow_symlinks=False)
    except OSError:  # a filesystem without hard links (FAT, some network shares)
        shutil.copy2(source, destination, follow_symlinks=False)


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (its own inode: no lock file is left) for a short
    step. Where the folder cannot be locked (no flock, or a filesystem that refuses to lock a
    folder) the step runs unlocked: concurrent cuts into one folder are then the user's to avoid."""
    handle = _hold(folder, wait=True)
    try:
        yield
    finally:
        if handle is not None:
            os.close(handle)


def _hold(folder: Path, *, wait: bool = False) -> int | None:
    """An open handle on ``folder`` holding its flock (None where none can be had). Without
    ``wait``, the lock is taken at once or BlockingIOError raised."""
    if fcntl is None:
        return None
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(handle)
        raise
    except OSError:
        os.close(handle)
        return None
    return handle


def _abandoned(build: Path) -> bool:
    """Whether a build folder's writer is gone: nobody holds its lock (or, without flock, it
    has not changed for ABANDONED_S)."""
    try:
        handle = _hold(build)
    except BlockingIOError:
        return False  # a live cut is writing it
    except FileNotFoundError:
        return False  # swapped into place meanwhile
    if handle is not None:
        os.close(handle)
        return True
    try:
        return time.time() - build.stat().st_mtime > ABANDONED_S
    except FileNotFoundError:
        return False


def _reason(error: OSError) -> str:
    return error.strerror or str(error)
