"""The built website: every page present, no broken internal link or anchor, nothing loaded from outside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from build_kb.app.build import BuildOptions, build_site
from build_kb.core.codes import Code
from build_kb.core.errors import BuildError
from build_kb.core.model import KnowledgeBase
from tests.helpers import ACTIVATION, PRINTING, make_entry, write_content
from tests.site_fixtures import (
    CSS_URL,
    DEFAULT_CONFIG,
    FIXED_DATE,
    build_set_site,
    page_refs,
    project_config,
    resolve,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def activation_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_set_site(tmp_path_factory.mktemp("activation-site") / "site", ACTIVATION)


@pytest.fixture(scope="module")
def printing_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_set_site(tmp_path_factory.mktemp("printing-site") / "site", PRINTING)


@pytest.fixture(params=["activation", "printing"])
def built(request: pytest.FixtureRequest) -> tuple[KnowledgeBase, Path]:
    """Each fixture set with its site: what holds for one content set holds for any."""
    name = request.param
    return request.getfixturevalue(f"{name}_kb"), request.getfixturevalue(f"{name}_site")


def test_every_entry_phase_and_code_has_a_page(built: tuple[KnowledgeBase, Path]) -> None:
    kb, site = built
    for entry in kb:
        assert (site / "entries" / f"{entry.id}.html").is_file(), entry.id
    for phase in kb.taxonomy.phases:
        assert (site / "phases" / phase.id / "index.html").is_file()
        for method in phase.methods:
            assert (site / "phases" / phase.id / f"{method.id}.html").is_file()
    assert kb.entries_by_code
    for value in kb.entries_by_code:
        hex_code = Code(value).hex
        assert hex_code in (site / "codes" / f"{hex_code}.html").read_text("utf-8")
    for name in ("index.html", "codes/index.html", "tags.html", "authoring.html", "search/search_index.js"):
        assert (site / name).is_file(), name
    assert kb.taxonomy.title in (site / "index.html").read_text("utf-8")


def test_no_broken_internal_link_or_anchor(built: tuple[KnowledgeBase, Path]) -> None:
    _, site = built
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


def test_nothing_is_loaded_from_outside(built: tuple[KnowledgeBase, Path]) -> None:
    _, site = built
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


def test_entry_page_shows_every_notation_the_source_and_the_corrections(activation_site: Path) -> None:
    page = (activation_site / "entries" / "kms-0xc004f038-count-insufficient.html").read_text("utf-8")
    for text in ("0xC004F038", "C004F038", "-1073418184", "3221549112", "SL_E_VL_NOT_ENOUGH_COUNT",
                 "Desktop team wiki: Volume activation", "Activation thresholds", "a count of 25"):  # fmt: skip
        assert text in page, text
    assert "Corrections to the source" in page
    assert 'class="md-clipboard' in page or "content.code.copy" in DEFAULT_CONFIG.read_text("utf-8")
    win32 = (activation_site / "entries" / "kms-host-srv-record-missing.html").read_text("utf-8")
    for text in ("0x8007232B", "HRESULT_FROM_WIN32(9003)", "9003", "DNS_ERROR_RCODE_NAME_ERROR"):
        assert text in win32, text


def test_a_source_given_as_an_address_or_not_at_all(printing_site: Path) -> None:
    with_url = (printing_site / "entries" / "scanner-not-found.html").read_text("utf-8")
    assert 'href="https://manpages.debian.org/bookworm/sane-utils/scanimage.1.en.html"' in with_url
    assert "Source:" in with_url
    without = (printing_site / "entries" / "default-printer-0x00000709.html").read_text("utf-8")
    assert "Source:" not in without


def test_search_index_carries_every_notation(built: tuple[KnowledgeBase, Path]) -> None:
    kb, site = built
    text = json.dumps(
        json.loads((site / "search" / "search_index.json").read_text("utf-8")), ensure_ascii=False
    )
    for value in kb.entries_by_code:
        for notation in Code(value).notations():
            assert notation in text, notation
    for entry in kb:
        assert entry.title in text, entry.title


def test_code_map_script_lists_every_code_and_name(built: tuple[KnowledgeBase, Path]) -> None:
    kb, site = built
    script = (site / "assets" / "javascripts" / "kb-codes.js").read_text("utf-8")
    data = json.loads(script.removeprefix("window.KB_CODES = ").rstrip().rstrip(";"))
    assert len(data["codes"]) == len(kb.entries_by_code)
    for name, value in kb.code_names.items():
        assert data["names"][name] == Code(value).hex, name


def test_raw_html_in_content_is_shown_as_text(tmp_path: Path) -> None:
    hostile = make_entry(
        "hostile",
        title="<script>window.pwned=1</script> title",
        messages=[{"text": "<img src=x onerror=alert(1)>", "where": "other"}],
        causes=["a < b and c > d"],
        source={"document": "KB1", "section": "<b>bold</b>"},
    )
    content = write_content(tmp_path / "content", [hostile])
    site = build_set_site(tmp_path / "site", content)
    page = (site / "entries" / "hostile.html").read_text("utf-8")
    assert "<script>window.pwned" not in page
    assert "<img src=x" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page


def test_invalid_content_aborts_the_site_build(tmp_path: Path) -> None:
    content = write_content(tmp_path / "content", [make_entry(title=3)])
    config = project_config(tmp_path / "project", content)
    with pytest.raises(BuildError, match="title: Expected a string"):
        build_site(BuildOptions(content_root=content, config_file=config), tmp_path / "s", FIXED_DATE)


def test_a_long_section_lists_its_entries_on_its_page_not_in_every_pages_navigation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from build_kb.site import render

    monkeypatch.setattr(render, "NAV_ENTRY_LIMIT", 3)
    long_phase = [make_entry(f"prepare-{n}", phase="prepare") for n in range(5)]
    short_method = [make_entry(f"online-{n}", phase="activate", method="online") for n in range(2)]
    content = write_content(tmp_path / "content", long_phase + short_method)
    site = build_set_site(tmp_path / "site", content)  # strict

    def links_to(page: Path, entry_id: str) -> bool:
        return any(link.split("#")[0].endswith(f"{entry_id}.html") for link in page_refs(page).links)

    other_long = site / "entries" / "prepare-0.html"
    assert not links_to(other_long, "prepare-3"), "a long section's entries are left out of the navigation"
    assert links_to(site / "entries" / "online-0.html", "online-1"), "a short section keeps them"
    phase_pages = [p for p in site.rglob("*.html") if all(links_to(p, e["id"]) for e in long_phase)]
    assert phase_pages, "some page (the phase page) must list every entry of the long section"
