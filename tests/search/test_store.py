"""The index's builds on disk: names, the swap of the pointer, pruning, and repeating a swap after a crash."""

from __future__ import annotations

import re
from pathlib import Path

from search.store import (
    BUILDS,
    FORMAT,
    MANIFEST,
    POINTER,
    Manifest,
    commit_build,
    current_build,
    is_build_name,
    new_build_name,
    put_build,
)


def _staged(folder: Path, entries: int = 1) -> Path:
    """A complete (if empty) build folder."""
    folder.mkdir(parents=True)
    Manifest(FORMAT, entries, None, None).write(folder / MANIFEST)
    return folder


def _builds(root: Path) -> list[str]:
    return sorted(p.name for p in (root / BUILDS).iterdir())


def test_build_names_sort_in_the_order_they_are_taken() -> None:
    first, second = new_build_name(), new_build_name()
    assert re.fullmatch(r"[0-9]{20}-[0-9]+", first) and is_build_name(first)
    assert first <= second
    for other in ("0" * 19 + "-2", "0" * 20 + "-", "0" * 20 + "-1\n", ".partial-1-ab", "../" + first):
        assert not is_build_name(other)


def test_commit_build_makes_the_build_current_and_keeps_one_before(tmp_path: Path) -> None:
    root = tmp_path / "index"
    committed = [commit_build(root, _staged(tmp_path / f"staged-{n}", n)) for n in range(3)]
    assert [build.manifest.entries for build in committed] == [0, 1, 2]
    assert all(is_build_name(build.name) for build in committed)
    assert (root / POINTER).read_text("utf-8") == committed[-1].name + "\n"
    assert current_build(root).manifest.entries == 2
    assert _builds(root) == [committed[1].name, committed[2].name]


def test_put_build_is_repeatable_after_a_crash(tmp_path: Path) -> None:
    root = tmp_path / "index"
    staged = _staged(tmp_path / "staged")
    name = "00000000000000000010-1"
    put_build(root, staged, name)
    assert not staged.exists() and current_build(root).name == name
    (root / POINTER).unlink()  # a crash after the move, before the pointer
    put_build(root, staged, name)
    assert current_build(root).name == name and _builds(root) == [name]


def test_put_build_leaves_a_newer_current_build_current(tmp_path: Path) -> None:
    root = tmp_path / "index"
    for name in ("00000000000000000010-1", "00000000000000000030-1"):
        put_build(root, _staged(tmp_path / name), name)
    late = "00000000000000000020-1"  # chosen before the newer build was made current
    put_build(root, _staged(tmp_path / late), late)
    assert current_build(root).name == "00000000000000000030-1"
    assert _builds(root) == [late, "00000000000000000030-1"], "older than the one before current: pruned"


def test_put_build_of_a_build_pruned_since_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "index"
    current = "00000000000000000030-1"
    put_build(root, _staged(tmp_path / current), current)
    put_build(root, tmp_path / "gone", "00000000000000000020-1")
    assert current_build(root).name == current and _builds(root) == [current]
