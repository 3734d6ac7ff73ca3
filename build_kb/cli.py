"""The `kb` command: thin click wiring over the library; every command body calls one library function."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from build_kb import __version__
from build_kb.errors import KbError, ValidationFailed

if TYPE_CHECKING:
    from build_kb.build import Reporter

F = TypeVar("F", bound=Callable[..., Any])

EXIT_NOT_FOUND = 1


def content_option(function: F) -> F:
    """The `--content` option shared by every command that reads entries."""
    return click.option(
        "--content",
        "content_root",
        type=click.Path(path_type=Path, file_okay=False),
        default=Path("content"),
        show_default=True,
        help="Content folder (taxonomy.yaml, references.yaml and the entry folders).",
    )(function)


def json_option(function: F) -> F:
    """The `--json` option: machine-readable output on stdout."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(function)


def print_problems(error: ValidationFailed) -> None:
    """Each problem on stderr, errors in red and warnings in yellow when stderr is a terminal."""
    for problem in error.problems:
        colour = "yellow" if problem.severity == "warning" else "red"
        click.secho(str(problem), fg=colour, err=True)


def load(content_root: Path, *, strict: bool = False) -> Any:
    """The validated knowledge base, or exit 1 with every problem printed."""
    from build_kb.validate import load_knowledge_base

    try:
        return load_knowledge_base(content_root, strict=strict)
    except ValidationFailed as error:
        print_problems(error)
        raise click.ClickException(str(error)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="kb")
def cli() -> None:
    """Troubleshooting knowledge base: validate entries, look up error codes, build the site, PDF and bundle.

    \b
    Examples:
      kb check                      validate content/
      kb lookup 0xC004F050          entries for a code, in any notation
      kb search "product key is invalid"
      kb triage C:\\Windows\\Logs\\CBS\\CBS.log
      kb build                      site/, dist/ (index, PDF, offline zip)
    """


@cli.command()
@click.argument("path", type=click.Path(path_type=Path), default=Path("content"))
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@json_option
def check(path: Path, strict: bool, as_json: bool) -> None:
    """Validate a content folder: every problem, with file:line:column, in one run.

    Exit status: 0 valid, 1 invalid (or warnings with --strict).

    \b
    Example:
      kb check content
      kb check --strict --json content
    """
    from build_kb.validate import check_content

    kb, problems = check_content(path)
    failed = kb is None or (strict and bool(problems))
    if as_json:
        listing = [
            {"path": p.path, "line": p.line, "column": p.column, "field": p.field, "message": p.message,
             "severity": p.severity}
            for p in problems
        ]  # fmt: skip
        click.echo(
            json.dumps({"valid": not failed, "entries": len(kb) if kb else 0, "problems": listing}, indent=2)
        )
    else:
        if problems:
            print_problems(ValidationFailed(problems))
        if kb is not None and not failed:
            warnings = f", {len(problems)} warning(s)" if problems else ""
            click.secho(f"{len(kb)} entries valid{warnings}", fg="green", err=True)
        else:
            errors = sum(p.severity == "error" or strict for p in problems)
            click.secho(f"{errors} problem(s) in {path.as_posix()}", fg="red", err=True)
    sys.exit(EXIT_NOT_FOUND if failed else 0)


@cli.command()
@click.option("--id", "entry_id", required=True, help="Slug for the new entry; also its file name.")
@click.option("--phase", required=True, help="Phase id from taxonomy.yaml.")
@click.option("--method", default=None, help="Method id, when the phase has methods.")
@click.option("--title", default=None, help="The symptom as the user meets it.")
@click.option("--code", "codes", multiple=True, help="An error code the user sees (repeatable).")
@content_option
def new(entry_id: str, phase: str, method: str | None, title: str | None, codes: tuple[str, ...],
        content_root: Path) -> None:  # fmt: skip
    """Create a new entry from the taxonomy, valid as it is, ready to fill in.

    \b
    Example:
      kb new --id slmgr-0xc004f074-no-kms --phase activate-keys --method slmgr --code 0xC004F074
    """
    from build_kb.scaffold import ScaffoldError, scaffold_entry

    try:
        created = scaffold_entry(content_root, entry_id, phase, method=method, title=title, codes=codes)
    except ScaffoldError as error:
        raise click.UsageError(str(error)) from None
    click.echo(created.as_posix())


@cli.command(name="codes")
@content_option
@json_option
def codes_command(content_root: Path, as_json: bool) -> None:
    """List every error code in the knowledge base with all its notations and entries.

    \b
    Example:
      kb codes
      kb codes --json | jq '.[] | .hex'
    """
    from build_kb.codetable import code_rows

    rows = code_rows(load(content_root))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        names = ", ".join(row["names"]) or "-"
        win32 = f" win32 {row['win32']}" if row["win32"] is not None else ""
        click.echo(
            f"{click.style(row['hex'], bold=True)}  {row['signed']}  {row['unsigned']}  {row['facility']}{win32}"
        )
        click.echo(f"    {names}")
        for entry in row["entries"]:
            click.echo(f"    - {entry['id']}: {entry['title']}")


def _size(path: Path) -> int:
    return (
        path.stat().st_size
        if path.is_file()
        else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    )


