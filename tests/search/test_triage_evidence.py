"""Triage ranks entries by evidence: a line only one entry explains outranks lines several share, and a
generic code alone (Win32, E_) is a hint, not an answer."""

from __future__ import annotations

import io
import json
from pathlib import Path

from click.testing import CliRunner

from build_kb.app.cli.main import cli
from build_kb.content.validate import load_knowledge_base
from search.codemap import TriageData
from search.triage import Evidence, triage
from tests.helpers import make_entry, write_content


def _data(tmp_path: Path) -> TriageData:
    entries = [
        # Two entries share a specific code; only the first declares the decisive log line.
        make_entry(
            "key-range-in",
            codes=[{"code": "0xC004F050"}],
            log_patterns=[{"pattern": "KEY RANGE: EMBEDDED", "log": "cbs-log"}],
        ),
        make_entry("key-range-out", codes=[{"code": "0xC004F050"}]),
        # A generic Win32 code (ERROR_INSTALL_FAILURE), carried by one entry.
        make_entry("installer-fails", codes=[{"code": "0x80070643"}], messages=[]),
    ]
    return TriageData.from_kb(load_knowledge_base(write_content(tmp_path / "content", entries)))


def _evidence(data: TriageData, log: str) -> Evidence:
    evidence = Evidence(keep=2)
    for finding in triage(io.BytesIO(log.encode("utf-8")), data):
        evidence.add(finding)
    return evidence


def test_a_line_only_one_entry_explains_ranks_it_first(tmp_path: Path) -> None:
    log = "Error 0xC004F050 during install\nError 0xC004F050 again\nInfo KEY RANGE: EMBEDDED\n"
    ranked = _evidence(_data(tmp_path), log).ranked()
    assert [item.hit.id for item in ranked] == ["key-range-in", "key-range-out"]
    first, second = ranked
    assert (first.confidence, second.confidence) == ("high", "low")
    assert first.score > second.score and first.exclusive == 1 and second.exclusive == 0


def test_a_generic_code_alone_is_low_confidence(tmp_path: Path) -> None:
    ranked = _evidence(
        _data(tmp_path), "Setup failed [HRESULT = 0x80070643 - ERROR_INSTALL_FAILURE]\n"
    ).ranked()
    assert [(item.hit.id, item.confidence) for item in ranked] == [("installer-fails", "low")]


def test_lines_kept_per_entry_are_capped_and_counted(tmp_path: Path) -> None:
    evidence = _evidence(_data(tmp_path), "Info KEY RANGE: EMBEDDED\n" * 5)
    item = evidence.entries["key-range-in"]
    assert [finding.line for finding in item.lines] == [1, 2] and item.more == 3
    assert item.to_json()["lines"] == [1, 2] and item.to_json()["more_lines"] == 3


def test_json_lists_entries_best_first_with_confidence(tmp_path: Path) -> None:
    data_root = tmp_path / "kb"
    data_root.mkdir()
    content = write_content(
        data_root / "content",
        [
            make_entry("key-range-in", codes=[{"code": "0xC004F050"}],
                       log_patterns=[{"pattern": "KEY RANGE: EMBEDDED", "log": "cbs-log"}]),
            make_entry("key-range-out", codes=[{"code": "0xC004F050"}]),
        ],
    )  # fmt: skip
    log = tmp_path / "cbs.log"
    log.write_text("Error 0xC004F050\nInfo KEY RANGE: EMBEDDED\n", "utf-8")
    result = CliRunner().invoke(
        cli,
        ["triage", str(log), "--json", "--index", str(tmp_path / "index"), "--content", str(content)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["covered"] is True
    assert [(e["id"], e["confidence"]) for e in data["entries"]] == [
        ("key-range-in", "high"),
        ("key-range-out", "low"),
    ]
    assert data["entries"][0]["lines"] == [1, 2]
