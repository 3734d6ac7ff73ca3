"""The shipped content: Microsoft's ESU troubleshooting article KB4547184 as the entries of content/.

The only test module that reads content/. Every other module tests the code, on the fixture sets under
tests/data/sets or on synthetic content, and passes whatever content/ holds. These tests are about the
content itself: it is valid and complete, its codes' facts match the reference table (error-codes.md,
typed in here), each article code and each pasted message finds its entry, the ESU CBS.log is triaged to
the right entries, and the whole set builds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from build_kb.app.cli.main import cli
from build_kb.content.validate import load_knowledge_base
from build_kb.core.model import KnowledgeBase
from search.codemap import TriageData
from search.codemap import lookup as lookup_code
from search.index import build_index
from search.query import IndexSearcher
from search.store import current_build
from search.triage import triage
from tests.helpers import LOGS, ROOT

CONTENT = ROOT / "content"
CBS_LOG = LOGS / "cbs-esu.log"
ENTRY_FILES = sorted(p for p in CONTENT.rglob("*.yaml") if p.parent != CONTENT)

# The codes of the article (and the one behind its "Access is denied."), from the reference table (error-codes.md), not computed:
# hex -> (signed, unsigned, facility name, Win32 number, symbolic name).
ARTICLE_CODES: dict[str, tuple[int, int, str, int | None, str]] = {
    "0x80096010": (-2146869232, 2148098064, "SECURITY", None, "TRUST_E_BAD_DIGEST"),
    "0xC004F050": (-1073418160, 3221549136, "ITF", None, "SL_E_INVALID_PRODUCT_KEY"),
    "0x80072F8F": (-2147012721, 2147954575, "WIN32", 12175, "WININET_E_DECODING_FAILED"),
    "0xC004C020": (-1073430496, 3221536800, "ITF", None, "SL_E_CHPA_DMAK_LIMIT_EXCEEDED"),
    "0xC004F025": (-1073418203, 3221549093, "ITF", None, "SL_E_LUA_ACCESSDENIED"),
    "0x80072EE7": (-2147012889, 2147954407, "WIN32", 12007, "WININET_E_NAME_NOT_RESOLVED"),
    "0x80072EE2": (-2147012894, 2147954402, "WIN32", 12002, "WININET_E_TIMEOUT"),
    "0xC004F04D": (-1073418163, 3221549133, "ITF", None, "SL_E_CIDIID_INVALID_CHECK_DIGITS"),
    "0x80070643": (-2147023293, 2147944003, "WIN32", 1603, "ERROR_INSTALL_FAILURE"),
    "0x80070645": (-2147023291, 2147944005, "WIN32", 1605, "ERROR_UNKNOWN_PRODUCT"),
    "0x80070661": (-2147023263, 2147944033, "WIN32", 1633, "ERROR_INSTALL_PLATFORM_UNSUPPORTED"),
    # "Error: Access is denied." shows no code in the article; the content gives it the code behind the text.
    "0x80070005": (-2147024891, 2147942405, "WIN32", 5, "ERROR_ACCESS_DENIED"),
}


@pytest.fixture(scope="module")
def shipped_kb() -> KnowledgeBase:
    return load_knowledge_base(CONTENT, strict=True)


@pytest.fixture(scope="module")
def shipped_index(tmp_path_factory: pytest.TempPathFactory, shipped_kb: KnowledgeBase) -> Path:
    root = tmp_path_factory.mktemp("shipped-index")
    build_index(shipped_kb, root, content_root=CONTENT)
    return root


@pytest.fixture(scope="module")
def searcher(shipped_index: Path) -> Iterator[IndexSearcher]:
    with IndexSearcher(current_build(shipped_index)) as opened:
        yield opened


# --- the content is valid and complete ----------------------------------------------------------------


def test_content_passes_strict_check() -> None:
    result = CliRunner().invoke(cli, ["check", "--strict", str(CONTENT)], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_every_article_section_is_an_entry(shipped_kb: KnowledgeBase) -> None:
    assert len(shipped_kb) == 25
    sections = {e.source.section for e in shipped_kb if e.source}
    assert len(sections) >= 23  # the two VAMT "product key is invalid" sections share a heading


def test_entries_validate_against_the_json_schema() -> None:
    import jsonschema

    schema = json.loads((ROOT / "build_kb/content/schema/entry.schema.json").read_text("utf-8"))
    assert len(ENTRY_FILES) == 25
    for path in ENTRY_FILES:
        jsonschema.validate(yaml.safe_load(path.read_text("utf-8")), schema)
        assert path.read_text("utf-8").startswith("# yaml-language-server: $schema=")


@pytest.mark.parametrize("path", ENTRY_FILES, ids=lambda p: p.stem)
def test_both_yaml_parsers_read_every_entry_alike(path: Path) -> None:
    from build_kb.content import load

    text = path.read_text("utf-8")
    fast_doc = load._parse_fast(text, "f.yaml")
    exact_doc, _ = load._parse_exact(text, "f.yaml")
    assert fast_doc is not None and exact_doc is not None
    assert (fast_doc.data, fast_doc.positions, fast_doc.key_positions) == (
        exact_doc.data,
        exact_doc.positions,
        exact_doc.key_positions,
    )


def test_every_article_code_is_listed_with_its_facts() -> None:
    result = CliRunner().invoke(cli, ["codes", "--json", "--content", str(CONTENT)], catch_exceptions=False)
    rows = {row["hex"]: row for row in json.loads(result.stdout)}
    for hex_code, (signed, unsigned, facility, win32, name) in ARTICLE_CODES.items():
        row = rows[hex_code]
        assert (row["signed"], row["unsigned"], row["facility"], row["win32"]) == (
            signed,
            unsigned,
            facility,
            win32,
        )
        assert name in row["names"]
        assert row["entries"], hex_code
        assert hex_code in row["notations"] and str(signed) in row["notations"]


# --- each code and each pasted message finds its entry ------------------------------------------------


def _notations(hex_code: str) -> list[str]:
    value = int(hex_code, 16)
    signed, unsigned, _, win32, name = ARTICLE_CODES[hex_code]
    forms = [hex_code, f"{value:08X}", hex_code.lower(), f"{value:08x}", str(signed), str(unsigned)]
    if win32 is not None:
        forms += [f"HRESULT_FROM_WIN32({win32})", str(win32)]
    return [*forms, name, name.lower()]


NOTATIONS = [(hex_code, text) for hex_code in ARTICLE_CODES for text in _notations(hex_code)]


@pytest.mark.parametrize(("hex_code", "text"), NOTATIONS)
def test_lookup_finds_every_notation_of_every_article_code(
    shipped_index: Path, shipped_kb: KnowledgeBase, hex_code: str, text: str
) -> None:
    result = lookup_code(current_build(shipped_index), text)
    assert result.code is not None and result.code.hex == hex_code
    assert [hit.id for hit in result.hits] == [e.id for e in shipped_kb.entries_by_code[int(hex_code, 16)]]
    assert ARTICLE_CODES[hex_code][4] in result.code.names


# Messages pasted from the article, and the entry that must come first.
PASTED = [
    ("Run 'slui.exe 0x2a 0xC004F050' to display the error text.", "ipk-slui-0xc004f050"),
    ("Unable to connect to the WMI service on the remote machine", "vamt-wmi-unable-to-connect"),
    ("Error: Access is denied.", "vamt-access-denied"),
    (
        "The Windows Modules Installer must be updated before you can install this package.",
        "wusa-windows-modules-installer-must-be-updated",
    ),
    ("ESU: NO ESU KEY FOUND", "embedded-no-esu-key-found"),
    (
        "Download and Install Updates Some updates were not installed",
        "windows-update-some-updates-not-installed",
    ),
    ("The update is not applicable to your computer.", "update-not-applicable"),
    ("the Multiple Activation Key has exceeded its limit", "activation-0xc004c020-mak-limit"),
    ("License Status: Unlicensed", "slmgr-ato-still-unlicensed"),
    ("The digital signature of the object did not verify.", "installer-0x80096010-digital-signature"),
    (
        "Error: 0xC004F050 The Software Licensing Service reported that the product key is invalid.",
        "slmgr-ipk-0xc004f050-product-key-invalid",
    ),
    ("Error: Product activation failed.", "slmgr-product-activation-failed"),
    ("Error: product not found.", "slmgr-product-not-found"),
    (
        "0xC004F025 access denied: the requested action requires elevated privileges.",
        "slmgr-0xc004f025-access-denied",
    ),
    ("0x80072EE2 The operation timed out", "activation-0x80072ee2-timed-out"),
    ("Content decoding has failed", "activation-0x80072f8f-content-decoding-failed"),
    (
        "ESU: Pre IMDS checks failed, Not Eligible:HRESULT_FROM_WIN32(1605)",
        "prep-check-80070643-install-fails",
    ),
    ("Error: 80070643 - prep-check KB installation fails", "prep-check-80070643-install-fails"),
    (
        "The Software Licensing Service determined that the Installation ID (IID) or the Confirmation ID (CID) is invalid",
        "phone-0xc004f04d-invalid-iid-cid",
    ),
    (
        "On a computer running Microsoft Windows non-core edition, run 'slui.exe 0x2a 0x80072EE7' to display the error text.",
        "activation-0x80072ee7-name-not-resolved",
    ),
    ("Unable to verify product key", "vamt-activate-unable-to-verify-product-key"),
    ("147012721", "activation-0x80072f8f-content-decoding-failed"),  # the article's mangled decimal
    ("0xC004F050 VAMT", "vamt-install-key-product-key-invalid"),
]


@pytest.mark.parametrize(("text", "first"), PASTED, ids=[text[:40] for text, _ in PASTED])
def test_pasted_message_ranks_its_entry_first(searcher: IndexSearcher, text: str, first: str) -> None:
    assert searcher.search(text).hits[0].id == first


# --- the ESU CBS.log ----------------------------------------------------------------------------------

EMBEDDED_1633 = ["embedded-1633-key-in-embedded-range", "embedded-1633-key-out-of-embedded-range"]
# Line of cbs-esu.log -> (codes on it, entries it points at, best first). Every other line (S_OK,
# 0x00000000, 0x0, a 0x800 registry value, KB numbers, versions, session ids) gives nothing.
CBS_EXPECTED = {
    14: ((), ["prep-check-80070643-install-fails"]),  # ESU: Product = 36 (0x00000024).
    15: ((), ["prep-check-80070643-install-fails"]),  # ESU: Is IMDS check needed: FALSE
    16: (("0x80070645",), ["prep-check-80070643-install-fails"]),  # Not Eligible:HRESULT_FROM_WIN32(1605)
    17: (("0x80070643",), ["prep-check-80070643-install-fails"]),  # [HRESULT = 0x80070643 - ...]
    22: ((), ["embedded-no-esu-key-found"]),  # ESU: NO ESU KEY FOUND
    24: ((), EMBEDDED_1633),  # ESU: Windows is not activated.
    25: (("0x80070661",), EMBEDDED_1633),  # ESU: not eligible:HRESULT_FROM_WIN32(1633)
}


def test_cbs_log_names_the_right_entries(shipped_kb: KnowledgeBase) -> None:
    with CBS_LOG.open("rb") as stream:
        findings = list(triage(stream, TriageData.from_kb(shipped_kb)))
    assert {f.line: (f.codes, [h.id for h in f.hits]) for f in findings} == CBS_EXPECTED
    by_line = {f.line: f for f in findings}
    assert [h.score for h in by_line[25].hits] == [2.0, 2.0]  # the code and the log pattern


# --- the whole set builds -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`kb build` of content/ with the repository's own mkdocs.yml, as the README's quick start runs it."""
    out = tmp_path_factory.mktemp("shipped-build")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SOURCE_DATE_EPOCH": "1735689600"}
    result = subprocess.run(
        [sys.executable, "-m", "build_kb", "build", "--content", str(CONTENT),
         "--site-dir", str(out / "site"), "--dist-dir", str(out / "dist")],
        cwd=ROOT, env=env, capture_output=True, text=True, encoding="utf-8", timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.slow
def test_the_shipped_set_builds_every_output(shipped_build: Path, shipped_kb: KnowledgeBase) -> None:
    stem = shipped_kb.taxonomy.short_name
    dist = shipped_build / "dist"
    assert (shipped_build / "site" / "index.html").is_file()
    assert (dist / f"{stem}-runbook.pdf").read_bytes().startswith(b"%PDF-")
    with zipfile.ZipFile(dist / f"{stem}-offline.zip") as archive:
        assert f"{stem}-offline/site/index.html" in archive.namelist()
    for entry in shipped_kb:
        assert (shipped_build / "site" / "entries" / f"{entry.id}.html").is_file(), entry.id


@pytest.mark.slow
def test_the_0x80072f8f_page_shows_every_notation_and_the_corrections(shipped_build: Path) -> None:
    page = (
        shipped_build / "site" / "entries" / "activation-0x80072f8f-content-decoding-failed.html"
    ).read_text("utf-8")
    for text in ("0x80072F8F", "80072F8F", "-2147012721", "2147954575", "HRESULT_FROM_WIN32(12175)", "12175",
                 "WININET_E_DECODING_FAILED", "147012721", "KB4547184", "CurrentControlSet"):  # fmt: skip
        assert text in page, text
    assert "Corrections to the source" in page
    script = (shipped_build / "site" / "assets" / "javascripts" / "kb-codes.js").read_text("utf-8")
    data = json.loads(script.removeprefix("window.KB_CODES = ").rstrip().rstrip(";"))
    assert data["names"]["ERROR_UNKNOWN_PRODUCT"] == "0x80070645"


@pytest.mark.slow
def test_the_shipped_bundle_answers_lookups(shipped_build: Path, shipped_kb: KnowledgeBase) -> None:
    stem = shipped_kb.taxonomy.short_name
    with zipfile.ZipFile(shipped_build / "dist" / f"{stem}-offline.zip") as archive:
        archive.extractall(shipped_build / "unpacked")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "build_kb", "lookup", "0xC004F050", "--json",
         "--index", str(shipped_build / "unpacked" / f"{stem}-offline")],
        cwd=shipped_build, env=env, capture_output=True, text=True, encoding="utf-8", timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    ids = [hit["id"] for hit in json.loads(result.stdout)["results"]]
    assert "slmgr-ipk-0xc004f050-product-key-invalid" in ids
