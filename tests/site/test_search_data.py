"""The prebuilt search index (build_kb/site/search_data.py): what it reproduces of Material's, what it refuses.

The browser tests (test_search_engine.py) compare whole result lists with Material's worker; these check
the pieces without a browser.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from build_kb.site import search_data
from build_kb.site.search_data import build_index, js_separator, settings_from, tokenize, write_search_data

SEPARATOR = (
    r'[\s\-,:!=\[\]()"/_]+|\b0[xX](?=[0-9A-Fa-f]{4,}\b)|\.(?!\d)|&[lg]t;|(?<=\b[kK][bB])(?=[0-9]{6,7}\b)'
)
CONFIG: dict[str, Any] = {
    "lang": ["en"],
    "separator": SEPARATOR,
    "pipeline": [],
    "fields": {"title": {"boost": 1000.0}, "text": {"boost": 1.0}, "tags": {"boost": 1000000.0}},
}


def _pattern(source: str) -> re.Pattern[str]:
    pattern = js_separator(source)
    assert pattern is not None, source
    return pattern


def test_the_site_separator_splits_codes_and_kb_numbers_as_javascript_does() -> None:
    pattern = _pattern(SEPARATOR)
    text = "<p>Error 0xC004F050: HRESULT_FROM_WIN32(1633) after KB4528069, see slmgr.vbs 6.1.</p>"
    assert tokenize(text, pattern) == [
        "error", "c004f050", "hresult", "from", "win32", "1633", "after", "kb", "4528069", "see", "slmgr",
        "vbs", "6.1",
    ]  # fmt: skip
    assert tokenize(["A tag", "Other"], pattern) == ["a", "tag", "other"]
    assert tokenize(None, pattern) == []


@pytest.mark.parametrize(
    ("source", "text", "pieces"),
    [
        (r"\s+", "a\u00a0b\ufeffc\x1cd\x85e", ["a", "b", "c\x1cd\x85e"]),  # JavaScript's \s, not Python's
        (r"\S", "a b", [" "]),
        (r"x$", "axx\n", ["axx\n"]),  # $ is the end of the input only
        (r".", "a\nb", ["\n"]),  # . stops at line breaks
        (r"(?<d>-)", "a-b", ["a", "b"]),  # a named group
        (r"\b", "ab cd", ["ab", " ", "cd"]),  # empty matches: JavaScript steps on by one character
        (r"é", "détecté", ["d", "tect"]),
    ],
)
def test_separators_are_translated_to_javascripts_meaning(source: str, text: str, pieces: list[str]) -> None:
    assert search_data._split(text, _pattern(source)) == pieces


@pytest.mark.parametrize("source", [r"\p{L}+", "[^]", "[]", r"(?<=a+)b", r"\cJ", r"[\S]", r"\u{1F600}", "("])
def test_separators_it_cannot_translate_are_refused(source: str) -> None:
    assert js_separator(source) is None


def test_markup_is_cut_as_materials_extract_cuts_it() -> None:
    pattern = _pattern(r"\s+")
    assert tokenize("<p>One <code>two</code></p><br/>three", pattern) == ["one", "two", "three"]
    assert tokenize("a > b <i>c</i>", pattern) == ["b", "c"]  # a stray ">" closes a "tag" of text


@pytest.mark.parametrize(
    "change",
    [{"lang": ["de"]}, {"lang": ["en", "de"]}, {"pipeline": ["stemmer"]}, {"separator": r"\p{Z}"},
     {"fields": {"a/b": {}}}, {"fields": {"title": {"boost": "high"}}}, {"fields": {"title": {"boost": True}}}],
)  # fmt: skip
def test_settings_material_would_use_otherwise_are_left_to_material(change: dict[str, Any]) -> None:
    assert settings_from(CONFIG) is not None
    assert settings_from({**CONFIG, **change}) is None


@pytest.mark.parametrize(
    "search",
    [{}, {"pipeline": [], "separator": SEPARATOR}, {"fields": {"title": {"boost": 5}, "body": {"boost": 2}}}],
)
def test_index_config_is_what_materials_search_plugin_writes(tmp_path: Path, search: dict[str, Any]) -> None:
    """The settings the build reproduces and the preview's search index serves are Material's own."""
    from mkdocs.config import load_config

    from build_kb.site.livesite import LiveSite

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# x\n", "utf-8")
    settings = {"site_name": "x", "theme": {"name": "material"}, "plugins": {"search": search}}
    (tmp_path / "mkdocs.yml").write_text(json.dumps(settings), "utf-8")
    config = load_config(str(tmp_path / "mkdocs.yml"))
    config = config.plugins.on_config(config)
    plugin: Any = config.plugins["material/search"]
    written = json.loads(plugin.search_index.generate_search_index(None))
    assert search_data.index_config(config) == written["config"]
    assert LiveSite(tmp_path / "mkdocs.yml", tmp_path / "site").search_config() == written["config"]


def _doc(location: str, title: str = "Title", text: str = "", **extra: Any) -> dict[str, Any]:
    return {"location": location, "title": title, "text": text, **extra}


def test_terms_are_numbered_in_order_of_first_appearance_with_frequencies_per_field() -> None:
    docs = [
        _doc("a.html", "Key key", "<p>server key</p>", boost=2),
        _doc("a.html#b", "Server", "key"),
        _doc("c.html", "Other", "", tags=["Key"]),
    ]
    index = build_index({"config": CONFIG, "docs": docs})
    assert index is not None
    assert list(index.terms) == ["key", "server", "other"]
    assert index.page_starts == [0, 2]
    title, text, tags = index.postings["key"]
    assert (list(title), list(text), list(tags)) == ([0, 2], [0, 1, 1, 1], [2, 1])


@pytest.mark.parametrize(
    "docs",
    [
        [_doc("a.html"), _doc("a.html")],  # a location twice
        [_doc("a.html"), _doc("b.html"), _doc("a.html#x")],  # a page in two runs
        [_doc("a.html#x")],  # a page that does not start with its article
        [_doc("a.html", text=3)],  # type: ignore[arg-type]  # a malformed document on purpose
        [_doc("a.html", boost=True)],
        [_doc("a.html", boost="2")],
    ],
)
def test_documents_materials_map_would_read_otherwise_are_left_to_material(
    docs: list[dict[str, Any]],
) -> None:
    assert build_index({"config": CONFIG, "docs": docs}) is None


def _numbers(text: str) -> list[int]:
    """The 5-bit groups read back, as kb-search.js reads them."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    out, value, shift = [], 0, 0
    for char in text:
        digit = alphabet.index(char)
        value += (digit & 31) << shift
        if digit & 32:
            shift += 5
        else:
            out.append(value)
            value = shift = 0
    return out


