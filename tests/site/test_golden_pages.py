"""Golden pages: the Markdown of every page type, rendered from the fixture sets, as files to review.

Each case is one page of `render_pages` (or the authors' page of `render_authoring`) compared with
tests/golden/site/<set>/<page>. `pytest --update-goldens` rewrites them; review the diff before committing.
"""

from __future__ import annotations

import pytest

from build_kb.core.model import KnowledgeBase
from build_kb.site.authoring import render_authoring
from build_kb.site.render import render_pages
from tests.helpers import ROOT

GOLDEN = ROOT / "tests" / "golden" / "site"
AUTHORING = "authoring.md"

CASES = [
    # The printing set: no lookup examples (the home page offers its own codes), entries without codes,
    # a phase with methods and one without, non-ASCII everywhere.
    ("printing", "index.md"),
    ("printing", "phases/einrichten/index.md"),
    ("printing", "phases/einrichten/cups.md"),
    ("printing", "phases/alltag/index.md"),
    ("printing", "entries/spooler-0x000006ba-rpc-unavailable.md"),
    ("printing", "entries/ipp-unable-to-locate-printer.md"),
    ("printing", "entries/scanner-not-found.md"),
    ("printing", "codes/index.md"),
    ("printing", "codes/0x000006BA.md"),
    ("printing", "tags.md"),
    ("printing", AUTHORING),
    # The activation set: lookup examples, a code written as a negative decimal with corrections and
    # references, a code two entries carry in two notations, and three methods in one phase.
    ("activation", "index.md"),
    ("activation", "phases/activate/index.md"),
    ("activation", "entries/kms-0xc004f038-count-insufficient.md"),
    ("activation", "codes/0x8007232B.md"),
    ("activation", "codes/index.md"),
]


@pytest.fixture(scope="module")
def pages(activation_kb: KnowledgeBase, printing_kb: KnowledgeBase) -> dict[str, dict[str, str]]:
    rendered = {}
    for name, kb in (("activation", activation_kb), ("printing", printing_kb)):
        rendered[name] = {**render_pages(kb), AUTHORING: render_authoring(kb)}
    return rendered


@pytest.mark.parametrize(("content_set", "page"), CASES, ids=[f"{s}/{p}" for s, p in CASES])
def test_page_matches_its_golden_file(
    pages: dict[str, dict[str, str]], content_set: str, page: str, update_goldens: bool
) -> None:
    golden = GOLDEN / content_set / page
    markdown = pages[content_set][page]
    if update_goldens:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(markdown, "utf-8", newline="\n")
    assert golden.is_file(), f"no golden file {golden.relative_to(ROOT)}; run pytest --update-goldens"
    assert markdown == golden.read_text("utf-8")


def test_every_page_type_has_a_golden_file_and_none_is_stale() -> None:
    kinds = {"index.md", "tags.md", AUTHORING, "codes/index.md"}
    covered = {page for _, page in CASES}
    assert kinds <= covered
    for prefix in ("phases/", "entries/", "codes/0x"):
        assert any(page.startswith(prefix) for page in covered), prefix
    assert any(p.count("/") == 2 and not p.endswith("index.md") for p in covered), "a method page"
    on_disk = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*.md")}
    assert on_disk == {f"{s}/{p}" for s, p in CASES}, "golden files without a case, or cases without a file"


def test_the_home_page_offers_the_taxonomys_examples_or_its_own_codes(
    pages: dict[str, dict[str, str]],
) -> None:
    assert (
        'placeholder="0xC004F074, 80070643, -1073418184, DNS_ERROR_RCODE_NAME_ERROR, a symbolic name"'
        in (pages["activation"]["index.md"])
    )
    # No lookup_examples in the printing set: its first codes, as its entries write them.
    assert 'placeholder="0x000006BA, 0x00000709, a symbolic name"' in pages["printing"]["index.md"]
