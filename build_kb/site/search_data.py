"""The site's search index, prebuilt at build time and split into script files the browser loads on demand.

Material for MkDocs builds its lunr index in the browser from `search/search_index.json` (16 MB at 5,000
entries): seconds of work before the first result, all of it on the page's own thread from file://, where
the worker runs in an iframe. `kb-search.js` (the page's search engine, a polyfill loaded before Material's
bundle) answers Material's search worker protocol itself instead, from the files written here:

    search/kb/manifest.js   the search settings, the number of documents, where each page's documents start,
                            their boosts, and which terms and documents each shard holds
    search/kb/t<N>.js       term shards: for each term (in JavaScript's sort order), its lunr term index and,
                            per field, the documents holding it with the term's frequency there
    search/kb/d<N>.js       document shards: location, title, text and tags, for the results on screen
    search/kb/lunr.js       lunr 2.3.9 (MkDocs' copy, the version Material bundles): its query parser and
                            token sets, so that queries mean what they mean to Material
    search/kb/index.json    what Material's bundle fetches over http instead of search_index.json (the
                            settings, no documents); search/search_index.js becomes the same for file://

A query loads the manifest, lunr.js, the term shards whose terms it can match and the document shards of
the results it shows, and no more. Scores are computed in the browser from the term frequencies with lunr's
formulas, so the ranking is Material's to the last digit: `tokenize` and `_split` here follow Material's
tokenizer (`extract`, `split`, `toLowerCase`) and lunr's pipeline functions exactly, and search settings
that cannot be reproduced that way (another language, the stemmer, a separator this module cannot
translate) leave the site to Material's own search.

`search/search_index.json` itself is left whole, for anything else that reads it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

log = logging.getLogger("mkdocs.plugins.kb")

ENGINE_SCRIPT = "assets/javascripts/kb-search.js"
"""The page's search engine; the plugin lists it as a polyfill, before the query rewriting."""
QUERY_SCRIPT = "assets/javascripts/kb-search-query.js"
DATA_DIR = "search/kb"
TERM_SHARD_BYTES = 32_000
DOC_SHARD_BYTES = 16_000
PIPELINE_FUNCTIONS = ("trimmer", "stopWordFilter", "stemmer")
"""lunr's default pipeline, in its order; Material removes the functions the configuration leaves out."""

# fmt: off
STOP_WORDS = frozenset([
    "a", "able", "about", "across", "after", "all", "almost", "also", "am", "among", "an", "and", "any",
    "are", "as", "at", "be", "because", "been", "but", "by", "can", "cannot", "could", "dear", "did", "do",
    "does", "either", "else", "ever", "every", "for", "from", "get", "got", "had", "has", "have", "he",
    "her", "hers", "him", "his", "how", "however", "i", "if", "in", "into", "is", "it", "its", "just",
    "least", "let", "like", "likely", "may", "me", "might", "most", "must", "my", "neither", "no", "nor",
    "not", "of", "off", "often", "on", "only", "or", "other", "our", "own", "rather", "said", "say",
    "says", "she", "should", "since", "so", "some", "than", "that", "the", "their", "them", "then",
    "there", "these", "they", "this", "tis", "to", "too", "twas", "us", "wants", "was", "we", "were",
    "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "yet", "you",
    "your",
])
# fmt: on
"""lunr.stopWordFilter's list (lunr 2.3.9)."""

_JS_SPACE = "\\t\\n\\x0b\\x0c\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
"""What `\\s` matches in a JavaScript regular expression (Python's `\\s` differs: \\x1c-\\x1f, \\x85, no \\ufeff)."""
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_TRIM_START = re.compile(r"^[^A-Za-z0-9_]+")
_TRIM_END = re.compile(r"[^A-Za-z0-9_]+\Z")
_ANGLES = re.compile("[<>]")


# --- the search settings --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Search settings (as Material writes them into search_index.json) that this module reproduces."""

    separator: re.Pattern[str]
    pipeline: tuple[str, ...]
    """lunr's index-time pipeline functions, in lunr's order."""
    fields: tuple[tuple[str, float], ...]
    """Field names in lunr's order, with their boosts as lunr applies them (`boost || 1`)."""


