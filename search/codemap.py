"""The code map: plain JSON beside the whoosh index, so that `kb lookup` and `kb triage` never import whoosh.

Layout of `codemap/` in a build:

    NN.json        codes whose value % 64 == NN:
                   {"<value>": {"names": [...], "entries": [hit summaries], "related": [hit summaries]}}
    names.json     {"names": {NAME: value}, "literals": {shown_as text, lower-cased: value}}
    triage.json    everything a log scan needs: names, codes -> entry ids, entry summaries, log patterns

Sharding keeps an exact lookup to reading one small file however large the knowledge base grows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from build_kb.core.codes import Code, CodeSyntaxError, extract_codes, parse_code, unwrap
from build_kb.core.codeview import CodeView, EntryLink, entries_say
from search.results import Hit, SearchResult, retired_last
from search.safefile import MIB, read_json
from search.store import IndexBuild, IndexCorrupt, describe

if TYPE_CHECKING:
    from build_kb.core.model import KnowledgeBase

FOLDER = "codemap"
SHARDS = 64


class PatternRule(NamedTuple):
    """A log pattern and the entries declaring it."""

    pattern: str
    regex: bool
    entries: tuple[str, ...]


class TriageData(NamedTuple):
    """What a log scan needs to know about the knowledge base."""

    names: Mapping[str, int]
    """Symbolic names, upper-cased, with their values."""
    codes: Mapping[int, tuple[str, ...]]
    """Code value -> ids of the entries carrying it, in reading order."""
    entries: Mapping[str, Hit]
    """Entry id -> its result fields, in reading order."""
    patterns: tuple[PatternRule, ...] = ()

    @classmethod
    def from_kb(cls, kb: KnowledgeBase) -> TriageData:
        """Take the data straight from a loaded knowledge base."""
        rules: dict[tuple[str, bool], list[str]] = {}
        for entry in kb.entries:
            for item in entry.log_patterns:
                ids = rules.setdefault((item.pattern, item.regex), [])
                if entry.id not in ids:
                    ids.append(entry.id)
        return cls(
            names=dict(kb.code_names),
            codes={value: tuple(e.id for e in entries) for value, entries in kb.entries_by_code.items()},
            entries={e.id: Hit.from_entry(e) for e in kb.entries},
            patterns=tuple(PatternRule(p, r, tuple(ids)) for (p, r), ids in rules.items()),
        )

    def to_json(self) -> dict[str, Any]:
        """Plain data for triage.json."""
        return {
            "names": dict(self.names),
            "codes": {str(value): list(ids) for value, ids in self.codes.items()},
            "entries": [hit.summary() for hit in self.entries.values()],
            "patterns": [
                {"pattern": r.pattern, "regex": r.regex, "entries": list(r.entries)} for r in self.patterns
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TriageData:
        """Read back what `to_json` wrote."""
        return cls(
            names={str(k): int(v) for k, v in data["names"].items()},
            codes={int(k): _texts(v) for k, v in data["codes"].items()},
            entries={str(item["id"]): Hit.from_json(item) for item in data["entries"]},
            patterns=tuple(
                PatternRule(_text(p["pattern"]), bool(p["regex"]), _texts(p["entries"]))
                for p in data["patterns"]
            ),
        )


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, not {type(value).__name__}")
    return value


def _texts(values: object) -> tuple[str, ...]:
    if not isinstance(values, list):
        raise TypeError(f"expected a list, not {type(values).__name__}")
    return tuple(_text(value) for value in values)


class Names(NamedTuple):
    """Symbolic names and literal strings that stand for codes."""

    names: Mapping[str, int]
    literals: Mapping[str, int]


def _shard(value: int) -> str:
    return f"{value % SHARDS:02d}.json"


def write_codemap(kb: KnowledgeBase, build_path: Path) -> None:
    """Write the code map of `kb` into the build folder `build_path`."""
    folder = build_path / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    shards: dict[str, dict[str, Any]] = {_shard(n): {} for n in range(SHARDS)}
    for value in sorted({*kb.entries_by_code, *kb.entries_by_related_code}):
        said = entries_say(kb.code_refs(value))
        item: dict[str, Any] = {
            "names": list(said.names),
            "entries": [Hit.from_entry(e).summary() for e in kb.entries_by_code.get(value, ())],
        }
        if said.messages:
            item["messages"] = list(said.messages)
        if said.shown_as:
            item["shown_as"] = list(said.shown_as)
        if related := kb.entries_by_related_code.get(value):
            item["related"] = [Hit.from_entry(e).summary() for e in related]
        shards[_shard(value)][str(value)] = item
    for name, codes in shards.items():
        _write_json(folder / name, codes)
    literals = dict(kb.code_spellings)
    _write_json(folder / "names.json", {"names": dict(kb.code_names), "literals": literals})
    _write_json(folder / "triage.json", TriageData.from_kb(kb).to_json())


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), "utf-8")


MAX_FILE = 128 * MIB
"""Largest code map file read (the triage file of 10,000 entries is about 3 MiB)."""


def _read_json(path: Path) -> Any:
    """Parsed JSON of a regular file of at most `MAX_FILE` bytes; FileNotFoundError passes through (the
    build may have been swapped away)."""
    try:
        return read_json(path, MAX_FILE)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as error:
        raise IndexCorrupt(f"unreadable code map {path.as_posix()}: {describe(error)}") from None


class CodeEntry(NamedTuple):
    """What the code map holds for one value."""

    names: tuple[str, ...]
    entries: tuple[Hit, ...]
    """Entries carrying the code."""
    related: tuple[Hit, ...] = ()
    """Entries listing the code among their `related_codes`."""
    messages: tuple[str, ...] = ()
    """System messages the entries give the code."""
    shown_as: tuple[str, ...] = ()
    """How the entries write the code."""

    def view(self, code: Code) -> CodeView:
        """The code as the entries carrying it describe it (`CodeView.of` from the knowledge base)."""
        links = [EntryLink(h.id, h.title, h.url) for h in self.entries]
        return CodeView.of(
            code, entries=links, names=self.names, messages=self.messages, shown_as=self.shown_as
        )


def read_code_entry(build: IndexBuild, value: int) -> CodeEntry | None:
    """The code map's record of a value, or None when no entry carries it or lists it as related."""
    data = _read_json(build.path / FOLDER / _shard(value))
    try:
        item = data.get(str(value)) if isinstance(data, dict) else None
        if item is None:
            return None
        return CodeEntry(
            tuple(str(name) for name in item["names"]),
            tuple(Hit.from_json(e, match="code", confidence="high") for e in item["entries"]),
            tuple(Hit.from_json(e, match="related-code", confidence="high") for e in item.get("related", ())),
            _texts(item.get("messages", [])),
            _texts(item.get("shown_as", [])),
        )
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise IndexCorrupt(f"malformed code map entry for {value}: {error}") from None


