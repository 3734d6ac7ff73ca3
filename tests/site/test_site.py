"""The built website: every page present, no broken internal link or anchor, nothing loaded from outside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from build_kb.app.build import BuildOptions, build_site
from build_kb.core.errors import BuildError
from tests.helpers import ROOT, make_entry, write_content
from tests.site_fixtures import CSS_URL, FIXED_DATE, build_real_site, page_refs, resolve

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_real_site(tmp_path_factory.mktemp("site") / "site")


def test_every_entry_phase_and_code_has_a_page(site: Path, real_kb) -> None:
    for entry in real_kb:
        assert (site / "entries" / f"{entry.id}.html").is_file(), entry.id
    for phase in real_kb.taxonomy.phases:
        assert (site / "phases" / phase.id / "index.html").is_file()
        for method in phase.methods:
            assert (site / "phases" / phase.id / f"{method.id}.html").is_file()
    for hex_code in ("0xC004F050", "0x80070643", "0x80070661", "0x80072F8F"):
        page = (site / "codes" / f"{hex_code}.html").read_text("utf-8")
        assert hex_code in page
    for name in ("index.html", "codes/index.html", "tags.html", "authoring.html", "search/search_index.js"):
        assert (site / name).is_file(), name


def test_no_broken_internal_link_or_anchor(site: Path) -> None:
    broken = []
    ids: dict[Path, set[str]] = {}
    for page in sorted(p for p in site.rglob("*.html") if p.name != "404.html"):  # 404 uses absolute URLs
        for href in page_refs(page).links:
            target, fragment = resolve(page, href, site)
            if target is None:
                continue
            if not target.is_file():
                broken.append(f"{page.relative_to(site)} -> {href}")
                continue
            if fragment and target.suffix == ".html":
                known = ids.setdefault(target, page_refs(target).ids)
                if fragment not in known:
                    broken.append(f"{page.relative_to(site)} -> {href} (no such anchor)")
    assert broken == []


def test_nothing_is_loaded_from_outside(site: Path) -> None:
    outside = []
    for page in site.rglob("*.html"):
        outside += [
            f"{page.relative_to(site)}: {u}" for u in page_refs(page).loads if "//" in u.split("?")[0][:8]
        ]
    for sheet in site.rglob("*.css"):
        if CSS_URL.search(sheet.read_text("utf-8", errors="replace")):
            outside.append(str(sheet.relative_to(site)))
    assert outside == []
    index = (site / "index.html").read_text("utf-8")
    assert "unpkg.com" not in index and "fonts.googleapis" not in index
    assert "assets/javascripts/iframe-worker-shim.js" in index


def test_entry_page_shows_every_notation_and_the_source(site: Path) -> None:
    page = (site / "entries" / "activation-0x80072f8f-content-decoding-failed.html").read_text("utf-8")
    for text in ("0x80072F8F", "80072F8F", "-2147012721", "2147954575", "HRESULT_FROM_WIN32(12175)", "12175",
                 "WININET_E_DECODING_FAILED", "147012721", "KB4547184", "CurrentControlSet"):  # fmt: skip
        assert text in page, text
    assert "Corrections to the source" in page
    assert 'class="md-clipboard' in page or "content.code.copy" in (ROOT / "build_kb" / "site" / "mkdocs.yml").read_text("utf-8")


def test_search_index_carries_every_notation(site: Path, real_kb) -> None:
    from build_kb.core.codes import Code

    text = json.dumps(json.loads((site / "search" / "search_index.json").read_text("utf-8")))
    for value in real_kb.entries_by_code:
        code = Code(value)
        for notation in code.notations():
            assert notation in text, notation


def test_code_map_script_lists_every_code(site: Path, real_kb) -> None:
    script = (site / "assets" / "javascripts" / "kb-codes.js").read_text("utf-8")
    data = json.loads(script.removeprefix("window.KB_CODES = ").rstrip().rstrip(";"))
    assert len(data["codes"]) == len(real_kb.entries_by_code)
    assert data["names"]["ERROR_UNKNOWN_PRODUCT"] == "0x80070645"


def test_raw_html_in_content_is_shown_as_text(tmp_path: Path) -> None:
    hostile = make_entry(
        "hostile",
        title="<script>window.pwned=1</script> title",
        messages=[{"text": "<img src=x onerror=alert(1)>", "where": "other"}],
        causes=["a < b and c > d"],
        source={"document": "KB1", "section": "<b>bold</b>"},
    )
    content = write_content(tmp_path / "content", [hostile])
    site = tmp_path / "site"
    build_site(BuildOptions(content_root=content, config_file=ROOT / "mkdocs.yml"), site, FIXED_DATE)
    page = (site / "entries" / "hostile.html").read_text("utf-8")
    assert "<script>window.pwned" not in page
    assert "<img src=x" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page


def test_invalid_content_aborts_the_site_build(tmp_path: Path) -> None:
    content = write_content(tmp_path / "content", [make_entry(title=3)])
    with pytest.raises(BuildError, match="title: Expected a string"):
        build_site(
            BuildOptions(content_root=content, config_file=ROOT / "mkdocs.yml"), tmp_path / "s", FIXED_DATE
        )


def test_a_long_section_lists_its_entries_on_its_page_not_in_every_pages_navigation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from build_kb.site import render

    monkeypatch.setattr(render, "NAV_ENTRY_LIMIT", 3)
    long_phase = [make_entry(f"prepare-{n}", phase="prepare") for n in range(5)]
    short_method = [make_entry(f"online-{n}", phase="activate", method="online") for n in range(2)]
    content = write_content(tmp_path / "content", long_phase + short_method)
    site = tmp_path / "site"
    build_site(
        BuildOptions(content_root=content, config_file=ROOT / "mkdocs.yml"), site, FIXED_DATE
    )  # strict

    def links_to(page: Path, entry_id: str) -> bool:
        return any(link.split("#")[0].endswith(f"{entry_id}.html") for link in page_refs(page).links)

    other_long = site / "entries" / "prepare-0.html"
    assert not links_to(other_long, "prepare-3"), "a long section's entries are left out of the navigation"
    assert links_to(site / "entries" / "online-0.html", "online-1"), "a short section keeps them"
    phase_pages = [p for p in site.rglob("*.html") if all(links_to(p, e["id"]) for e in long_phase)]
    assert phase_pages, "some page (the phase page) must list every entry of the long section"
