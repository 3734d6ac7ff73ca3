"""A whoosh index for any build, safe to open: built here, from the build's JSON data, in the per-user cache.

whoosh may open only an index that this user's kb wrote (`search.seal`). A build that carries its own
sealed whoosh index is searched as it is. For any other, an offline bundle or an index folder copied from
elsewhere, the whoosh index is built on this machine from the build's `documents.json` and code map, which
are plain JSON, and kept in the cache folder under the sha256 of that data, so that it is built once per
content, not once per search. Layout::

    <cache>/indexes/builds/<sha256>/         manifest.json, codemap/ (a copy), whoosh/
    <cache>/indexes/builds/.partial-<...>/   an entry being built; renamed into place when complete

The cache keeps the `KEEP` entries used last, and none unused for `UNUSED_FOR` seconds. When the cache
folder cannot be written, the index is built in a temporary folder and deleted after the search.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from search import ahead
from search.codemap import FOLDER, MAX_FILE, SHARDS
from search.results import Hit
from search.safefile import MIB, parse_json, read_chunks, read_limited
from search.seal import cache_folder, check_ahead, private_folder, sealed_here
from search.store import (
    BUILDS,
    DOCUMENTS,
    FORMAT,
    MANIFEST,
    PARTIAL_PREFIX,
    SEAL,
    WHOOSH,
    IndexBuild,
    IndexCorrupt,
    Manifest,
    describe,
)

T = TypeVar("T")
Notify = Callable[[str], None]

CACHE_VERSION = 1
"""Bumped whenever the whoosh index built from the same data changes in a way the key below misses (the key
covers the format, the fields and the source of the modules that build the index)."""
INDEXES = "indexes"
MAX_DOCUMENTS = 256 * MIB
"""Largest documents.json read (10,000 entries make about 15 MiB)."""
KEEP = 8
UNUSED_FOR = 30 * 24 * 3600.0
ABANDONED_AFTER = 3600.0
CODEMAP_FILES = (*(f"{n:02d}.json" for n in range(SHARDS)), "names.json")
"""The code map files a search reads (the triage file it does not)."""
_AHEAD = "search-data"
_CHUNK = 1 << 20


def _quiet(message: str) -> None:
    """The default `notify`: say nothing."""


class _Data(NamedTuple):
    """The searchable data of a build, read once: the bytes that are hashed are the bytes that are used."""

    digest: str
    """sha256 of the files' names, sizes and bytes."""
    documents: bytes
    codemap: dict[str, bytes]


@functools.cache
def _builder_key() -> bytes:
    """What the whoosh index built from given data depends on, besides the data: the format, the fields and
    the code that builds it (a changed schema or analyzer gives new cache entries, never a stale one)."""
    import search.analyzer
    import search.index

    fields = ",".join(search.index.FIELDS)
    builder = hashlib.sha256(f"kb-search-cache {CACHE_VERSION} {FORMAT} {fields}\0".encode())
    for module in (search.index, search.analyzer):
        with contextlib.suppress(OSError, TypeError):
            builder.update(Path(str(module.__file__)).read_bytes())
    return builder.digest()


def _data_files(build: IndexBuild) -> Iterator[tuple[str, Path, int]]:
    """The files of a build's searchable data: (name in the digest, path, size limit), in digest order."""
    yield DOCUMENTS, build.path / DOCUMENTS, MAX_DOCUMENTS
    for name in CODEMAP_FILES:
        yield f"{FOLDER}/{name}", build.path / FOLDER / name, MAX_FILE


def _unreadable(path: Path, error: OSError) -> IndexCorrupt:
    return IndexCorrupt(f"unreadable search data {path.as_posix()}: {describe(error)}")


