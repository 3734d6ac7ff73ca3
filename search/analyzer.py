"""The text analyzer of the index, made to pickle the same way in every process.

whoosh pickles the schema, analyzers included, into the index's table of contents. Its stop filter keeps
the stop words as a frozenset, whose order (and so the pickled bytes) changes with Python's per-process
string hashing; the index would then differ between two builds of the same content. This stop filter
pickles its words sorted. It lives in a module of its own because unpickling an index imports it.
"""

from __future__ import annotations

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


def word_analyzer() -> Any:
    """Words split on non-word characters, lower-cased, stop words removed, stemmed (Porter)."""
    return (
        analysis.RegexTokenizer()
        | analysis.LowercaseFilter()
        | SortedStopFilter(stoplist=STOP_WORDS)
        | analysis.StemFilter()
    )
