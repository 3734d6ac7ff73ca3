"""The index on disk: each build in its own folder, a pointer file naming the current one, atomic swaps.

Layout of an index root (default `dist/index/`)::

    CURRENT                      name of the current build, replaced atomically with os.replace
    builds/<stamp>-<pid>/        one complete build:
        manifest.json            what the build holds (`Manifest`)
        codemap/                 the code map, JSON (`search.codemap`)
        documents.json           the searchable fields of every entry, JSON (`search.index`)
        whoosh/, whoosh.seal     the whoosh index and its seal: only in a build made on this machine
    builds/.partial-<...>/       a build being written; never pointed at

A rebuild writes a new folder (`staging_folder`), then swaps the pointer (`commit_build`, or `put_build`
under a name chosen beforehand), keeps the previous build (a reader may still be opening it) and deletes
older ones. Readers retry when the pointer moved under them. The index is a cache:
anything unreadable is rebuilt from the content. No whoosh import here.

An index folder may come from anywhere (an offline bundle is one), so every file of it is read as a regular
file, with a size limit (`search.safefile`). whoosh keeps pickles, which run code when read: it opens only
a whoosh index sealed by this user (`search.seal`), and builds one from `documents.json` for any other
(`search.cache`). An exported copy (`export_build`) carries no whoosh index at all.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, TypeVar

from build_kb.core.files import replace_retrying, write_atomic
from search.errors import IndexUnavailable
from search.safefile import KIB, read_json, read_limited

POINTER = "CURRENT"
BUILDS = "builds"
MANIFEST = "manifest.json"
DOCUMENTS = "documents.json"
"""The searchable fields of every entry, from which a whoosh index can be built anywhere."""
WHOOSH = "whoosh"
"""The whoosh index's folder inside a build made on this machine."""
SEAL = "whoosh.seal"
"""The seal of a build's whoosh index (`search.seal`)."""
FORMAT = 4
"""Bumped whenever the layout or the schema changes; an index of another format is rebuilt."""
PARTIAL_PREFIX = ".partial-"
ABANDONED_AFTER = 3600.0
"""Seconds after which a partial build is taken for the leftover of a crash and deleted."""
READ_ATTEMPTS = 5
MAX_POINTER = 4 * KIB
MAX_MANIFEST = 64 * KIB

_BUILD_NAME = re.compile(r"[0-9]{20}-[0-9]+")
T = TypeVar("T")


class IndexMissing(IndexUnavailable):
    """No index has been built at this place."""


class IndexCorrupt(IndexUnavailable):
    """An index is there but cannot be read."""


def describe(error: BaseException) -> str:
    """An error in a few words, without the file name an OSError repeats (the message names the file)."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    if isinstance(error, KeyError):
        return f"no {error}"
    return str(error) or type(error).__name__


def _optional_text(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"expected a string, not {type(value).__name__}")
    return value


class Manifest(NamedTuple):
    """What a build records about itself."""

    format: int
    entries: int
    fingerprint: str | None
    """sha256 over the content files' relative paths and bytes; None when built without a content folder."""
    stat_signature: str | None
    """sha256 over the content files' paths, sizes and modification times: a cheap first check."""

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """Read a manifest.

        Raises:
            FileNotFoundError: there is none.
            IndexCorrupt: it is unreadable or of another format.
        """
        try:
            data = read_json(path, MAX_MANIFEST)
            manifest = cls(
                int(data["format"]),
                int(data["entries"]),
                _optional_text(data["fingerprint"]),
                _optional_text(data["stat_signature"]),
            )
        except FileNotFoundError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise IndexCorrupt(f"unreadable manifest {path.as_posix()}: {describe(error)}") from None
        if manifest.format != FORMAT:
            raise IndexCorrupt(f"index format {manifest.format}, this version reads format {FORMAT}")
        return manifest

    def write(self, path: Path) -> None:
        """Write the manifest atomically (a reader sees the old one or the new one)."""
        _atomic_write(path, json.dumps(self._asdict(), indent=2) + "\n")