def js_separator(source: str) -> re.Pattern[str] | None:
    """The Python equivalent of JavaScript's `new RegExp(source)` for splitting, or None if unsure.

    Compiled with `re.ASCII`, so that `\\w`, `\\d` and `\\b` are ASCII-only as in JavaScript; `\\s`, `.`, `$`
    and named groups are rewritten; anything else Python reads differently fails to compile or is refused.
    """
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(source):
        char = source[i]
        if char == "\\":
            if i + 1 >= len(source):
                return None
            escaped = source[i + 1]
            if escaped == "s":
                out.append(_JS_SPACE if in_class else f"[{_JS_SPACE}]")
            elif escaped == "S":
                if in_class:
                    return None
                out.append(f"[^{_JS_SPACE}]")
            elif escaped in "cpPk" or (escaped == "u" and source[i + 2 : i + 3] == "{"):
                return None
            else:
                out.append(source[i : i + 2])
            i += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
            elif char == "[":
                out.append("\\[")
                i += 1
                continue
            out.append(char)
        elif char == "[":
            if source[i + 1 : i + 2] == "]" or source[i + 1 : i + 3] == "^]":
                return None  # JavaScript's empty and any-character classes
            in_class = True
            out.append(char)
            if source[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
        elif char == ".":
            out.append("[^\\n\\r\\u2028\\u2029]")
        elif char == "$":
            out.append("\\Z")
        elif source.startswith("(?<", i) and source[i + 3 : i + 4] not in ("=", "!"):
            out.append("(?P<")
            i += 3
            continue
        else:
            out.append(char)
        i += 1
    try:
        return re.compile("".join(out), re.ASCII)
    except re.error:
        return None


def _is_number(value: object) -> bool:
    """Whether a JSON value is a number, as lunr multiplies by it (a boost); JSON's true is no number."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def settings_from(config: Mapping[str, Any]) -> Settings | None:
    """The settings of a search_index.json's `config`, if this module reproduces Material's use of them."""
    lang, pipeline, fields = config.get("lang"), config.get("pipeline"), config.get("fields")
    separator = config.get("separator")
    if lang != ["en"] or not isinstance(pipeline, list) or not isinstance(separator, str):
        return None
    if not set(pipeline) <= {"trimmer", "stopWordFilter"}:
        return None  # the stemmer (or an unknown function) would have to be ported too
    if not isinstance(fields, dict) or not fields:
        return None
    boosts: list[tuple[str, float]] = []
    for name, spec in fields.items():
        boost = spec.get("boost") if isinstance(spec, dict) else None
        if "/" in name or (boost is not None and not _is_number(boost)):
            return None
        boosts.append((name, float(boost) if boost else 1.0))
    pattern = js_separator(separator)
    if pattern is None:
        return None
    return Settings(pattern, tuple(f for f in PIPELINE_FUNCTIONS if f in pipeline), tuple(boosts))


def _search_plugin_config(config: MkDocsConfig) -> Mapping[str, Any] | None:
    for plugin in config.plugins.values():
        if type(plugin).__module__.startswith("material.plugins.search"):
            return plugin.config  # type: ignore[no-any-return]
    return None


def index_config(config: MkDocsConfig) -> dict[str, Any] | None:
    """The `config` that Material's search plugin writes into search_index.json for this configuration.

    Read once the plugins' `on_config` has run (Material fills in its defaults there): the language,
    separator, pipeline, and fields with Material's default boosts. None when the site has no search.
    """
    search = _search_plugin_config(config)
    if search is None or not search.get("enabled", True):
        return None
    fields = dict(search.get("fields") or {})
    fields.setdefault("title", {"boost": 1e3})
    fields.setdefault("text", {"boost": 1e0})
    fields.setdefault("tags", {"boost": 1e6})
    return {
        "lang": list(search.get("lang") or []),
        "separator": search.get("separator"),
        "pipeline": list(search.get("pipeline") or []),
        "fields": {name: dict(spec) for name, spec in fields.items()},
    }


def supported_config(config: MkDocsConfig) -> Settings | None:
    """The settings of the site's search, if it uses Material's search plugin in a way this module reproduces."""
    plain = index_config(config)
    return None if plain is None else settings_from(plain)


def configure(config: MkDocsConfig) -> bool:
    """List the engine among the polyfills, before the query rewriting, when the search settings allow it."""
    if supported_config(config) is None:
        log.info("kb: the site's search settings are left to Material's own search")
        return False
    polyfills = [str(p) for p in config.extra.get("polyfills", [])]
    if ENGINE_SCRIPT not in polyfills:
        at = polyfills.index(QUERY_SCRIPT) if QUERY_SCRIPT in polyfills else len(polyfills)
        polyfills.insert(at, ENGINE_SCRIPT)
    config.extra["polyfills"] = polyfills
    return True


# --- tokenizing as Material does --------------------------------------------------------------------------------


def _text_sections(value: str) -> Iterator[str]:
    """The text between the tags, as Material's `extract` cuts it (a stray ">" ends a "tag" of text, too)."""
    start = 0
    for found in _ANGLES.finditer(value):
        end = found.start()
        if found.group() == "<":
            if end > start:
                yield value[start:end]
                start = end
        else:
            start = end + 1
    if len(value) > start:
        yield value[start:]


def _split(text: str, separator: re.Pattern[str]) -> list[str]:
    """Material's `split`: the non-empty stretches between the separator's matches."""
    pieces: list[str] = []
    index = 0
    for match in separator.finditer(text):
        start, end = match.span()
        if start == end:  # after an empty match JavaScript moves on by one character, Python does not
            return _split_stepping(text, separator)
        if index < start:
            pieces.append(text[index:start])
        index = end
    if index < len(text):
        pieces.append(text[index:])
    return pieces


def _split_stepping(text: str, separator: re.Pattern[str]) -> list[str]:
    """`_split` for a text where the separator matches an empty string: the RegExp#exec loop, step by step."""
    pieces: list[str] = []
    index = position = 0
    length = len(text)
    while True:
        match = separator.search(text, position) if position <= length else None
        until = match.start() if match else length
        if index < until:
            pieces.append(text[index:until])
        if match is None:
            return pieces
        index = match.end()
        position = match.start() + 1 if match.end() == match.start() else match.end()


def tokenize(value: object, separator: re.Pattern[str]) -> list[str]:
    """The tokens of a document field, lowercased, as Material's tokenizer makes them (before the pipeline)."""
    if value is None:
        return []
    inputs = value if isinstance(value, list) else [value]
    tokens: list[str] = []
    for item in inputs:
        if not isinstance(item, str):
            raise _Unsupported(f"a field value that is not a string: {item!r}")
        for section in _text_sections(item):
            tokens.extend(token.lower() for token in _split(section, separator))
    return tokens


def run_pipeline(tokens: list[str], functions: Sequence[str]) -> list[str]:
    """lunr's index pipeline, limited to the trimmer and the stop word filter (an emptied token stays)."""
    for function in functions:
        if function == "trimmer":
            tokens = [_TRIM_END.sub("", _TRIM_START.sub("", t)) for t in tokens]
        elif function == "stopWordFilter":
            tokens = [t for t in tokens if t not in STOP_WORDS]
        else:
            raise _Unsupported(f"pipeline function {function}")
    return tokens


class _Unsupported(Exception):
    """The search index holds something this module does not reproduce exactly."""


# --- the index ----------------------------------------------------------------------------------------------------


@dataclass
class Index:
    """Everything lunr would compute from the documents, short of the scores."""

    settings: Settings
    docs: list[dict[str, Any]]
    page_starts: list[int]
    """Index of each page's first document (its article); a page's documents are consecutive."""
    terms: dict[str, int] = field(default_factory=dict)
    """Term -> lunr's term index (the order in which the terms first appear)."""
    postings: dict[str, list[array[int]]] = field(default_factory=dict)
    """Term -> per field, interleaved (document, term frequency) pairs in document order."""


def _pages(docs: Sequence[Mapping[str, Any]]) -> list[int]:
    """Where each page starts, checking what Material's document map assumes (else the ranking differs)."""
    starts: list[int] = []
    seen_paths: set[str] = set()
    seen_locations: set[str] = set()
    current = None
    for number, doc in enumerate(docs):
        location = doc.get("location")
        if not isinstance(location, str) or location in seen_locations:
            raise _Unsupported(f"document {number}: missing or repeated location {location!r}")
        seen_locations.add(location)
        path = location.split("#")[0]
        if path != current:
            if path in seen_paths or location != path:
                raise _Unsupported(f"document {number}: page {path} is not one run starting with its article")
            seen_paths.add(path)
            starts.append(number)
            current = path
        for key in ("title", "text"):
            if not isinstance(doc.get(key), str):
                raise _Unsupported(f"document {number}: {key} is not a string")
        tags = doc.get("tags")
        if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
            raise _Unsupported(f"document {number}: tags are not a list of strings")
        boost = doc.get("boost")
        if boost is not None and not _is_number(boost):
            raise _Unsupported(f"document {number}: boost {boost!r} is not a number")
    return starts


def build_index(search_index: Mapping[str, Any]) -> Index | None:
    """The index of a search_index.json's contents, or None when the site must keep Material's search."""
    settings = settings_from(search_index.get("config") or {})
    docs = search_index.get("docs")
    if settings is None or not isinstance(docs, list):
        return None
    try:
        index = Index(settings, docs, _pages(docs))
        names = [name for name, _ in settings.fields]
        terms, postings = index.terms, index.postings
        for number, doc in enumerate(docs):
            for slot, name in enumerate(names):
                # Counter keeps the order of first occurrence, the order in which lunr numbers new terms.
                counts = Counter(run_pipeline(tokenize(doc.get(name), settings.separator), settings.pipeline))
                for term, frequency in counts.items():
                    if term not in terms:
                        terms[term] = len(terms)
                        postings[term] = [array("I") for _ in names]
                    postings[term][slot].extend((number, frequency))
    except _Unsupported as reason:
        log.warning("kb: the site keeps Material's own search: %s", reason)
        return None
    return index


# --- writing it ---------------------------------------------------------------------------------------------------


def _varint(value: int, out: list[str]) -> None:
    while True:
        low = value & 31
        value >>= 5
        if value:
            out.append(_ALPHABET[low | 32])
        else:
            out.append(_ALPHABET[low])
            return


def encode_postings(pairs: array[int]) -> str:
    """Interleaved (document, frequency) pairs as text: per pair the gap to the previous document (minus one)
    shifted left by one, its low bit set when the frequency is over 1, then frequency - 2 in that case; each
    number in 5-bit groups, low group first, one character of `_ALPHABET` per group (32 = more follows)."""
    out: list[str] = []
    previous = -1
    for i in range(0, len(pairs), 2):
        document, frequency = pairs[i], pairs[i + 1]
        _varint((document - previous - 1) << 1 | (frequency > 1), out)
        if frequency > 1:
            _varint(frequency - 2, out)
        previous = document
    return "".join(out)


def encode_numbers(numbers: Iterable[int]) -> str:
    """Ascending numbers as gaps, in the same varint characters."""
    out: list[str] = []
    previous = 0
    for number in numbers:
        _varint(number - previous, out)
        previous = number
    return "".join(out)


def _utf16(term: str) -> bytes:
    return term.encode("utf-16-be", "surrogatepass")


def js_literal(value: Any) -> str:
    """`value` as a compact JavaScript literal (JSON, with the line and paragraph separators escaped: they
    end a string literal in older JavaScript engines)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _chunks(sizes: Sequence[int], limit: int) -> list[int]:
    """Start positions of consecutive runs of items whose sizes add up to about `limit` each."""
    starts: list[int] = []
    total = limit
    for position, size in enumerate(sizes):
        if total + size > limit and total:
            starts.append(position)
            total = 0
        total += size
    return starts


def _boost_runs(docs: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    runs: list[list[Any]] = []
    for doc in docs:
        boost = doc.get("boost")
        if runs and runs[-1][0] == boost:
            runs[-1][1] += 1
        else:
            runs.append([boost, 1])
    return runs


@dataclass(frozen=True)
class Written:
    """What `write_search_data` wrote."""

    documents: int
    terms: int
    term_shards: int
    doc_shards: int
    bytes: int


def lunr_source() -> str:
    """lunr.js 2.3.9 as MkDocs ships it (the same code Material bundles in its search worker)."""
    return resources.files("mkdocs.contrib.search").joinpath("templates/search/lunr.js").read_text("utf-8")


@dataclass(frozen=True)
class SearchFiles:
    """The files of `search/kb/`, and how many shards of each kind they hold."""

    files: dict[str, str]
    """Every file by name, deterministic for the same index."""
    term_shards: int
    doc_shards: int


def files_for(index: Index, search_config: Mapping[str, Any]) -> SearchFiles:
    """Every file of `search/kb/` for the index, deterministic for the same index."""
    names = [name for name, _ in index.settings.fields]
    ordered = sorted(index.terms, key=_utf16)
    encoded = [",".join(encode_postings(p) for p in index.postings[term]) for term in ordered]
    term_starts = _chunks(
        [len(t) + len(p) + 12 for t, p in zip(ordered, encoded, strict=True)], TERM_SHARD_BYTES
    )
    doc_rows = [
        [d["location"], d["title"], d["text"], *([d["tags"]] if "tags" in d else [])] for d in index.docs
    ]
    doc_texts = [js_literal(row) for row in doc_rows]
    doc_starts = _chunks([len(text) for text in doc_texts], DOC_SHARD_BYTES)

    shards: dict[str, str] = {}
    for number, start in enumerate(term_starts):
        end = term_starts[number + 1] if number + 1 < len(term_starts) else len(ordered)
        payload = {
            "t": ordered[start:end],
            "i": [index.terms[t] for t in ordered[start:end]],
            "p": encoded[start:end],
        }
        shards[f"t{number}.js"] = js_literal(payload)
    for number, start in enumerate(doc_starts):
        end = doc_starts[number + 1] if number + 1 < len(doc_starts) else len(doc_texts)
        shards[f"d{number}.js"] = "[" + ",".join(doc_texts[start:end]) + "]"
    digest = hashlib.sha256()
    for name in sorted(shards):
        digest.update(name.encode() + b"\0" + shards[name].encode("utf-8") + b"\0")
    manifest = {
        "config": search_config,
        "fields": names,
        "boosts": [boost for _, boost in index.settings.fields],
        "pipeline": list(index.settings.pipeline),
        "count": len(index.docs),
        "pages": encode_numbers(index.page_starts),
        "docBoosts": _boost_runs(index.docs),
        "terms": [ordered[start] for start in term_starts],
        "docs": doc_starts,
    }
    digest.update(js_literal(manifest).encode("utf-8"))
    build = digest.hexdigest()[:16]
    manifest["id"] = build
    files = {
        name: f"__kbSearchData({js_literal(name.removesuffix('.js'))},{js_literal(build)},{text});\n"
        for name, text in shards.items()
    }
    files["manifest.js"] = f'__kbSearchData("manifest",{js_literal(build)},{js_literal(manifest)});\n'
    files["lunr.js"] = lunr_source()
    files["index.json"] = js_literal({"config": search_config, "docs": []})
    return SearchFiles(files, len(term_starts), len(doc_starts))


def write_search_data(site_dir: Path) -> Written | None:
    """Write `search/kb/` from the site's search_index.json, and make search_index.js as small.

    Returns None when the site keeps Material's own search: the manifest then says so, index.json is the whole
    search index, and kb-search.js hands every message to Material's worker.
    """
    source = site_dir / "search" / "search_index.json"
    target = site_dir / DATA_DIR
    if target.exists():
        shutil.rmtree(target)
    if not source.is_file():
        return None
    text = source.read_text("utf-8")
    search_index = json.loads(text)
    index = build_index(search_index)
    target.mkdir(parents=True)
    if index is None:
        # kb-search.js finds no index in the manifest and hands every message to Material's own worker.
        (target / "manifest.js").write_text('__kbSearchData("manifest","",{"fallback":true});\n', "utf-8")
        (target / "index.json").write_text(text, "utf-8")
        return None
    written = files_for(index, search_index["config"])
    files = written.files
    total = 0
    for name, content in files.items():
        data = content.encode("utf-8")
        (target / name).write_bytes(data)
        total += len(data)
    inline = site_dir / "search" / "search_index.js"
    # Written by the offline plugin for file://: Material's bundle loads it on every page.
    if inline.is_file():
        inline.write_text(f"var __index = {files['index.json']}", "utf-8")
    return Written(
        documents=len(index.docs),
        terms=len(index.terms),
        term_shards=written.term_shards,
        doc_shards=written.doc_shards,
        bytes=total,
    )