def _progress_reporter() -> Reporter:
    """Live stage lines on a terminal; plain log lines otherwise (CI logs, pipes).

    On a terminal the running stage's line is redrawn in place with its page count, at most ten times a
    second; in a log, progress is a line at each quarter of the work.
    """
    import time

    interactive = sys.stderr.isatty()
    started: dict[str, float] = {}
    last_drawn = [0.0]
    quarters_logged: dict[str, int] = {}

    def draw(text: str) -> None:
        click.echo("\r\x1b[2K" + click.style("… ", fg="cyan") + text, err=True, nl=False)

    def report(stage: str, event: str, done: int = 0, total: int = 0) -> None:
        now = time.perf_counter()
        if event == "start":
            started[stage] = now
            if interactive:
                draw(stage)
            else:
                click.echo(f"kb build: {stage}: started", err=True)
        elif event == "progress" and total:
            if interactive:
                if now - last_drawn[0] >= 0.1 or done == total:
                    last_drawn[0] = now
                    draw(f"{stage:<9}{done:>7,}/{total:,} pages")
            else:
                quarter = 4 * done // total
                if quarter > quarters_logged.get(stage, 0) and done < total:
                    quarters_logged[stage] = quarter
                    click.echo(f"kb build: {stage}: {done:,}/{total:,} pages", err=True)
        elif event == "done":
            elapsed = now - started.get(stage, now)
            if interactive:
                click.echo(
                    "\r\x1b[2K" + click.style("✓ ", fg="green") + f"{stage:<9}{elapsed:7.2f} s", err=True
                )
            else:
                click.echo(f"kb build: {stage}: done in {elapsed:.2f} s", err=True)

    return report


@cli.command()
@content_option
@click.option(
    "--site-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("site"), show_default=True
)
@click.option(
    "--dist-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("dist"), show_default=True
)
@click.option("--config-file", type=click.Path(path_type=Path, dir_okay=False), default=Path("mkdocs.yml"),
              show_default=True, help="MkDocs configuration for the site stage.")  # fmt: skip
@click.option("--only", multiple=True, type=click.Choice(["site", "index", "pdf", "bundle"]),
              help="Build only these outputs (repeatable).")  # fmt: skip
@click.option("--fail-after", type=click.Choice(["site", "index", "pdf", "bundle"]), hidden=True)
@json_option
def build(content_root: Path, site_dir: Path, dist_dir: Path, config_file: Path, only: tuple[str, ...],
          fail_after: str | None, as_json: bool) -> None:  # fmt: skip
    """Validate the content, then build the site, search index, PDF runbook and offline zip.

    Outputs are written to a staging folder and swapped in only when every stage has succeeded, so a
    failure leaves the previous outputs as they were. Honours SOURCE_DATE_EPOCH for reproducible output.

    \b
    Example:
      kb build
      kb build --only pdf
      SOURCE_DATE_EPOCH=1700000000 kb build --dist-dir /srv/kb-dist
    """
    from build_kb.build import STAGES, BuildOptions, run_build

    options = BuildOptions(
        content_root=content_root, site_dir=site_dir, dist_dir=dist_dir, config_file=config_file,
        only=frozenset(only or STAGES), fail_after=fail_after,
    )  # fmt: skip
    try:
        summary = run_build(options, _progress_reporter())
    except ValidationFailed as error:
        print_problems(error)
        raise click.ClickException(f"{error}; nothing was built, previous outputs are unchanged") from None
    except KbError as error:
        raise click.ClickException(f"{error}; previous outputs are unchanged") from None
    sizes = {name: _size(path) for name, path in summary.outputs.items()}
    if as_json:
        data = {
            "entries": summary.entries, "site_pages": summary.site_pages, "pdf_pages": summary.pdf_pages, "version": summary.version,
            "build_date": summary.build_date.isoformat(), "seconds": summary.seconds,
            "outputs": {name: {"path": path.as_posix(), "bytes": sizes[name]} for name, path in summary.outputs.items()},
        }  # fmt: skip
        click.echo(json.dumps(data, indent=2))
        return
    counts = [f"{summary.entries} entries"]
    counts += [f"{summary.site_pages} site pages"] if summary.site_pages else []
    counts += [f"{summary.pdf_pages} PDF pages"] if summary.pdf_pages else []
    click.echo(f"{', '.join(counts)}, version {summary.version}", err=True)
    for name, path in summary.outputs.items():
        click.echo(f"  {name:<7} {path.as_posix():<40} {sizes[name] / 1024:10.1f} KiB", err=True)
    total = sum(summary.seconds.values())
    stages = ", ".join(f"{k} {v:.2f} s" for k, v in summary.seconds.items())
    click.echo(f"  time    {total:.2f} s ({stages})", err=True)


def _register_optional_commands() -> None:
    """Add the search commands; their module imports whoosh only inside the commands that need it."""
    from build_kb import search_commands

    for command in (
        search_commands.lookup,
        search_commands.search,
        search_commands.triage,
        search_commands.index,
    ):
        cli.add_command(command)


def main() -> None:
    """Entry point of the `kb` console script."""
    _register_optional_commands()
    try:
        cli.main(standalone_mode=True)
    except KbError as error:  # library errors that a command did not translate itself
        click.secho(f"error: {error}", fg="red", err=True)
        sys.exit(EXIT_NOT_FOUND)
