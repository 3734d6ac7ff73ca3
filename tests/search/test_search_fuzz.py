"""Hostile input: thousands of generated queries, codes and log lines; nothing may raise.

Pasted text is full of what query languages treat as syntax (quotes, colons, parentheses, NOT/AND/OR,
wildcards, boosts, fuzzy markers), and of control characters and lone surrogates from broken terminals.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from build_kb.app.cli.search import lookup, search
from build_kb.core.codes import CodeSyntaxError
from build_kb.core.model import KnowledgeBase
from search.codemap import TriageData
from search.codemap import lookup as lookup_code
from search.query import MAX_QUERY_CHARS, IndexSearcher
from search.results import SearchResult
from search.store import IndexBuild, current_build
from search.triage import LogMatcher, read_lines

SYNTAX = ['"', "'", ":", "(", ")", "[", "]", "{", "}", "NOT", "AND", "OR", "ANDNOT", "ANDMAYBE", "*", "?", "~",
          "^", "^2", "~2", "-", "+", "\\", "/", "|", "&", "!", "title:", "codes:", "*:*", "TO", "<", ">", "=", ",",
          ";", "%", "#", "$"]  # fmt: skip
# Codes and words of the activation set (in every notation, its shown_as spelling among them), and near misses.
WORDS = ["0xC004F050", "C004F050", "-1073418160", "3221549136", "HRESULT_FROM_WIN32(9003)", "HRESULT_FROM_WIN32(",
         "9003", "0x", "0x2a", "S_OK", "SL_E_INVALID_PRODUCT_KEY", "KMS", "key", "not", "activation", "slmgr.vbs",
         "Error", "0xC004F74", "-1073418184", "80070643", "0xFFFFFFFF", "99999999999999999999", "-0", "0x00000000",
         "KB5011048", "5"]  # fmt: skip
ODD = ["\x00", "\x07", "\x1b[31m", "\r\n", "\t", "\u200b", "\ufeff", "\ud800", "\udfff", "é", "Ω", "中文", "𝔘",
       "\U0001f600", "\u202e", "\x7f", "\x85", "\u2028"]  # fmt: skip


def _hostile(rng: random.Random) -> str:
    """A random mix of syntax, codes, words and odd characters; sometimes huge, sometimes empty."""
    shape = rng.random()
    if shape < 0.03:
        return ""
    if shape < 0.06:
        return rng.choice(SYNTAX + WORDS + ODD) * rng.randint(1_000, 30_000)
    parts = [rng.choice(rng.choice((SYNTAX, WORDS, ODD))) for _ in range(rng.randint(1, 25))]
    return rng.choice(("", " ")).join(parts)


HOSTILE = [_hostile(random.Random(seed)) for seed in range(3_000)]


@pytest.fixture(scope="module")
def build(activation_index: Path) -> IndexBuild:
    return current_build(activation_index)


@pytest.fixture(scope="module")
def searcher(build: IndexBuild) -> Iterator[IndexSearcher]:
    with IndexSearcher(build) as opened:
        yield opened


def test_generated_hostile_queries(searcher: IndexSearcher) -> None:
    assert len(HOSTILE) >= 3_000
    for text in HOSTILE:
        result = searcher.search(text)
        assert isinstance(result, SearchResult) and len(result.hits) <= 10
        assert len(result.query) <= MAX_QUERY_CHARS


@settings(max_examples=3_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300) | st.lists(st.sampled_from(SYNTAX + WORDS + ODD), max_size=20).map("".join))
def test_hypothesis_queries(searcher: IndexSearcher, text: str) -> None:
    result = searcher.search(text, limit=5)
    assert len(result.hits) <= 5
    assert len({hit.id for hit in result.hits}) == len(result.hits)


@settings(max_examples=1_000, deadline=None)
@given(st.lists(st.sampled_from(SYNTAX + WORDS + ODD), max_size=12).map(" ".join) | st.text(max_size=60))
def test_lookup_raises_only_code_syntax_errors(build: IndexBuild, text: str) -> None:
    try:
        result = lookup_code(build, text)
    except CodeSyntaxError:
        return
    assert result.code is not None


@settings(max_examples=1_000, deadline=None)
@given(st.text(max_size=400))
def test_log_lines_never_raise(activation_kb: KnowledgeBase, text: str) -> None:
    matcher = _matcher(activation_kb)
    matcher.match(text)


_MATCHERS: dict[int, LogMatcher] = {}


def _matcher(kb: KnowledgeBase) -> LogMatcher:
    return _MATCHERS.setdefault(id(kb), LogMatcher(TriageData.from_kb(kb), unknown_codes=True))


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=2_000))
def test_any_bytes_decode(raw: bytes) -> None:
    assert all(isinstance(line, str) for line in read_lines(io.BytesIO(raw)))


def test_commands_with_hostile_arguments(build: IndexBuild, tmp_path: Path) -> None:
    runner = CliRunner()
    options = ["--index", str(build.root), "--content", str(tmp_path / "none"), "--json"]
    for text in HOSTILE[:150]:
        arguments = [part for part in text.replace("\x00", " ").split(" ") if part] or ["-"]
        for command, allowed in ((search, {0, 1}), (lookup, {0, 1, 2})):
            result = runner.invoke(command, [*options, *arguments], catch_exceptions=False, input="")
            assert result.exit_code in allowed, (text, result.output)
