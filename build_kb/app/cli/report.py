"""`kb report`: the governance report over a content set, and the codes in logs that no entry covers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from build_kb.app.cli.common import content_option, json_option, print_problems
from build_kb.core.errors import ValidationFailed
from search.display import printable

if TYPE_CHECKING:
    from build_kb.app.report import LogScan, Report
    from build_kb.core.model import Entry

SHOWN_CODES = 50
"""Uncovered codes listed in the text report; --json lists them all."""


def _today(context: click.Context, parameter: click.Parameter, value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date (YYYY-MM-DD)") from None


def _heading(title: str, count: int) -> None:
    click.echo()
    click.secho(f"{title} ({count})", bold=True)
    if not count:
        click.echo("  none")


def _entry_line(entry: Entry, extra: str = "") -> None:
    owner = f"   owner: {printable(entry.owner)}" if entry.owner else ""
    click.echo(f"  {click.style(entry.id, fg='cyan')}  {entry.path}{extra}{owner}")


def _echo_logs(scan: LogScan, shown: int) -> None:
    _heading("Failure codes in the logs that no entry covers, most frequent first", len(scan.uncovered))
    for code in scan.uncovered[:shown]:
        name = f"  {code.name}" if code.name else ""
        drafts = f"   (drafts: {', '.join(code.drafts)})" if code.drafts else ""
        click.echo(
            f"  {code.count:>6}  {click.style(code.hex, bold=True)}{name}"
            f"   first at {printable(code.file)}:{code.line}{drafts}"
        )
    if len(scan.uncovered) > shown:
        click.secho(f"  ... and {len(scan.uncovered) - shown} more (--json lists them all)", dim=True)
    for unreadable in scan.unreadable:
        click.secho(f"  could not read {printable(unreadable)}", fg="yellow")
    click.echo(f"  ({scan.files} file(s), {scan.lines:,} line(s) under {printable(scan.folder)})")


def _echo_report(report: Report, shown: int) -> None:
    counts = report.counts()
    click.echo(
        f"{report.content}: {counts['total']} entries ({counts['published']} published, {counts['draft']} "
        f"draft, {counts['retired']} retired), today {report.today.isoformat()}, reviews every "
        f"{report.kb.taxonomy.review_every_days} days unless an entry says otherwise"
    )
    _heading("Past their review date", len(report.overdue))
    for item in report.overdue:
        reviewed = item.entry.reviewed.isoformat() if item.entry.reviewed else "?"
        _entry_line(item.entry, f"   reviewed {reviewed}, due {item.due.isoformat()} ({item.days} days ago)")
    _heading("Published entries never reviewed (no reviewed date)", len(report.never_reviewed))
    for entry in report.never_reviewed:
        _entry_line(entry)
    _heading("Published entries with TODO text", len(report.todo))
    for problems in report.todo.values():
        for problem in problems:
            click.echo(f"  {problem.path}:{problem.line}:{problem.column}: {problem.field}")
    _heading("Entries without an owner", len(report.unowned))
    for entry in report.unowned:
        _entry_line(entry, "   (draft)" if entry.is_draft else "")
    _heading("Orphans: published entries no other entry links to", len(report.orphans))
    for entry in report.orphans:
        _entry_line(entry)
    if report.logs is not None:
        _echo_logs(report.logs, shown)


@click.command()
@content_option
@click.option(
    "--logs",
    "logs_folder",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    default=None,
    help="A folder of logs: every *.log and *.txt under it is scanned for failure codes no entry covers.",
)
@click.option(
    "--today",
    callback=_today,
    default=None,
    metavar="YYYY-MM-DD",
    help="The date to judge review dates by [default: the system's date].",
)
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=SHOWN_CODES,
    show_default=True,
    help="Uncovered codes listed in the text report (--json lists all).",
)
@json_option
def report(content_root: Path, logs_folder: Path | None, today: date, limit: int, as_json: bool) -> None:
    """Report what a living knowledge base needs: reviews, TODOs, owners, orphans, and entries to write.

    Lists published entries past their review date (reviewed + review_every, or the taxonomy's
    review_every_days, before today) or never reviewed, published entries with TODO text (with
    file:line:column), entries without an owner, and orphans: published entries that no other entry links
    to (by related, a link in its text, or replaced_by). With --logs, also the failure codes those logs
    hold that no entry covers, most frequent first, each with its count, where it first appears and its
    name in the error dictionary: the entries to write next.

    Exit status: 0 when the report is made (whatever it finds), 1 invalid content.

    \b
    Example:
      kb report
      kb report --logs C:\\Windows\\Logs\\CBS --content content
      kb report --logs collected-logs/ --json | jq '.logs.uncovered[:10]'
      kb report --today 2026-01-31 --json
    """
    from build_kb.app.report import build_report

    try:
        made = build_report(content_root, today, logs_folder)
    except ValidationFailed as error:
        print_problems(error)
        raise click.ClickException(f"{error}; fix them with kb check first") from None
    if as_json:
        click.echo(json.dumps(made.to_json(), indent=2, ensure_ascii=False))
        return
    _echo_report(made, limit)
