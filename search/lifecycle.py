"""Keeping the index current: build it when missing, rebuild it when unreadable or older than the content.

The commands call `with_index`; it never prints, but reports what it does through `notify` (one line each),
and raises `IndexUnavailable` with one clear sentence when there is no way to get an index.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, TypeVar

from build_kb.core.errors import ValidationFailed
from search.errors import IndexUnavailable
from search.store import (
    IndexBuild,
    IndexCorrupt,
    IndexMissing,
    content_changed,
    current_build,
    locate_index,
    read_current,
)

T = TypeVar("T")
Notify = Callable[[str], None]
Ahead = Callable[[IndexBuild], None]

STALE = "content changed since the index was built; rebuilding"


def _quiet(message: str) -> None:
    """The default `notify`: say nothing."""


class Rebuilt(NamedTuple):
    """What `rebuild` did."""

    build: IndexBuild
    entries: int
    seconds: float


def rebuild(index_root: Path, content_root: Path) -> Rebuilt:
    """Validate the content and build a new index into `index_root`, swapping it in atomically.

    Raises:
        ValidationFailed: the content is invalid.
        IndexUnavailable: the content folder is missing, or the index cannot be written.
    """
    from build_kb.content.fingerprint import content_fingerprint, stat_signature
    from build_kb.content.validate import load_knowledge_base
    from search.index import build_index

    started = time.perf_counter()
    if not content_root.is_dir():
        raise IndexUnavailable(f"content folder {content_root.as_posix()} not found; pass --content")
    # Read the content's state before loading it: an edit made meanwhile then shows up as a change.
    state = (stat_signature(content_root), content_fingerprint(content_root))
    kb = load_knowledge_base(content_root)
    try:
        build_index(kb, index_root, content_root=content_root, content_state=state)
    except OSError as error:
        raise IndexUnavailable(f"cannot write the search index at {index_root.as_posix()}: {error}") from None
    return Rebuilt(current_build(index_root), len(kb), time.perf_counter() - started)


def _rebuild_for_reading(index_root: Path, content_root: Path) -> None:
    """`rebuild`, with invalid content reported as the reason the index is unavailable."""
    try:
        rebuild(index_root, content_root)
    except ValidationFailed as error:
        # The first problem, located, so that the message says where to look; kb check lists them all.
        first = f": {error.problems[0]}" if error.problems else ""
        more = f" and {len(error.problems) - 1} more" if len(error.problems) > 1 else ""
        raise IndexUnavailable(
            f"cannot build the search index: {error}{first}{more} (run: kb check {content_root.as_posix()})"
        ) from None


def _built_without_content(root: Path) -> bool:
    """Whether the current build records no content (a bundle's): it is used as it is, never rebuilt."""
    try:
        return current_build(root).manifest.fingerprint is None
    except IndexUnavailable:
        return False


def _usable_content(content_root: Path | None) -> Path | None:
    return content_root if content_root is not None and content_root.is_dir() else None


def ensure_index(
    index_root: Path, content_root: Path | None, notify: Notify = _quiet, ahead: Ahead | None = None
) -> Path:
    """The index root for `index_root` (or the bundle holding it), with a current, readable build.

    A missing or unreadable index is built from `content_root`; so is one older than the content. When the
    content has changed but is invalid, the index built before is kept and `notify` says so. `ahead` is
    given the current build before the content is compared with it, to begin work in the background that
    reading the build will need (`search.cache.read_ahead`).

    Raises:
        IndexUnavailable: there is no usable index and no valid content to build one from.
    """
    root = locate_index(index_root)
    content = _usable_content(content_root)
    try:
        build = current_build(root)
    except IndexUnavailable as error:
        missing = isinstance(error, IndexMissing)
        if content is None:
            hint = (
                "no content folder to build one from" if missing else "no content folder to rebuild it from"
            )
            raise IndexUnavailable(f"{error}, and {hint} (pass --index or --content)") from None
        notify(f"{error}; building it" if missing else f"search index unreadable ({error}); rebuilding")
        _rebuild_for_reading(root, content)
        return root
    if ahead is not None:
        ahead(build)
    if content is not None and content_changed(build, content):
        notify(STALE)
        try:
            _rebuild_for_reading(root, content)
        except IndexUnavailable as error:
            notify(f"{error}; using the index built before")
    return root


def with_index(
    index_root: Path,
    content_root: Path | None,
    reader: Callable[[IndexBuild], T],
    notify: Notify = _quiet,
    ahead: Ahead | None = None,
) -> T:
    """Call `reader` on a current build; if the build turns out unreadable, rebuild once and call it again.

    `reader` raises `IndexCorrupt` (or `FileNotFoundError`) for an unreadable build; `ahead` is as for
    `ensure_index`.

    Raises:
        IndexUnavailable: no usable index, and no valid content to build one from.
    """
    root = ensure_index(index_root, content_root, notify, ahead)
    try:
        return read_current(root, reader)
    except IndexCorrupt as error:
        content = _usable_content(content_root)
        if content is None:
            raise IndexUnavailable(
                f"{error}, and no content folder to rebuild it from (pass --content)"
            ) from None
        if _built_without_content(root):
            raise IndexUnavailable(
                f"{error}; an index built without a content folder, such as a bundle's, is never rebuilt"
            ) from None
        notify(f"search index unreadable ({error}); rebuilding")
        _rebuild_for_reading(root, content)
        return read_current(root, reader)
