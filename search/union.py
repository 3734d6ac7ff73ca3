"""The best documents of a union of terms and phrases, every match scored, a block of postings at a time.

A short query of common words matches nearly every entry. whoosh scores such a union posting by posting,
through a binary tree of matchers whose bounds rarely prune anything here: about 10 microseconds a posting,
half a second for the 50,000 postings of three common words at 10,000 entries. Here a term's postings
are read a block at a time (whoosh's own block decoding) and scored with the searcher's own BM25F
statistics, operation for operation as `whoosh.scoring.bm25` does, and added in query order, as whoosh's
preloaded union adds them: the scores are the ones `Or` gives, to the last bit where the union is
preloaded, and the ranking is the same (score, then document number).

A phrase of distinct words (whoosh's `Phrase`, words next to each other) is matched from the same
postings: the documents holding every word, then their word positions; it scores what whoosh's phrase
matcher scores, the sum of its words' scores in whoosh's order, times its boost. Anything else, and any
term this cannot read in bulk, is scored by its own whoosh matcher. An index of several segments, or with
deleted documents, or another weighting, is searched by whoosh itself.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from typing import Any, NamedTuple

from search.engine import BM25F, BM25FScorer, Or, Phrase, Query, Term, byte_to_length, formats, whoosh3

Scored = list[tuple[int, float]]
"""(document number, score), best first."""


def best_of_union(bulk: BulkPostings, queries: Sequence[Query], limit: int) -> Scored:
    """The `limit` best documents matching any of `queries` (whoosh `Or` semantics), best first."""
    searcher = bulk.searcher
    if not bulk.readable:
        return [(hit.docnum, float(hit.score)) for hit in searcher.search(Or(list(queries)), limit=limit)]
    count = bulk.reader.doc_count_all()
    scores = array("d", bytes(8 * count))
    matched = bytearray(count)
    for query in queries:  # a phrase's words are read once, with their positions
        if isinstance(query, Phrase):
            for word in query.words:
                bulk.postings(query.fieldname, word, positions=True)
    for query in queries:
        if isinstance(query, Term):
            done = _add_term(bulk, query, scores, matched)
        elif isinstance(query, Phrase):
            done = _add_phrase(bulk, query, scores, matched)
        else:
            done = False
        if not done:
            _add_matches(query.matcher(searcher), scores, matched)
    candidates = [docnum for docnum in range(count) if matched[docnum]]
    best = heapq.nsmallest(limit, candidates, key=lambda docnum: (-scores[docnum], docnum))
    return [(docnum, scores[docnum]) for docnum in best]


def _add_matches(matcher: Any, scores: array[float], matched: bytearray) -> None:
    """Every match of a whoosh matcher, scored by it."""
    while matcher.is_active():
        docnum = matcher.id()
        scores[docnum] += matcher.score()
        matched[docnum] = 1
        matcher.next()


class _Postings(NamedTuple):
    """A term's postings read whole, and what scoring one of them takes (`whoosh.scoring.bm25`'s terms)."""

    docnums: Sequence[int]
    weights: Sequence[float]
    values: Sequence[bytes] | None
    idf: float
    numerator: float
    norms: list[float]
    """The denominator's length part, per length byte: the same operations as bm25, so the same floats."""
    lengths: bytes

    def score(self, weight: float, docnum: int) -> float:
        return self.idf * ((weight * self.numerator) / (weight + self.norms[self.lengths[docnum]]))


_ABSENT = _Postings((), (), None, 0.0, 0.0, [], b"")
"""The postings of a term no document holds."""