def _postings(text: str) -> list[int]:
    pairs, previous, numbers = [], -1, iter(_numbers(text))
    for value in numbers:
        previous += (value >> 1) + 1
        pairs += [previous, next(numbers) + 2 if value & 1 else 1]
    return pairs


def test_postings_and_page_starts_read_back() -> None:
    from array import array

    pairs = [0, 1, 1, 3, 40, 1, 70_000, 250, 70_001, 2]
    assert _postings(search_data.encode_postings(array("I", pairs))) == pairs
    starts = [0, 5, 100, 100_000]
    encoded = search_data.encode_numbers(starts)
    assert [sum(_numbers(encoded)[: n + 1]) for n in range(len(starts))] == starts
    assert set(encoded) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _site(tmp_path: Path, docs: list[dict[str, Any]]) -> Path:
    search = tmp_path / "search"
    search.mkdir(parents=True)
    (search / "search_index.json").write_text(json.dumps({"config": CONFIG, "docs": docs}), "utf-8")
    (search / "search_index.js").write_text("var __index = {}", "utf-8")
    return tmp_path


def test_the_written_index_and_the_small_search_index_js(tmp_path: Path) -> None:
    site = _site(
        tmp_path, [_doc(f"p{n}.html", f"Page {n}", "<p>" + "word " * 50 + "</p>") for n in range(300)]
    )
    written = write_search_data(site)
    assert written is not None and written.documents == 300 and written.doc_shards > 1
    folder = site / "search" / "kb"
    names = {path.name for path in folder.iterdir()}
    assert written.term_shards == len([n for n in names if re.fullmatch(r"t[0-9]+\.js", n)]) > 0
    assert written.doc_shards == len([n for n in names if re.fullmatch(r"d[0-9]+\.js", n)])
    assert {"manifest.js", "lunr.js", "index.json", "t0.js", "d0.js"} <= names
    call = (folder / "manifest.js").read_text("utf-8").strip()
    build, _, rest = call.removeprefix('__kbSearchData("manifest",').removesuffix(");").partition(",")
    payload = json.loads(rest)
    assert payload["id"] == json.loads(build)
    assert payload["count"] == 300 and payload["fields"] == ["title", "text", "tags"]
    assert json.loads((folder / "index.json").read_text("utf-8")) == {"config": CONFIG, "docs": []}
    small = (site / "search" / "search_index.js").read_text("utf-8")
    assert small.startswith("var __index = ") and len(small) < 1000
    assert "2.3.9" in (folder / "lunr.js").read_text("utf-8")[:200]
    assert write_search_data(site) is not None  # again over its own output: the same files
    assert {path.name for path in folder.iterdir()} == names


def test_an_index_it_cannot_reproduce_leaves_materials_search_whole(tmp_path: Path) -> None:
    site = _site(tmp_path, [_doc("a.html"), _doc("a.html")])
    assert write_search_data(site) is None
    folder = site / "search" / "kb"
    assert '"fallback":true' in (folder / "manifest.js").read_text("utf-8")
    assert json.loads((folder / "index.json").read_text("utf-8"))["docs"] == [_doc("a.html"), _doc("a.html")]
    assert (site / "search" / "search_index.js").read_text("utf-8") == "var __index = {}"
