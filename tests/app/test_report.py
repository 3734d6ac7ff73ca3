"""`kb report`: reviews past due, TODOs, owners, orphans, and the codes in logs that no entry covers."""

from __future__ import annotations

import codecs
import json
import os
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from build_kb.app.cli.main import cli
from build_kb.app.report import build_report, log_files, scan_logs
from build_kb.content.validate import check_content
from tests.helpers import ACTIVATION, TAXONOMY, WINDOWS_UPDATE_LOG, make_entry, write_content

TODAY = "2026-06-01"


def _governed() -> Path:
    """Entries in every governance state, with a knowledge-base review interval of 100 days."""
    entries = [
        # Reviewed 2026-01-01 with the default 100 days: due 2026-04-11, 51 days ago on 2026-06-01.
        make_entry("overdue-default", owner="Desk", reviewed="2026-01-01", related=["fresh-entry"]),
        # Its own interval of 400 days: not due yet.
        make_entry(
            "fresh-entry", owner="Desk", reviewed="2026-01-01", review_every=400, related=["overdue-own"]
        ),
        # Its own interval of 30 days: due 2026-05-01, 31 days ago.
        make_entry(
            "overdue-own",
            owner="Ops",
            reviewed="2026-04-01",
            review_every=30,
            causes=["See [the first](overdue-default.md)."],
        ),
        make_entry("todo-entry", owner="TODO: a team", summary="TODO", codes=[{"code": "0xC004F074"}]),
        make_entry(
            "draft-entry",
            status="draft",
            summary="TODO",
            codes=[{"code": "0x80072EFD"}],
            related=["todo-entry"],
        ),
        make_entry(
            "retired-entry",
            status="retired",
            replaced_by="todo-entry",
            reviewed="2020-01-01",
            codes=[{"code": "0x80240017"}],
        ),
    ]
    return write_content(Path("content"), entries, taxonomy={**TAXONOMY, "review_every_days": 100})


def _logs(root: Path) -> Path:
    (root / "nested" / "deeper").mkdir(parents=True)
    shutil.copy(WINDOWS_UPDATE_LOG, root / "WindowsUpdate.log")
    (root / "nested" / "setup.TXT").write_text(
        "line one\nInstall failed: 0x80070005\nretry: error 0x80070005 and 0x8024402C\n", "utf-8"
    )
    # UTF-16 with a BOM, as Windows writes many logs.
    (root / "nested" / "deeper" / "CBS.LOG").write_bytes(
        codecs.BOM_UTF16_LE + "Error 0x80070005 again\r\nand 0xC004F074\r\n".encode("utf-16-le")
    )
    (root / "nested" / "notes.md").write_text("0x80070005 0x80070005", "utf-8")  # not a log: ignored
    return root


def test_reviews_todos_owners_and_orphans(in_tmp: Path) -> None:
    report = build_report(_governed(), date(2026, 6, 1))
    assert [(item.entry.id, item.due.isoformat(), item.days) for item in report.overdue] == [
        ("overdue-default", "2026-04-11", 51),
        ("overdue-own", "2026-05-01", 31),
    ]
    assert [e.id for e in report.never_reviewed] == ["todo-entry"]  # drafts and retired need no review
    assert list(report.todo) == ["todo-entry"]
    assert [(p.field, p.line, p.column) for p in report.todo["todo-entry"]] == [
        ("summary", 3, 10),
        ("owner", 25, 9),
    ]
    assert [e.id for e in report.unowned] == ["draft-entry", "todo-entry"]  # a TODO owner is no owner
    # overdue-default is linked by prose, fresh-entry and overdue-own by related, todo-entry as a replacement;
    # a draft's link counts for nothing.
    assert [e.id for e in report.orphans] == []
    counts = report.counts()
    assert counts == {"total": 6, "draft": 1, "published": 4, "retired": 1}


def test_an_entry_only_a_draft_links_to_is_an_orphan(in_tmp: Path) -> None:
    root = write_content(
        Path("content"),
        [make_entry("lonely-entry"), make_entry("draft-entry", status="draft", related=["lonely-entry"])],
    )
    assert [e.id for e in build_report(root, date(2026, 6, 1)).orphans] == ["lonely-entry"]


def test_uncovered_codes_most_frequent_first(in_tmp: Path) -> None:
    root = _governed()
    kb = check_content(root)[0]
    assert kb is not None
    scan = scan_logs(kb, _logs(Path("logs")))
    assert scan.files == 3 and not scan.unreadable
    # Most lines first; on a tie, the code met first (0x80070643 on line 19 of the first file). A code counts
    # once a line, across every file (0x8024402C: four lines of one log, one of another). Covered: the
    # published entries' 0xC004F050 and 0xC004F074, the retired entry's 0x80240017. Only a draft carries
    # 0x80072EFD: it is still to be written, and the draft is named.
    assert [(c.hex, c.count, c.file, c.line, c.name, c.drafts) for c in scan.uncovered] == [
        ("0x8024402C", 5, "logs/WindowsUpdate.log", 9, "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED", ()),
        ("0x80070643", 3, "logs/WindowsUpdate.log", 19, "ERROR_INSTALL_FAILURE", ()),
        ("0x80070005", 3, "logs/nested/setup.TXT", 2, "ERROR_ACCESS_DENIED", ()),
        ("0x80072EFD", 1, "logs/WindowsUpdate.log", 14, "ERROR_INTERNET_CANNOT_CONNECT", ("draft-entry",)),
    ]
    assert scan.lines > 30


