"""`kb check`, `kb new` and `kb codes`: commands over the content set."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from build_kb.app.cli.common import EXIT_NOT_FOUND, content_option, json_option, load, print_problems
from build_kb.core.errors import ValidationFailed


@click.command()
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
    from build_kb.content.validate import check_content

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


@click.command()
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
      kb new --id install-access-denied --phase PHASE --code 0x80070005
      kb new --id sync-times-out --phase PHASE --method METHOD --title "Sync stops with a timeout"
    """
    from build_kb.content.scaffold import ScaffoldError, scaffold_entry

    try:
        created = scaffold_entry(content_root, entry_id, phase, method=method, title=title, codes=codes)
    except ScaffoldError as error:
        raise click.UsageError(str(error)) from None
    click.echo(created.as_posix())


@click.command(name="codes")
@content_option
@json_option
def codes_command(content_root: Path, as_json: bool) -> None:
    """List every error code in the knowledge base with all its notations and entries.

    \b
    Example:
      kb codes
      kb codes --json | jq '.[] | .hex'
    """
    from build_kb.core.codeview import code_views

    views = code_views(load(content_root))
    if as_json:
        click.echo(json.dumps([view.to_json() for view in views], indent=2))
        return
    for view in views:
        win32 = f" win32 {view.win32}" if view.win32 is not None else ""
        click.echo(
            f"{click.style(view.hex, bold=True)}  {view.signed}  {view.unsigned}  {view.facility}{win32}"
        )
        click.echo(f"    {', '.join(view.names) or '-'}")
        for entry in view.entries:
            click.echo(f"    - {entry.id}: {entry.title}")