def read_names(build: IndexBuild) -> Names:
    """Symbolic names and literal strings of every code in the knowledge base."""
    data = _read_json(build.path / FOLDER / "names.json")
    try:
        return Names(
            {str(k): int(v) for k, v in data["names"].items()},
            {str(k): int(v) for k, v in data["literals"].items()},
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise IndexCorrupt(f"malformed names.json: {error}") from None


def read_triage(build: IndexBuild) -> TriageData:
    """Everything a log scan needs."""
    data = _read_json(build.path / FOLDER / "triage.json")
    try:
        return TriageData.from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise IndexCorrupt(f"malformed triage.json: {error}") from None


def lookup(build: IndexBuild, text: str) -> SearchResult:
    """The entries for the code written in `text`, and the code decoded.

    `text` is a code in any notation, a symbolic name (the content's or the error dictionary's), a string an
    entry declares for a code (`shown_as`), or pasted text holding codes (`Error: 0xC004F050`, slui's
    `0x2a 0x80070216`): the first failure code in it the knowledge base answers is taken, else the first
    one. Numeric notations are tried first, reading a single shard. Entries carrying the code come first
    (`match: code`), then entries listing it among codes with the same fix (`match: related-code`).

    Raises:
        CodeSyntaxError: `text` holds no code in any notation, and no name or literal anybody declares.
    """
    query = text.strip()
    read: dict[int, CodeEntry | None] = {}

    def record_of(value: int) -> CodeEntry | None:
        """The code map's record, each shard read once per lookup."""
        if value not in read:
            read[value] = read_code_entry(build, value)
        return read[value]

    candidates = _candidates(build, query, record_of)
    chosen = candidates[0]
    record: CodeEntry | None = None
    for code in candidates:
        record = record_of(code.value)
        if record is not None:
            chosen = code
            break
    hits = retired_last((*record.entries, *record.related)) if record else ()
    view = record.view(chosen) if record else CodeView.of(chosen)
    return SearchResult(query, view, hits, known=bool(hits), uncovered=() if hits else (view,))


def _candidates(build: IndexBuild, query: str, record_of: Callable[[int], CodeEntry | None]) -> list[Code]:
    """The codes `query` may mean, most likely first; raises CodeSyntaxError when it means none."""
    try:
        first = parse_code(query)
    except CodeSyntaxError:
        first = None
    if first is not None and record_of(first.value) is not None:
        return [first]
    names = read_names(build)
    literal = names.literals.get(query.strip("'\"`").casefold())
    if literal is not None:
        return [Code(literal)]
    if first is not None:
        return [first]
    try:
        return [parse_code(query, names.names)]
    except CodeSyntaxError as error:
        from build_kb.core import dictionary

        if (value := dictionary.value_of_name(unwrap(query))) is not None:
            return [Code(value)]
        found = list(dict.fromkeys(match.code for match in extract_codes(query, names.names)))
        if not found:
            raise error from None
        return found
