"""The `kb` command group: each command lives in a module of its own and calls one library function.

A command's module is imported only when that command runs (or when the help lists every command), so that
`kb lookup` does not pay for importing what `kb build` or `kb serve` need.
"""

from __future__ import annotations

import importlib
import sys

import click

from build_kb import __version__
from build_kb.app.cli.common import EXIT_NOT_FOUND
from build_kb.core.errors import KbError

COMMANDS = {
    "check": "build_kb.app.cli.content:check",
    "new": "build_kb.app.cli.content:new",
    "codes": "build_kb.app.cli.content:codes_command",
    "lookup": "build_kb.app.cli.search:lookup",
    "search": "build_kb.app.cli.search:search",
    "triage": "build_kb.app.cli.search:triage",
    "index": "build_kb.app.cli.search:index",
    "build": "build_kb.app.cli.build:build",
    "report": "build_kb.app.cli.report:report",
    "pages": "build_kb.app.cli.pages:pages",
    "serve": "build_kb.app.cli.serve:serve",
}
"""Command name -> `module:attribute` of its click command, in the order the help lists them."""


class LazyGroup(click.Group):
    """A click group whose commands are imported from `COMMANDS` when first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*COMMANDS, *(name for name in super().list_commands(ctx) if name not in COMMANDS)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, _, attribute = COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{COMMANDS[cmd_name]} is not a click command")
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="kb")
def cli() -> None:
    """Troubleshooting knowledge base: validate entries, look up error codes, build the site, PDF and bundle.

    \b
    Examples:
      kb check                      validate content/
      kb lookup 0x80070005          entries for a code, in any notation
      kb search "access is denied"  entries for words or a pasted message
      kb triage setup.log           entries for the failures a log records
      kb build                      site/, dist/ (index, PDF, offline zip)
      kb serve                      live preview while editing, at http://127.0.0.1:8000/
      kb pages --out build/pages    the site as Markdown + mkdocs.yml, for MkDocs or Zensical
      kb report --logs logs/        reviews due, TODOs, owners, orphans, codes to write entries for
    """


def main() -> None:
    """Entry point of the `kb` console script."""
    try:
        cli.main(standalone_mode=True)
    except KbError as error:  # library errors that a command did not translate itself
        click.secho(f"error: {error}", fg="red", err=True)
        sys.exit(EXIT_NOT_FOUND)