class IndexBuild(NamedTuple):
    """One complete build under an index root."""

    root: Path
    name: str
    manifest: Manifest

    @property
    def path(self) -> Path:
        """The build's folder."""
        return self.root / BUILDS / self.name


def locate_index(path: Path) -> Path:
    """The index root for `path`: an index root itself, or an unpacked offline bundle holding one.

    A bundle is recognised as `path/index/` or `path/<folder>/index/` (the zip's top folder). A path holding
    none of these is returned as it is, as the place to build a new index.
    """
    if (path / POINTER).exists() or (path / BUILDS).is_dir():
        return path
    candidates = [path / "index"]
    if path.is_dir():
        candidates += sorted(child / "index" for child in path.iterdir() if child.is_dir())
    return next((c for c in candidates if (c / POINTER).is_file()), path)


def _atomic_write(target: Path, text: str) -> None:
    """Write beside `target`, then rename over it; retried while Windows has the target open."""
    write_atomic(target, text.encode("utf-8"))  # bytes: the same "\n" line ends on Windows


def read_pointer(root: Path) -> str | None:
    """The name of the current build, or None when there is no pointer.

    Raises:
        IndexCorrupt: the pointer holds something other than a build name.
    """
    try:
        text = read_limited(root / POINTER, MAX_POINTER).decode("utf-8", errors="replace").strip()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise IndexCorrupt(f"unreadable {(root / POINTER).as_posix()}: {describe(error)}") from None
    if not is_build_name(text):
        raise IndexCorrupt(f"{(root / POINTER).as_posix()} does not name a build")
    return text


def current_build(root: Path) -> IndexBuild:
    """The build the pointer names, retrying when a rebuild moves the pointer meanwhile.

    Raises:
        IndexMissing: nothing was ever built here.
        IndexCorrupt: the pointer or the build is unreadable.
    """
    for _ in range(READ_ATTEMPTS):
        name = read_pointer(root)
        if name is None:
            raise IndexMissing(f"no search index at {root.as_posix()}")
        try:
            return IndexBuild(root, name, Manifest.read(root / BUILDS / name / MANIFEST))
        except FileNotFoundError:
            if read_pointer(root) == name:
                raise IndexCorrupt(f"the current build {name} is missing from {root.as_posix()}") from None
    raise IndexCorrupt(f"the index at {root.as_posix()} kept changing while being opened")


def read_current(root: Path, reader: Callable[[IndexBuild], T]) -> T:
    """Call `reader` on the current build; if it fails because a rebuild swapped the build, try again.

    `reader` raises `FileNotFoundError` or `IndexCorrupt` when the build is gone or unreadable.
    """
    for _ in range(READ_ATTEMPTS):
        build = current_build(root)
        try:
            return reader(build)
        except (FileNotFoundError, IndexCorrupt) as error:
            if read_pointer(root) == build.name:
                if isinstance(error, IndexCorrupt):
                    raise
                raise IndexCorrupt(f"build {build.name} is incomplete: {error}") from None
    raise IndexCorrupt(f"the index at {root.as_posix()} kept changing while being read")


def staging_folder(root: Path) -> Path:
    """A new, empty folder to write a build into, beside the builds."""
    folder = root / BUILDS / f"{PARTIAL_PREFIX}{os.getpid()}-{os.urandom(4).hex()}"
    folder.mkdir(parents=True)
    return folder


def new_build_name() -> str:
    """The name of a build about to become current: the time (nanoseconds, 20 digits), then the process id.

    Names sort in the order builds became current; `put_build` relies on it.
    """
    return f"{time.time_ns():020d}-{os.getpid()}"


def is_build_name(text: str) -> bool:
    """Whether `text` has the form of a build's name (`new_build_name`)."""
    return _BUILD_NAME.fullmatch(text) is not None


