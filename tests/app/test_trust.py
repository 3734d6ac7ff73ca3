"""Answers users can trust: covered or not, why each result is listed, and codes read out of pasted text.

Run on a synthetic content set through the real commands (in-process), so each rule has a test that fails
when it breaks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from build_kb.app.cli.main import cli
from tests.helpers import make_entry, write_content

SLUI_HINT = "On a computer running Microsoft Windows non-core edition, run 'slui.exe 0x2a {code}' to display the error text."


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("trust")
    entries = [
        make_entry(
            "key-refused",
            title="Error: 0xC004F050 when installing the key",
            codes=[{"code": "0xC004F050", "name": "SL_E_INVALID_PRODUCT_KEY"}],
            messages=[{"text": "Error: 0xC004F050 " + SLUI_HINT.format(code="0xC004F050"), "where": "slmgr"}],
            related_codes=[{"code": "0xC004E016", "reason": "Older releases refuse the key with this code."}],
        ),
        make_entry(
            "name-not-resolved",
            title="Error: 0x80072EE7 during activation",
            summary="The activation server name does not resolve: check DNS and the proxy.",
            codes=[{"code": "0x80072EE7"}],
            messages=[{"text": "Error: 0x80072EE7 " + SLUI_HINT.format(code="0x80072EE7"), "where": "slmgr"}],
            causes=["The DNS server cannot resolve the activation server's name."],
        ),
        make_entry(
            "rollup-not-installed",
            title="Some updates were not installed",
            summary="The monthly rollup KB 4528069 fails until the servicing stack is current.",
            codes=[],
            messages=[{"text": "Some updates were not installed", "where": "other"}],
            causes=["The servicing stack update is missing."],
        ),
        make_entry(
            "install-failure",
            title="The prerequisite check fails",
            summary="The prerequisite package stops with a fatal installer error.",
            codes=[{"code": "0x80070643"}],
            messages=[
                {"text": "Installation failure: Windows failed to install the prerequisite", "where": "other"}
            ],
        ),
    ]
    content = write_content(root / "content", entries)
    return content, root / "index"


def kb_json(kb: tuple[Path, Path], *arguments: str) -> tuple[int, dict[str, Any]]:
    content, index = kb
    result = CliRunner().invoke(
        cli, [*arguments, "--json", "--index", str(index), "--content", str(content)], catch_exceptions=False
    )
    return result.exit_code, json.loads(result.stdout)


def ids(data: dict[str, Any]) -> list[str]:
    return [item["id"] for item in data["results"]]


@pytest.mark.parametrize(
    "typed",
    ["Error: 0xC004F050", "C004F050.", "0x2a 0xC004F050", "'0xC004F050',", "sl_e_invalid_product_key"],
)
def test_lookup_reads_the_code_out_of_what_was_pasted(kb: tuple[Path, Path], typed: str) -> None:
    status, data = kb_json(kb, "lookup", typed)
    assert status == 0 and data["covered"] is True
    assert data["code"]["hex"] == "0xC004F050" and ids(data) == ["key-refused"]
    assert data["results"][0]["match"] == "code" and data["results"][0]["confidence"] == "high"


def test_lookup_of_a_related_code_lists_the_entry_as_related(kb: tuple[Path, Path]) -> None:
    status, data = kb_json(kb, "lookup", "0xC004E016")
    assert status == 0 and data["covered"] is True
    assert [(r["id"], r["match"]) for r in data["results"]] == [("key-refused", "related-code")]


def test_lookup_of_a_code_no_entry_has_names_it_and_says_not_covered(kb: tuple[Path, Path]) -> None:
    status, data = kb_json(kb, "lookup", "0xC004F074")
    assert status == 1 and data["covered"] is False and data["results"] == []
    assert "SL_E_VL_BINDING_SERVICE_UNAVAILABLE" in data["code"]["names"]
    assert [code["hex"] for code in data["uncovered_codes"]] == ["0xC004F074"]


def test_lookup_text_says_not_covered_with_the_name(kb: tuple[Path, Path]) -> None:
    content, index = kb
    result = CliRunner().invoke(
        cli, ["lookup", "0xC004F074", "--index", str(index), "--content", str(content)]
    )
    assert result.exit_code == 1
    assert "0xC004F074 SL_E_VL_BINDING_SERVICE_UNAVAILABLE is not in this knowledge base." in result.output


def test_a_message_with_an_unknown_code_is_not_covered(kb: tuple[Path, Path]) -> None:
    pasted = "Error: 0xC004F074 " + SLUI_HINT.format(code="0xC004F074")
    status, data = kb_json(kb, "search", pasted)
    assert status == 1 and data["covered"] is False
    assert all(item["confidence"] == "low" for item in data["results"])


@pytest.mark.parametrize("runs", ["from the index", "as phrases"])
def test_shared_boilerplate_does_not_decide_the_ranking(kb: tuple[Path, Path], runs: str) -> None:
    """The slui hint stands in two entries' messages: its words are marked, the DNS words are not, and the
    entry the distinctive words name comes first; the runs the index lists as shared and the phrase search
    they replace mark the same words."""
    from search.cache import read_searchable
    from search.query import IndexSearcher, _Search
    from search.store import current_build

    _, data = kb_json(kb, "search", SLUI_HINT.format(code="") + " The server name could not be resolved.")
    assert ids(data)[0] == "name-not-resolved"

    def marked(build) -> tuple[set[str], set[str], set[str]]:
        with IndexSearcher(build) as searcher:
            if runs == "from the index":
                assert searcher.shared_runs()
                search = _Search(searcher.searcher, build, searcher.shared_runs)
            else:
                search = _Search(searcher.searcher, build)
            text = SLUI_HINT.format(code="") + " dns server"
            hint, own = search._analyse("non-core edition slui.exe"), search._analyse("dns server")
            return search._template_words(search._analyse(text)), set(hint), set(own)

    words, hint, own = read_searchable(current_build(kb[1]), marked, lambda message: None)
    assert hint <= words
    assert not own & words


def test_a_known_code_comes_first_and_the_text_still_ranks_the_rest(kb: tuple[Path, Path]) -> None:
    status, data = kb_json(kb, "search", "Some updates were not installed 0x80070643")
    assert status == 0 and data["covered"] is True
    assert ids(data)[:2] == ["install-failure", "rollup-not-installed"]
    assert [r["match"] for r in data["results"][:2]] == ["code", "text"]


@pytest.mark.parametrize("typed", ["KB4528069", "KB 4528069", "kb4528069", "4528069"])
def test_kb_numbers_match_in_every_form(kb: tuple[Path, Path], typed: str) -> None:
    assert ids(kb_json(kb, "search", typed)[1])[0] == "rollup-not-installed"


def test_an_http_status_is_not_read_as_a_win32_error(kb: tuple[Path, Path]) -> None:
    _, data = kb_json(kb, "search", "The proxy answered HTTP error 500")
    assert data["code"] is None and data["uncovered_codes"] == []


def test_a_generic_code_with_only_its_own_message_is_low_confidence(kb: tuple[Path, Path]) -> None:
    _, data = kb_json(kb, "search", "Error 0x80070643: Fatal error during installation")
    assert ids(data)[0] == "install-failure" and data["results"][0]["confidence"] == "low"
    # The code alone asks for the entries carrying it: those answer it.
    assert kb_json(kb, "search", "0x80070643")[1]["results"][0]["confidence"] == "high"


def test_an_unrelated_message_gets_no_confident_answer(kb: tuple[Path, Path]) -> None:
    status, data = kb_json(kb, "search", "The printer spooler service terminated unexpectedly")
    assert status == 1 and data["covered"] is False


def test_a_kb_number_in_a_long_paste_finds_its_entry_with_confidence(kb: tuple[Path, Path]) -> None:
    pasted = (
        "Next, I downloaded and tried to install KB4528069 on the server after the reboot. But this fails."
    )
    status, data = kb_json(kb, "search", pasted)
    assert status == 0 and ids(data)[0] == "rollup-not-installed"
    assert data["results"][0]["confidence"] == "high"
