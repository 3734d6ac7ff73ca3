"""`kb lookup`, `kb search`, `kb triage` and `kb index`: click wiring over the `search` package.

The main CLI imports this module at start-up, so its own imports stay light: each command imports what it
needs inside. `kb lookup` and `kb triage` read only the JSON code map; only `kb search` and a rebuild import
whoosh. Library errors become one line on stderr and exit status 1.

Text output never passes on what a terminal would act on: log lines, entry fields (a bundle may come from
anywhere) and echoed input go through `search.display.printable`, JSON through `search.display.json_text`.
`kb triage` keeps at most `--max-lines` lines per entry for its text report and streams its JSON, so its
memory does not grow with the log.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import click

from build_kb.app.cli.common import EXIT_NOT_FOUND, EXIT_USAGE, content_option, json_option, print_problems
from build_kb.core.errors import ValidationFailed
from search.display import json_text, printable
from search.errors import IndexUnavailable

if TYPE_CHECKING:
    from build_kb.core.codeview import CodeView
    from search.results import Finding, Hit, SearchResult
    from search.store import IndexBuild
    from search.triage import Evidence

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

DEFAULT_INDEX = Path("dist") / "index"
MAX_STDIN_QUERY = 1 << 20
MAX_LINES = 20
"""Lines shown per entry by `kb triage` (text output); the others are counted."""
_JSON_CHUNK = 1 << 16
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
    click.secho(printable(message), fg="yellow", err=True)


def _fail(message: str) -> click.ClickException:
    """The one-line error of a command, printable."""
    return click.ClickException(printable(message))


def _with_index(
    index_root: Path,
    content_root: Path,
    reader: Callable[[IndexBuild], T],
    ahead: Callable[[IndexBuild], None] | None = None,
) -> T:
    """`reader` applied to a current index, built or rebuilt as needed; errors become one line and exit 1."""
    from search.lifecycle import with_index

    try:
        return with_index(index_root, content_root, reader, _notify, ahead)
    except IndexUnavailable as error:
        raise _fail(str(error)) from None


def _printable_fields(view: Any) -> Any:
    """A copy of a record (a NamedTuple) with every text field, and every tuple of texts, printable."""
    changes: dict[str, Any] = {}
    for name in view._fields:
        value = getattr(view, name)
        if isinstance(value, str):
            changes[name] = printable(value)
        elif isinstance(value, tuple) and all(isinstance(part, str) for part in value):
            changes[name] = tuple(printable(part) for part in value)
    return view._replace(**changes)


def _echo_code(info: CodeView) -> None:
    """The code decoded, then every name and message the dictionary has for it, as Err.exe lists them."""
    from build_kb.core.codeview import known_label

    names = ", ".join(info.names[:3]) + (", ..." if len(info.names) > 3 else "")
    click.echo(click.style(info.hex, bold=True) + (f"  {names}" if names else ""))
    win32 = str(info.win32) if info.win32 is not None else "-"
    click.echo(
        f"    signed {info.signed}   unsigned {info.unsigned}   "
        f"facility {info.facility} ({info.facility_number})   win32 {win32}"
    )
    for known in info.known:
        message = f"  {printable(' '.join(known.message.split()))}" if known.message else ""
        click.echo(f"    {known_label(known, info.value):<18} {known.name}{message}")


def _described(info: CodeView) -> str:
    """`0xC004F074 SL_E_VL_BINDING_SERVICE_UNAVAILABLE`: the code and the one name that says most of it."""
    return f"{info.hex} {info.name}" if info.name else info.hex


_MATCH_NOTES = {"related-code": "related code: the same cause and fix", "pattern": "a log line matched"}


def _echo_hit(hit: Hit, indent: str = "") -> None:
    hit = _printable_fields(hit)
    click.echo(f"{indent}{click.style(hit.id, fg='cyan', bold=True)}  {hit.title}")
    codes = f"   codes: {', '.join(hit.codes)}" if hit.codes else ""
    note = f"   ({_MATCH_NOTES[hit.match]})" if hit.match in _MATCH_NOTES else ""
    click.echo(f"{indent}    {hit.url}   phase: {hit.phase}{codes}{note}")
    if status := _status_note(hit):
        click.secho(f"{indent}    {status}", fg="yellow")


def _status_note(hit: Hit) -> str:
    """The line under a retired entry (or a draft, in an index built with drafts); empty for a published one."""
    if hit.retired:
        return f"retired: see {printable(hit.replaced_by)} instead" if hit.replaced_by else "retired"
    return "draft: not published yet" if hit.status == "draft" else ""


def _echo_result(result: SearchResult, as_json: bool) -> None:
    """The answer: the code, then whether the knowledge base covers the query, then the entries."""
    if as_json:
        click.echo(json_text(result.to_json(), indent=2))
        return
    if result.code is not None:
        _echo_code(_printable_fields(result.code))
        click.echo()
    for code in result.uncovered:
        if code != result.code or result.covered:
            continue
        click.secho(f"{_described(code)} is not in this knowledge base.", fg="yellow", bold=True)
    if not result.covered:
        if not result.uncovered:
            click.secho("Not covered: no entry answers this.", fg="yellow", bold=True)
        if result.hits:
            click.secho("Suggestions (low confidence: they share words with the query):", fg="yellow")
            click.echo()
    for hit in result.hits:
        _echo_hit(hit)
    if result.covered and (low := sum(hit.confidence != "high" for hit in result.hits)):
        click.secho(f"({low} of these are low-confidence suggestions.)", dim=True, err=True)


@click.command(context_settings=_TEXT_ARGUMENTS)
@click.argument("code", nargs=-1, required=True)
@index_option
@content_option
@json_option
def lookup(code: tuple[str, ...], index_root: Path, content_root: Path, as_json: bool) -> None:
    """Entries for an error code in any notation, and the code decoded.

    CODE may be 0x80070005, 80070005 (eight digits are hex), -2147024891, 2147942405,
    HRESULT_FROM_WIN32(5), a Win32 number (5) or a symbolic name (E_ACCESSDENIED).

    CODE may also be pasted text holding a code ("Error: 0x80070005", slui's "0x2a 0x80070005"). The code
    is decoded, named and explained from the offline error dictionary (as Err.exe does), then the entries
    carrying it, or listing it as a code with the same fix, are listed.

    Exit status: 0 covered, 1 not in the knowledge base (still decoded and named), 2 not an error code.

    \b
    Example:
      kb lookup 0x80070005
      kb lookup -2147024891 --json
      kb lookup "HRESULT_FROM_WIN32(1603)" --index my-kb-offline
    """
    from build_kb.core.codes import CodeSyntaxError
    from search.codemap import lookup as lookup_code
    from search.results import SearchResult

    text = " ".join(code)
    try:
        result = _with_index(index_root, content_root, lambda build: lookup_code(build, text))
    except CodeSyntaxError as error:
        if as_json:
            click.echo(json_text(SearchResult(text.strip(), None, ()).to_json(), indent=2))
        click.secho(f"Error: {printable(str(error))}", fg="red", err=True)
        sys.exit(EXIT_USAGE)
    _echo_result(result, as_json)
    if not result.covered:
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

    Results say how they were found (`match`: code, related-code, text) and how far to trust them
    (`confidence`: high or low). When no entry answers the text, that is said first and the results are
    labelled as suggestions.

    Exit status: 0 covered, 1 not covered (suggestions may still be listed), 2 usage.

    \b
    Example:
      kb search "Access is denied."
      kb search "Error 0x80070005 while installing the update" --json
      Get-Clipboard | kb search -
    """
    from search.cache import read_ahead, read_searchable

    query = " ".join(text)
    if query.strip() == "-":
        query = sys.stdin.read(MAX_STDIN_QUERY)

    def read(build: IndexBuild) -> SearchResult:
        # Imported here, not above: the reading begun ahead runs while whoosh is imported.
        from search.query import search as run_search

        # whoosh opens only an index sealed here, or one built here from the build's JSON data.
        return read_searchable(build, lambda usable: run_search(usable, query, limit=limit), _notify)

    result = _with_index(index_root, content_root, read, ahead=read_ahead)
    _echo_result(result, as_json)
    if not result.covered:
        sys.exit(EXIT_NOT_FOUND)


def _echo_report(evidence: Evidence) -> None:
    """The text report of a scan: entries best supported first, lines with unknown codes last."""
    for item in evidence.ranked():
        label = (
            ""
            if item.confidence == "high"
            else click.style(
                "  (low confidence: a generic code only, or lines other entries share)", dim=True
            )
        )
        _echo_hit(item.hit)
        if label:
            click.echo(label)
        _echo_lines(item.lines, item.more)
        click.echo()
    if evidence.unknown or evidence.unknown_more:
        click.secho("Codes not in the knowledge base", bold=True)
        _echo_lines(evidence.unknown, evidence.unknown_more)
        click.echo()
    entries = len(evidence.entries)
    click.echo(
        f"{evidence.findings} matching line(s), {entries} entr{'y' if entries == 1 else 'ies'}", err=True
    )


def _echo_lines(lines: Iterable[Finding], more: int) -> None:
    for finding in lines:
        text = printable(finding.text.strip())
        click.echo(f"    {click.style(f'line {finding.line}:', fg='yellow')} {text}")
    if more:
        click.secho(f"    ... and {more} more line(s)", dim=True)


def _stream_json(name: str, findings: Iterable[Finding], evidence: Evidence) -> int:
    """Write `{"file", "findings": [...], "covered", "entries": [...]}`: the findings as they come, one per
    line, then the entries they point at, best supported first; returns how many findings there were."""
    count = 0
    chunks = ['{\n  "file": ' + json_text(name) + ',\n  "findings": [']
    size = 0
    for finding in findings:
        evidence.add(finding)
        item = json_text(finding.to_json())  # one line each: json's C encoder does not indent
        chunks.append(("," if count else "") + "\n    " + item)
        size += len(item)
        count += 1
        if size >= _JSON_CHUNK:
            click.echo("".join(chunks), nl=False)
            chunks.clear()
            size = 0
    ranked = evidence.ranked()
    covered = any(item.confidence == "high" for item in ranked)
    entries = ",".join("\n    " + json_text(item.to_json()) for item in ranked)
    chunks.append(("\n  ]" if count else "]") + f',\n  "covered": {json_text(covered)},\n  "entries": [')
    chunks.append(entries + ("\n  ]\n}" if ranked else "]\n}"))
    click.echo("".join(chunks))
    return count


def _read_log(file: Path, scan: Callable[[BinaryIO], Iterator[Finding]]) -> Iterator[Finding]:
    """The findings of the log `file` ("-" for stdin), read as they are found; read errors become one line."""
    name = str(file)
    try:
        if name == "-":
            yield from scan(sys.stdin.buffer)
        else:
            with file.open("rb") as stream:
                yield from scan(stream)
    except OSError as error:
        raise _fail(f"cannot read {name}: {error.strerror or error}") from None


@click.command()
@click.argument(
    "file",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
    default=Path("-"),
    required=False,
)
@click.option("--unknown", is_flag=True, help="Also report lines with failure codes no entry carries.")
@click.option(
    "--max-lines",
    type=click.IntRange(0),
    default=MAX_LINES,
    show_default=True,
    help="Lines shown per entry in the text report; the others are counted. --json lists every line.",
)
@index_option
@content_option
@json_option
def triage(
    file: Path, unknown: bool, max_lines: int, index_root: Path, content_root: Path, as_json: bool
) -> None:
    """Scan a log for error codes and known log lines, and name the entries they point at.

    Reads CBS.log, WindowsUpdate.log, setup logs or stdin ("-") line by line, in UTF-8, UTF-16 or the
    Windows code page, however large. Success codes (S_OK, 0x00000000) and numbers that are no codes are
    ignored. Findings are grouped by entry, with the first --max-lines lines of each shown.

    Exit status: 0 findings, 1 none.

    \b
    Example:
      kb triage C:\\Windows\\Logs\\CBS\\CBS.log
      Get-Content WindowsUpdate.log | kb triage - --json
    """
    from search.codemap import read_triage
    from search.triage import Evidence
    from search.triage import triage as scan_log

    data = _with_index(index_root, content_root, read_triage)
    findings = _read_log(file, lambda stream: scan_log(stream, data, unknown_codes=unknown))
    evidence = Evidence(max_lines)
    if as_json:
        count = _stream_json(str(file), findings, evidence)
    else:
        for finding in findings:
            evidence.add(finding)
        _echo_report(evidence)
        count = evidence.findings
    if not count:
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
        raise _fail(str(error)) from None
    if as_json:
        data = {"index": root.as_posix(), "build": done.build.name, "entries": done.entries,
                "seconds": round(done.seconds, 3)}  # fmt: skip
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"{done.entries} entries indexed into {root.as_posix()} in {done.seconds:.2f} s", err=True)