def _read_data(build: IndexBuild) -> _Data:
    """The build's documents and code map, each file read as a regular file with a size limit.

    Raises:
        FileNotFoundError: a file is missing (the build may have been swapped away).
        IndexCorrupt: a file is no regular file, or too large.
    """
    digest = hashlib.sha256()
    read: dict[str, bytes] = {}
    for name, path, limit in _data_files(build):
        try:
            read[name] = data = read_limited(path, limit)
        except FileNotFoundError:
            raise
        except OSError as error:
            raise _unreadable(path, error) from None
        digest.update(data)
        digest.update(f"\0{name}\0{len(data)}\0".encode())  # after the bytes, as `_data_digest` can
    documents = read.pop(DOCUMENTS)
    return _Data(digest.hexdigest(), documents, {name.split("/")[-1]: data for name, data in read.items()})


def _data_digest(build: IndexBuild) -> str:
    """`_read_data(build).digest`, the files streamed through a buffer rather than kept.

    For telling whether the cache holds an entry: no large allocation, and the reads and hashing release
    the GIL nearly all the time (`read_ahead`).

    Raises:
        FileNotFoundError, IndexCorrupt: as `_read_data`.
    """
    digest = hashlib.sha256()
    buffer = bytearray(_CHUNK)
    for name, path, limit in _data_files(build):
        count = 0
        try:
            for part in read_chunks(path, limit, buffer):
                digest.update(part)
                count += len(part)
        except FileNotFoundError:
            raise
        except OSError as error:
            raise _unreadable(path, error) from None
        digest.update(f"\0{name}\0{count}\0".encode())
    return digest.hexdigest()


def _entry_name(digest: str) -> str:
    """The cache entry of data of `digest`: named after the data and what builds a whoosh index from it."""
    return hashlib.sha256(_builder_key() + digest.encode("ascii")).hexdigest()


def read_ahead(build: IndexBuild) -> None:
    """Begin, in a background thread, the reading and hashing that `read_searchable(build)` will need: the
    seal check of a build with a seal, the data of one without (`search.ahead`)."""
    if (build.path / SEAL).is_file():
        check_ahead(build)
    else:
        ahead.begin(_AHEAD, build.path, lambda: _data_digest(build))


def _document(item: Any) -> dict[str, str]:
    """A document as whoosh takes it, every field checked; the stored hit rewritten from its parsed fields."""
    from search.index import FIELDS

    if not isinstance(item, dict) or set(item) != set(FIELDS):
        raise ValueError(f"a document needs exactly the fields {', '.join(FIELDS)}")
    if not all(isinstance(value, str) for value in item.values()):
        raise ValueError("every field of a document is a string")
    hit = parse_json(item["hit"])
    if not isinstance(hit, dict) or not isinstance(hit.get("codes"), list):
        raise ValueError("a document's hit is not an entry's result fields")
    summary = Hit.from_json(hit).summary()
    return {**item, "hit": json.dumps(summary, ensure_ascii=False)}


def _documents(data: bytes, path: Path) -> list[dict[str, str]]:
    """The documents of a documents.json, checked.

    Raises:
        IndexCorrupt: it is not JSON, not of this format, or a document is malformed.
    """
    try:
        parsed = parse_json(data)
        if not isinstance(parsed, dict) or parsed.get("format") != FORMAT:
            raise ValueError(f"not a documents file of format {FORMAT}")
        items = parsed.get("documents")
        if not isinstance(items, list):
            raise ValueError("no list of documents")
        return [_document(item) for item in items]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise IndexCorrupt(f"unreadable search data {path.as_posix()}: {describe(error)}") from None


def _complete(root: Path, digest: str) -> IndexBuild | None:
    """The cache entry for `digest` under `root` if it is complete (its manifest is written last)."""
    try:
        manifest = Manifest.read(root / BUILDS / digest / MANIFEST)
    except (FileNotFoundError, IndexCorrupt):
        return None
    return IndexBuild(root, digest, manifest)


