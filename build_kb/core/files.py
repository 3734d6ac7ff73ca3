"""Moving files into place on any system: Windows refuses a rename while another process holds the file."""

from __future__ import annotations

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
