"""The site as a person uses it: Chromium (Debian's, through Playwright) opening the built site from file://.

These tests fail, not skip, when Chromium or Playwright is missing: CI installs both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from build_kb.core.model import KnowledgeBase
from tests.browser_fixtures import PageWatch, search
from tests.helpers import ACTIVATION, PRINTING
from tests.site_fixtures import build_set_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]

COUNT_INSUFFICIENT = "kms-0xc004f038-count-insufficient"
NO_KMS = "kms-0xc004f074-no-kms-contacted"
DNS = {"kms-0x8007232b-dns-name-does-not-exist", "kms-host-srv-record-missing"}
INVALID_KEY = {"ipk-0xc004f050-product-key-invalid", "gvlk-wrong-edition-key-invalid"}


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_set_site(tmp_path_factory.mktemp("browser-site") / "site", ACTIVATION)


@pytest.fixture(scope="session")
def printing_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_set_site(tmp_path_factory.mktemp("browser-printing-site") / "site", PRINTING)


# (what the user types, entry ids any of which is a right first answer)
NOTATIONS = [
    ("0xC004F074", {NO_KMS}),
    ("C004F074", {NO_KMS}),
    ("-1073418124", {NO_KMS}),
    ("3221549172", {NO_KMS}),
    ("0xC004F74", {NO_KMS}),  # the spelling with a digit lost, which the entry lists
    ("0xC004F050", INVALID_KEY),
    ("SL_E_INVALID_PRODUCT_KEY", INVALID_KEY),
    ("80070643", {"update-80070643-install-failure"}),
    ("0x80070643", {"update-80070643-install-failure"}),
    ("HRESULT_FROM_WIN32(9003)", DNS),
    ("9003", DNS),
    ("8007232B", DNS),
    ("-1073418184", {COUNT_INSUFFICIENT}),
    ("SL_E_VL_NOT_ENOUGH_COUNT", {COUNT_INSUFFICIENT}),
    ("WU_E_PT_WINHTTP_NAME_NOT_RESOLVED", {"update-0x8024402c-server-name-not-resolved"}),
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
        ("Error: 0xC004F050 The Software Licensing Service reported that the product key is invalid.",
         {"ipk-0xc004f050-product-key-invalid"}),
        ("Error: 0x8007232B DNS name does not exist.", {"kms-0x8007232b-dns-name-does-not-exist"}),
        ('"System error 5 has occurred."', {"kms-host-system-error-5-access-denied"}),
    ],
)  # fmt: skip
def test_pasted_messages_with_quotes_and_colons(
    watch: PageWatch, site: Path, query: str, expected: set[str]
) -> None:
    results = search(watch, site, query)
    assert results, query
    assert results[0] in expected, results[:3]


@pytest.mark.parametrize(
    ("query", "expected"), [("hängt", "ipp-unable-to-locate-printer"), ("détecté", "scanner-not-found")]
)
def test_search_by_a_non_ascii_word(watch: PageWatch, printing_site: Path, query: str, expected: str) -> None:
    assert search(watch, printing_site, query)[0] == expected


def test_entry_related_link_and_code_index(watch: PageWatch, site: Path) -> None:
    page = watch.page
    page.goto((site / "entries" / "kms-0x8007232b-dns-name-does-not-exist.html").as_uri())
    assert "HRESULT_FROM_WIN32(9003)" in page.content()
    page.locator("#related + ul a").first.click()
    page.wait_for_load_state()
    assert "/entries/" in page.url and "kms-0x8007232b-dns-name-does-not-exist" not in page.url
    page.goto((site / "codes" / "index.html").as_uri())
    page.locator("a[href$='0x8007232B.html']").first.click()
    page.wait_for_load_state()
    assert page.url.endswith("codes/0x8007232B.html")
    page.locator(".md-content a[href*='entries/kms-host-srv']").first.click()
    page.wait_for_load_state()
    assert "/entries/kms-host-srv-record-missing" in page.url


@pytest.mark.parametrize(
    "typed",
    ["0xc004f074", "-1073418184", "HRESULT_FROM_WIN32(9003)", "DNS_ERROR_RCODE_NAME_ERROR", "80070643"],
)
def test_home_lookup_box_opens_the_code_page(
    watch: PageWatch, site: Path, activation_kb: KnowledgeBase, typed: str
) -> None:
    from build_kb.core.codes import parse_code

    page = watch.page
    page.goto((site / "index.html").as_uri())
    page.fill("#kb-lookup-input", typed)
    page.click(".kb-lookup button")
    page.wait_for_url("**/codes/*.html")
    expected = parse_code(typed, activation_kb.code_names).hex
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
    built = build_set_site(tmp_path / "site", content)
    page = watch.page
    page.goto((built / "entries" / "hostile.html").as_uri())
    assert page.evaluate("window.pwned === undefined")
    assert "<script>window.pwned=1</script>" in page.locator("h1").inner_text()
