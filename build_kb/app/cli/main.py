"""The `kb` command group: each command lives in a module of its own and calls one library function."""

from __future__ import annotations

import sys

import click

from build_kb import __version__
from build_kb.app.cli.build import build
from build_kb.app.cli.common import EXIT_NOT_FOUND
from build_kb.app.cli.content import check, codes_command, new
from build_kb.app.cli.pages import pages
from build_kb.app.cli.report import report
from build_kb.app.cli.search import index, lookup, search, triage
from build_kb.app.cli.serve import serve
from build_kb.core.errors import KbError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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


for _command in (check, new, codes_command, lookup, search, triage, index, build, report, pages, serve):
    cli.add_command(_command)


def main() -> None:
    """Entry point of the `kb` console script."""
    try:
        cli.main(standalone_mode=True)
    except KbError as error:  # library errors that a command did not translate itself
        click.secho(f"error: {error}", fg="red", err=True)
        sys.exit(EXIT_NOT_FOUND)
