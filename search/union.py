"""The best documents of a union of terms and phrases, every match scored, a block of postings at a time.

A short query of common words matches nearly every entry. whoosh scores such a union posting by posting,
through a binary tree of matchers whose bounds rarely prune anything here: about 10 microseconds a posting,
half a second for the 50,000 postings of three common words at 10,000 entries. Here a term's postings
are read a block at a time (whoosh's own block decoding) and scored with the searcher's own BM25F
statistics, operation for operation as `whoosh.scoring.bm25` does, and added in query order, as whoosh's
preloaded union adds them: the scores are the ones `Or` gives, to the last bit where the union is
preloaded, and the ranking is the same (score, then document number). Phrases, and any term this cannot
read in bulk, are scored by their own whoosh matchers. An index of several segments, or with deleted
documents, or another weighting, is searched by whoosh itself.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Sequence
from typing import Any

from search.engine import BM25F, BM25FScorer, Or, Query, Term, byte_to_length, whoosh3

Scored = list[tuple[int, float]]
"""(document number, score), best first."""


def best_of_union(searcher: Any, queries: Sequence[Query], limit: int) -> Scored:
    """The `limit` best documents matching any of `queries` (whoosh `Or` semantics), best first."""
    reader = searcher.reader()
    if not _readable_in_bulk(searcher, reader):
        return [(hit.docnum, float(hit.score)) for hit in searcher.search(Or(list(queries)), limit=limit)]
    count = reader.doc_count_all()
    scores = array("d", bytes(8 * count))
    matched = bytearray(count)
    lengths: dict[str, bytes] = {}
    for query in queries:
        if not (isinstance(query, Term) and _add_term(searcher, reader, query, scores, matched, lengths)):
            _add_matches(query.matcher(searcher), scores, matched)
    candidates = [docnum for docnum in range(count) if matched[docnum]]
    best = heapq.nsmallest(limit, candidates, key=lambda docnum: (-scores[docnum], docnum))
    return [(docnum, scores[docnum]) for docnum in best]


def _readable_in_bulk(searcher: Any, reader: Any) -> bool:
    return bool(
        type(searcher.weighting) is BM25F
        and reader.is_atomic()
        and not reader.has_deletions()
        and hasattr(reader, "_perdoc")
    )


def _add_matches(matcher: Any, scores: array[float], matched: bytearray) -> None:
    """Every match of a whoosh matcher, scored by it."""
    while matcher.is_active():
        docnum = matcher.id()
        scores[docnum] += matcher.score()
        matched[docnum] = 1
        matcher.next()


def _add_term(
    searcher: Any,
    reader: Any,
    term: Term,
    scores: array[float],
    matched: bytearray,
    lengths: dict[str, bytes],
) -> bool:
    """Add a term's BM25F scores; False (nothing added) when its postings cannot be read in bulk."""
    name = term.fieldname
    if name not in searcher.schema or term.minquality:
        return False
    try:
        text = searcher.schema[name].to_bytes(term.text)
    except ValueError:
        return False
    if (name, text) not in reader:
        return True  # whoosh matches nothing for it either
    scorer = searcher.weighting.scorer(searcher, name, text)
    postings = reader.postings(name, text)
    if type(scorer) is not BM25FScorer or type(postings) is not whoosh3.W3LeafMatcher:
        return False
    field_lengths = lengths.get(name)
    if field_lengths is None:
        field_lengths = lengths[name] = _field_lengths(reader, name)
    k1, b, average, idf = scorer.K1, scorer.B, scorer.avgfl, scorer.idf
    # whoosh.scoring.bm25's denominator, per length byte: the same operations, so the same floats.
    norms = [k1 * ((1 - b) + b * byte_to_length(byte) / average) for byte in range(256)]
    numerator = k1 + 1
    boost = term.boost
    while postings.is_active():
        postings._read_ids()
        postings._read_weights()
        for docnum, weight in zip(postings._ids, postings._weights, strict=True):
            score = idf * ((weight * numerator) / (weight + norms[field_lengths[docnum]]))
            scores[docnum] += score if boost == 1.0 else score * boost
            matched[docnum] = 1
        postings._next_block()
    return True


def _field_lengths(reader: Any, name: str) -> bytes:
    """Every document's length byte for the field (0 past the column's end, as whoosh reads it)."""
    count = reader.doc_count_all()
    column = reader._perdoc._cached_reader(whoosh3._lenfield(name), whoosh3.LENGTHS_COLUMN)
    if column is None:
        return bytes(count)
    stored = min(column._count, count)
    return bytes(column._dbfile.get(column._basepos, stored)) + bytes(count - stored)
