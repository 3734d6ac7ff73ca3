"""`kb check`, `kb new` and `kb codes`: commands over the content set."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from build_kb.app.cli.common import EXIT_NOT_FOUND, content_option, json_option, load, print_problems
from build_kb.core.errors import Problem, ValidationFailed
from build_kb.core.model import KnowledgeBase


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(problem: Problem) -> str:
    """A problem as a GitHub Actions workflow command: shown on the line of the file in a pull request."""
    properties = ",".join(
        f"{key}={_escape_property(str(value))}"
        for key, value in (("file", problem.path), ("line", problem.line), ("col", problem.column),
                           ("title", f"kb check: {problem.field}"))
    )  # fmt: skip
    level = "warning" if problem.severity == "warning" else "error"
    return f"::{level} {properties}::{_escape_data(f'{problem.field}: {problem.message}')}"


@click.command()
@click.argument("path", type=click.Path(path_type=Path), default=Path("content"))
@click.option(
    "--strict", is_flag=True, help="Fail on warnings too (TODO text in a published entry, for one)."
)
@click.option("--format", "output_format", type=click.Choice(["text", "json", "github"]), default="text",
              show_default=True,
              help="text: file:line:col lines; json: for scripts; github: workflow annotations on the lines.")  # fmt: skip
@json_option
def check(path: Path, strict: bool, output_format: str, as_json: bool) -> None:
    """Validate a content folder: every problem, with file:line:column, in one run.

    Checks the schema, the taxonomy's ids and vocabularies, cross-references (related, references,
    replaced_by), codes against the error dictionary, and the links inside prose fields (to other entries'
    pages and their #anchors, to code and phase pages, reference-style links). Drafts are checked too; a
    published entry may not link to one.

    Exit status: 0 valid, 1 invalid (or warnings with --strict).

    \b
    Example:
      kb check content
      kb check --strict --json content
      kb check --strict --format github content     # in a GitHub Actions step
    """
    from build_kb.content.validate import check_content

    kb, problems = check_content(path)
    failed = kb is None or (strict and bool(problems))
    as_json = as_json or output_format == "json"
    if output_format == "github":
        for problem in problems:
            click.echo(github_annotation(problem))
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
        if problems and output_format == "text":
            print_problems(ValidationFailed(problems))
        if kb is not None and not failed:
            warnings = f", {len(problems)} warning(s)" if problems else ""
            click.secho(f"{len(kb)} entries valid{_drafts_note(kb)}{warnings}", fg="green", err=True)
        else:
            errors = sum(p.severity == "error" or strict for p in problems)
            click.secho(f"{errors} problem(s) in {path.as_posix()}", fg="red", err=True)
    sys.exit(EXIT_NOT_FOUND if failed else 0)


def _drafts_note(kb: KnowledgeBase) -> str:
    drafts = sum(entry.is_draft for entry in kb)
    return f" ({drafts} draft{'s' if drafts != 1 else ''})" if drafts else ""


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


def _namespaces() -> list[str]:
    from build_kb.core.dictionary import NAMESPACES

    return list(NAMESPACES)


@click.command(name="codes")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="List the offline error-code dictionary (every known Windows code) instead of the knowledge base's.",
)
@click.option(
    "--namespace",
    type=click.Choice(_namespaces()),
    default=None,
    help="With --all: only this namespace.",
)
@click.option(
    "--facility",
    type=click.IntRange(0, 0x7FF),
    default=None,
    help="With --all: only codes of this facility number (7 is WIN32; Win32 errors count as 7).",
)
@content_option
@json_option
def codes_command(
    everything: bool, namespace: str | None, facility: int | None, content_root: Path, as_json: bool
) -> None:
    """List every error code in the knowledge base with all its notations and entries.

    With --all, list the offline error-code dictionary instead: every Windows code it knows (HRESULT,
    Windows Update, NTSTATUS, SetupAPI, Win32, WinINet, WinHTTP, RAS), one record per name, with its
    message where the sources have one. No content folder is needed for that.

    \b
    Example:
      kb codes
      kb codes --json | jq '.[] | .hex'
      kb codes --all --namespace wua
      kb codes --all --facility 7 --json | jq 'length'
    """
    if not everything:
        if namespace is not None or facility is not None:
            raise click.UsageError("--namespace and --facility filter the dictionary: add --all")
        _knowledge_base_codes(content_root, as_json)
        return
    from build_kb.core.codeview import known_label
    from build_kb.core.dictionary import ATTRIBUTION, all_codes

    records = all_codes(namespace=namespace, facility=facility)
    # The names and messages are under CC BY 4.0: the listing credits them, on stderr so that stdout stays
    # the listing alone.
    click.echo(ATTRIBUTION, err=True)
    if as_json:
        listing = [
            {"hex": f"0x{r.code:08X}", "value": r.value, "namespace": r.namespace, "name": r.name,
             "message": r.message}
            for r in records
        ]  # fmt: skip
        click.echo(json.dumps(listing, indent=2, ensure_ascii=False))
        return
    lines = []
    for record in records:
        message = " ".join(record.message.split()) if record.message else "-"
        lines.append(f"0x{record.code:08X}  {known_label(record)}  {record.name}  {message}")
    if lines:
        click.echo("\n".join(lines))


def _knowledge_base_codes(content_root: Path, as_json: bool) -> None:
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