def test_related_codes_cover_and_drafts_are_named_in_reading_order(tmp_path: Path) -> None:
    def entry(ident: str, section: str, **fields: object) -> dict[str, object]:
        return make_entry(ident, source={"document": "KB0000001", "section": section}, **fields)

    related = [{"code": "0x80070643", "reason": "The update installs the key."}]
    root = write_content(
        tmp_path / "content",
        [
            entry("code-draft", "B second", status="draft", codes=[{"code": "0x80070643"}]),
            entry("related-draft", "A first", status="draft", related_codes=related),
            entry("published", "C third", related_codes=[{"code": "0x80070005", "reason": "Access."}]),
        ],
    )
    kb = check_content(root)[0]
    assert kb is not None
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "setup.log").write_text("failed 0x80070643\nfailed 0x80070005\n", "utf-8")
    scan = scan_logs(kb, tmp_path / "logs")
    assert [(c.hex, c.drafts) for c in scan.uncovered] == [("0x80070643", ("related-draft", "code-draft"))]


def test_log_files_are_regular_log_and_txt_files_only(tmp_path: Path) -> None:
    root = _logs(tmp_path / "logs")
    (root / "loop").symlink_to(root, target_is_directory=True)
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "pipe.log")
    assert [p.relative_to(root).as_posix() for p in log_files(root)] == [
        "WindowsUpdate.log", "nested/setup.TXT", "nested/deeper/CBS.LOG",
    ]  # fmt: skip


def test_kb_report_text(runner: CliRunner, in_tmp: Path) -> None:
    _governed()
    _logs(Path("logs"))
    result = runner.invoke(cli, ["report", "--today", TODAY, "--logs", "logs"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "content: 6 entries (4 published, 1 draft, 1 retired), today 2026-06-01" in out
    assert "Past their review date (2)" in out
    assert (
        "overdue-default  content/prepare/overdue-default.yaml   reviewed 2026-01-01, due 2026-04-11 (51 days ago)"
        in out
    )
    assert "content/prepare/todo-entry.yaml:3:10: summary" in out
    assert "Entries without an owner (2)" in out
    assert "Orphans: published entries no other entry links to (0)\n  none" in out
    assert (
        "       5  0x8024402C  WU_E_PT_WINHTTP_NAME_NOT_RESOLVED   first at logs/WindowsUpdate.log:9\n" in out
    )
    assert "first at logs/WindowsUpdate.log:14   (drafts: draft-entry)" in out
    assert "(3 file(s)," in out


def test_kb_report_json(runner: CliRunner, in_tmp: Path) -> None:
    _governed()
    _logs(Path("logs"))
    result = runner.invoke(
        cli, ["report", "--today", TODAY, "--logs", "logs", "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) == {
        "content", "today", "entries", "review_every_days", "review_overdue", "never_reviewed", "todo",
        "no_owner", "orphans", "logs",
    }  # fmt: skip
    assert data["review_overdue"][0] == {
        "id": "overdue-default", "path": "content/prepare/overdue-default.yaml", "owner": "Desk",
        "reviewed": "2026-01-01", "due": "2026-04-11", "days_overdue": 51,
    }  # fmt: skip
    assert data["todo"][0]["fields"][0] == {"field": "summary", "line": 3, "column": 10}
    assert data["no_owner"][0] == {"id": "draft-entry", "path": "content/prepare/draft-entry.yaml", "owner": None,
                                   "status": "draft"}  # fmt: skip
    third = data["logs"]["uncovered"][2]
    assert third == {
        "code": "0x80070005", "value": 0x80070005, "count": 3,
        "first": {"file": "logs/nested/setup.TXT", "line": 2}, "name": "ERROR_ACCESS_DENIED",
        "message": "Access is denied.", "drafts": [],
    }  # fmt: skip
    assert (data["logs"]["files"], data["logs"]["unreadable"]) == (3, [])


def test_kb_report_without_logs_and_on_a_fixture_set(runner: CliRunner, in_tmp: Path) -> None:
    shutil.copytree(ACTIVATION, "activation")
    result = runner.invoke(cli, ["report", "--content", "activation", "--json"], catch_exceptions=False)
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["logs"] is None
    assert data["entries"]["total"] == 14 and len(data["never_reviewed"]) == 14
    assert [item["id"] for item in data["orphans"]] == ["update-0x8024402c-server-name-not-resolved"]


def test_kb_report_on_invalid_content_exits_1_with_located_problems(runner: CliRunner, in_tmp: Path) -> None:
    write_content(Path("content"), [make_entry(related=["nowhere"])])
    result = runner.invoke(cli, ["report"])
    assert result.exit_code == 1
    assert (
        "content/prepare/sample-entry.yaml:" in result.output
        and "related[0]: no entry has the id" in result.output
    )
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--today", "01.06.2026"], "is not a date (YYYY-MM-DD)"),
        (["--logs", "missing-folder"], "does not exist"),
    ],
)
def test_kb_report_usage_errors(runner: CliRunner, in_tmp: Path, args: list[str], message: str) -> None:
    _governed()
    result = runner.invoke(cli, ["report", *args])
    assert result.exit_code == 2 and message in result.output


def test_kb_report_help_has_examples(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["report", "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and "kb report --logs" in result.output
