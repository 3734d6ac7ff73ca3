"""Moving files into place on any system: Windows refuses a rename while another process holds the file."""

from __future__ import annotations

import errno
import os
import sys
import time
from pathlib import Path


def replace_retrying(source: Path, target: Path, *, attempts: int = 40, pause: float = 0.005) -> None:
    """`os.replace(source, target)`, tried again for a moment on PermissionError.

    On Windows a reader, an indexer or an antivirus scanner holding `target` (or a file inside a folder)
    makes the rename fail for as long as it holds it, usually milliseconds; elsewhere the first try succeeds.
    The waits grow linearly: 40 attempts at 5 ms add up to about four seconds.
    """
    for attempt in range(1, attempts + 1):
        try:
            source.replace(target)
            return
        except PermissionError:
            if attempt == attempts:
                raise
            time.sleep(pause * attempt)


def write_atomic(target: Path, data: bytes) -> None:
    """Write `data` beside `target`, flush it to disk, then rename it over `target`.

    A reader, or a process killed at any moment, sees the old file or the new one, never part of one. The
    temporary file is named `<target name>.<pid>-<random>.tmp` and removed when the write fails.
    """
    temp = target.with_name(f"{target.name}.{os.getpid()}-{os.urandom(4).hex()}.tmp")
    try:
        with temp.open("wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        replace_retrying(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def same_filesystem(first: Path, second: Path) -> bool:
    """Whether two existing paths are on one filesystem, so that a rename between them cannot fail EXDEV."""
    return first.stat().st_dev == second.stat().st_dev


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths in one atomic step, where the system can (Linux: renameat2 RENAME_EXCHANGE).

    Returns False, having changed nothing, where it cannot (another system, an old C library, a filesystem
    without the flag); the caller then falls back on two renames.

    Raises:
        OSError: the swap was possible but failed (permissions, a path gone).
    """
    if sys.platform != "linux":
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    result = renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))
