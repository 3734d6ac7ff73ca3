"""Log triage (`search/triage.py`, `kb triage`): the right entries for each line of a WindowsUpdate.log,
nothing for success codes, every encoding Windows writes, stdin, and bounded memory on a large log."""

from __future__ import annotations

import codecs
import io
import json
import tracemalloc
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from build_kb.app.cli.search import triage
from build_kb.core.model import KnowledgeBase
from search.codemap import PatternRule, TriageData
from search.results import Finding, Hit
from search.triage import MAX_LINE, LogMatcher, read_lines, scan, sniff_encoding
from search.triage import triage as triage_stream
from tests.helpers import WINDOWS_UPDATE_LOG as LOG

NOT_RESOLVED = "update-0x8024402c-server-name-not-resolved"
INSTALL_FAILURE = "update-80070643-install-failure"

# Line of windows-update.log -> (codes on it, entries it points at, best first). Every other line (S_OK,
# 0x00000000, a registry value 0x00000004, KB numbers, versions, GUIDs, thread ids, an unknown code) gives
# nothing.
EXPECTED = {
    9: (("0x8024402C",), [NOT_RESOLVED]),  # GetCookie failure, error = 0x8024402C (and the regex pattern)
    10: ((), [NOT_RESOLVED]),  # SOAP Fault: 0x000127 (a literal pattern; 0x000127 is no failure code)
    11: (("0x8024402C",), [NOT_RESOLVED]),  # Sync of Updates: 0x8024402c
    12: (("0x8024402C",), [NOT_RESOLVED]),  # Failed to synchronize, error = 0x8024402C
    13: (("0x8024402C",), [NOT_RESOLVED]),  # Failed to find updates with error code 8024402c
    19: (("0x80070643",), [INSTALL_FAILURE]),  # FATAL: CBS called Error with 0x80070643,
    20: (("0x80070643",), [INSTALL_FAILURE]),  # Exit code = 0x80070643
    21: (("0x80070643",), [INSTALL_FAILURE]),  # REPORT EVENT ... Installation Failure: ... 0x80070643
}
SUCCESS_LINES = [16, 18, 22, 23, 24, 26]


@pytest.fixture(scope="session")
def data(activation_kb: KnowledgeBase) -> TriageData:
    return TriageData.from_kb(activation_kb)


def _summary(findings: Iterable[Finding]) -> dict[int, tuple[tuple[str, ...], list[str]]]:
    return {f.line: (f.codes, [h.id for h in f.hits]) for f in findings}


def _scan_bytes(
    raw: bytes, data: TriageData, **options: bool
) -> dict[int, tuple[tuple[str, ...], list[str]]]:
    return _summary(triage_stream(io.BytesIO(raw), data, **options))


def test_log_names_the_right_entries(data: TriageData) -> None:
    assert _scan_bytes(LOG.read_bytes(), data) == EXPECTED


def test_fixture_success_lines_hold_success_codes() -> None:
    lines = LOG.read_text("utf-8").splitlines()
    assert all(
        any(s in lines[n - 1] for s in ("S_OK", "0x00000000", "0x00000004", "Success")) for n in SUCCESS_LINES
    )


def test_signals_add_up_in_the_score(data: TriageData) -> None:
    with LOG.open("rb") as stream:
        findings = {f.line: f for f in triage_stream(stream, data)}
    assert [h.score for h in findings[21].hits] == [2.0]  # the code and the literal log pattern
    assert [h.score for h in findings[9].hits] == [2.0]  # the code and the regex log pattern
    assert [h.score for h in findings[10].hits] == [1.0]
    assert [h.score for h in findings[11].hits] == [1.0]
    assert findings[21].text.endswith("Security Update for Microsoft .NET Framework 4.8 (KB5011048).")


