"""`kb report`: the state of a living knowledge base, and what to write next.

What needs a person: published entries past their review date or never reviewed, TODO text left in published
entries (located, as `kb check` reports it), entries without an owner, and orphans no other entry links to.
Given a folder of logs, the failure codes they hold that no entry covers, most frequent first: the entries
to write next, each named by the error dictionary.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from build_kb.content import governance
from build_kb.content.validate import check_content
from build_kb.core.codes import Code, extract_codes
from build_kb.core.codeview import CodeView
from build_kb.core.dictionary import KnownCode
from build_kb.core.errors import Problem, ValidationFailed
from build_kb.core.model import STATUSES, Entry, KnowledgeBase

LOG_SUFFIXES = (".log", ".txt")
"""The files `--logs` reads in its folder and every folder below it (any case: CBS.LOG too)."""


@dataclass(frozen=True, slots=True)
class UncoveredCode:
    """A failure code the logs hold that no published (or retired) entry carries or lists as related."""

    value: int
    count: int
    """Lines holding it."""
    file: str
    """The first file holding it, as found under the logs folder."""
    line: int
    """Its first line there, 1-based."""
    drafts: tuple[str, ...] = ()
    """Drafts carrying it: entries on the way."""

    @property
    def hex(self) -> str:
        """Canonical hex, `0x80070005`."""
        return Code(self.value).hex

    def _known(self) -> KnownCode | None:
        # The record a one-name listing shows (`CodeView.primary`, over `dictionary.describe`): the Win32
        # error inside an HRESULT_FROM_WIN32 code (ERROR_FILE_NOT_FOUND, not DirectInput's alias for it).
        return CodeView.of(Code(self.value)).primary

    @property
    def name(self) -> str | None:
        """The error dictionary's name for it."""
        known = self._known()
        return known.name if known else None

    @property
    def message(self) -> str | None:
        """The first line of the dictionary's message for it."""
        known = self._known()
        return known.message.split("\n", 1)[0] if known and known.message else None

    def to_json(self) -> dict[str, Any]:
        """An item of `logs.uncovered` in the JSON report."""
        return {
            "code": self.hex,
            "value": self.value,
            "count": self.count,
            "first": {"file": self.file, "line": self.line},
            "name": self.name,
            "message": self.message,
            "drafts": list(self.drafts),
        }


@dataclass
class LogScan:
    """What the logs under a folder hold that the knowledge base does not cover."""

    folder: str
    files: int = 0
    lines: int = 0
    unreadable: list[str] = field(default_factory=list)
    """Files that could not be read, with why."""
    uncovered: list[UncoveredCode] = field(default_factory=list)
    """Most frequent first, then in the order first met."""

    def to_json(self) -> dict[str, Any]:
        """The `logs` object of the JSON report."""
        return {
            "folder": self.folder,
            "files": self.files,
            "lines": self.lines,
            "unreadable": self.unreadable,
            "uncovered": [code.to_json() for code in self.uncovered],
        }


@dataclass(frozen=True)
class Report:
    """Everything `kb report` says."""

    content: str
    today: date
    kb: KnowledgeBase
    """Drafts included."""
    overdue: list[governance.Overdue]
    never_reviewed: list[Entry]
    todo: dict[str, list[Problem]]
    """TODO warnings by entry id, each at its line and column."""
    unowned: list[Entry]
    orphans: list[Entry]
    logs: LogScan | None = None

    def counts(self) -> dict[str, int]:
        """Entries in all and by status."""
        statuses = Counter(entry.status for entry in self.kb.entries)
        return {"total": len(self.kb), **{status: statuses.get(status, 0) for status in STATUSES}}

    def to_json(self) -> dict[str, Any]:
        """The whole report as plain data (`kb report --json`)."""
        return {
            "content": self.content,
            "today": self.today.isoformat(),
            "entries": self.counts(),
            "review_every_days": self.kb.taxonomy.review_every_days,
            "review_overdue": [
                {
                    **_entry_json(item.entry),
                    "reviewed": item.entry.reviewed.isoformat() if item.entry.reviewed else None,
                    "due": item.due.isoformat(),
                    "days_overdue": item.days,
                }
                for item in self.overdue
            ],
            "never_reviewed": [_entry_json(entry) for entry in self.never_reviewed],
            "todo": [
                {
                    **_entry_json(self.kb.by_id[ident]),
                    "fields": [{"field": p.field, "line": p.line, "column": p.column} for p in problems],
                }
                for ident, problems in self.todo.items()
            ],
            "no_owner": [{**_entry_json(entry), "status": entry.status} for entry in self.unowned],
            "orphans": [_entry_json(entry) for entry in self.orphans],
            "logs": self.logs.to_json() if self.logs else None,
        }


