"""Options, exit codes and messages that every `kb` command shares."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from build_kb.core.errors import ValidationFailed

F = TypeVar("F", bound=Callable[..., Any])

EXIT_NOT_FOUND = 1
"""Not found, not covered, or invalid input."""
EXIT_USAGE = 2
"""The command line itself is wrong."""


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
    from search.display import printable  # a hostile file name or value must not drive the terminal

    for problem in error.problems:
        colour = "yellow" if problem.severity == "warning" else "red"
        click.secho(printable(str(problem)), fg=colour, err=True)


def load(content_root: Path, *, strict: bool = False) -> Any:
    """The validated knowledge base, or exit 1 with every problem printed."""
    from build_kb.content.validate import load_knowledge_base

    try:
        return load_knowledge_base(content_root, strict=strict)
    except ValidationFailed as error:
        print_problems(error)
        raise click.ClickException(str(error)) from None