def test_unknown_codes_on_request(data: TriageData) -> None:
    found = _scan_bytes(LOG.read_bytes(), data, unknown_codes=True)
    assert found[14] == (("0x80072EFD",), [])
    assert not set(found) & set(SUCCESS_LINES)
    assert {line: found[line] for line in EXPECTED} == EXPECTED


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
        lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
        lambda text: text.encode("utf-16-le"),  # no BOM: sniffed from the zero bytes
        lambda text: text.replace("\n", "\r\n").encode("utf-16-le"),
        lambda text: text.replace("\n", "\r\n").encode("utf-8"),
        lambda text: text.replace("Logging initialized", "Logging initialized – Café €").encode("cp1252"),
    ],
    ids=[
        "utf-8",
        "utf-8-bom",
        "utf-16-le-bom",
        "utf-16-be-bom",
        "utf-16-le",
        "utf-16-crlf",
        "crlf",
        "cp1252",
    ],
)
def test_encodings(data: TriageData, encode: Callable[[str], bytes]) -> None:
    assert _scan_bytes(encode(LOG.read_text("utf-8")), data) == EXPECTED


def test_cp1252_lines_among_utf8_lines() -> None:
    raw = "naïve UTF-8 line\n".encode() + "Café – cp1252 line\n".encode("cp1252") + b"\x81\x8d undefined\n"
    assert list(read_lines(io.BytesIO(raw))) == [
        "naïve UTF-8 line",
        "Café – cp1252 line",
        "\ufffd\ufffd undefined",
    ]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (codecs.BOM_UTF8 + b"ab", ("utf-8", 3)),
        (codecs.BOM_UTF16_LE + b"a\x00", ("utf-16-le", 2)),
        (codecs.BOM_UTF16_BE + b"\x00a", ("utf-16-be", 2)),
        (b"2\x000\x00", ("utf-16-le", 0)),
        (b"\x002\x000", ("utf-16-be", 0)),
        (b"2020", ("utf-8", 0)),
        (b"", ("utf-8", 0)),
    ],
)
def test_sniff_encoding(head: bytes, expected: tuple[str, int]) -> None:
    assert sniff_encoding(head) == expected


def test_over_long_lines_are_cut_and_counted_once(data: TriageData) -> None:
    long_line = "WARNING: SOAP Fault: 0x000127 " + "x" * (MAX_LINE * 3) + " 0x80070643"
    raw = f"first\n{long_line}\nWARNING: Sync of Updates: 0x8024402c\n".encode()
    found = _scan_bytes(raw, data)
    assert found == {2: ((), [NOT_RESOLVED]), 3: (("0x8024402C",), [NOT_RESOLVED])}


def _rules(*patterns: tuple[str, bool, str]) -> TriageData:
    entries = {
        entry_id: Hit(entry_id, entry_id, "p", (), "s", f"entries/{entry_id}.html", 1.0)
        for *_, entry_id in patterns
    }
    return TriageData({}, {}, entries, tuple(PatternRule(p, r, (e,)) for p, r, e in patterns))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("KMS: host not reachable", ["short", "long"]),  # a pattern that is a prefix of another still matches
        ("kms: HOST NOT REACHABLE", ["short", "long"]),  # literal patterns ignore case
        ("KMS: host", []),
        ("Setup failed: error 0x1234 at step 7", ["regex"]),
        ("Setup failed: error at step 7", []),
        ("KMS: host not reachable / Setup failed: error 0xBEEF", ["short", "long", "regex"]),
    ],
)
def test_log_patterns(line: str, expected: list[str]) -> None:
    rules = _rules(
        ("KMS: host not reachable", False, "long"),
        ("KMS: host not reach", False, "short"),
        (r"failed: error 0x[0-9A-F]+", True, "regex"),
    )
    found = LogMatcher(rules).match(line)
    assert (sorted(found.entries) if found else []) == sorted(expected)


