"""The cut's folder replaced whole (cut/swap.py): built beside the output, swapped in at the end;
what a failure or a kill leaves is put back or removed by the next cut; other files in the
folder are carried over; a folder holding other files and no cut is refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from soundstage.cut.swap import ASIDE, BUILDING, DELETING, CutFolder, is_cut_entry, recover, sibling
from soundstage.errors import CutError


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _cut(folder: Path, otio: bytes, *, extra: dict[str, bytes] | None = None) -> None:
    """A stand-in for what ``soundstage cut`` writes into its (hidden) folder."""
    (folder / "takes").mkdir()
    (folder / "takes" / "003_0010_t1.png").write_bytes(b"take " + otio)
    (folder / "cut.otio").write_bytes(otio)
    (folder / "cut.mp4").write_bytes(b"movie " + otio)
    for name, data in (extra or {}).items():
        (folder / name).write_bytes(data)


def _recut(target: Path, otio: bytes, **kwargs: dict[str, bytes]) -> None:
    with CutFolder(target) as staged:
        _cut(staged.folder, otio, **kwargs)
        staged.commit()


def test_a_cut_is_built_aside_and_swapped_in_whole(tmp_path: Path) -> None:
    target = tmp_path / "out" / "cut"
    with CutFolder(target) as staged:
        assert staged.folder.parent == target.parent and staged.folder.name.startswith(".cut.cut-tmp-")
        _cut(staged.folder, b"one", extra={"cut.mov": b"prores"})
        assert not target.exists()  # nothing at the output until the swap
        staged.commit()
    assert sorted(p.name for p in target.parent.iterdir()) == ["cut"]
    assert _tree(target)["cut.otio"] == b"one"

    # Files the user put beside the cut stay (linked, not copied); the previous cut's own files
    # that this one does not write (the .mov of a ProRes cut) go with it.
    (target / "notes.txt").write_text("the editor's")
    (target / ".DS_Store").write_bytes(b"finder")
    (target / "edit").mkdir()
    (target / "edit" / "cut.prproj").write_bytes(b"premiere")
    _recut(target, b"two")
    assert _tree(target) == {
        ".DS_Store": b"finder",
        "cut.mp4": b"movie two",
        "cut.otio": b"two",
        "edit/cut.prproj": b"premiere",
        "notes.txt": b"the editor's",
        "takes/003_0010_t1.png": b"take two",
    }
    assert sorted(p.name for p in target.parent.iterdir()) == ["cut"]


def test_a_failed_cut_leaves_the_previous_one_and_names_the_output(tmp_path: Path) -> None:
    target = tmp_path / "cut"
    _recut(target, b"one")
    before = _tree(target)
    with pytest.raises(CutError) as raised, CutFolder(target) as staged:
        _cut(staged.folder, b"two")
        raise CutError(f"{staged.folder / 'cut.mp4'}: cannot write the animatic: File too large")
    assert str(raised.value) == f"{target / 'cut.mp4'}: cannot write the animatic: File too large"
    assert _tree(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut"]
    with pytest.raises(KeyboardInterrupt), CutFolder(target) as staged:  # Ctrl-C
        _cut(staged.folder, b"two")
        raise KeyboardInterrupt
    assert _tree(target) == before and sorted(p.name for p in tmp_path.iterdir()) == ["cut"]


def test_the_next_cut_restores_a_cut_set_aside_by_a_killed_swap(tmp_path: Path) -> None:
    target = tmp_path / "cut"
    _recut(target, b"one")
    before = _tree(target)
    # What a kill between the swap's two renames leaves: the previous cut aside, the new one
    # whole but not in place, and nothing at the output.
    built = sibling(target, BUILDING)
    built.mkdir()
    _cut(built, b"two")
    target.rename(sibling(target, ASIDE))
    recover(target)
    assert _tree(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut"]


def test_the_next_cut_removes_what_killed_cuts_left(tmp_path: Path) -> None:
    target = tmp_path / "cut"
    _recut(target, b"one")
    # Killed after the swap (the previous cut still aside), in the middle of deleting it, and
    # while building: all rubbish now.
    for kind in (ASIDE, DELETING, BUILDING):
        leftover = sibling(target, kind)
        leftover.mkdir()
        _cut(leftover, kind.encode())
    before = _tree(target)
    recover(target)
    assert _tree(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut"]


def test_a_cut_being_built_is_left_to_its_writer(tmp_path: Path) -> None:
    target = tmp_path / "cut"
    with CutFolder(target) as running:
        _cut(running.folder, b"one")
        recover(target)  # another cut starting meanwhile
        assert running.folder.is_dir()
        _recut(target, b"two")  # and finishing first: the later swap wins, each whole
        running.commit()
    assert _tree(target)["cut.otio"] == b"one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut"]


def test_folders_a_cut_cannot_replace_are_refused_before_any_work(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.odt").write_text("mine")
    with pytest.raises(CutError, match="holds other files \\(thesis.odt\\) and no cut"):
        CutFolder(home).__enter__()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(CutError, match="is a file"):
        CutFolder(blocker).__enter__()
    with pytest.raises(CutError, match=f"{blocker}/cut: cannot write the cut there"):
        CutFolder(blocker / "cut").__enter__()

    target = tmp_path / "cut"
    _recut(target, b"one")
    monkeypatch.chdir(target / "takes")
    with pytest.raises(CutError, match="is the current folder"):
        CutFolder(target).__enter__()
    monkeypatch.chdir(target)
    for here in (Path("."), Path("..") / "cut"):
        with pytest.raises(CutError, match="is the current folder"):
            CutFolder(here).__enter__()
        recover(here)  # nothing to tidy, and no name to trip on
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut", "file", "home"]


def test_a_linked_output_stays_a_link_to_the_new_cut(tmp_path: Path) -> None:
    real = tmp_path / "disk" / "cut"
    real.parent.mkdir()
    _recut(real, b"one")
    link = tmp_path / "cut"
    link.symlink_to(real)
    _recut(link, b"two")
    assert link.is_symlink() and _tree(link)["cut.otio"] == b"two"
    assert sorted(p.name for p in real.parent.iterdir()) == ["cut"]


def test_what_a_cut_writes_is_its_own() -> None:
    for entry in ("cut.otio", "cut.mov", "cut_disclosure.pdf", "takes", "dialogue", ".cut.unsigned.mp4"):
        assert is_cut_entry(entry)
    for entry in ("notes.txt", "cut.prproj", ".DS_Store", "other.otio"):
        assert not is_cut_entry(entry)
    assert is_cut_entry("reel2.edl", "reel2") and not is_cut_entry("cut.edl", "reel2")
    assert os.path.basename(str(sibling(Path("/x/cut"), BUILDING))).startswith(".cut.cut-tmp-")
