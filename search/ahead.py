"""Work begun in a background thread before a command needs it, and taken, once, where it is needed.

For reading and hashing files: both release the GIL, so the work runs on another core while the command
goes on with what holds the GIL (checking the content folder, importing whoosh). No whoosh import here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, cast

T = TypeVar("T")


class _Begun(NamedTuple):
    thread: threading.Thread
    outcome: list[tuple[Any, Exception | None]]
    """Empty until the work ends: its answer, or the error it raised."""


_begun: dict[tuple[str, Path], _Begun] = {}


def begin(kind: str, path: Path, work: Callable[[], object]) -> None:
    """Run `work` in a background thread, for `take(kind, path, ...)` to collect (unless begun already)."""
    if (kind, path) in _begun:
        return
    outcome: list[tuple[Any, Exception | None]] = []

    def run() -> None:
        try:
            outcome.append((work(), None))
        except Exception as error:  # raised again where the answer is taken
            outcome.append((None, error))

    thread = threading.Thread(target=run, name=f"kb-{kind}", daemon=True)
    _begun[(kind, path)] = _Begun(thread, outcome)
    thread.start()


def take(kind: str, path: Path, work: Callable[[], T]) -> T:
    """The answer of the work begun for (`kind`, `path`), waited for, or its error raised; `work()` itself
    when none was begun (or it was taken already, or died of something other than an Exception).

    `work` must be what was begun: an answer is taken by name, not compared.
    """
    begun = _begun.pop((kind, path), None)
    if begun is not None:
        begun.thread.join()
        if begun.outcome:
            answer, error = begun.outcome[0]
            if error is not None:
                raise error
            return cast(T, answer)
    return work()
