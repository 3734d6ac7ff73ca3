"""What searches return: typed, immutable results with the exact JSON shape scripts rely on.

No whoosh here: the code map, the whoosh search and log triage all produce these, and only the commands
format them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from build_kb.core.codes import Code
from build_kb.core.codeview import CodeView, entry_url

if TYPE_CHECKING:
    from build_kb.core.model import Entry


class Hit(NamedTuple):
    """One entry in a result list."""

    id: str
    title: str
    phase: str
    codes: tuple[str, ...]
    """Canonical hex of every code the entry carries (`0xC004F050`), in the entry's order."""
    source: str
    """The heading of the source document the entry comes from."""
    url: str
    """The entry's page, relative to the site root."""
    score: float
    """Relevance; results come ordered best first, and the order is what counts."""
    match: str = "text"
    """Why the entry is listed: `code` (it carries the query's code), `related-code` (it lists the code
    among codes with the same fix), `pattern` (a log line matched one of its patterns) or `text` (words)."""
    confidence: str = "low"
    """`high` when the entry answers the query; `low` for a suggestion worth a look."""
    status: str = "published"
    """The entry's status: `retired` entries are listed after the others, saying what replaces them
    (`draft` only in an index built with drafts)."""
    replaced_by: str | None = None
    """For a retired entry: the id of the entry that takes its place."""

    @property
    def retired(self) -> bool:
        """Whether the entry is retired (kept for old links; `replaced_by` is the one to read)."""
        return self.status == "retired"

    @classmethod
    def from_entry(cls, entry: Entry, score: float = 1.0) -> Hit:
        """The result fields of an entry."""
        codes = tuple(dict.fromkeys(Code(ref.value).hex for ref in entry.codes))
        source = entry.source.describe() if entry.source else ""
        hit = cls(entry.id, entry.title, entry.phase, codes, source, entry_url(entry.id), score)
        return hit if entry.status == "published" else _with_status(hit, entry.status, entry.replaced_by)

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], score: float = 1.0, *, match: str = "text", confidence: str = "low"
    ) -> Hit:
        """A hit from the stored summary written by `summary()`."""
        return cls(
            str(data["id"]),
            str(data["title"]),
            str(data["phase"]),
            tuple(str(c) for c in data["codes"]),
            str(data["source"]),
            str(data["url"]),
            score,
            match,
            confidence,
            *_status_from_json(data),
        )

    def summary(self) -> dict[str, Any]:
        """Every field but the score, for storing beside the index; `status` and `replaced_by` only for an
        entry that is not published (so a published entry's fields are what they always were)."""
        return {
            "id": self.id,
            "title": self.title,
            "phase": self.phase,
            "codes": list(self.codes),
            "source": self.source,
            "url": self.url,
            **self.status_fields(),
        }

    def status_fields(self) -> dict[str, Any]:
        """`status` and `replaced_by` for JSON, for an entry that is not published; nothing otherwise."""
        if self.status == "published":
            return {}
        return {"status": self.status, **({"replaced_by": self.replaced_by} if self.replaced_by else {})}

    def to_json(self) -> dict[str, Any]:
        """The result object of the JSON output."""
        return {
            **self.summary(),
            "score": round(self.score, 4),
            "match": self.match,
            "confidence": self.confidence,
        }


def _with_status(hit: Hit, status: str, replaced_by: str | None) -> Hit:
    return hit._replace(status=status, replaced_by=replaced_by)


def _status_from_json(data: Mapping[str, Any]) -> tuple[str, str | None]:
    """(status, replaced_by) of a stored summary; an index written before statuses holds published entries."""
    status = data.get("status", "published")
    replaced_by = data.get("replaced_by")
    return (
        status if status in ("draft", "published", "retired") else "published",
        replaced_by if isinstance(replaced_by, str) else None,
    )


def retired_last(hits: Iterable[Hit]) -> tuple[Hit, ...]:
    """The hits in their order, retired entries moved after the others (they are kept for old links)."""
    return tuple(sorted(hits, key=lambda hit: hit.retired))


class SearchResult(NamedTuple):
    """The answer to `kb lookup` or `kb search`."""

    query: str
    code: CodeView | None
    """The code the query is or contains, decoded; None when it holds no code."""
    hits: tuple[Hit, ...]
    known: bool = False
    """Whether the knowledge base has entries for `code`."""
    uncovered: tuple[CodeView, ...] = ()
    """Failure codes in the query that no entry carries or lists as related."""

    @property
    def covered(self) -> bool:
        """Whether an entry answers the query: it carries the query's code (or lists it as related), or
        its text matches strongly. Otherwise the hits are suggestions."""
        return any(hit.confidence == "high" or hit.match in ("code", "related-code") for hit in self.hits)

    def to_json(self) -> dict[str, Any]:
        """`{"query", "covered", "code", "uncovered_codes", "results"}`."""
        return {
            "query": self.query,
            "covered": self.covered,
            "code": self.code.to_json() if self.code else None,
            "uncovered_codes": [code.to_json() for code in self.uncovered],
            "results": [hit.to_json() for hit in self.hits],
        }


class Finding(NamedTuple):
    """A log line that points at entries."""

    line: int
    """1-based line number."""
    text: str
    """The line, without its line end, shortened when very long."""
    codes: tuple[str, ...]
    """Canonical hex of the failure codes on the line."""
    hits: tuple[Hit, ...]

    def to_json(self) -> dict[str, Any]:
        """A `findings` item of the JSON output."""
        return {
            "line": self.line,
            "text": self.text,
            "codes": list(self.codes),
            "results": [hit.to_json() for hit in self.hits],
        }
