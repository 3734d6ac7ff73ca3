"""The site's search engine (kb-search.js over the prebuilt search/kb/) against Material's own worker.

A few hundred synthetic entries are built twice: as `kb build` builds them, and with Material's search
worker behind kb-search-query.js, as the site searched before search/kb/ existed. Opened from file://
with every request that is not a local file refused, every notation of a sample of codes, their symbolic
names, pasted messages and words give the same results on both, in the same order and with the same
scores, and the entry carrying a code comes first. These tests fail, not skip, without Chromium.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from build_kb.core.codes import Code
from build_kb.site import search_data
from tests.browser_fixtures import PageWatch, page_id
from tests.helpers import synthetic_entries, write_content
from tests.site_fixtures import build_set_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZE = 300
SAMPLE = (1, 150, 298)  # odd entries carry 0xC004xxxx codes, even ones HRESULT_FROM_WIN32 codes
ENTRIES = synthetic_entries(SIZE)


def _code(number: int) -> Code:
    return Code(int(ENTRIES[number]["codes"][0]["code"], 16))


def _queries() -> list[tuple[str, str | None]]:
    """(what the user types, the entry that must come first, if any)."""
    queries: list[tuple[str, str | None]] = []
    for number in SAMPLE:
        entry, code = ENTRIES[number], _code(number)
        queries += [(notation, entry["id"]) for notation in code.notations() if notation != code.hex.lower()]
        queries.append((entry["codes"][0]["name"], entry["id"]))
        queries.append((entry["messages"][0]["text"], entry["id"]))
        queries.append(
            (
                f"2024-01-02 10:31:02, Error CBS Failed [HRESULT = {code.hex} - SYNTH_E_{number:05d}]",
                entry["id"],
            )
        )
        queries.append((" ".join(entry["title"].split()[2:5]), None))
    return [
        *queries,
        ("certificate denied", None),
        ('"prerequisite package"', None),
        ("+firewall -proxy", None),
        ("firewal~1", None),
        ("pro*", None),
    ]


QUERIES = _queries()


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("engine")
    content = write_content(root / "content", ENTRIES)
    ours = build_set_site(root / "kb" / "site", content)
    with mock.patch.object(search_data, "supported_config", return_value=None):
        before = build_set_site(root / "before" / "site", content)
    assert (ours / "search" / "kb" / "manifest.js").is_file()
    assert not (before / "search" / "kb").exists()
    return ours, before


@pytest.fixture(scope="module")
def pages(browser_context: object, sites: tuple[Path, Path]) -> Iterator[tuple[PageWatch, PageWatch]]:
    """The home page of each site with the search open, kept for every query (no outside request, no error)."""
    watches = (PageWatch(browser_context), PageWatch(browser_context))
    for watch, site in zip(watches, sites, strict=True):
        watch.page.goto((site / "index.html").as_uri())
        watch.page.locator("input.md-search__input").click()
    yield watches
    for watch in watches:
        watch.page.close()
        assert watch.outside == [], f"requests left the machine: {watch.outside}"
        assert watch.errors == [], f"console errors: {watch.errors}"


def settled_results(watch: PageWatch, site: Path, query: str) -> list[tuple[str, str]]:
    """The results of a query typed at once into the open search, once they stopped changing:
    (link, score) of every result shown, best first."""
    page = watch.page
    box = page.locator("input.md-search__input")
    box.fill("")  # no keyup, so no search for the empty box
    box.focus()
    page.keyboard.insert_text(query)
    page.evaluate(
        "window.__changes = 0; new MutationObserver(() => window.__changes++)"
        ".observe(document.querySelector('.md-search-result'), {childList: true, subtree: true})"
    )
    page.keyboard.press("End")  # Material searches on keyup
    deadline, seen, quiet = time.monotonic() + 30, -1, time.monotonic()
    while time.monotonic() < deadline:
        changes = page.evaluate("window.__changes")
        if changes != seen:
            seen, quiet = changes, time.monotonic()
        elif changes and time.monotonic() - quiet > 0.4:
            break
        time.sleep(0.05)
    links: list[Any] = page.locator(".md-search-result__link").evaluate_all(
        "els => els.map(a => [a.href, a.firstElementChild.getAttribute('data-md-score')])"
    )
    root = (site / "index.html").as_uri().removesuffix("index.html")
    return [(str(href).removeprefix(root), str(score)) for href, score in links]


@pytest.mark.parametrize(("query", "expected"), QUERIES, ids=[q[:40] for q, _ in QUERIES])
def test_the_engine_ranks_as_material_did(
    pages: tuple[PageWatch, PageWatch], sites: tuple[Path, Path], query: str, expected: str | None
) -> None:
    found = settled_results(pages[0], sites[0], query)
    assert found, query
    assert found == settled_results(pages[1], sites[1], query)
    if expected is not None:
        assert page_id(found[0][0]) == expected, found[:3]


def test_a_code_query_loads_a_few_small_files_and_no_whole_index(
    watch: PageWatch, sites: tuple[Path, Path]
) -> None:
    ours, _ = sites
    loaded: list[str] = []
    watch.page.on("request", lambda request: loaded.append(request.url))
    watch.page.goto((ours / "index.html").as_uri())
    watch.page.locator("input.md-search__input").click()
    found = settled_results(watch, ours, _code(150).hex)
    assert page_id(found[0][0]) == ENTRIES[150]["id"]
    searched = [
        url.split("/site/", 1)[1].split("?")[0] for url in loaded if "/search/" in url or "/workers/" in url
    ]
    assert not any("workers/" in path for path in searched), searched
    sizes = {path: (ours / path).stat().st_size for path in searched}
    assert sizes["search/search_index.js"] < 1_000, "Material's bundle must get the settings only"
    shards = [path for path in sizes if path.startswith("search/kb/t")]
    assert 1 <= len(shards) <= 2, shards
    assert sum(sizes.values()) < 400_000, sizes


TRICKY = [
    "<p>Error 0xC004F050: HRESULT_FROM_WIN32(1633) after KB4528069 and kb 4474419, code 0x1234.</p>",
    "a\u00a0b\ufeffc\x1cd\x85e\u2028f\u3000g\tH",
    "slmgr.vbs /ato 6.1. e.g. v1.2.3",
    "&lt;tag&gt; a&amp;b &quot;q&quot;",
    "détecté hängt İstanbul ΣΑΣ ǅungla ß",
    "C:\\Windows\\Logs\\CBS\\CBS.log [HRESULT = 0x800F081F - CBS_E_SOURCE_MISSING]",
    "a\U0001f600b 0x8007000D. 8007000d",
    "x > y <b>z</b> <br/>w </i>q <a href='x'>link</a>",
]
# Material's extract, split and toLowerCase (src/templates/assets/javascripts/integrations/search/internal).
MATERIAL_TOKENIZE = """([input, source]) => {
  const tokens = [];
  const separator = new RegExp(source, "g");
  const split = (text) => {
    let match, index = 0;
    separator.lastIndex = 0;
    do {
      match = separator.exec(text);
      const until = match ? match.index : text.length;
      if (index < until) tokens.push(text.slice(index, until).toLowerCase());
      if (match) {
        index = match.index + match[0].length;
        if (match[0].length === 0) separator.lastIndex = match.index + 1;
      }
    } while (match);
  };
  let start = 0, end = 0;
  for (let stack = 0; end < input.length; end++) {
    if (input.charAt(end) === "<" && end > start) { split(input.slice(start, end)); start = end; }
    else if (input.charAt(end) === ">") {
      if (input.charAt(start + 1) === "/") { --stack; }
      else if (input.charAt(end - 1) !== "/") { stack++; }
      start = end + 1;
    }
  }
  if (end > start) split(input.slice(start, end));
  return tokens;
}"""


def test_python_cuts_text_into_terms_as_the_browser_does(watch: PageWatch, sites: tuple[Path, Path]) -> None:
    ours, _ = sites
    source = json.loads((ours / "search" / "search_index.json").read_text("utf-8"))["config"]["separator"]
    pattern = search_data.js_separator(source)
    assert pattern is not None
    watch.page.goto((ours / "index.html").as_uri())
    for text in TRICKY:
        assert search_data.tokenize(text, pattern) == watch.page.evaluate(
            MATERIAL_TOKENIZE, [text, source]
        ), text
