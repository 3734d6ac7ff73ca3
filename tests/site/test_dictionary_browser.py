"""The home page's lookup box with the error-code dictionary, in Chromium from file:// (no network at all).

The site is built from the activation fixture set (tests/data/sets/activation) with the tool's default
configuration, from a working folder that has no mkdocs.yml. Expected names and messages are facts of
Microsoft's documentation; where the browser's own decoder is compared, the Python dictionary is the reference.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from build_kb.app.build import BuildOptions, build_site
from build_kb.core import dictionary
from tests.browser_fixtures import PageWatch
from tests.helpers import ROOT
from tests.site_fixtures import FIXED_DATE

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIXTURE = ROOT / "tests" / "data" / "sets" / "activation"
LOOKUP_SCRIPT = ROOT / "site_overrides" / "assets" / "javascripts" / "kb-lookup.js"
DICTIONARY = "assets/javascripts/kb-dictionary.js"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("dictionary-site")
    with contextlib.chdir(work):  # no mkdocs.yml here: the packaged default configuration is used
        build_site(BuildOptions(content_root=FIXTURE, config_file=None), work / "site", FIXED_DATE)
    return work / "site"


def _requests(watch: PageWatch) -> list[str]:
    seen: list[str] = []
    watch.page.on("request", lambda request: seen.append(request.url))
    return seen


def _look_up(watch: PageWatch, site: Path, typed: str) -> str:
    page = watch.page
    page.goto((site / "index.html").as_uri())
    page.fill("#kb-lookup-input", typed)
    page.click(".kb-lookup button")
    page.locator(".kb-lookup-result .kb-lookup-line").first.wait_for(timeout=15_000)
    return str(page.locator(".kb-lookup-result").inner_text())


def test_the_dictionary_loads_only_when_the_box_is_used(watch: PageWatch, site: Path) -> None:
    requests = _requests(watch)
    page = watch.page
    page.goto((site / "index.html").as_uri())
    page.wait_for_load_state("load")
    assert page.evaluate("window.KB_DICTIONARY === undefined")
    assert not [url for url in requests if "kb-dictionary" in url]
    assert "kb-dictionary" not in (site / "index.html").read_text("utf-8")
    page.focus("#kb-lookup-input")
    page.wait_for_function("window.KB_DICTIONARY !== undefined", timeout=15_000)
    loaded = [url for url in requests if "kb-dictionary" in url]
    assert loaded == [(site / DICTIONARY).as_uri()]


def test_a_code_no_entry_has_is_named_and_explained(watch: PageWatch, site: Path) -> None:
    text = _look_up(watch, site, "0x80092004")
    assert "0x80092004 is not in this knowledge base." in text
    assert "CRYPT_E_NOT_FOUND (HRESULT): Cannot find object or property." in text
    assert "-2146885628 (signed)" in text
    assert "licensed under CC BY 4.0" in text  # the attribution comes with the texts
    assert watch.page.url.endswith("/index.html")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("crypt_e_not_found", "CRYPT_E_NOT_FOUND (HRESULT): Cannot find object or property."),
        # HRESULT_FROM_WIN32(2): the Win32 error inside, with its number
        ("0x80070002", "ERROR_FILE_NOT_FOUND (Win32 error 2): The system cannot find the file specified."),
        (
            "ERROR_INTERNET_TIMEOUT",
            "ERROR_INTERNET_TIMEOUT (WinINet error 12002): The request has timed out.",
        ),
        # HRESULT_FROM_NT(STATUS_ACCESS_DENIED): a name only, no licence-clean text exists
        ("0xD0000022", "STATUS_ACCESS_DENIED (NTSTATUS 0xC0000022)"),
    ],
)
def test_names_and_wrapped_forms(watch: PageWatch, site: Path, typed: str, expected: str) -> None:
    assert expected in _look_up(watch, site, typed)


def test_a_value_no_namespace_knows(watch: PageWatch, site: Path) -> None:
    text = _look_up(watch, site, "0x12345678")
    assert "0x12345678 is not in this knowledge base." in text
    assert "No Windows error of this value is known." in text


def test_what_is_no_code_is_still_said_so(watch: PageWatch, site: Path) -> None:
    page = watch.page
    page.goto((site / "index.html").as_uri())
    page.fill("#kb-lookup-input", "no_such_name_anywhere")
    page.click(".kb-lookup button")
    page.wait_for_function(
        "document.querySelector('.kb-lookup-result').textContent.startsWith('Not an error code')",
        timeout=15_000,
    )


def test_a_code_of_the_knowledge_base_opens_its_page(watch: PageWatch, site: Path) -> None:
    page = watch.page
    page.goto((site / "index.html").as_uri())
    page.fill("#kb-lookup-input", "0xC004F074")
    page.click(".kb-lookup button")
    page.wait_for_url("**/codes/0xC004F074.html")
    assert "SL_E_VL_BINDING_SERVICE_UNAVAILABLE" in page.locator("article").inner_text()


def test_a_code_page_shows_the_dictionary_and_its_notice(watch: PageWatch, site: Path) -> None:
    page = watch.page
    page.goto((site / "codes" / "0x80070005.html").as_uri())
    article = page.locator("article").inner_text()
    assert "ERROR_ACCESS_DENIED (Win32 error 5) → Access is denied." in article
    assert "E_ACCESSDENIED (HRESULT) → General access denied error" in article
    notice = page.locator("p.kb-attribution")
    assert "CC BY 4.0" in notice.inner_text()
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('p.kb-attribution')).fontSize)")
    body = page.evaluate("parseFloat(getComputedStyle(document.querySelector('article p')).fontSize)")
    assert size < body  # small print


def test_markup_in_a_message_is_shown_as_text(watch: PageWatch, site: Path) -> None:
    # CO_E_RUNAS_SYNTAX's documented text holds angle brackets.
    text = _look_up(watch, site, "0x80004017")
    assert "A RunAs specification must be <domain name>\\<user name> or simply <user name>." in text
    tags = watch.page.evaluate(
        "[...document.querySelectorAll('.kb-lookup-result *')].map((e) => e.tagName.toLowerCase())"
    )
    assert set(tags) <= {"span", "code", "small", "a"}


def test_related_entries_are_offered(watch: PageWatch, tmp_path: Path) -> None:
    from tests.helpers import make_entry, write_content

    entry = make_entry(related_codes=[{"code": "0x80092004", "reason": "The same fix."}])
    content = write_content(tmp_path / "content", [entry])
    with contextlib.chdir(tmp_path):
        build_site(BuildOptions(content_root=content, config_file=None), tmp_path / "site", FIXED_DATE)
    text = _look_up(watch, tmp_path / "site", "0x80092004")
    assert f"Entries with the same fix: {entry['title']}" in text
    # Covered through the related entry, as kb lookup says: never "not in this knowledge base".
    assert "0x80092004 has no entry of its own, but entries list it as having the same cause and fix." in text
    assert "not in this knowledge base" not in text
    watch.page.locator(".kb-lookup-result a").click()
    watch.page.wait_for_url("**/entries/sample-entry.html")


def _values() -> list[int]:
    """Every code and value the dictionary holds, and the forms that wrap them."""
    values: set[int] = {0, 0xFFFFFFFF, 0x12345678}
    for record in dictionary.all_codes():
        values |= {record.value, record.code}
        if record.namespace == "ntstatus":
            values.add(record.value | 0x10000000)  # HRESULT_FROM_NT
        if record.namespace in ("win32", "wininet", "winhttp", "ras") and 0 < record.value <= 0xFFFF:
            values.add(0xC0070000 | record.value)  # NTSTATUS_FROM_WIN32
        if record.namespace == "setupapi":
            values.add(0x800F0000 | (record.value & 0xFFFF))
    return sorted(values)


def test_the_browsers_decoder_agrees_with_python_on_every_value(watch: PageWatch, site: Path) -> None:
    page = watch.page
    page.goto((site / "index.html").as_uri())
    assert page.evaluate("window.kbLoadDictionary().then((t) => t !== null)")
    values = _values()
    got = page.evaluate("(values) => values.map((v) => window.kbDescribeCode(v))", values)
    wrong = []
    for value, found in zip(values, got, strict=True):
        expected = [
            {"value": k.value, "namespace": k.namespace, "name": k.name, "message": k.message}
            for k in dictionary.describe(value)
        ]
        if found != expected:
            wrong.append(f"0x{value:08X}: Python {expected}, browser {found}")
    assert len(values) > 16_000
    assert not wrong, "\n".join(wrong[:20])


def test_the_browsers_names_agree_with_python(watch: PageWatch, site: Path) -> None:
    page = watch.page
    page.goto((site / "index.html").as_uri())
    names = page.evaluate("window.kbLoadDictionary().then((t) => Object.assign({}, t.names))")
    expected = {name: f"0x{value:08X}" for name, value in dictionary.names().items()}
    assert names == expected
    # and canonical() reads them, as parse_code(text, names()) does
    read = page.evaluate(
        "(names) => ['crypt_e_not_found', ' E_FAIL.', 'ERROR_ACCESS_DENIED'].map((t) => window.kbCanonicalCode(t, names))",
        names,
    )
    assert read == ["0x80092004", "0x80004005", "0x80070005"]


def test_the_box_works_without_the_dictionary_file(watch: PageWatch, tmp_path: Path, site: Path) -> None:
    """A site copied without kb-dictionary.js still answers, and says why it cannot name the code."""
    import shutil

    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    (copy / DICTIONARY).unlink()
    page = watch.page
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    text = _look_up(watch, copy, "0x80092004")
    assert "0x80092004 is not in this knowledge base." in text
    assert "The error-code dictionary could not be loaded." in text
    assert failed == [(copy / DICTIONARY).as_uri()]
    # Chromium logs the missing file as a console error; that one is expected here.
    watch.errors[:] = [e for e in watch.errors if "ERR_FILE_NOT_FOUND" not in e]


def test_page_weight_stays_light(site: Path) -> None:
    index = site / "index.html"
    scripts = site / "assets" / "javascripts"
    loaded = [scripts / "kb-codes.js", scripts / "kb-lookup.js"]
    assert index.stat().st_size < 60_000
    assert sum(p.stat().st_size for p in loaded) < 40_000
    assert (scripts / "kb-dictionary.js").stat().st_size > 500_000  # the table is there, for the box alone
    json.loads((site / "search" / "search_index.json").read_text("utf-8"))  # the site is whole