def put_build(root: Path, staged: Path, name: str) -> None:
    """Move the complete build `staged` into `root` as `name` and make it current, keep the previous build,
    delete older ones.

    A build with a later name that is current already stays current: `name` may have been chosen a while
    before (`kb build` journals it), and another process may have made a newer build current meanwhile.
    Repeatable: done again with the same arguments after a crash at any point, it completes what it began;
    when `staged` is gone and `name` is not in `root` (pruned since), the index is left as it is, whole.
    Builds that Windows keeps open are left for a later prune.
    """
    final = root / BUILDS / name
    if staged.is_dir():
        final.parent.mkdir(parents=True, exist_ok=True)
        replace_retrying(staged, final)
    if not final.is_dir():
        return
    try:
        current = read_pointer(root)
    except IndexCorrupt:
        current = None
    if current is None or current < name:
        _atomic_write(root / POINTER, name + "\n")
    with contextlib.suppress(OSError):
        prune_builds(root, max(current or name, name))


def commit_build(root: Path, staged: Path) -> IndexBuild:
    """Make the complete build in `staged` the current one (`put_build`), named after the time of the swap."""
    manifest = Manifest.read(staged / MANIFEST)
    name = new_build_name()
    put_build(root, staged, name)
    return IndexBuild(root, name, manifest)


def prune_builds(root: Path, current: str) -> None:
    """Delete builds older than the one before `current`, and partial builds abandoned long ago.

    Files that Windows keeps open (a reader still using an old build) are left for a later rebuild.
    """
    import shutil  # only rebuilds need it; kept off the lookup path's imports

    folder = root / BUILDS
    names = sorted(p.name for p in folder.iterdir() if p.is_dir() and is_build_name(p.name))
    older = [name for name in names if name < current]
    for name in older[:-1]:
        shutil.rmtree(folder / name, ignore_errors=True)
    now = time.time()
    for partial in folder.glob(f"{PARTIAL_PREFIX}*"):
        try:
            abandoned = now - partial.stat().st_mtime > ABANDONED_AFTER
        except OSError:
            continue
        if abandoned:
            shutil.rmtree(partial, ignore_errors=True)


def export_build(root: Path, target: Path, stamp: int) -> Path:
    """Copy the current build of `root` into `target` as a self-contained index root, for the offline zip.

    The copy is the same bytes on any machine: its build is named after `stamp` (seconds since the epoch,
    the build date) rather than the time of the copy, and its manifest records no content fingerprint, so
    a bundle's index is used as it is rather than compared with (and rebuilt from) a local content folder.

    Returns:
        `target`.
    """
    import shutil

    build = current_build(root)
    name = f"{stamp * 1_000_000_000:020d}-0"
    copied = target / BUILDS / name
    # No whoosh index: its pickles would run code wherever it is opened; `search.cache` builds one there.
    top = str(build.path)
    shutil.copytree(build.path, copied, ignore=lambda folder, names: [WHOOSH, SEAL] if folder == top else [])
    Manifest(FORMAT, build.manifest.entries, None, None).write(copied / MANIFEST)
    _atomic_write(target / POINTER, name + "\n")
    return target


def content_changed(build: IndexBuild, content_root: Path) -> bool:
    """Whether the content differs from what `build` was built from.

    Sizes and times are compared first; only when they differ are the bytes hashed, so touching a file
    without changing it costs one hash, after which the new times are recorded. An index built without a
    content folder (no fingerprint) is taken as current.
    """
    recorded = build.manifest
    if recorded.fingerprint is None:
        return False
    # Imported here: reading a bundle, which records no content, never needs it.
    from build_kb.content.fingerprint import content_fingerprint, stat_signature

    signature = stat_signature(content_root)
    if signature == recorded.stat_signature:
        return False
    if content_fingerprint(content_root) != recorded.fingerprint:
        return True
    # A read-only bundle, or Windows holding the file: the next check hashes again.
    with contextlib.suppress(OSError):
        Manifest(FORMAT, recorded.entries, recorded.fingerprint, signature).write(build.path / MANIFEST)
    return False
