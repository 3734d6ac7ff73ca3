"""Hostile content in Chromium: no page of the site runs a script from content, on load or on any click.

Two sites are built and every page of each is opened from file:// with `dialog` and `pageerror` hooks, then
every distinct link on it is hovered and clicked:

- the hostile fixture set (tests/data/sets/hostile), which validation lets through: markup in titles,
  labels, messages and code, that every output must show as text;
- the same set with the tricks validation refuses put back in behind its back (`attr_list` handlers, data:
  images, javascript: links, a references.yaml address ending in `){: onmouseover=... }`), so that the
  sanitiser (build_kb.site.sanitize) is tested on its own.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from build_kb.app.build import BuildOptions, build_site
from build_kb.content.validate import load_knowledge_base
from build_kb.core.model import Action, KnowledgeBase
from tests.browser_fixtures import PageWatch
from tests.helpers import SETS
from tests.site_fixtures import project_config

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOSTILE = SETS / "hostile"
STAMP = datetime(2024, 1, 2, tzinfo=UTC)

# What validation refuses, put into a knowledge base directly (the plugin takes it as validated).
SMUGGLED_SUMMARY = (
    "![p](data:,){: onerror=alert('image') } [x](javascript:alert('link')) [r][ref] "
    "<javascript:alert('autolink')> [y](JaVaScRiPt:alert('case'))\n\n[ref]: javascript:alert('definition')"
)
SMUGGLED_CAUSES = (
    "Hover me {: onmouseover=alert('block attribute') }",
    "*em*{: onclick=alert('inline attribute') } [z](data:text/html,<script>alert('data link')</script>)",
    '!!! danger "x"\n    boom\n\n[TOC]\n\n# heading\n\n---',
)
SMUGGLED_STEP = "Do [it](vbscript:alert('vbscript')) {#kb-codes .md-button onmouseover=alert('step')}"
SMUGGLED_URL = "https://example.invalid/x){: onmouseover=alert('reference url') }"


def _build(content_root: Path, target: Path, kb: KnowledgeBase | None = None) -> Path:
    """A team's mkdocs.yml on the tool's default: docs_dir is the content folder itself, planted files and all."""
    config = project_config(target.parent / f"{target.name}-project", content_root)
    build_site(BuildOptions(content_root=content_root, config_file=config), target, STAMP, kb)
    return target


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(HOSTILE, tmp_path_factory.mktemp("hostile-site") / "site")


def smuggled_kb() -> KnowledgeBase:
    """The hostile set with the refused tricks written into its entries and references."""
    kb = load_knowledge_base(HOSTILE, strict=True)
    first, *others = kb.entries
    first = dataclasses.replace(
        first,
        summary=SMUGGLED_SUMMARY,
        causes=SMUGGLED_CAUSES,
        actions=(Action(step=SMUGGLED_STEP), *first.actions),
    )
    references = tuple(dataclasses.replace(r, url=SMUGGLED_URL) for r in kb.references)
    return dataclasses.replace(kb, entries=(first, *others), references=references)


@pytest.fixture(scope="module")
def smuggled_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(HOSTILE, tmp_path_factory.mktemp("smuggled-site") / "site", smuggled_kb())


def _pages(site: Path) -> list[Path]:
    """Every page but 404.html, whose links are absolute for a web server (they lead nowhere from disk)."""
    pages = (p for p in site.rglob("*.html") if "assets" not in p.relative_to(site).parts)
    return sorted(p for p in pages if p.name != "404.html")


# Hover and click every link of the page. A click that would only load another page of the site (or an
# outside one) is kept from navigating, by a listener that runs after the link's own handlers: those
# pages are opened on their own, and the links stay on this one. Every other scheme (javascript:, data:,
# vbscript:) is let through, so that whatever it runs, runs.
_CLICK_EVERY_LINK = """() => {
    const safe = ['http:', 'https:', 'file:'];
    window.addEventListener('click', event => {
        const link = event.target.closest && event.target.closest('a[href]');
        if (link && safe.includes(link.protocol)) event.preventDefault();
    });
    const links = [...document.querySelectorAll('a[href]')];
    for (const link of links) {
        link.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
        link.dispatchEvent(new MouseEvent('mouseenter'));
        link.click();
    }
    return links.map(link => link.protocol);
}"""


def _visit_everything(watch: PageWatch, site: Path) -> tuple[list[str], list[str], int]:
    """Open every page, hover and click every link on it.

    Returns the dialogs that opened and the page errors, the links with a scheme other than http, https
    and file, and how many links were clicked.
    """
    page = watch.page
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(f"{page.url}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: dialogs.append(f"{page.url}: page error {error}"))
    clicked = 0
    unsafe: list[str] = []
    for path in _pages(site):
        page.goto(path.as_uri())
        protocols = page.evaluate(_CLICK_EVERY_LINK)
        clicked += len(protocols)
        page.wait_for_timeout(50)  # a javascript: link runs after the click returns
        page.wait_for_load_state("load")
        unsafe += [f"{path.name}: {p}" for p in protocols if p not in ("http:", "https:", "file:")]
    return dialogs, unsafe, clicked


def test_no_script_runs_from_the_hostile_set(watch: PageWatch, hostile_site: Path) -> None:
    dialogs, unsafe, clicked = _visit_everything(watch, hostile_site)
    assert dialogs == []
    assert unsafe == []
    assert clicked > 50  # the navigation, tables of contents and content links of every page


def test_no_script_runs_from_tricks_smuggled_past_validation(watch: PageWatch, smuggled_site: Path) -> None:
    dialogs, unsafe, clicked = _visit_everything(watch, smuggled_site)
    assert dialogs == []
    assert unsafe == []
    assert clicked > 50


def test_hostile_text_is_shown_as_text(watch: PageWatch, hostile_site: Path) -> None:
    """What looked like markup is on the page, readable: escaped, neither run nor dropped."""
    page = watch.page
    page.goto((hostile_site / "entries" / "script-in-every-field.html").as_uri())
    text = page.locator("article").inner_text()
    assert "<script>alert('message')</script>" in text  # the message, verbatim in its code block
    assert "<script>alert('log pattern')</script>" in text
    assert "[app log](javascript:alert('log label'))" in text  # a taxonomy label: text, not a link
    assert "\\{" not in text and "{: onclick=alert('escaped brace') }" in text
    assert page.title().startswith("--- <script>alert('entry title')</script>")
    header = page.locator(".md-header__topic").first.inner_text()
    assert "Hostile <script>alert('site name')</script> \"KB\" & co" in header
    description = page.locator("meta[name=description]").get_attribute("content")
    assert description is not None and "\"><script>alert('description')</script>" in description
    page.goto((hostile_site / "entries" / "other-entry.html").as_uri())
    text = page.locator("article").inner_text()
    assert "{4D36E972-E325-11CE-BFC1-08002BE10318} in braces is text, and so is {this}." in text