def test_large_log_streams_in_bounded_memory(tmp_path: Path, data: TriageData) -> None:
    log = tmp_path / "large.log"
    filler = "2024-03-12\t09:14:02:120\t 968\t1b40\tAgent\t  * Online = Yes; Ignore download priority = No\n"
    block = filler * 9999 + "2024-03-12\t09:14:23:671\t 968\t1b40\tPT\tWARNING: SOAP Fault: 0x000127\n"
    with log.open("w", encoding="utf-8") as handle:
        for _ in range(20):
            handle.write(block)
    size = log.stat().st_size
    assert size > 15_000_000
    tracemalloc.start()
    try:
        with log.open("rb") as stream:
            found = [f.line for f in triage_stream(stream, data)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found == [10_000 * n for n in range(1, 21)]
    assert peak < 2_000_000 < size // 5


def test_scan_accepts_any_iterable_of_lines(data: TriageData) -> None:
    lines = [
        "ok",
        "WARNING: SOAP Fault: 0x000127",
        "0x00000000",
        "Error: 0x8007232B DNS name does not exist.",
    ]
    findings = list(scan(lines, LogMatcher(data)))
    assert [(f.line, [h.id for h in f.hits]) for f in findings] == [
        (2, [NOT_RESOLVED]),
        # A code two entries carry points at both, in reading order.
        (4, ["kms-0x8007232b-dns-name-does-not-exist", "kms-host-srv-record-missing"]),
    ]


# --- the command --------------------------------------------------------------------------------------


def _invoke(*args: str, **kwargs: Any) -> Result:
    return CliRunner().invoke(triage, list(args), catch_exceptions=False, **kwargs)


def test_triage_json(activation_index: Path, tmp_path: Path) -> None:
    result = _invoke(
        str(LOG), "--index", str(activation_index), "--content", str(tmp_path / "none"), "--json"
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data.keys() == {"file", "findings", "covered", "entries"} and data["file"] == str(LOG)
    assert {
        f["line"]: (tuple(f["codes"]), [r["id"] for r in f["results"]]) for f in data["findings"]
    } == EXPECTED
    finding = data["findings"][0]
    assert finding.keys() == {"line", "text", "codes", "results"}
    assert finding["results"][0].keys() == {
        "id",
        "title",
        "phase",
        "codes",
        "source",
        "url",
        "score",
        "match",
        "confidence",
    }


def test_triage_text_groups_by_entry(activation_index: Path, tmp_path: Path) -> None:
    result = _invoke(str(LOG), "--index", str(activation_index), "--content", str(tmp_path / "none"))
    assert result.exit_code == 0
    out = result.stdout
    assert (
        out.count(f"{NOT_RESOLVED}  ") == 1 and out.count(f"{INSTALL_FAILURE}  ") == 1
    )  # a heading per entry
    assert out.index(NOT_RESOLVED) < out.index(INSTALL_FAILURE)
    assert "    line 19: 2024-03-12\t09:21:40:332" in out
    assert result.stderr == "8 matching line(s), 2 entries\n"


def test_triage_stdin(activation_index: Path, tmp_path: Path) -> None:
    raw = codecs.BOM_UTF16_LE + LOG.read_text("utf-8").encode("utf-16-le")
    result = _invoke(
        "-", "--index", str(activation_index), "--content", str(tmp_path / "none"), "--json", input=raw
    )
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["file"] == "-" and len(data["findings"]) == len(EXPECTED)


@pytest.mark.parametrize(
    "text", ["", "nothing here\n", "S_OK 0x00000000 HRESULT = 0x0\n", "KB5011048 7.6.7601.24436\n"]
)
def test_triage_without_findings_exits_1(activation_index: Path, tmp_path: Path, text: str) -> None:
    log = tmp_path / "quiet.log"
    log.write_text(text, "utf-8")
    result = _invoke(
        str(log), "--index", str(activation_index), "--content", str(tmp_path / "none"), "--json"
    )
    empty = {"file": str(log), "findings": [], "covered": False, "entries": []}
    assert result.exit_code == 1 and json.loads(result.stdout) == empty


def test_triage_missing_file_is_a_usage_error(activation_index: Path, tmp_path: Path) -> None:
    result = _invoke(str(tmp_path / "absent.log"), "--index", str(activation_index))
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_triage_help_has_an_example() -> None:
    result = _invoke("--help")
    assert result.exit_code == 0 and "Example" in result.output and "--index" in result.output
