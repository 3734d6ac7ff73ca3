"""Log triage (`search/triage.py`, `kb triage`): the right entries for each line of a CBS.log, nothing for
success codes, every encoding Windows writes, stdin, and bounded memory on a large log."""

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
from search.index import build_index
from search.results import Finding, Hit
from search.triage import MAX_LINE, LogMatcher, read_lines, scan, sniff_encoding
from search.triage import triage as triage_stream
from tests.helpers import CONTENT

LOGS = Path(__file__).parent / "data" / "logs"
CBS_LOG = LOGS / "cbs-esu.log"
EMBEDDED_1633 = ["embedded-1633-key-in-embedded-range", "embedded-1633-key-out-of-embedded-range"]

# Line of cbs-esu.log -> (codes on it, entries it points at, best first). Every other line (S_OK,
# 0x00000000, 0x0, a 0x800 registry value, KB numbers, versions, session ids) must give nothing.
EXPECTED = {
    14: ((), ["prep-check-80070643-install-fails"]),  # ESU: Product = 36 (0x00000024).
    15: ((), ["prep-check-80070643-install-fails"]),  # ESU: Is IMDS check needed: FALSE
    16: (("0x80070645",), ["prep-check-80070643-install-fails"]),  # Not Eligible:HRESULT_FROM_WIN32(1605)
    17: (("0x80070643",), ["prep-check-80070643-install-fails"]),  # [HRESULT = 0x80070643 - ...]
    22: ((), ["embedded-no-esu-key-found"]),  # ESU: NO ESU KEY FOUND
    24: ((), EMBEDDED_1633),  # ESU: Windows is not activated.
    25: (("0x80070661",), EMBEDDED_1633),  # ESU: not eligible:HRESULT_FROM_WIN32(1633)
}
SUCCESS_LINES = [9, 12, 13, 18, 19, 21, 23, 26, 27]


@pytest.fixture(scope="session")
def data(real_kb: KnowledgeBase) -> TriageData:
    return TriageData.from_kb(real_kb)


@pytest.fixture(scope="session")
def real_index(tmp_path_factory: pytest.TempPathFactory, real_kb: KnowledgeBase) -> Path:
    root = tmp_path_factory.mktemp("triage-index")
    build_index(real_kb, root, content_root=CONTENT)
    return root


def _summary(findings: Iterable[Finding]) -> dict[int, tuple[tuple[str, ...], list[str]]]:
    return {f.line: (f.codes, [h.id for h in f.hits]) for f in findings}


def _scan_bytes(
    raw: bytes, data: TriageData, **options: bool
) -> dict[int, tuple[tuple[str, ...], list[str]]]:
    return _summary(triage_stream(io.BytesIO(raw), data, **options))


def test_cbs_log_names_the_right_entries(data: TriageData) -> None:
    assert _scan_bytes(CBS_LOG.read_bytes(), data) == EXPECTED


def test_fixture_success_lines_hold_success_codes() -> None:
    lines = CBS_LOG.read_text("utf-8").splitlines()
    assert all(
        any(s in lines[n - 1] for s in ("S_OK", "0x0", "0x00000000", "0x00000800")) for n in SUCCESS_LINES
    )


def test_signals_add_up_in_the_score(data: TriageData) -> None:
    findings = {f.line: f for f in triage_stream(CBS_LOG.open("rb"), data)}
    assert [h.score for h in findings[25].hits] == [2.0, 2.0]  # the code and the log pattern
    assert [h.score for h in findings[22].hits] == [1.0]
    assert findings[16].text.endswith("Not Eligible:HRESULT_FROM_WIN32(1605)")


def test_unknown_codes_on_request(data: TriageData) -> None:
    found = _scan_bytes(CBS_LOG.read_bytes(), data, unknown_codes=True)
    assert found[20] == (("0x80070002",), [])
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
        lambda text: text.replace("Trusted Installer", "Trusted Installer – Café €").encode("cp1252"),
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
    assert _scan_bytes(encode(CBS_LOG.read_text("utf-8")), data) == EXPECTED


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
    long_line = "ESU: NO ESU KEY FOUND " + "x" * (MAX_LINE * 3) + " 0x80070643"
    raw = f"first\n{long_line}\nESU: Windows is not activated.\n".encode()
    found = _scan_bytes(raw, data)
    assert found == {2: ((), ["embedded-no-esu-key-found"]), 3: ((), EMBEDDED_1633)}


