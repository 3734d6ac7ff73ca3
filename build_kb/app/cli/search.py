"""`kb lookup`, `kb search`, `kb triage` and `kb index`: click wiring over the `search` package.

The main CLI imports this module at start-up, so its own imports stay light: each command imports what it
needs inside. `kb lookup` and `kb triage` read only the JSON code map; only `kb search` and a rebuild import
whoosh. Library errors become one line on stderr and exit status 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from build_kb.app.cli.common import EXIT_NOT_FOUND, EXIT_USAGE, content_option, json_option, print_problems
from build_kb.core.errors import ValidationFailed
from search.errors import IndexUnavailable

if TYPE_CHECKING:
    from build_kb.core.codeview import CodeView
    from search.results import Finding, Hit, SearchResult
    from search.store import IndexBuild

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

DEFAULT_INDEX = Path("dist") / "index"
MAX_STDIN_QUERY = 1 << 20
# Pasted text and negative decimals (-1073418160) start with "-": take them as arguments, not options.
_TEXT_ARGUMENTS = {"ignore_unknown_options": True}


def index_option(function: F) -> F:
    """The `--index` option shared by the search commands (also read from `KB_INDEX`)."""
    return click.option(
        "--index",
        "index_root",
        type=click.Path(path_type=Path, file_okay=False),
        default=DEFAULT_INDEX,
        envvar="KB_INDEX",
        show_default=True,
        show_envvar=True,
        help="Search index folder, or an unpacked offline bundle holding one; built here when missing.",
    )(function)


def _notify(message: str) -> None:
    click.secho(message, fg="yellow", err=True)


def _with_index(index_root: Path, content_root: Path, reader: Callable[[IndexBuild], T]) -> T:
    """`reader` applied to a current index, built or rebuilt as needed; errors become one line and exit 1."""
    from search.lifecycle import with_index

    try:
        return with_index(index_root, content_root, reader, _notify)
    except IndexUnavailable as error:
        raise click.ClickException(str(error)) from None


def _echo_code(info: CodeView) -> None:
    names = ", ".join(info.names)
    click.echo(click.style(info.hex, bold=True) + (f"  {names}" if names else ""))
    win32 = str(info.win32) if info.win32 is not None else "-"
    click.echo(
        f"    signed {info.signed}   unsigned {info.unsigned}   "
        f"facility {info.facility} ({info.facility_number})   win32 {win32}"
    )


def _echo_hit(hit: Hit, indent: str = "") -> None:
    click.echo(f"{indent}{click.style(hit.id, fg='cyan', bold=True)}  {hit.title}")
    codes = f"   codes: {', '.join(hit.codes)}" if hit.codes else ""
    click.echo(f"{indent}    {hit.url}   phase: {hit.phase}{codes}")


def _echo_result(result: SearchResult, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    if result.code is not None:
        _echo_code(result.code)
        click.echo()
    for hit in result.hits:
        _echo_hit(hit)


@click.command(context_settings=_TEXT_ARGUMENTS)
@click.argument("code", nargs=-1, required=True)
@index_option
@content_option
@json_option
def lookup(code: tuple[str, ...], index_root: Path, content_root: Path, as_json: bool) -> None:
    """Entries for an error code in any notation, and the code decoded.

    CODE may be 0x80070005, 80070005 (eight digits are hex), -2147024891, 2147942405,
    HRESULT_FROM_WIN32(5), a Win32 number (5) or a symbolic name (E_ACCESSDENIED).

    Exit status: 0 found, 1 not in the knowledge base (still decoded), 2 not an error code.

    \b
    Example:
      kb lookup 0x80070005
      kb lookup -2147024891 --json
      kb lookup "HRESULT_FROM_WIN32(1603)" --index my-kb-offline
    """
    from build_kb.core.codes import CodeSyntaxError
    from search.codemap import lookup as lookup_code

    text = " ".join(code)
    try:
        result = _with_index(index_root, content_root, lambda build: lookup_code(build, text))
    except CodeSyntaxError as error:
        if as_json:
            click.echo(json.dumps({"query": text.strip(), "code": None, "results": []}, indent=2))
        click.secho(f"Error: {error}", fg="red", err=True)
        sys.exit(EXIT_USAGE)
    _echo_result(result, as_json)
    if not result.hits:
        if not as_json and result.code is not None:
            click.secho(f"No entry carries {result.code.hex}.", fg="yellow")
        sys.exit(EXIT_NOT_FOUND)


@click.command(context_settings=_TEXT_ARGUMENTS)
@click.argument("text", nargs=-1, required=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True, help="Most results.")
@index_option
@content_option
@json_option
def search(text: tuple[str, ...], limit: int, index_root: Path, content_root: Path, as_json: bool) -> None:
    """Entries for free text or a pasted error message, best first.

    Paste the message as it is: quotes, colons and words such as NOT or OR are plain text here. When the
    text holds an error code the knowledge base knows, the results are the entries carrying it, ranked by
    the words; otherwise the words are searched. TEXT "-" reads the text from stdin.

    Exit status: 0 found, 1 nothing found.

    \b
    Example:
      kb search "Access is denied."
      kb search "Error 0x80070005 while installing the update" --json
      Get-Clipboard | kb search -
    """
    from search.query import search as run_search

    query = " ".join(text)
    if query.strip() == "-":
        query = sys.stdin.read(MAX_STDIN_QUERY)
    result = _with_index(index_root, content_root, lambda build: run_search(build, query, limit=limit))
    _echo_result(result, as_json)
    if not result.hits:
        if not as_json:
            click.secho("No entry matches.", fg="yellow", err=True)
        sys.exit(EXIT_NOT_FOUND)


def _echo_findings(findings: list[Finding]) -> None:
    """Grouped by entry, in order of first appearance; lines with unknown codes last."""
    groups: dict[str, tuple[Hit, list[Finding]]] = {}
    unknown: list[Finding] = []
    for finding in findings:
        for hit in finding.hits:
            groups.setdefault(hit.id, (hit, []))[1].append(finding)
        if not finding.hits:
            unknown.append(finding)
    for hit, lines in groups.values():
        _echo_hit(hit)
        _echo_lines(lines)
        click.echo()
    if unknown:
        click.secho("Codes not in the knowledge base", bold=True)
        _echo_lines(unknown)
        click.echo()


def _echo_lines(findings: Iterable[Finding]) -> None:
    for finding in findings:
        click.echo(f"    {click.style(f'line {finding.line}:', fg='yellow')} {finding.text.strip()}")


@click.command()
@click.argument(
    "file",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
    default=Path("-"),
    required=False,
)
@click.option("--unknown", is_flag=True, help="Also report lines with failure codes no entry carries.")
@index_option
@content_option
@json_option
def triage(file: Path, unknown: bool, index_root: Path, content_root: Path, as_json: bool) -> None:
    """Scan a log for error codes and known log lines, and name the entries they point at.

    Reads CBS.log, WindowsUpdate.log, setup logs or stdin ("-") line by line, in UTF-8, UTF-16 or the
    Windows code page, however large. Success codes (S_OK, 0x00000000) and numbers that are no codes are
    ignored. Findings are grouped by entry.

    Exit status: 0 findings, 1 none.

    \b
    Example:
      kb triage C:\\Windows\\Logs\\CBS\\CBS.log
      Get-Content WindowsUpdate.log | kb triage - --json
    """
    from search.codemap import read_triage
    from search.triage import triage as scan_log

    data = _with_index(index_root, content_root, read_triage)
    name = str(file)
    try:
        if name == "-":
            findings = list(scan_log(sys.stdin.buffer, data, unknown_codes=unknown))
        else:
            with file.open("rb") as stream:
                findings = list(scan_log(stream, data, unknown_codes=unknown))
    except OSError as error:
        raise click.ClickException(f"cannot read {name}: {error.strerror or error}") from None
    if as_json:
        report = {"file": name, "findings": [finding.to_json() for finding in findings]}
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        _echo_findings(findings)
        entries = len({hit.id for finding in findings for hit in finding.hits})
        click.echo(
            f"{len(findings)} matching line(s), {entries} entr{'y' if entries == 1 else 'ies'}", err=True
        )
    if not findings:
        sys.exit(EXIT_NOT_FOUND)


@click.command()
@index_option
@content_option
@json_option
def index(index_root: Path, content_root: Path, as_json: bool) -> None:
    """Build the search index now, replacing the current one atomically.

    The other search commands build it themselves when it is missing, unreadable or older than the
    content; use this after editing content to pay for the rebuild up front.

    \b
    Example:
      kb index
      kb index --index /srv/kb/index --content content --json
    """
    from search.lifecycle import rebuild
    from search.store import locate_index

    root = locate_index(index_root)
    try:
        done = rebuild(root, content_root)
    except ValidationFailed as error:
        print_problems(error)
        raise click.ClickException(f"{error}; the index was not rebuilt") from None
    except IndexUnavailable as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        data = {"index": root.as_posix(), "build": done.build.name, "entries": done.entries,
                "seconds": round(done.seconds, 3)}  # fmt: skip
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"{done.entries} entries indexed into {root.as_posix()} in {done.seconds:.2f} s", err=True)
