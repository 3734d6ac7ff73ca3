"""The error-code dictionary in every output: the code view, site pages, the lookup box's table, the PDF and
`kb codes --all`.

Expected names and messages are facts of Microsoft's documentation (the MicrosoftDocs/win32 pages and the
win32metadata names that tests/core/test_dictionary.py checks the table against), written out here; record counts
are those build_kb/core/data/NOTICE.md states.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from build_kb.app.cli.main import cli
from build_kb.content.validate import load_knowledge_base
from build_kb.core.codes import Code
from build_kb.core.codeview import CodeView, code_view
from build_kb.core.dictionary import ATTRIBUTION
from build_kb.core.model import CodeRef
from build_kb.site.plugin import DICTIONARY_SCRIPT, SCRIPTS, code_map_script, dictionary_script
from build_kb.site.render import render_code, render_code_index, render_entry, render_home
from tests.helpers import ACTIVATION, ROOT, make_entry, write_content

TABLE = ROOT / "build_kb" / "core" / "data" / "codes.tsv"
NOTICE_COUNTS = {
    "hresult": 9001,
    "wua": 478,
    "ntstatus": 3175,
    "setupapi": 90,
    "win32": 3224,
    "wininet": 117,
    "winhttp": 56,
    "ras": 277,
}
"""Records per namespace, as build_kb/core/data/NOTICE.md lists them."""

CRYPT_MESSAGE = "Cannot find object or property."  # CRYPT_E_NOT_FOUND, com-error-codes-4.md
ACCESS_DENIED = "Access is denied."  # ERROR_ACCESS_DENIED, system-error-codes--0-499-.md
E_ACCESSDENIED = "General access denied error"  # E_ACCESSDENIED, com-error-codes-1.md
WRONG_DISK = "The wrong diskette is in the drive. Insert %2 (Volume Serial Number: %3) into drive %1."


def _kb(tmp_path: Path, *entries: dict[str, Any]) -> Any:
    return load_knowledge_base(write_content(tmp_path / "content", list(entries)))


# --- the code view ------------------------------------------------------------------------------------------
def test_view_carries_the_dictionary_after_the_entries_names() -> None:
    ref = CodeRef(code="0x80070005", value=0x80070005, name="ERROR_ACCESS_DENIED")
    view = CodeView.of(Code(0x80070005), [ref])
    assert view.entry_names == ("ERROR_ACCESS_DENIED",)
    assert view.names == ("ERROR_ACCESS_DENIED", "E_ACCESSDENIED")
    assert [(k.namespace, k.name, k.value, k.message) for k in view.known] == [
        ("hresult", "E_ACCESSDENIED", 0x80070005, E_ACCESSDENIED),
        ("win32", "ERROR_ACCESS_DENIED", 5, ACCESS_DENIED),
    ]
    # No message of the entry's: the Win32 error's, as FormatMessage gives for an HRESULT_FROM_WIN32 code.
    assert view.name == "ERROR_ACCESS_DENIED" and view.message == ACCESS_DENIED


@pytest.mark.parametrize(
    ("value", "name", "message"),
    [
        # The Win32 error inside, not the DirectInput alias the HRESULT lists first.
        (0x80070002, "ERROR_FILE_NOT_FOUND", "The system cannot find the file specified."),
        # Of two Win32 names, the one with a message (DNS_ERROR_NO_MEMORY has none).
        (0x8007000E, "ERROR_OUTOFMEMORY", "Not enough storage is available to complete this operation."),
        (0x80092004, "CRYPT_E_NOT_FOUND", CRYPT_MESSAGE),
        (0xC0000022, "STATUS_ACCESS_DENIED", None),  # NTSTATUS: a name, no licence-clean text
        (0x12345678, None, None),
    ],
)
def test_one_name_and_message_without_the_entries(value: int, name: str | None, message: str | None) -> None:
    view = CodeView.of(Code(value))
    assert (view.name, view.message) == (name, message)


def test_view_json_lists_every_name_and_what_the_dictionary_knows() -> None:
    data = CodeView.of(Code(0x80092004)).to_json()
    assert data["names"] == ["CRYPT_E_NOT_FOUND"]
    assert data["known"] == [
        {"name": "CRYPT_E_NOT_FOUND", "namespace": "hresult", "value": 0x80092004, "message": CRYPT_MESSAGE}
    ]
    assert json.loads(json.dumps(data)) == data
    assert CodeView.of(Code(0x12345678)).to_json()["known"] == []


def test_entry_names_come_first_and_none_repeats(tmp_path: Path) -> None:
    kb = _kb(tmp_path, make_entry(codes=[{"code": "0x80072EE2", "name": "ERROR_WINHTTP_TIMEOUT"}]))
    view = code_view(kb, 0x80072EE2)
    assert view.names == ("ERROR_WINHTTP_TIMEOUT", "WININET_E_TIMEOUT", "ERROR_INTERNET_TIMEOUT")


# --- site pages ---------------------------------------------------------------------------------------------
def _rows(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("| Documented as |")]


def test_code_page_shows_name_message_and_attribution(tmp_path: Path) -> None:
    kb = _kb(tmp_path, make_entry(codes=[{"code": "0x80070005"}]))
    page = render_code(code_view(kb, 0x80070005), kb)
    assert _rows(page) == [
        f"| Documented as | `E_ACCESSDENIED` (HRESULT) → {E_ACCESSDENIED} |",
        f"| Documented as | `ERROR_ACCESS_DENIED` (Win32 error 5) → {ACCESS_DENIED} |",
    ]
    assert "| Name | `E_ACCESSDENIED` `ERROR_ACCESS_DENIED` |" in page
    assert page.rstrip().endswith("{ .kb-attribution data-search-exclude }")
    assert "CC BY 4.0" in page and "MicrosoftDocs/win32" in page


def test_placeholders_are_kept_and_paragraphs_are_line_breaks(tmp_path: Path) -> None:
    kb = _kb(tmp_path, make_entry(codes=[{"code": "0x80070022"}, {"code": "0x80072EE2"}]))
    assert (
        "→ The wrong diskette is in the drive. Insert %2 \\(Volume Serial Number: %3\\) into drive %1. |"
        in (render_code(code_view(kb, 0x80070022), kb))
    )
    winhttp = [r for r in _rows(render_code(code_view(kb, 0x80072EE2), kb)) if "ERROR_WINHTTP_TIMEOUT" in r]
    assert winhttp == [
        "| Documented as | `ERROR_WINHTTP_TIMEOUT` (WinHTTP error 12002) → The request has timed out.<br>This "
        "error can be returned as a result of TCP/IP time-out behavior, regardless of time-out values set in "
        "Windows HTTP Services. |"
    ]


def test_an_entry_message_the_dictionary_gives_is_shown_once(tmp_path: Path) -> None:
    same = make_entry("same", codes=[{"code": "0x80070005", "message": "access is denied"}])
    other = make_entry("other", codes=[{"code": "0x80072EE2", "message": "The operation timed out"}])
    kb = _kb(tmp_path, same, other)
    same_page = render_entry(kb.by_id["same"], kb)
    assert "| System message |" not in same_page
    assert f"→ {ACCESS_DENIED} |" in same_page
    other_page = render_entry(kb.by_id["other"], kb)
    assert "| System message | The operation timed out |" in other_page
    assert "(WinINet error 12002) → The request has timed out. |" in other_page


def test_markup_in_a_message_stays_text(tmp_path: Path) -> None:
    # CO_E_RUNAS_SYNTAX: "A RunAs specification must be <domain name>\<user name> or simply <user name>."
    kb = _kb(tmp_path, make_entry(codes=[{"code": "0x80004017"}]))
    row = _rows(render_code(code_view(kb, 0x80004017), kb))[0]
    assert "&lt;domain name&gt;\\\\&lt;user name&gt; or simply &lt;user name&gt;." in row
    assert "<domain" not in row


def test_code_without_dictionary_record_has_no_attribution(tmp_path: Path) -> None:
    kb = _kb(tmp_path, make_entry(codes=[{"code": "0x12345678", "name": "OWN_E_THING"}]))
    page = render_code(code_view(kb, 0x12345678), kb)
    assert "Documented as" not in page and ATTRIBUTION[:40] not in page
    assert "kb-attribution" not in render_entry(kb.entries[0], kb)


def test_code_index_shows_messages_and_the_attribution(tmp_path: Path) -> None:
    kb = _kb(
        tmp_path,
        make_entry("a", codes=[{"code": "0x80092004"}]),
        make_entry("b", codes=[{"code": "0x12345678", "message": "Our own message."}]),
    )
    index = render_code_index(kb)
    rows = {
        line.split(" | ")[0].removeprefix("| "): line for line in index.splitlines() if line.startswith("| [")
    }
    assert f"`CRYPT_E_NOT_FOUND` (HRESULT) → {CRYPT_MESSAGE}" in rows["[0x80092004](../codes/0x80092004.md)"]
    assert "Our own message." in rows["[0x12345678](../codes/0x12345678.md)"]
    assert "{ .kb-attribution data-search-exclude }" in index


def test_related_code_without_a_name_gets_the_dictionarys(tmp_path: Path) -> None:
    entry = make_entry(related_codes=[{"code": "0x80092004", "reason": "The same fix."}])
    kb = _kb(tmp_path, entry)
    assert "- `0x80092004` `CRYPT_E_NOT_FOUND`: The same fix." in render_entry(kb.entries[0], kb)


def test_home_page_loads_no_dictionary() -> None:
    assert DICTIONARY_SCRIPT not in SCRIPTS
    kb = load_knowledge_base(ACTIVATION)
    assert "kb-dictionary" not in render_home(kb)


def test_code_map_lists_related_codes_with_their_entries(tmp_path: Path) -> None:
    entry = make_entry("fixer", related_codes=[{"code": "-2146885628", "reason": "The same fix."}])
    data = json.loads(code_map_script(_kb(tmp_path, entry)).removeprefix("window.KB_CODES = ").rstrip()[:-1])
    assert data["related"] == {"0x80092004": [{"title": entry["title"], "url": "entries/fixer.html"}]}


# --- the lookup box's table ---------------------------------------------------------------------------------
def _script_data() -> dict[str, Any]:
    script = dictionary_script()
    prefix = "window.KB_DICTIONARY = "
    start = script.index(prefix) + len(prefix)
    data: dict[str, Any] = json.loads(script[start:].rstrip().removesuffix(";"))
    return data


def test_dictionary_script_is_under_a_megabyte_gzipped() -> None:
    script = dictionary_script().encode("utf-8")
    assert len(gzip.compress(script, 9)) < 1_000_000
    # and not bloated: the script is about the size of the table it is made from
    assert len(script) < 1.1 * TABLE.stat().st_size


def test_dictionary_script_carries_every_record_of_the_table() -> None:
    data = _script_data()
    lines = TABLE.read_text("utf-8").splitlines()[1:]
    expected = []
    for line in lines:
        value, namespace, name, message = line.split("\t")
        expected.append((int(value, 16), namespace, name, message))
    got = []
    for line in data["records"].split("\n"):
        value, rank, name, message = line.split("\t")
        got.append((int(value, 16), data["namespaces"][int(rank)], name, message))
    assert got == expected
    assert len(got) == sum(NOTICE_COUNTS.values()) == 16_418
    assert data["attribution"] == ATTRIBUTION
    assert data["namespaces"] == list(NOTICE_COUNTS)


def test_dictionary_script_carries_the_attribution_in_its_header() -> None:
    head = dictionary_script().split("window.KB_DICTIONARY", 1)[0]
    assert "CC BY 4.0" in head and "MIT" in head and "*/" in head


# --- PDF ----------------------------------------------------------------------------------------------------
def test_runbook_index_names_and_attribution(tmp_path: Path) -> None:
    from build_kb.pdf.runbook import runbook_data

    kb = _kb(
        tmp_path,
        make_entry("named", codes=[{"code": "0x80070005", "name": "ERROR_ACCESS_DENIED"}]),
        make_entry("bare", codes=[{"code": "0x80092004"}]),
        make_entry("unknown", codes=[{"code": "0x12345678"}]),
        make_entry("win32", codes=[{"code": "0x80070002"}]),
    )
    from datetime import UTC, datetime

    data = runbook_data(kb, datetime(2026, 1, 1, tzinfo=UTC), "1")
    index = {c["hex"]: c["index_names"] for c in data["codes"]}
    assert index == {
        "0x12345678": [],
        "0x80070005": ["ERROR_ACCESS_DENIED"],  # the entry's own; not E_ACCESSDENIED as well
        "0x80092004": ["CRYPT_E_NOT_FOUND"],  # the dictionary's, as the entry gives none
        "0x80070002": ["ERROR_FILE_NOT_FOUND"],  # the Win32 error's name, not DIERR_NOTFOUND
    }
    assert data["attribution"] == ATTRIBUTION
    cards = {e["id"]: e["codes"][0] for p in data["phases"] for g in p["groups"] for e in g["entries"]}
    assert cards["bare"]["names"] == ["CRYPT_E_NOT_FOUND"] and cards["bare"]["message"] == CRYPT_MESSAGE
    assert cards["unknown"]["message"] is None and cards["unknown"]["name"] is None
    assert cards["win32"]["name"] == "ERROR_FILE_NOT_FOUND"


def test_runbook_without_dictionary_codes_has_no_attribution(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from build_kb.pdf.runbook import runbook_data

    kb = _kb(tmp_path, make_entry(codes=[{"code": "0x12345678"}]))
    assert runbook_data(kb, datetime(2026, 1, 1, tzinfo=UTC), "1")["attribution"] is None


def test_runbook_pdf_prints_the_dictionary_name_message_and_notice(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from build_kb.pdf.runbook import build_runbook

    kb = _kb(tmp_path, make_entry("bare", codes=[{"code": "0x80092004"}]))
    info = build_runbook(kb, tmp_path / "r.pdf", build_date=datetime(2026, 1, 1, tzinfo=UTC), version="1")
    text = subprocess.run(
        ["pdftotext", "-raw", str(info.path), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = text.split("\f")
    entry_page = " ".join(pages[info.entry_pages["bare"] - 1].split())
    assert "CRYPT_E_NOT_FOUND" in entry_page and CRYPT_MESSAGE in entry_page
    index = " ".join(pages[info.pages - 1].split())
    assert re.search(r"0x80092004 -2146885628 2148081668 — \d+ CRYPT_E_NOT_FOUND", index), index
    assert "licensed under CC BY 4.0" in index


# --- kb codes --all -----------------------------------------------------------------------------------------


def test_codes_all_lists_every_record(runner: CliRunner, tmp_path: Path) -> None:
    # No content folder is needed.
    result = runner.invoke(cli, ["codes", "--all", "--content", str(tmp_path / "nowhere")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 16_418
    assert f"0x80070005  Win32 error 5  ERROR_ACCESS_DENIED  {ACCESS_DENIED}" in lines
    assert f"0x80092004  HRESULT  CRYPT_E_NOT_FOUND  {CRYPT_MESSAGE}" in lines
    assert "0xC0000005  NTSTATUS  STATUS_ACCESS_VIOLATION  -" in lines
    assert "CC BY 4.0" in result.stderr


@pytest.mark.parametrize(("namespace", "count"), NOTICE_COUNTS.items())
def test_codes_all_namespace(runner: CliRunner, namespace: str, count: int) -> None:
    result = runner.invoke(cli, ["codes", "--all", "--namespace", namespace, "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert len(rows) == count
    assert {row["namespace"] for row in rows} == {namespace}


def test_codes_all_json_rows(runner: CliRunner) -> None:
    rows = json.loads(runner.invoke(cli, ["codes", "--all", "--json", "--namespace", "winhttp"]).stdout)
    timeout = next(row for row in rows if row["name"] == "ERROR_WINHTTP_TIMEOUT")
    assert timeout == {
        "hex": "0x80072EE2",
        "value": 12002,
        "namespace": "winhttp",
        "name": "ERROR_WINHTTP_TIMEOUT",
        "message": "The request has timed out.\nThis error can be returned as a result of TCP/IP time-out "
        "behavior, regardless of time-out values set in Windows HTTP Services.",
    }


def test_codes_all_facility(runner: CliRunner) -> None:
    rows = json.loads(runner.invoke(cli, ["codes", "--all", "--json", "--facility", "36"]).stdout)
    # FACILITY_WINDOWSUPDATE: the WU_E_ failures and WU_S_ successes, nothing else
    assert rows and all(int(row["hex"], 16) >> 16 & 0x7FF == 36 for row in rows)
    assert {"WU_E_NOT_APPLICABLE", "WU_S_REBOOT_REQUIRED"} <= {row["name"] for row in rows}
    win32 = json.loads(runner.invoke(cli, ["codes", "--all", "--json", "--facility", "7"]).stdout)
    assert {"ERROR_ACCESS_DENIED", "ERROR_INTERNET_TIMEOUT", "E_ACCESSDENIED"} <= {r["name"] for r in win32}
    assert "CRYPT_E_NOT_FOUND" not in {r["name"] for r in win32}


@pytest.mark.parametrize(
    "args",
    [
        ["codes", "--all", "--namespace", "nope"],
        ["codes", "--all", "--facility", "4096"],
        ["codes", "--all", "--facility", "seven"],
        ["codes", "--namespace", "win32"],  # filters belong to --all
        ["codes", "--facility", "7"],
    ],
)
def test_codes_all_usage_errors_exit_2(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_codes_help_shows_all_with_examples(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["codes", "--help"])
    assert result.exit_code == 0
    assert "--all" in result.output and "kb codes --all --namespace" in result.output
    for namespace in NOTICE_COUNTS:
        assert namespace in result.output


def test_plain_codes_stays_the_knowledge_bases(runner: CliRunner, tmp_path: Path) -> None:
    root = write_content(tmp_path / "content", [make_entry(codes=[{"code": "0x80092004"}])])
    result = runner.invoke(cli, ["codes", "--json", "--content", str(root)])
    rows = json.loads(result.stdout)
    assert [row["hex"] for row in rows] == ["0x80092004"]
    assert rows[0]["names"] == ["CRYPT_E_NOT_FOUND"]
    assert rows[0]["known"][0]["message"] == CRYPT_MESSAGE


def test_readme_documents_the_dictionary() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "kb codes --all" in readme
    section = readme.split("## Error-code dictionary", 1)[1].split("\n## ", 1)[0]
    assert "CC BY 4.0" in section and "MIT" in section and "scripts/gen_error_dictionary.py" in section
