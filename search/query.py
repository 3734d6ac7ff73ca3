"""Free-text search: queries are built by hand from Term, Or, AndMaybe and Phrase, never parsed.

Pasted messages are full of quotes, colons, parentheses, `NOT`, `*` and `?`; whoosh's query parser would
turn those into operators, match everything or raise. Here the text is only ever analysed into words with
the index's own analyzer, so no input has any syntax.

Ranking: codes first. When the text holds a code the knowledge base knows (or a literal string an entry
declares for one), the results are the entries carrying it and the words only re-rank them; otherwise
the words are searched. Words are weighted by rarity, and for long pastes only the rarest few are
searched, within a budget of postings: an OR of every word of a long message is two orders of magnitude
slower and no better. Runs of the pasted words found verbatim in a title or message add a phrase boost.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import re
import struct
import zlib
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from build_kb.core.codes import Code, CodeSyntaxError, extract_codes, parse_code
from build_kb.core.codeview import CodeView
from search.analyzer import kb_token
from search.codemap import read_code_entry, read_names
from search.engine import AndMaybe, DefaultOr, Or, Phrase, Query, Term
from search.engine import index as whoosh_index
from search.index import PHRASE_FIELDS, SHARED_RUNS, TEMPLATE_ENTRIES, TEMPLATE_RUN, TEXT_FIELDS, WHOOSH
from search.results import Hit, SearchResult, retired_last
from search.safefile import MIB, read_json
from search.store import IndexBuild, IndexCorrupt
from search.union import BulkPostings, Scored, best_of_union

MAX_SHARED_RUNS = 256 * MIB
MAX_QUERY_CHARS = 20_000
"""Longer text is cut: the start of a paste identifies it as well as the whole."""
MAX_WORDS = 400
"""Distinct words looked up in the index, in order of appearance."""
RAREST = 8
"""Most words searched; for a long paste, the rarest third of its words up to this many."""
POSTINGS_BUDGET = 300
"""Postings a long paste's terms may read (or 5 % of the entries, if more); see `_budgeted`."""
PHRASE_WORDS = 12
"""A query this short is also searched as one phrase; longer ones as short windows around rare words."""
WINDOW = 4
PHRASE_BOOST = 3.0
TEMPLATE_SCAN = 64
"""Words at the start of a query examined for boilerplate."""
COVERAGE_WORDS = 24
"""Distinctive words of the query a hit is checked against for its confidence."""
STRONG_WORDS = 3
COMMON_SHARE = 0.3
COMMON_MIN_ENTRIES = 3
"""A word held by more than this share of the entries (and more than `COMMON_MIN_ENTRIES`) is common: it
does not count towards a match's confidence."""
GENERIC_FACILITIES = frozenset({0, 4, 7})
"""FACILITY_NULL, ITF and WIN32: codes that any component returns (E_ACCESSDENIED, ERROR_INSTALL_FAILURE)."""
TEXT_AGREEMENT = 0.7
"""Share of the query's distinctive words a text match must hold to answer the query."""
CODE_CONTEXT_WORDS = 4
CODE_AGREEMENT = 0.4
"""A code match is trusted unless the query has more than `CODE_CONTEXT_WORDS` distinctive words and the
entry holds fewer than this share of them."""

# What an unreadable whoosh index raises (it has no checksums): any of these while opening or searching
# means a rebuild, not a traceback.
CORRUPTION: tuple[type[BaseException], ...] = (
    whoosh_index.IndexError,
    OSError,
    EOFError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    struct.error,
    pickle.UnpicklingError,
    zlib.error,
    OverflowError,
    MemoryError,
)


class _Words(NamedTuple):
    """The word part of a query: one Term per (rare word, field holding it), and phrase boosts.

    `every_field` says the terms cover every field of their words (a short query's): an entry holding a
    phrase then holds its terms too, so the phrases can never add an entry the terms did not find.
    """

    terms: list[Query]
    phrases: list[Query]
    every_field: bool = False

    def query(self) -> Query:
        """The words as a query of their own: any of the terms, boosted where a phrase matches too."""
        if not self.terms:
            return Or(self.phrases)
        if self.every_field:
            # The same entries and scores as the lazy union below, but each phrase walks its own few
            # entries once instead of being asked about every entry the terms find; and asked for the best
            # ten, whoosh's lazy union of these phrases misses some of the entries they boost. `_Search.run`
            # scores this union in bulk (`search.union`).
            return Or([*self.terms, *self.phrases])
        # The phrases only re-rank what the terms found: a lazy union is checked on those entries alone.
        return AndMaybe(Or(self.terms), DefaultOr(self.phrases)) if self.phrases else Or(self.terms)


