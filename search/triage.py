"""Log triage: stream a log line by line and name the entries its error codes and known lines point at.

Logs can be hundreds of megabytes, so nothing here reads a whole file: lines are decoded one at a time and
at most `MAX_LINE` characters of a line are looked at. Encodings seen on Windows are handled: UTF-8 (with
or without a BOM), UTF-16 LE/BE (with a BOM, or sniffed from the zero bytes of ASCII text) and the legacy
code page, cp1252, which any line that is not valid UTF-8 falls back to.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

import re2  # type: ignore[import-untyped]

from build_kb.core.codes import extract_codes
from search.codemap import TriageData
from search.results import Finding, Hit

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

MAX_LINE = 64 * 1024
"""Characters of a line that are scanned; the rest of a longer line is skipped."""
MAX_SHOWN = 500
"""Characters of a line kept in a finding."""

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class _Prefixed(io.RawIOBase):
    """A binary stream that yields some bytes already read, then the rest of another stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head = head
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        if self.head:
            count = min(len(view), len(self.head))
            view[:count] = self.head[:count]
            self.head = self.head[count:]
            return count
        data = self.rest.read(len(view))
        view[: len(data)] = data
        return len(data)


def sniff_encoding(head: bytes) -> tuple[str, int]:
    """(encoding, BOM length) from a file's first bytes; "utf-8" means UTF-8 with a cp1252 fallback."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding, len(bom)
    if len(head) >= 4 and head[1] == 0 and head[3] == 0 and head[0] and head[2]:
        return "utf-16-le", 0
    if len(head) >= 4 and head[0] == 0 and head[2] == 0 and head[1] and head[3]:
        return "utf-16-be", 0
    return "utf-8", 0


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _byte_lines(stream: io.BufferedIOBase) -> Iterator[str]:
    """Lines of UTF-8 (or cp1252) text, each cut to `MAX_LINE` bytes."""
    while chunk := stream.readline(MAX_LINE):
        if not chunk.endswith(b"\n"):
            while (rest := stream.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                pass  # skip the rest of an over-long line without holding it
        yield _decode(chunk.rstrip(b"\r\n"))


def _text_lines(stream: io.TextIOWrapper) -> Iterator[str]:
    """Lines of a decoded text stream, each cut to `MAX_LINE` characters."""
    while chunk := stream.readline(MAX_LINE):
        if not chunk.endswith("\n"):
            while (rest := stream.readline(MAX_LINE)) and not rest.endswith("\n"):
                pass
        yield chunk.rstrip("\r\n")


def read_lines(stream: BinaryIO) -> Iterator[str]:
    """Decoded lines of a binary stream, read one at a time, whatever the encoding; never raises on bytes."""
    head = stream.read(4)
    encoding, skip = sniff_encoding(head)
    buffered = io.BufferedReader(_Prefixed(head[skip:], stream), buffer_size=1 << 16)
    if encoding == "utf-8":
        yield from _byte_lines(buffered)
    else:
        yield from _text_lines(io.TextIOWrapper(buffered, encoding=encoding, errors="replace", newline=None))


_Trie = dict[str, "_Trie"]


def _re2_options() -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would print its own error lines on stderr
    return options


_OPTIONS = _re2_options()


def compile_pattern(pattern: str) -> Any:
    """A `regex: true` log pattern compiled by RE2, which matches in time linear in the line's length
    whatever the pattern (Python's `re` backtracks: `^(a+)+$` takes hours on a line of 40 a's and a '!').

    RE2 has no backreferences and no look-around; `kb check` reports a pattern that uses them.

    Raises:
        re2.error: RE2 cannot run the pattern.
    """
    return re2.compile(pattern, _OPTIONS)


def _literal_regex(literals: Iterable[str]) -> re.Pattern[str] | None:
    """A regex matching, at each position, the longest of `literals` starting there.

    The alternatives form a trie, so the cost per position does not grow with the number of patterns.
    """
    trie: _Trie = {}
    for text in literals:
        node = trie
        for char in text:
            node = node.setdefault(char, {})
        node[""] = {}
    if not trie:
        return None

    def render(node: _Trie) -> str:
        branches = [re.escape(char) + render(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return re.compile(f"(?=({render(trie)}))")


GENERIC_FACILITIES = frozenset({0, 4, 7})
"""FACILITY_NULL, ITF and WIN32: codes any component logs (E_ACCESSDENIED, ERROR_INSTALL_FAILURE); alone
on a line they do not tell which problem it is."""


@dataclass(frozen=True, slots=True)
class _Match:
    codes: tuple[str, ...]
    entries: dict[str, float]
    """Entry id -> how many signals on the line point at it."""
    strong: frozenset[str] = frozenset()
    """Entries a log pattern or a specific (not generic) code on the line points at."""
    patterns: frozenset[str] = frozenset()
    """Entries a log pattern on the line points at."""


class LogMatcher:
    """Matches single lines against the codes and log patterns of a knowledge base."""

    def __init__(self, data: TriageData, *, unknown_codes: bool = False) -> None:
        self.data = data
        self.unknown_codes = unknown_codes
        literals: dict[str, list[str]] = {}
        self.regexes: list[tuple[Any, tuple[str, ...]]] = []
        for rule in data.patterns:
            if rule.regex:
                try:
                    self.regexes.append((compile_pattern(rule.pattern), rule.entries))
                except re2.error:
                    continue  # validation reports it; a scan must not stop for it
            else:
                literals.setdefault(rule.pattern.lower(), []).extend(rule.entries)
        self.literals = {text: tuple(dict.fromkeys(ids)) for text, ids in literals.items()}
        self.lengths = sorted({len(text) for text in self.literals})
        self.literal_regex = _literal_regex(self.literals)
        self.order = {entry_id: index for index, entry_id in enumerate(data.entries)}

    def _literal_hits(self, line: str) -> Iterator[tuple[str, ...]]:
        if self.literal_regex is None:
            return
        lowered = line.lower()
        for match in self.literal_regex.finditer(lowered):
            longest = match.group(1)
            # The regex yields the longest literal at each position; shorter ones there are its prefixes.
            for length in self.lengths:
                if length > len(longest):
                    break
                if (ids := self.literals.get(longest[:length])) is not None:
                    yield ids

    def match(self, line: str) -> _Match | None:
        """The codes on `line` and the entries it points at, or None when it points at nothing."""
        entries: dict[str, float] = {}
        codes: dict[str, None] = {}
        strong: set[str] = set()
        for code in dict.fromkeys(found.code for found in extract_codes(line, self.data.names)):
            ids = self.data.codes.get(code.value, ())
            if ids or self.unknown_codes:
                codes[code.hex] = None
            for entry_id in ids:
                entries[entry_id] = entries.get(entry_id, 0.0) + 1.0
            if code.facility not in GENERIC_FACILITIES:
                strong.update(ids)
        signals = list(self._literal_hits(line))
        if self.regexes:
            encoded = line.encode("utf-8", "replace")  # once for every pattern; RE2 matches UTF-8 bytes
            signals += [ids for pattern, ids in self.regexes if pattern.search(encoded)]
        patterns = {entry_id for ids in signals for entry_id in ids}
        for ids in signals:
            for entry_id in ids:
                entries[entry_id] = entries.get(entry_id, 0.0) + 1.0
        if not entries and not codes:
            return None
        return _Match(tuple(codes), entries, frozenset(strong | patterns), frozenset(patterns))

    def _retired(self, entry_id: str) -> bool:
        hit = self.data.entries.get(entry_id)
        return hit is not None and hit.retired

    def hits(self, found: _Match) -> tuple[Hit, ...]:
        """Entries as results: most signals first, then in reading order, retired entries last; a line only
        a generic code ties to an entry is a low-confidence hint."""
        entries = found.entries
        ranked = sorted(
            entries,
            key=lambda entry_id: (self._retired(entry_id), -entries[entry_id], self.order.get(entry_id, 0)),
        )
        return tuple(
            self.data.entries[entry_id]._replace(
                score=entries[entry_id],
                match="pattern" if entry_id in found.patterns else "code",
                confidence="high" if entry_id in found.strong else "low",
            )
            for entry_id in ranked
            if entry_id in self.data.entries
        )


def scan(lines: Iterable[str], matcher: LogMatcher) -> Iterator[Finding]:
    """A finding for every line that carries a known code or a known log line (or, when the matcher asks
    for them, any failure code); success codes and numbers that are no codes are ignored."""
    for number, line in enumerate(lines, start=1):
        found = matcher.match(line)
        if found is None:
            continue
        shown = line if len(line) <= MAX_SHOWN else line[: MAX_SHOWN - 1] + "…"
        yield Finding(number, shown, found.codes, matcher.hits(found))


def triage(stream: BinaryIO, data: TriageData, *, unknown_codes: bool = False) -> Iterator[Finding]:
    """Scan a binary log stream; findings come as the lines are read."""
    return scan(read_lines(stream), LogMatcher(data, unknown_codes=unknown_codes))


@dataclass
class EntryEvidence:
    """What a scanned log says for one entry."""

    hit: Hit
    score: float = 0.0
    """Each line adds 1 shared among the entries it points at: a line only this entry explains adds 1,
    a line three entries share adds a third."""
    exclusive: int = 0
    """Lines that point at this entry alone."""
    strong: int = 0
    """Lines a log pattern or a specific code ties to it (not a generic code alone)."""
    lines: list[Finding] = field(default_factory=list)
    """The first lines pointing at it."""
    more: int = 0
    """Lines past those kept."""

    @property
    def confidence(self) -> str:
        """`high` when a line only this entry explains is tied to it by a pattern or a specific code."""
        return "high" if self.strong and self.exclusive else "low"

    def to_json(self) -> dict[str, Any]:
        """An `entries` item of the JSON output."""
        return {
            "id": self.hit.id,
            "title": self.hit.title,
            "source": self.hit.source,
            "url": self.hit.url,
            "confidence": self.confidence,
            "score": round(self.score, 4),
            "lines": [finding.line for finding in self.lines],
            "more_lines": self.more,
            **self.hit.status_fields(),
        }


@dataclass
class Evidence:
    """The entries a log points at, ranked by how much of the log only they explain.

    Memory stays bounded: at most `keep` lines are kept per entry, the rest counted.
    """

    keep: int = 20
    entries: dict[str, EntryEvidence] = field(default_factory=dict)
    unknown: list[Finding] = field(default_factory=list)
    """Lines with failure codes no entry carries (when asked for), the first `keep` of them."""
    unknown_more: int = 0
    findings: int = 0

    def add(self, finding: Finding) -> None:
        self.findings += 1
        if not finding.hits:
            if len(self.unknown) < self.keep:
                self.unknown.append(finding)
            else:
                self.unknown_more += 1
            return
        share = 1.0 / len(finding.hits)
        for hit in finding.hits:
            evidence = self.entries.get(hit.id)
            if evidence is None:
                evidence = self.entries[hit.id] = EntryEvidence(hit._replace(score=0.0))
            evidence.score += share
            evidence.exclusive += len(finding.hits) == 1
            evidence.strong += hit.confidence == "high"
            if len(evidence.lines) < self.keep:
                evidence.lines.append(finding)
            else:
                evidence.more += 1

    def ranked(self) -> list[EntryEvidence]:
        """Best first: confidence, then retired entries last, then score, then the first line pointing at
        the entry."""
        return sorted(
            self.entries.values(),
            key=lambda e: (
                e.confidence != "high",
                e.hit.retired,
                -e.score,
                e.lines[0].line if e.lines else 0,
            ),
        )