def _entry_json(entry: Entry) -> dict[str, Any]:
    return {"id": entry.id, "path": entry.path, "owner": entry.owner}


def log_files(folder: Path) -> Iterator[Path]:
    """Every regular *.log and *.txt file under `folder`, in a stable order; symbolic links to folders are
    not followed (a link cycle would never end), and devices or pipes are never opened."""
    for parent, folders, files in os.walk(folder, followlinks=False):
        folders.sort()
        for name in sorted(files):
            path = Path(parent) / name
            if path.suffix.lower() not in LOG_SUFFIXES:
                continue
            try:
                regular = stat.S_ISREG(path.stat().st_mode)
            except OSError:
                regular = False
            if regular:
                yield path


def scan_logs(kb: KnowledgeBase, folder: Path) -> LogScan:
    """The failure codes in the logs under `folder` that no published or retired entry covers.

    Lines are read with `search.triage.read_lines` (any encoding, any size, one line at a time) and codes
    found with `build_kb.core.codes.extract_codes`, with the symbolic names the content declares, as
    `kb triage` finds them. A code counts once per line.
    """
    from search.triage import read_lines

    carriers: dict[int, list[Entry]] = {}
    for listing in (kb.entries_by_code, kb.entries_by_related_code):
        for value, entries in listing.items():
            carriers.setdefault(value, []).extend(entries)
    covered = {value for value, entries in carriers.items() if not all(e.is_draft for e in entries)}
    position = {entry.id: index for index, entry in enumerate(kb.entries)}
    drafts = {
        value: sorted((e.id for e in entries if e.is_draft), key=position.__getitem__)
        for value, entries in carriers.items()
    }
    names = dict(kb.code_names)
    scan = LogScan(folder.as_posix())
    counts: Counter[int] = Counter()
    first: dict[int, tuple[str, int]] = {}
    for path in log_files(folder):
        shown = path.as_posix()
        scan.files += 1
        try:
            with path.open("rb") as stream:
                for number, line in enumerate(read_lines(stream), start=1):
                    scan.lines += 1
                    for value in dict.fromkeys(match.code.value for match in extract_codes(line, names)):
                        if value in covered:
                            continue
                        counts[value] += 1
                        first.setdefault(value, (shown, number))
        except OSError as error:
            scan.unreadable.append(f"{shown}: {error.strerror or error}")
    order = {value: index for index, value in enumerate(first)}
    scan.uncovered = [
        UncoveredCode(value, count, *first[value], tuple(drafts.get(value, ())))
        for value, count in sorted(counts.items(), key=lambda item: (-item[1], order[item[0]]))
    ]
    return scan


def build_report(content_root: Path, today: date, logs: Path | None = None) -> Report:
    """The report on a content folder (drafts included), with the logs under `logs` scanned if given.

    Raises:
        ValidationFailed: the content has errors; the report needs a valid knowledge base.
    """
    kb, problems = check_content(content_root, today=today)
    if kb is None:
        raise ValidationFailed(problems)
    by_path = {entry.path: entry.id for entry in kb.entries}
    todo: dict[str, list[Problem]] = {}
    for problem in problems:
        if problem.message.startswith(governance.TODO_MESSAGE) and problem.path in by_path:
            todo.setdefault(by_path[problem.path], []).append(problem)
    return Report(
        content=content_root.as_posix(),
        today=today,
        kb=kb,
        overdue=governance.overdue(kb, today),
        never_reviewed=governance.never_reviewed(kb),
        todo=todo,
        unowned=governance.unowned(kb),
        orphans=governance.orphans(kb),
        logs=scan_logs(kb, logs) if logs is not None else None,
    )
