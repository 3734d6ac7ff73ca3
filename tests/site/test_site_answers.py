"""The site's search answers as `kb search` does where a static page can (Chromium, from file://).

A pasted message holding a code the knowledge base has opens that code's entries first; KB numbers match
however they are written; a failure code that no entry carries is said to be uncovered.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser_fixtures import PageWatch, search
from tests.helpers import make_entry, write_content
from tests.site_fixtures import build_set_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _entries() -> list[dict[str, object]]:
    return [
        make_entry(
            "prerequisite-rollup-fails",
            title="The prerequisite rollup KB 4528069 does not install",
            summary="Install the servicing stack update before KB 4528069.",
            codes=[{"code": "0x80070643", "message": "Fatal error during installation."}],
            messages=[
                {"text": "Installation failure: Windows failed to install KB 4528069", "where": "other"}
            ],
        ),
        make_entry(
            "signing-update-missing",
            title="Updates signed with SHA-2 refuse to install",
            summary="Without KB4474419 the computer cannot check the signature of newer updates.",
            codes=[{"code": "0x80096010", "name": "TRUST_E_BAD_DIGEST"}],
            messages=[{"text": "The digital signature of the object did not verify.", "where": "other"}],
        ),
        make_entry(),  # "Error: 0xC004F050 when installing the key", with its slmgr message
        make_entry(
            "key-service-busy",
            title="The key service reports that the product key is invalid",
            summary="The licensing service is busy and reports the product key as invalid; retry later.",
            codes=[],
            messages=[
                {
                    "text": "The Software Licensing Service reported that the product key is invalid.",
                    "where": "other",
                }
            ],
        ),
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("answers")
    content = write_content(root / "content", _entries())
    return build_set_site(root / "site", content)


@pytest.mark.parametrize(
    ("query", "expected"),
    [("KB4528069", "prerequisite-rollup-fails"), ("KB 4528069", "prerequisite-rollup-fails"),
     ("4528069", "prerequisite-rollup-fails"), ("kb4474419", "signing-update-missing"),
     ("KB 4474419", "signing-update-missing")],
)  # fmt: skip
def test_kb_numbers_match_in_every_form(watch: PageWatch, site: Path, query: str, expected: str) -> None:
    assert search(watch, site, query)[0] == expected


def test_a_pasted_message_with_a_known_code_opens_its_entries_first(watch: PageWatch, site: Path) -> None:
    pasted = "Error: 0xC004F050 The Software Licensing Service reported that the product key is invalid."
    assert search(watch, site, pasted)[0] == "sample-entry"


def test_a_code_no_entry_carries_is_said_to_be_uncovered(watch: PageWatch, site: Path) -> None:
    search(watch, site, "Error: 0xC004F074 The Software Licensing Service reported that the product key")
    notice = watch.page.locator(".kb-search-notice")
    assert notice.is_visible()
    assert "0xC004F074 is not in this knowledge base" in notice.inner_text()


def test_no_notice_for_a_covered_code(watch: PageWatch, site: Path) -> None:
    search(watch, site, "0xC004F050")
    assert not watch.page.locator(".kb-search-notice").is_visible()
