"""Chromium through Playwright for the browser tests: Debian's build, every non-local request refused.

A pytest plugin (registered in conftest.py), so every browser test module shares one browser per session.
These fixtures fail, not skip, when Chromium or Playwright is missing: CI installs both.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("KB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    assert Path(CHROMIUM).exists() or shutil.which(CHROMIUM), f"Chromium not found at {CHROMIUM}"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        yield context
        context.close()


class PageWatch:
    """A page with every outside request blocked and recorded, and every console error kept."""

    def __init__(self, context: object) -> None:
        self.page = context.new_page()  # type: ignore[attr-defined]
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _route(self, route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if url.startswith(LOCAL_SCHEMES):
            route.continue_()  # type: ignore[attr-defined]
        else:
            self.outside.append(url)
            route.abort()  # type: ignore[attr-defined]


@pytest.fixture
def watch(browser_context: object) -> Iterator[PageWatch]:
    watched = PageWatch(browser_context)
    yield watched
    watched.page.close()
    assert watched.outside == [], f"requests left the machine: {watched.outside}"
    assert watched.errors == [], f"console errors: {watched.errors}"


def page_id(url: str) -> str:
    """`file:///.../entries/x.html?h=...#a` -> `x`."""
    return url.split("?")[0].split("#")[0].rsplit("/", 1)[-1].removesuffix(".html")


def search(watch: PageWatch, site: Path, query: str) -> list[str]:
    """Type `query` in Material's search box; return the ids of the result pages, best first."""
    page = watch.page
    page.goto((site / "index.html").as_uri())
    page.locator("input.md-search__input").click()
    page.keyboard.type(query)  # Material listens for keyup, which fill() does not send
    page.locator(".md-search-result__item").first.wait_for(timeout=15_000)
    hrefs = page.locator(".md-search-result__item > a").evaluate_all("els => els.map(e => e.href)")
    return [page_id(str(h)) for h in hrefs]
