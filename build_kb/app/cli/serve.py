"""`kb serve`: live preview of the site while editing entries."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from build_kb.app.cli.common import content_option, print_problems
from build_kb.core.errors import KbError, ValidationFailed

if TYPE_CHECKING:
    from build_kb.app.serve import Report
    from build_kb.site.preview import Update


def _reporter() -> Report:
    """Terminal lines for each step: problems as file:line:col, and how long after the save it showed."""

    def report(what: str, update: Update | None, seconds: float) -> None:
        if update is None:
            click.secho(what, fg="red", err=True)
            return
        failing = [p for p in update.problems if p.severity == "error"]
        if update.problems and (failing or what != "quick"):
            print_problems(ValidationFailed(update.problems))
        elapsed = f"{seconds * 1000:.0f} ms"
        if failing:
            click.secho(
                f"{what}: {len(failing)} error(s), the browser shows them ({elapsed})", fg="red", err=True
            )
        elif update.recovered:
            click.secho(
                f"{what}: the content is valid again, the browser shows the site ({elapsed})",
                fg="green",
                err=True,
            )
        elif what == "started":
            click.secho(f"{len(update.pages)} pages ready in {seconds:.1f} s", fg="green", err=True)
        elif update.pages or update.reloaded:
            shown = ", ".join(update.pages[:3]) + (
                f" and {len(update.pages) - 3} more" if len(update.pages) > 3 else ""
            )
            click.secho(
                f"{what}: {shown or 'navigation'} updated {elapsed} after the save", fg="green", err=True
            )

    return report


@click.command()
@content_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")  # fmt: skip
@click.option("--strict", is_flag=True, help="Show content warnings as problems too.")
@click.option(
    "--drafts", is_flag=True, help="Show draft entries too (marked as drafts); left out by default."
)
def serve(content_root: Path, host: str, port: int, strict: bool, drafts: bool) -> None:
    """Preview the site while you edit entries: each save shows in the browser within a second.

    Pages are rendered by MkDocs when the browser asks for them; a save re-validates the file, rewrites only
    the pages whose Markdown changed and reloads the browser. A content mistake shows in the browser (and
    here) as a list of problems with file:line:column, until the file is fixed. The preview's search matches
    the pages' Markdown. Stop with Ctrl+C.

    \b
    Examples:
      kb serve                          http://127.0.0.1:8000/ for content/
      kb serve --content my-kb --port 8100
      kb serve --drafts                 drafts too, as kb new writes them
      kb serve --strict                 warnings block the preview too
    """
    from build_kb.app.serve import PreviewServer, ServeOptions

    server = PreviewServer(ServeOptions(content_root, host, port, strict, drafts), _reporter())
    try:
        server.start()
    except KbError as error:
        server.close()
        raise click.ClickException(str(error)) from None
    click.secho(f"serving {content_root.as_posix()} at {server.url} (Ctrl+C to stop)", err=True)
    signal.signal(signal.SIGTERM, lambda *_: server.request_stop())
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