def _rules(*patterns: tuple[str, bool, str]) -> TriageData:
    entries = {
        entry_id: Hit(entry_id, entry_id, "p", (), "s", f"entries/{entry_id}.html", 1.0)
        for *_, entry_id in patterns
    }
    return TriageData({}, {}, entries, tuple(PatternRule(p, r, (e,)) for p, r, e in patterns))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("ESU: not eligible", ["short", "long"]),  # a pattern that is a prefix of another still matches
        ("esu: NOT ELIGIBLE", ["short", "long"]),  # literal patterns ignore case
        ("ESU: not", []),
        ("Setup failed: error 0x1234 at step 7", ["regex"]),
        ("Setup failed: error at step 7", []),
        ("ESU: not eligible / Setup failed: error 0xBEEF", ["short", "long", "regex"]),
    ],
)
def test_log_patterns(line: str, expected: list[str]) -> None:
    rules = _rules(
        ("ESU: not eligible", False, "long"),
        ("ESU: not elig", False, "short"),
        (r"failed: error 0x[0-9A-F]+", True, "regex"),
    )
    found = LogMatcher(rules).match(line)
    assert (sorted(found.entries) if found else []) == sorted(expected)


def test_large_log_streams_in_bounded_memory(tmp_path: Path, data: TriageData) -> None:
    log = tmp_path / "large.log"
    filler = "2020-02-12 10:31:02, Info                  CBS    Exec: Processing package, hr: 0x0\n"
    block = filler * 9999 + "2020-02-12 10:31:03, Info                  CBS    ESU: NO ESU KEY FOUND\n"
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
    findings = list(scan(["ok", "ESU: NO ESU KEY FOUND", "0x00000000"], LogMatcher(data)))
    assert [(f.line, [h.id for h in f.hits]) for f in findings] == [(2, ["embedded-no-esu-key-found"])]


# --- the command --------------------------------------------------------------------------------------


def _invoke(*args: str, **kwargs: Any) -> Result:
    return CliRunner().invoke(triage, list(args), catch_exceptions=False, **kwargs)


def test_triage_json(real_index: Path, tmp_path: Path) -> None:
    result = _invoke(str(CBS_LOG), "--index", str(real_index), "--content", str(tmp_path / "none"), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data.keys() == {"file", "findings", "covered", "entries"} and data["file"] == str(CBS_LOG)
    assert {
        f["line"]: (tuple(f["codes"]), [r["id"] for r in f["results"]]) for f in data["findings"]
    } == EXPECTED
    finding = data["findings"][0]
    assert finding.keys() == {"line", "text", "codes", "results"}
    assert finding["results"][0].keys() == {"id", "title", "phase", "codes", "source", "url", "score", "match", "confidence"}


def test_triage_text_groups_by_entry(real_index: Path, tmp_path: Path) -> None:
    result = _invoke(str(CBS_LOG), "--index", str(real_index), "--content", str(tmp_path / "none"))
    assert result.exit_code == 0
    out = result.stdout
    assert out.count("prep-check-80070643-install-fails  ") == 1  # one heading per entry
    assert out.index("prep-check-80070643-install-fails") < out.index("embedded-no-esu-key-found")
    assert "    line 16: 2020-02-12 10:31:02, Info" in out
    assert result.stderr == "7 matching line(s), 4 entries\n"


def test_triage_stdin(real_index: Path, tmp_path: Path) -> None:
    raw = codecs.BOM_UTF16_LE + CBS_LOG.read_text("utf-8").encode("utf-16-le")
    result = _invoke(
        "-", "--index", str(real_index), "--content", str(tmp_path / "none"), "--json", input=raw
    )
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["file"] == "-" and len(data["findings"]) == len(EXPECTED)


@pytest.mark.parametrize(
    "text", ["", "nothing here\n", "S_OK 0x00000000 HRESULT = 0x0\n", "KB4528069 6.1.7601.24540\n"]
)
def test_triage_without_findings_exits_1(real_index: Path, tmp_path: Path, text: str) -> None:
    log = tmp_path / "quiet.log"
    log.write_text(text, "utf-8")
    result = _invoke(str(log), "--index", str(real_index), "--content", str(tmp_path / "none"), "--json")
    empty = {"file": str(log), "findings": [], "covered": False, "entries": []}
    assert result.exit_code == 1 and json.loads(result.stdout) == empty


def test_triage_missing_file_is_a_usage_error(real_index: Path, tmp_path: Path) -> None:
    result = _invoke(str(tmp_path / "absent.log"), "--index", str(real_index))
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_triage_help_has_an_example() -> None:
    result = _invoke("--help")
    assert result.exit_code == 0 and "Example" in result.output and "--index" in result.output