class BulkPostings:
    """Postings of a searcher's one segment, read whole, each term once; `readable` says whether they can be
    (one segment, no deleted documents, BM25F)."""

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.readable = bool(
            type(searcher.weighting) is BM25F
            and self.reader.is_atomic()
            and not self.reader.has_deletions()
            and hasattr(self.reader, "_perdoc")
        )
        self._lengths: dict[str, bytes] = {}
        self._read: dict[tuple[str, str], _Postings | None] = {}

    def postings(self, name: str, word: str, *, positions: bool = False) -> _Postings | None:
        """The term's postings (none when no document holds it), with the word positions if asked; None
        when they cannot be read in bulk."""
        key = (name, word)
        known = self._read.get(key)
        if key not in self._read or (
            positions and known is not None and known.docnums and known.values is None
        ):
            self._read[key] = self._postings(name, word, positions) if self.readable else None
        return self._read[key]

    def holds(self, docnum: int, name: str, word: str) -> bool | None:
        """Whether the document holds the term, from postings read before; None when they were not."""
        known = self._read.get((name, word))
        if known is None:
            return None
        at = bisect_left(known.docnums, docnum)
        return at < len(known.docnums) and known.docnums[at] == docnum

    def _postings(self, name: str, word: str, with_values: bool) -> _Postings | None:
        schema = self.searcher.schema
        if name not in schema:
            return None
        try:
            text = schema[name].to_bytes(word)
        except ValueError:
            return None
        if (name, text) not in self.reader:
            return _ABSENT
        scorer = self.searcher.weighting.scorer(self.searcher, name, text)
        matcher = self.reader.postings(name, text)
        if type(scorer) is not BM25FScorer or type(matcher) is not whoosh3.W3LeafMatcher:
            return None
        docnums: list[int] = []
        weights: list[float] = []
        values: list[bytes] = []
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            if len(matcher._ids) != len(matcher._weights):
                raise ValueError(f"posting block of {name}:{word} is malformed")
            docnums += matcher._ids
            weights += matcher._weights
            if with_values:
                matcher._read_values()
                values += matcher._values
            matcher._next_block()
        k1, b, average = scorer.K1, scorer.B, scorer.avgfl
        return _Postings(
            docnums,
            weights,
            values if with_values else None,
            scorer.idf,
            k1 + 1,
            [k1 * ((1 - b) + b * byte_to_length(byte) / average) for byte in range(256)],
            self.lengths(name),
        )

    def lengths(self, name: str) -> bytes:
        """Every document's length byte for the field (0 past the column's end, as whoosh reads it)."""
        if name not in self._lengths:
            count = self.reader.doc_count_all()
            column = self.reader._perdoc._cached_reader(whoosh3._lenfield(name), whoosh3.LENGTHS_COLUMN)
            stored = min(column._count, count) if column is not None else 0
            found = bytes(column._dbfile.get(column._basepos, stored)) if stored else b""
            self._lengths[name] = found + bytes(count - stored)
        return self._lengths[name]


def _add_term(bulk: BulkPostings, term: Term, scores: array[float], matched: bytearray) -> bool:
    """Add a term's BM25F scores; False (nothing added) when its postings cannot be read in bulk."""
    if term.minquality:
        return False
    postings = bulk.postings(term.fieldname, term.text)
    if postings is None:
        return False
    idf, numerator, norms, lengths = postings.idf, postings.numerator, postings.norms, postings.lengths
    boost = term.boost
    for docnum, weight in zip(postings.docnums, postings.weights, strict=True):
        # `_Postings.score`, inlined: a method call per posting would cost as much as the arithmetic.
        score = idf * ((weight * numerator) / (weight + norms[lengths[docnum]]))
        scores[docnum] += score if boost == 1.0 else score * boost
        matched[docnum] = 1
    return True


def _add_phrase(bulk: BulkPostings, phrase: Phrase, scores: array[float], matched: bytearray) -> bool:
    """Add a phrase's scores where its words stand next to each other, in order; False when this cannot."""
    name, words = phrase.fieldname, list(phrase.words)
    schema = bulk.searcher.schema
    if phrase.slop != 1 or len(words) < 2 or len(set(words)) != len(words) or name not in schema:
        return False
    format_ = schema[name].format
    if type(format_) is not formats.Positions:
        return False
    read = [bulk.postings(name, word, positions=True) for word in words]
    postings = [item for item in read if item is not None]
    if len(postings) < len(read):
        return False
    if not all(item.docnums for item in postings):
        return True  # whoosh's phrase matches nothing when one of its words is in no document
    values: list[Sequence[bytes]] = []
    for item in postings:
        if item.values is None:
            return False
        values.append(item.values)
    at = [{docnum: index for index, docnum in enumerate(item.docnums)} for item in postings]
    holding = set(at[0]).intersection(*at[1:])
    decode = format_.decode_positions
    for docnum in sorted(holding):
        where = [found[docnum] for found in at]
        positions = [set(decode(found[index])) for found, index in zip(values, where, strict=True)]
        if not any(all(start + k in positions[k] for k in range(1, len(words))) for start in positions[0]):
            continue
        # whoosh's phrase matcher: its words' matchers intersected as a binary tree, each node adding its
        # two sides' scores; then the phrase boost.
        score = _tree_sum(
            [item.score(item.weights[index], docnum) for item, index in zip(postings, where, strict=True)]
        )
        scores[docnum] += score if phrase.boost == 1.0 else score * phrase.boost
        matched[docnum] = 1
    return True


def _tree_sum(values: list[float]) -> float:
    """The sum as whoosh's `make_binary_tree` of additive matchers adds it: halves first."""
    if len(values) == 1:
        return values[0]
    half = len(values) // 2
    return _tree_sum(values[:half]) + _tree_sum(values[half:])
