"""`search.union.best_of_union` ranks and scores as whoosh's `Or` does, on every kind of index."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from build_kb.content.validate import load_knowledge_base
from search.engine import Or, Phrase, Query, Term, index
from search.index import PHRASE_FIELDS, TEXT_FIELDS, build_index, make_schema
from search.store import WHOOSH, current_build
from search.union import BulkPostings, best_of_union
from tests.helpers import make_entry, synthetic_entries, write_content

WORDS = ("product", "kei", "invalid", "activ", "servic", "proxi", "deni", "licens", "updat", "instal")
"""Index terms (stemmed) that the synthetic entries hold, some in nearly every entry, some in few."""


def _preloaded(queries: list[Query]) -> Or:
    """whoosh's own union that adds every match's score in query order, as `best_of_union` does."""
    union = Or(queries)
    union.matcher_type = Or.ARRAY_MATCHER
    return union


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("union")
    phrased = [
        make_entry("in-message", messages=[{"text": "The product key is invalid.", "where": "slmgr"}]),
        make_entry("in-title", title="Denied proxy settings for the license service"),
        # Twins: entries whose text fields are word for word the same tie, and rank by document number.
        *(make_entry(f"twin-{n}", title="Product key rejected by the licensing service") for n in (1, 2)),
    ]
    content = write_content(folder / "content", [*synthetic_entries(80), *phrased])
    build_index(load_knowledge_base(content), folder / "index", content_root=content)
    opened = index.open_dir(str(current_build(folder / "index").path / WHOOSH))
    with opened.searcher() as found:
        yield found
    opened.close()


def _random_queries(seed: int) -> list[Query]:
    rng = random.Random(seed)
    words = rng.sample(WORDS, rng.randint(1, 4))
    queries: list[Query] = [Term(name, word) for word in words for name in TEXT_FIELDS]
    if len(words) > 1:
        queries += [Phrase(name, words, boost=3.0) for name in PHRASE_FIELDS]
    return queries


CASES: dict[str, list[Query]] = {
    "one common word": [Term("body", "kei")],
    "a word in every field": [Term(name, "product") for name in TEXT_FIELDS],
    "terms and phrases": [
        *(Term(name, word) for word in ("product", "kei", "invalid") for name in TEXT_FIELDS),
        *(Phrase(name, ["product", "kei", "invalid"], boost=3.0) for name in PHRASE_FIELDS),
    ],
    "a boosted term": [Term("title", "deni", boost=2.5), Term("body", "proxi")],
    "a word no entry holds": [Term("title", "zzzquokka"), Term("body", "licens")],
    "a field the schema lacks": [Term("nowhere", "kei"), Term("summary", "servic")],
    "a keyword field": [Term("tags", "activation"), Term("codes", "0xc004f050")],
    "only a phrase": [Phrase("messages", ["product", "kei", "invalid"])],
    "a phrase with a word twice": [Phrase("title", ["kei", "kei"]), Term("title", "kei")],
    "a phrase whose word no entry holds": [Phrase("title", ["product", "zzzquokka"]), Term("body", "kei")],
    "nothing matches": [Term("title", "zzzquokka")],
    **{f"random {seed}": _random_queries(seed) for seed in range(12)},
}


@pytest.mark.parametrize("queries", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("limit", [1, 10, 1000])
def test_same_ranking_and_scores_as_whoosh(searcher: Any, queries: list[Query], limit: int) -> None:
    found = best_of_union(BulkPostings(searcher), queries, limit)
    # The preloaded union adds scores in the same order: the same floats, bit for bit.
    assert found == [(hit.docnum, hit.score) for hit in searcher.search(_preloaded(queries), limit=limit)]
    # whoosh's default union (a tree of matchers, pruned by score bounds) ranks the same documents.
    tree = [(hit.docnum, hit.score) for hit in searcher.search(Or(queries), limit=limit)]
    assert [docnum for docnum, _ in found] == [docnum for docnum, _ in tree]
    assert [score for _, score in found] == pytest.approx([score for _, score in tree], rel=1e-12)


def test_the_cases_exercise_the_ranking(searcher: Any) -> None:
    """Ties and phrase boosts are there to be ranked: the comparisons above can fail."""
    ranked = best_of_union(BulkPostings(searcher), CASES["terms and phrases"], 1000)
    assert len(ranked) > 20
    assert len({score for _, score in ranked}) < len(ranked), "no tie: the tie order is never checked"
    terms_only = best_of_union(BulkPostings(searcher), CASES["terms and phrases"][:-2], 1000)
    assert ranked[:3] != terms_only[:3], "the phrases change nothing: their scores are never checked"


def _index_in_segments(folder: Path, documents: list[dict[str, str]], *, delete: str | None) -> Any:
    made = index.create_in(str(folder), make_schema())
    for part in (documents[::2], documents[1::2]):
        writer = made.writer()
        for document in part:
            writer.add_document(**document)
        writer.commit(merge=False)
    if delete:
        writer = made.writer()
        writer.delete_by_term("id", delete)
        writer.commit(merge=False)
    return made


@pytest.mark.parametrize("delete", [None, "entry-00003"], ids=["two segments", "a deleted document"])
def test_an_index_it_cannot_read_in_bulk_is_searched_by_whoosh(tmp_path: Path, delete: str | None) -> None:
    words = ["product", "key", "invalid", "proxy", "denied"]
    rng = random.Random(5)
    documents = [
        {
            "id": f"entry-{n:05d}",
            "hit": "{}",
            "title": " ".join(rng.choices(words, k=4)),
            "body": " ".join(rng.choices(words, k=12)),
        }
        for n in range(30)
    ]
    made = _index_in_segments(tmp_path, documents, delete=delete)
    queries: list[Query] = [
        Term("title", "kei"),
        Term("body", "invalid"),
        Phrase("title", ["product", "kei"]),
    ]
    with made.searcher() as opened:
        assert not opened.reader().is_atomic() or opened.reader().has_deletions()
        found = best_of_union(BulkPostings(opened), queries, 10)
        assert found == [(hit.docnum, hit.score) for hit in opened.search(Or(queries), limit=10)]
        assert found and (delete is None or all(opened.stored_fields(d)["id"] != delete for d, _ in found))
    made.close()


def test_only_phrase_fields_hold_positions() -> None:
    schema = make_schema()
    assert [name for name in TEXT_FIELDS if schema[name].format.supports("positions")] == list(PHRASE_FIELDS)


def test_the_index_kb_writes_is_read_in_bulk(searcher: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """kb writes one segment without deletions: its unions never fall back to whoosh's own search."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("fell back to whoosh's search")

    expected = best_of_union(BulkPostings(searcher), CASES["terms and phrases"], 10)
    monkeypatch.setattr(searcher, "search", refuse)
    assert best_of_union(BulkPostings(searcher), CASES["terms and phrases"], 10) == expected


def test_holds_answers_from_postings_read_before(searcher: Any) -> None:
    bulk = BulkPostings(searcher)
    assert bulk.holds(0, "body", "kei") is None, "nothing read yet: no answer"
    best_of_union(bulk, [Term("body", "kei"), Term("title", "deni")], 10)
    for name, word in (("body", "kei"), ("title", "deni")):
        holders = set(searcher.reader().postings(name, word).all_ids())
        assert 0 < len(holders) < searcher.doc_count_all()
        assert {d for d in range(searcher.doc_count_all()) if bulk.holds(d, name, word)} == holders
    assert bulk.holds(0, "summary", "kei") is None