class _Found(NamedTuple):
    """A hit with the index's document number and why it was found."""

    hit: Hit
    docnum: int
    match: str


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NAME_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+")
_LITERAL = re.compile(r"[^\s'\"`,;]+")
_NOTATION_LIKE = re.compile(r"[0-9_]")
_LITERAL_EDGES = ".:;!?()[]{}<>"


def clean_text(text: str) -> str:
    """The text, cut to `MAX_QUERY_CHARS`, with lone surrogates and control characters replaced."""
    text = text[:MAX_QUERY_CHARS].encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub(" ", text)


def _corrupt(error: BaseException) -> IndexCorrupt:
    return IndexCorrupt(f"unreadable search index ({type(error).__name__}: {error})")


class IndexSearcher:
    """An open index for several queries in a row (a benchmark, a test); `search` opens one per query.

    Raises:
        FileNotFoundError: the build's index folder is gone (a rebuild swapped it away).
        IndexCorrupt: the index cannot be read.
    """

    def __init__(self, build: IndexBuild) -> None:
        folder = build.path / WHOOSH
        if not folder.is_dir():
            raise FileNotFoundError(folder)
        self.build = build
        self.folder = folder
        self._shared: frozenset[str] | None = None
        try:
            self.index = whoosh_index.open_dir(str(folder))
            self.searcher = self.index.searcher()
        except CORRUPTION as error:
            raise _corrupt(error) from None

    def __enter__(self) -> IndexSearcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the index files (Windows cannot delete an old build while they are open)."""
        self.searcher.close()
        self.index.close()

    def shared_runs(self) -> frozenset[str] | None:
        """The runs of words several entries' messages share (`search.index.SHARED_RUNS`), read on first use;
        None for an index written before they were (its runs are then searched as phrases)."""
        if self._shared is None:
            try:
                data = read_json(self.folder / SHARED_RUNS, MAX_SHARED_RUNS)
            except FileNotFoundError:
                return None
            except (OSError, ValueError) as error:
                raise _corrupt(error) from None
            if not isinstance(data, dict):
                raise IndexCorrupt(f"malformed {SHARED_RUNS}")
            if data.get("run") != TEMPLATE_RUN or data.get("entries") != TEMPLATE_ENTRIES:
                return None
            runs = data["runs"]
            if not isinstance(runs, list) or not all(isinstance(run, str) for run in runs):
                raise IndexCorrupt(f"malformed {SHARED_RUNS}")
            self._shared = frozenset(runs)
        return self._shared

    def search(self, text: str, *, limit: int = 10) -> SearchResult:
        """Entries for free text or a pasted message, best first; no input raises."""
        try:
            return _Search(self.searcher, self.build, self.shared_runs).run(clean_text(text), max(1, limit))
        except CORRUPTION as error:
            if isinstance(error, FileNotFoundError):
                raise
            raise _corrupt(error) from None


def search(build: IndexBuild, text: str, *, limit: int = 10) -> SearchResult:
    """Entries for free text or a pasted message, best first.

    Raises:
        FileNotFoundError: the build's index folder is gone (a rebuild swapped it away).
        IndexCorrupt: the index cannot be read.
    """
    with IndexSearcher(build) as searcher:
        return searcher.search(text, limit=limit)


def _no_runs() -> None:
    """No shared runs of words at hand: they are searched as phrases."""


class _Search:
    """One query against an open searcher."""

    def __init__(
        self, searcher: Any, build: IndexBuild, shared_runs: Callable[[], frozenset[str] | None] = _no_runs
    ) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.build = build
        self.shared_runs = shared_runs
        self.bulk = BulkPostings(searcher)

    def run(self, text: str, limit: int) -> SearchResult:
        matches = self._codes(text)
        codes = list(dict.fromkeys(code for code, _ in matches))
        known = [c for c in codes if self.reader.doc_frequency("codes", c.hex.lower())]
        related = [c for c in codes if c not in known and self._frequency("related", c.hex.lower())]
        literals = self._literals(text, {c.hex.lower() for c in known})
        code_terms = [c.hex.lower() for c in known] + literals
        analysed = self._analyse(text)
        # Codes are searched as codes: the words that spell them (known or not) never rank as words.
        spelled = set(self._analyse(" ".join([written for _, written in matches] + literals)))
        template = self._template_words(analysed)
        distinctive = [w for w in dict.fromkeys(analysed) if w not in spelled and w not in template]
        words = self._words(analysed, spelled | (template if distinctive else set()))
        hits: dict[str, _Found] = {}
        if code_terms:
            primary: Query = Or([Term("codes", term) for term in dict.fromkeys(code_terms)])
            # A lazy union, so that only the few entries carrying the code are scored for the words.
            ranking = DefaultOr([*words.terms, *words.phrases]) if words else None
            self._collect(AndMaybe(primary, ranking) if ranking else primary, limit, hits, "code")
        if related:
            self._collect(Or([Term("related", c.hex.lower()) for c in related]), limit, hits, "related-code")
        # A KB article number names one update: the entries mentioning it come before other word matches.
        articles = [w for w in dict.fromkeys(analysed) if kb_token(w) == w and self._anywhere(w)]
        if articles and len(hits) < limit:
            mentioned: Query = Or([Term(name, word) for word in articles for name in TEXT_FIELDS])
            ranking = DefaultOr([*words.terms, *words.phrases]) if words else None
            self._collect(AndMaybe(mentioned, ranking) if ranking else mentioned, limit, hits, "text")
        if words and len(hits) < limit:
            # The text ranks the rest: a code the query carries never hides entries its words point to.
            query = words.query()
            if words.every_field:  # a short query's one union: every match scored in bulk, same ranking
                self._add(best_of_union(self.bulk, query.subqueries, limit), hits, "text")
            else:
                self._collect(query, limit, hits, "text")
        uncovered = [c for c in codes if c not in known and c not in related]
        checked = [w for w in distinctive if not self._common(w)] or distinctive
        if not checked and not matches:
            checked = [w for w in dict.fromkeys(analysed) if w not in spelled]
        # What a generic code's own system message says ("Access is denied.") tells nothing about which
        # component failed: only the rest of the text can confirm that an entry for the code applies.
        generic = [c for c in known + related if c.facility in GENERIC_FACILITIES]
        # A query that is the code alone asks for the entries carrying it: those answer it.
        only_code = bool(generic) and len(generic) == len(known + related) and not distinctive
        context = [w for w in checked if w not in self._system_words(generic)]
        needs_context = bool(generic) and len(generic) == len(known + related) and not only_code
        rated = [
            found.hit._replace(
                match=found.match,
                confidence="high"
                if found.match == "text" and not uncovered and self._holds_any(found.docnum, articles)
                else self._confidence(
                    found, context if needs_context else checked, bool(uncovered), needs_context
                ),
            )
            for found in list(hits.values())[:limit]
        ]
        fallback = related[0] if related else codes[0] if codes else None
        shown = known[0] if known else self._literal_code(literals) or fallback
        info = None
        if shown is not None:
            record = read_code_entry(self.build, shown.value)
            info = record.view(shown) if record and record.entries else CodeView.of(shown)
        return SearchResult(
            text.strip(),
            info,
            retired_last(rated),
            known=bool(known or literals),
            uncovered=tuple(CodeView.of(code) for code in uncovered),
        )

    def _frequency(self, field: str, term: str) -> int:
        """How many entries hold `term` in `field`; 0 for a field an older index does not have."""
        return int(self.reader.doc_frequency(field, term)) if field in self.searcher.schema else 0

    def _template_words(self, analysed: Sequence[str]) -> set[str]:
        """Words of the query that stand in text several entries share word for word: a tool's boilerplate
        such as slmgr's hint to run slui.exe, or "The Software Licensing Service reported that".

        Such text says which tool printed the message, not which problem it reports, so it must not decide
        the ranking. A run of `TEMPLATE_RUN` words found verbatim in the messages of `TEMPLATE_ENTRIES` or
        more entries marks its words; only the start of a long paste is examined.
        """
        words = list(analysed[:TEMPLATE_SCAN])
        marked: set[str] = set()
        if len(words) < TEMPLATE_RUN:
            return marked
        shared = self.shared_runs()
        for start in range(len(words) - TEMPLATE_RUN + 1):
            window = words[start : start + TEMPLATE_RUN]
            if shared is not None:  # the runs the index found shared: the phrase search, done at build time
                if " ".join(window) in shared:
                    marked.update(window)
                continue
            if not all(self.reader.doc_frequency("messages", word) >= TEMPLATE_ENTRIES for word in window):
                continue
            if self._phrase_entries("messages", window, TEMPLATE_ENTRIES) >= TEMPLATE_ENTRIES:
                marked.update(window)
        return marked

    def _phrase_entries(self, field: str, words: Sequence[str], most: int) -> int:
        """How many entries hold the words in a row in `field`, counting up to `most` only."""
        matcher = Phrase(field, list(words)).matcher(self.searcher)
        found = 0
        while found < most and matcher.is_active():
            found += 1
            matcher.next()
        return found

    def _confidence(self, found: _Found, words: Sequence[str], uncovered_code: bool, generic: bool) -> str:
        """`high` when the entry answers the query, judged on the words that tell problems apart.

        A code match is high when the query is the code alone, or when the rest of the query agrees with
        the entry; for a specific code (a licensing or Windows Update code) a few unrelated words do not
        matter, but a generic one (Win32, E_ codes) needs its context confirmed. A text match needs most
        of the distinctive words, at least `STRONG_WORDS` of them, and no failure code in the query that
        the entry lacks.
        """
        checked = list(words)[:COVERAGE_WORDS]
        held = sum(self._holds(found.docnum, word) for word in checked)
        share = held / len(checked) if checked else 0.0
        if found.match in ("code", "related-code"):
            if generic:
                return "high" if held >= 1 and share >= CODE_AGREEMENT else "low"
            return "high" if len(checked) <= CODE_CONTEXT_WORDS or share >= CODE_AGREEMENT else "low"
        if uncovered_code:
            return "low"
        return "high" if held >= min(STRONG_WORDS, len(checked)) and share >= TEXT_AGREEMENT else "low"

    def _common(self, word: str) -> bool:
        """Whether the word is in so many entries that holding it says little ("error", "not")."""
        entries = int(self.reader.doc_count_all())
        most = max(int(self.reader.doc_frequency(name, word)) for name in TEXT_FIELDS)
        return most > max(COMMON_MIN_ENTRIES, COMMON_SHARE * entries)

    def _system_words(self, codes: Sequence[Code]) -> set[str]:
        """The words of the system messages the error dictionary gives these codes."""
        if not codes:
            return set()
        from build_kb.core import dictionary

        messages = [known.message or "" for code in codes for known in dictionary.describe(code.value)]
        names = [known.name for code in codes for known in dictionary.describe(code.value)]
        return set(self._analyse(" ".join([*messages, *names])))

    def _anywhere(self, word: str) -> bool:
        """Whether any entry holds the word in a text field."""
        return any(self.reader.doc_frequency(name, word) for name in TEXT_FIELDS)

    def _holds_any(self, docnum: int, words: Sequence[str]) -> bool:
        return any(self._holds(docnum, word) for word in words)

    def _holds(self, docnum: int, word: str) -> bool:
        """Whether the entry holds the word in any text field."""
        for name in TEXT_FIELDS:
            if not self.reader.doc_frequency(name, word):
                continue
            known = self.bulk.holds(docnum, name, word)  # from postings a union read whole
            if known is not None:
                if known:
                    return True
                continue
            postings = self.reader.postings(name, word)
            postings.skip_to(docnum)
            if postings.is_active() and postings.id() == docnum:
                return True
        return False

    def _analyse(self, text: str) -> list[str]:
        """The words of `text` as the index holds them (lower-cased, stemmed, without stop words)."""
        return [token.text for token in self.searcher.schema["messages"].analyzer(text)]

    def _collect(self, query: Query, limit: int, hits: dict[str, _Found], match: str) -> None:
        found = [
            (int(result.docnum), float(result.score)) for result in self.searcher.search(query, limit=limit)
        ]
        self._add(found, hits, match)

    def _add(self, scored: Scored, hits: dict[str, _Found], match: str) -> None:
        """Add (document number, score) pairs, best first, to `hits` (an entry found before keeps its place)."""
        for docnum, score in scored:
            summary = json.loads(self.searcher.stored_fields(docnum)["hit"])
            hits.setdefault(summary["id"], _Found(Hit.from_json(summary, score), docnum, match))

    def _codes(self, text: str) -> list[tuple[Code, str]]:
        """(code, as written) for each failure code in the text; or, when the whole text is one code, that
        code (even S_OK)."""
        names = read_names(self.build).names if _NAME_LIKE.search(text) else None
        found = [(match.code, match.text) for match in extract_codes(text, names)]
        if not found and kb_token(text.strip()) is None:  # "4528069" alone is a KB number, not a code
            with contextlib.suppress(CodeSyntaxError):
                found = [(parse_code(text, names), text)]
        return found

    def _literal_code(self, terms: list[str]) -> Code | None:
        """The code the first literal notation stands for."""
        if not terms:
            return None
        names = read_names(self.build)
        value = names.literals.get(terms[0], names.names.get(terms[0].upper()))
        if value is not None:
            return Code(value)
        try:
            return parse_code(terms[0])
        except CodeSyntaxError:
            return None

    def _literals(self, text: str, seen: set[str]) -> list[str]:
        """Words of the text that are literally a notation in the index (a name, `shown_as`, `1633`)."""
        found: list[str] = []
        for token in dict.fromkeys(_LITERAL.findall(text[:MAX_QUERY_CHARS])):
            if not _NOTATION_LIKE.search(token):
                continue  # plain words are no notation; skipping them keeps long pastes cheap
            for candidate in dict.fromkeys((token.lower(), token.lower().strip(_LITERAL_EDGES))):
                # Short bare numbers are too common in text ("step 5") to stand for Win32 codes alone.
                if not candidate or candidate in seen or (candidate.isdigit() and len(candidate) < 4):
                    continue
                if self.reader.doc_frequency("codes", candidate):
                    seen.add(candidate)
                    found.append(candidate)
            if len(found) >= RAREST:
                break
        return found

    def _words(self, sequence: Sequence[str], exclude: set[str]) -> _Words | None:
        """The rarest words of the text over the text fields, and phrase boosts; None when no word is indexed.

        Words in `exclude` are left out of the terms but still count in phrases.
        """
        order: dict[str, int] = {}
        for word in sequence:
            if len(order) >= MAX_WORDS:
                break
            order.setdefault(word, len(order))
        fields_of: dict[str, dict[str, int]] = {}
        for word in order:
            counts = {name: self.reader.doc_frequency(name, word) for name in TEXT_FIELDS}
            if any(counts.values()):
                fields_of[word] = {name: count for name, count in counts.items() if count}
        frequency = {word: sum(counts.values()) for word, counts in fields_of.items()}
        candidates = sorted(
            (word for word in frequency if word not in exclude),
            key=lambda word: (frequency[word], order[word]),
        )
        if len(sequence) <= PHRASE_WORDS:  # a short query says exactly what it wants: every word counts
            chosen = candidates[:RAREST]
            terms: list[Query] = [Term(name, word) for word in chosen for name in fields_of[word]]
        else:  # a long paste repeats common words; its rarest third (3 to RAREST words) identifies it
            chosen = candidates[: max(3, min(RAREST, len(candidates) // 3))]
            terms = self._budgeted(chosen, fields_of)
        phrases = self._phrases(sequence, chosen, fields_of) if fields_of else []
        short = len(sequence) <= PHRASE_WORDS
        return _Words(terms, phrases, every_field=short) if terms or phrases else None

    def _budgeted(self, words: list[str], fields_of: dict[str, dict[str, int]]) -> list[Query]:
        """Terms for (word, field) pairs, rarest first, while their postings fit the budget (at least one).

        Scoring costs a few microseconds per posting; a word found in most entries' bodies adds thousands of
        postings and almost nothing to the ranking.
        """
        budget = max(POSTINGS_BUDGET, self.reader.doc_count_all() // 20)
        pairs = sorted(
            (count, index, name, word)
            for index, word in enumerate(words)
            for name, count in fields_of[word].items()
        )
        terms: list[Query] = []
        spent = 0
        for count, _, name, word in pairs:
            if terms and spent + count > budget:
                break
            terms.append(Term(name, word))
            spent += count
        return terms

    @staticmethod
    def _phrases(
        sequence: Sequence[str], chosen: list[str], fields_of: dict[str, dict[str, int]]
    ) -> list[Query]:
        """Phrase queries for the whole short text, or for a few words around each of the rarest words."""
        words = list(sequence)
        windows: list[tuple[str, ...]] = []
        if 2 <= len(words) <= PHRASE_WORDS:
            windows.append(tuple(words))
        elif len(words) > PHRASE_WORDS:
            for word in chosen[:3]:
                at = words.index(word)
                start = max(0, min(at - WINDOW // 2, len(words) - WINDOW))
                windows.append(tuple(words[start : start + WINDOW]))
        return [
            Phrase(name, list(window), boost=PHRASE_BOOST)
            for window in dict.fromkeys(windows)
            for name in PHRASE_FIELDS
            if all(name in fields_of.get(word, ()) for word in window)
        ]
