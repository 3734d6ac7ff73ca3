"""The site as a person uses it: Chromium (Debian's, through Playwright) opening the built site from file://.

These tests fail, not skip, when Chromium or Playwright is missing: CI installs both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser_fixtures import PageWatch, search
from tests.site_fixtures import build_real_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_real_site(tmp_path_factory.mktemp("browser-site") / "site")


# (what the user types, entry ids any of which is a right first answer)
NOTATIONS = [
    ("0xC004F050", {"ipk-slui-0xc004f050", "slmgr-ipk-0xc004f050-product-key-invalid"}),
    ("C004F050", {"ipk-slui-0xc004f050", "slmgr-ipk-0xc004f050-product-key-invalid"}),
    ("-1073418160", {"ipk-slui-0xc004f050", "slmgr-ipk-0xc004f050-product-key-invalid"}),
    ("3221549136", {"ipk-slui-0xc004f050", "slmgr-ipk-0xc004f050-product-key-invalid"}),
    ("80070643", {"prep-check-80070643-install-fails"}),
    ("0x80070643", {"prep-check-80070643-install-fails"}),
    (
        "HRESULT_FROM_WIN32(1633)",
        {"embedded-1633-key-in-embedded-range", "embedded-1633-key-out-of-embedded-range"},
    ),
    ("1633", {"embedded-1633-key-in-embedded-range", "embedded-1633-key-out-of-embedded-range"}),
    ("HRESULT_FROM_WIN32(1605)", {"prep-check-80070643-install-fails"}),
    ("WININET_E_DECODING_FAILED", {"activation-0x80072f8f-content-decoding-failed"}),
    ("SL_E_CHPA_DMAK_LIMIT_EXCEEDED", {"activation-0xc004c020-mak-limit"}),
    ("0x80072EE2", {"activation-0x80072ee2-timed-out"}),
    ("-2147012721", {"activation-0x80072f8f-content-decoding-failed"}),
    ("0xC004F04D", {"phone-0xc004f04d-invalid-iid-cid"}),
]


@pytest.mark.parametrize(("query", "expected"), NOTATIONS, ids=[q for q, _ in NOTATIONS])
def test_search_finds_the_entry_from_any_notation(
    watch: PageWatch, site: Path, query: str, expected: set[str]
) -> None:
    results = search(watch, site, query)
    assert results[0] in expected, results[:3]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('Error: 0xC004F050 The Software Licensing Service reported that the product key is invalid.',
         {"slmgr-ipk-0xc004f050-product-key-invalid", "ipk-slui-0xc004f050"}),
        ("Run 'slui.exe 0x2a 0xC004F050' to display the error text.",
         {"ipk-slui-0xc004f050", "slmgr-ipk-0xc004f050-product-key-invalid"}),
        ('"ESU: NO ESU KEY FOUND"', {"embedded-no-esu-key-found"}),
    ],
)  # fmt: skip
def test_pasted_messages_with_quotes_and_colons(
    watch: PageWatch, site: Path, query: str, expected: set[str]
) -> None:
    results = search(watch, site, query)
    assert results, query
    assert results[0] in expected, results[:3]


def test_entry_related_link_and_code_index(watch: PageWatch, site: Path) -> None:
    page = watch.page
    page.goto((site / "entries" / "embedded-1633-key-in-embedded-range.html").as_uri())
    assert "HRESULT_FROM_WIN32(1633)" in page.content()
    page.locator("#related + ul a").first.click()
    page.wait_for_load_state()
    assert "/entries/" in page.url and "embedded-1633-key-in-embedded-range" not in page.url
    page.goto((site / "codes" / "index.html").as_uri())
    page.locator("a[href$='0x80070661.html']").first.click()
    page.wait_for_load_state()
    assert page.url.endswith("codes/0x80070661.html")
    page.locator(".md-content a[href*='entries/embedded-1633']").first.click()
    page.wait_for_load_state()
    assert "/entries/embedded-1633-" in page.url


@pytest.mark.parametrize(
    "typed", ["0xc004f050", "-1073418160", "HRESULT_FROM_WIN32(1633)", "ERROR_UNKNOWN_PRODUCT"]
)
def test_home_lookup_box_opens_the_code_page(watch: PageWatch, site: Path, typed: str) -> None:
    from build_kb.core.codes import parse_code

    page = watch.page
    page.goto((site / "index.html").as_uri())
    page.fill("#kb-lookup-input", typed)
    page.click(".kb-lookup button")
    page.wait_for_url("**/codes/*.html")
    expected = parse_code(typed, {"ERROR_UNKNOWN_PRODUCT": 0x80070645}).hex
    assert page.url.endswith(f"codes/{expected}.html")


def test_home_lookup_box_says_when_a_code_is_unknown(watch: PageWatch, site: Path) -> None:
    page = watch.page
    page.goto((site / "index.html").as_uri())
    page.fill("#kb-lookup-input", "0x80004005")
    page.click(".kb-lookup button")
    assert "0x80004005 is not in this knowledge base" in page.locator(".kb-lookup-result").inner_text()


def test_script_in_content_runs_nothing(watch: PageWatch, tmp_path: Path) -> None:
    from tests.helpers import make_entry, write_content

    hostile = make_entry(
        "hostile",
        title="<script>window.pwned=1</script>",
        messages=[{"text": '<img src=x onerror="window.pwned=2">', "where": "other"}],
        causes=["a < b and c > d"],
    )
    content = write_content(tmp_path / "content", [hostile])
    built = build_real_site(tmp_path / "site", content)
    page = watch.page
    page.goto((built / "entries" / "hostile.html").as_uri())
    assert page.evaluate("window.pwned === undefined")
    assert "<script>window.pwned=1</script>" in page.locator("h1").inner_text()
