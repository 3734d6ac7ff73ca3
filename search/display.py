"""Text from logs, indexes and queries made safe to print on a terminal.

A log line, an entry field of a bundle from elsewhere or a pasted query can hold terminal escape sequences
(OSC sets the window title, CSI clears the screen or moves the cursor) and other control characters. On a
terminal they would act, not show. `printable` removes complete escape sequences and replaces every other
C0 or C1 control character (tab aside), DEL and lone surrogates with U+FFFD. `json_text` is `json.dumps`
that also escapes what `ensure_ascii=False` leaves raw: DEL, the C1 controls (0x9B is CSI on its own),
lone surrogates and the two Unicode line separators.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

REPLACEMENT = "\ufffd"

# ESC [ params intermediates final | ESC ] ... (BEL or ST) | ESC P/X/^/_ ... ST | ESC and one character;
# and the same introduced by their C1 forms (CSI 0x9B, OSC 0x9D, DCS 0x90, SOS 0x98, PM 0x9E, APC 0x9F).
_SEQUENCE = (
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]"
)
_CONTROL = r"[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]"
_RAW_IN_JSON = r"[\x7f-\x9f\ud800-\udfff\u2028\u2029]"


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    """The pattern compiled on first use: most output is printable as it is, and compiling all three costs
    milliseconds of every command's start."""
    return re.compile(pattern)


def printable(text: str) -> str:
    """`text` without escape sequences, every other control character replaced (tabs kept)."""
    if text.isprintable():  # the common case: nothing to do
        return text
    return _compiled(_CONTROL).sub(REPLACEMENT, _compiled(_SEQUENCE).sub("", text))


def json_text(data: Any, *, indent: int | None = None) -> str:
    """JSON of `data` with non-ASCII text as it is, but nothing a terminal would act on left unescaped."""
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    return _compiled(_RAW_IN_JSON).sub(lambda match: f"\\u{ord(match.group()):04x}", text)
