"""The text analyzer of the index, made to pickle the same way in every process.

whoosh pickles the schema, analyzers included, into the index's table of contents. Its stop filter keeps
the stop words as a frozenset, whose order (and so the pickled bytes) changes with Python's per-process
string hashing; the index would then differ between two builds of the same content. This stop filter
pickles its words sorted. It lives in a module of its own because unpickling an index imports it.
"""

from __future__ import annotations

import re
from typing import Any

from search.engine import analysis

# whoosh's list drops "not" and "no", which carry the meaning of many messages ("not applicable").
STOP_WORDS = frozenset(analysis.STOP_WORDS - {"not", "no", "can", "will"})


class SortedStopFilter(analysis.StopFilter):  # type: ignore[misc]
    """whoosh's StopFilter, whose pickled state lists the stop words in sorted order."""

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["stops"] = sorted(state["stops"])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.stops = frozenset(state["stops"])


# A KB article number is one token however it is written: KB4528069, KB 4528069, kb4528069 or 4528069.
KB_NUMBER = r"(?i:\bKB[ \t]?+[0-9]{6,7}+\b)"
TOKEN = KB_NUMBER + r"|\w+(?:\.?\w+)*"
"""whoosh's default token expression, after the KB-number form."""
_KB_DIGITS = re.compile(r"(?i:kb)?[ \t]?([0-9]{6,7})")


def kb_token(text: str) -> str | None:
    """The single token of a KB article number (`kb4528069`), or None when `text` is none."""
    match = _KB_DIGITS.fullmatch(text)
    return f"kb{match.group(1)}" if match else None


class KbNumberFilter(analysis.Filter):  # type: ignore[misc]
    """Gives every form of a KB number the token `kb<digits>`."""

    def __call__(self, tokens: Any) -> Any:
        for token in tokens:
            if (number := kb_token(token.text)) is not None:
                token.text = number
            yield token


def word_analyzer() -> Any:
    """Words split on non-word characters, KB numbers as one token, lower-cased, stop words removed,
    stemmed (Porter)."""
    return (
        analysis.RegexTokenizer(TOKEN)
        | KbNumberFilter()
        | analysis.LowercaseFilter()
        | SortedStopFilter(stoplist=STOP_WORDS)
        | analysis.StemFilter()
    )
