"""Reading files of an index or a bundle that may come from anywhere: regular files only, size-limited.

An index folder can be an unpacked zip from another machine. Its pointer file could be a FIFO (opening it
for reading would wait for a writer forever) or a symlink to /dev/zero (reading it would never end), and
its JSON could nest a hundred thousand levels deep (the parser would raise RecursionError). Here a file is
opened without blocking, checked to be a regular file, and read up to a limit; JSON that nests too deeply is
a ValueError like any other malformed JSON. No other import of the project, so any module may use this.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

KIB = 1024
MIB = 1024 * KIB
_READ_ON = 64 * KIB
"""How much more to ask for when a file turns out longer than it was (it grows while read, or reads come short)."""

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO opens at once instead of waiting for a writer
    | getattr(os, "O_NOCTTY", 0)
)


class FileRefused(OSError):
    """A file that is not a regular file, or larger than the limit; an OSError, reported like one."""


def _refuse(path: Path, reason: str) -> FileRefused:
    return FileRefused(errno.EINVAL, reason, str(path))


def _check_regular(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise _refuse(path, "not a regular file")


def open_regular(path: Path) -> int:
    """A file descriptor for reading `path`, which must be a regular file (symlinks to one are fine).

    Checked before opening (so that no device or FIFO is even opened) and again on the open descriptor (in
    case the path was swapped meanwhile). The caller closes the descriptor.

    Raises:
        FileNotFoundError: there is no such file.
        FileRefused: it is not a regular file.
        OSError: it cannot be opened.
    """
    _check_regular(path, path.stat().st_mode)
    descriptor = os.open(path, _OPEN_FLAGS)
    try:
        _check_regular(path, os.fstat(descriptor).st_mode)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def read_limited(path: Path, limit: int) -> bytes:
    """The bytes of the regular file `path`, which may hold at most `limit` bytes.

    Raises:
        FileNotFoundError: there is no such file.
        FileRefused: it is not a regular file, or it is larger than `limit`.
        OSError: it cannot be read.
    """
    descriptor = open_regular(path)
    # Unbuffered, asking for the size fstat gives and one byte more (the file may have grown since): one
    # read call and one allocation of the right size in the usual case. A buffered read of `limit` bytes
    # allocated `limit` and took five times as long for a 15 MiB file.
    with os.fdopen(descriptor, "rb", buffering=0) as stream:
        size = os.fstat(stream.fileno()).st_size
        if size > limit:
            raise _refuse(path, f"larger than {_size(limit)}")
        parts: list[bytes] = []
        count = 0
        while count <= limit:
            part = stream.read(min(max(size + 1 - count, _READ_ON), limit + 1 - count))
            if not part:
                break
            parts.append(part)
            count += len(part)
    if count > limit:
        raise _refuse(path, f"larger than {_size(limit)}")
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_chunks(path: Path, limit: int, buffer: bytearray) -> Iterator[memoryview]:
    """The bytes of the regular file `path`, which may hold at most `limit`, read into `buffer` and yielded
    a view at a time (each valid until the next is asked for): for hashing a file without holding it.

    Raises:
        FileNotFoundError, FileRefused, OSError: as `read_limited` (a file over the limit before any byte
        past it is yielded).
    """
    descriptor = open_regular(path)
    view = memoryview(buffer)
    with os.fdopen(descriptor, "rb", buffering=0) as stream:
        if os.fstat(stream.fileno()).st_size > limit:
            raise _refuse(path, f"larger than {_size(limit)}")
        count = 0
        while part := stream.readinto(buffer):
            count += part
            if count > limit:  # it grew since
                raise _refuse(path, f"larger than {_size(limit)}")
            yield view[:part]


def parse_json(data: bytes | str) -> Any:
    """Parsed JSON; malformed JSON, deep nesting included, raises ValueError (never RecursionError)."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def read_json(path: Path, limit: int) -> Any:
    """Parsed JSON from the regular file `path` of at most `limit` bytes.

    Raises:
        FileNotFoundError: there is no such file.
        OSError: it is not a regular file, too large or unreadable (`FileRefused` for the first two).
        ValueError: it is not JSON (UnicodeDecodeError, JSONDecodeError and deep nesting included).
    """
    return parse_json(read_limited(path, limit))


def _size(limit: int) -> str:
    if limit >= MIB and limit % MIB == 0:
        return f"{limit // MIB} MiB"
    if limit >= KIB and limit % KIB == 0:
        return f"{limit // KIB} KiB"
    return f"{limit} bytes"