def _build_entry(root: Path, entry: str, data: _Data, docs: list[dict[str, str]]) -> IndexBuild:
    """Write the cache entry `entry` of `data` under `root` (a partial folder, renamed into place when
    complete).

    Raises:
        OSError: the cache cannot be written.
    """
    import shutil

    from search.index import write_whoosh

    builds = private_folder(root / BUILDS)
    partial = builds / f"{PARTIAL_PREFIX}{os.getpid()}-{os.urandom(4).hex()}"
    partial.mkdir()
    try:
        (partial / FOLDER).mkdir()
        for name, raw in data.codemap.items():
            (partial / FOLDER / name).write_bytes(raw)
        (partial / WHOOSH).mkdir()
        write_whoosh(docs, partial / WHOOSH, seed=entry)
        Manifest(FORMAT, len(docs), None, None).write(partial / MANIFEST)
        try:
            partial.rename(builds / entry)
        except OSError:
            if _complete(root, entry) is None:  # not another process finishing the same entry first
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    _prune(builds, keep=entry)
    built = _complete(root, entry)
    if built is None:
        raise OSError(f"the search cache entry {(builds / entry).as_posix()} vanished")
    return built


def _prune(builds: Path, keep: str) -> None:
    """Delete entries beyond the `KEEP` used last, entries unused for long, and abandoned partial entries."""
    import shutil

    now = time.time()
    aged: list[tuple[float, Path]] = []
    for path in builds.iterdir():
        try:
            used = path.stat().st_mtime
        except OSError:
            continue
        if path.name.startswith(PARTIAL_PREFIX):
            if now - used > ABANDONED_AFTER:
                shutil.rmtree(path, ignore_errors=True)
        elif path.name != keep:
            aged.append((used, path))
    aged.sort(reverse=True)
    for index, (used, path) in enumerate(aged):
        if index >= KEEP - 1 or now - used > UNUSED_FOR:
            shutil.rmtree(path, ignore_errors=True)  # Windows keeps files in use: a later prune deletes them


@contextmanager
def _entry(build: IndexBuild, notify: Notify, *, fresh: bool = False) -> Iterator[IndexBuild]:
    """The cache entry holding a whoosh index of `build`'s data, built when missing (or when `fresh`)."""
    root = cache_folder() / INDEXES
    # An entry built anew (`fresh`) is named after the bytes read whole below: no digest to look up first.
    digest = None if fresh else ahead.take(_AHEAD, build.path, lambda: _data_digest(build))
    found = None if digest is None else _complete(root, _entry_name(digest))
    if found is None:
        # Read whole only to build from: an entry is named after the bytes it is built from, which may have
        # changed since they were hashed (and then an entry may exist under their new digest).
        data = _read_data(build)
        if digest is not None and data.digest != digest:
            found = _complete(root, _entry_name(data.digest))
    if found is not None:
        with contextlib.suppress(OSError):
            os.utime(found.path)  # the entry used last is pruned last
        yield found
        return
    name = _entry_name(data.digest)
    docs = _documents(data.documents, build.path / DOCUMENTS)
    if fresh:
        import shutil

        shutil.rmtree(root / BUILDS / name, ignore_errors=True)
    notify(f"indexing {build.root.as_posix()} for searching on this machine (once), in {root.as_posix()}")
    try:
        private_folder(root.parent)  # the cache folder: this user's only, where permissions exist
        built = _build_entry(root, name, data, docs)
    except OSError as error:
        notify(f"cannot write the search cache ({describe(error)}); indexing into a temporary folder")
        import tempfile

        with tempfile.TemporaryDirectory(prefix="kb-search-", ignore_cleanup_errors=True) as folder:
            yield _build_entry(Path(folder), name, data, docs)
        return
    yield built


def read_searchable(build: IndexBuild, reader: Callable[[IndexBuild], T], notify: Notify = _quiet) -> T:
    """`reader` applied to a build whose whoosh index may be opened: `build` itself when this user sealed
    it, else the cache entry built from its data.

    A cache entry that turns out unreadable is built again, once.

    Raises:
        IndexCorrupt: the build is unreadable, or its sealed whoosh index has changed since it was sealed.
        FileNotFoundError: the build was swapped away meanwhile.
    """
    if sealed_here(build):
        return reader(build)
    try:
        with _entry(build, notify) as entry:
            return reader(entry)
    except IndexCorrupt:
        pass  # the cache entry was damaged: build it anew (an unreadable build raises again below)
    with _entry(build, notify, fresh=True) as entry:
        return reader(entry)
