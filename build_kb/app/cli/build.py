"""`kb build`: the thin command over `build_kb.app.build.run_build`, with its progress display."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from build_kb.app.cli.common import content_option, json_option, print_problems
from build_kb.core.errors import KbError, ValidationFailed

if TYPE_CHECKING:
    from build_kb.app.build import Reporter


def _size(path: Path) -> int:
    return (
        path.stat().st_size
        if path.is_file()
        else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    )


def _progress_reporter() -> Reporter:
    """Live stage lines on a terminal; plain log lines otherwise (CI logs, pipes).

    On a terminal the running stage's line is redrawn in place with its count (pages, or the PDF's parts),
    at most ten times a second; in a log, progress is a line at each quarter of the work.
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
            unit = "parts typeset" if stage == "pdf" else "pages"
            if interactive:
                if now - last_drawn[0] >= 0.1 or done == total:
                    last_drawn[0] = now
                    draw(f"{stage:<9}{done:>7,}/{total:,} {unit}")
            else:
                quarter = 4 * done // total
                if quarter > quarters_logged.get(stage, 0) and done < total:
                    quarters_logged[stage] = quarter
                    click.echo(f"kb build: {stage}: {done:,}/{total:,} {unit}", err=True)
        elif event == "done":
            elapsed = now - started.get(stage, now)
            if interactive:
                click.echo(
                    "\r\x1b[2K" + click.style("✓ ", fg="green") + f"{stage:<9}{elapsed:7.2f} s", err=True
                )
            else:
                click.echo(f"kb build: {stage}: done in {elapsed:.2f} s", err=True)

    return report


@click.command()
@content_option
@click.option(
    "--site-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("site"), show_default=True
)
@click.option(
    "--dist-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("dist"), show_default=True
)
@click.option("--config-file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="MkDocs configuration for the site stage [default: ./mkdocs.yml if present, else the tool's own].")  # fmt: skip
@click.option("--only", multiple=True, type=click.Choice(["site", "index", "pdf", "bundle"]),
              help="Build only these outputs (repeatable).")  # fmt: skip
@click.option("--drafts", is_flag=True,
              help="Include draft entries (marked as drafts), for a preview; left out by default.")  # fmt: skip
@json_option
def build(content_root: Path, site_dir: Path, dist_dir: Path, config_file: Path, only: tuple[str, ...],
          drafts: bool, as_json: bool) -> None:  # fmt: skip
    """Validate the content, then build the site, search index, PDF runbook and offline zip.

    Outputs are written to a staging folder and swapped in only when every stage has succeeded, so a
    failure leaves the previous outputs as they were; a build killed while swapping them in is completed
    by the next one. Honours SOURCE_DATE_EPOCH for reproducible output.

    \b
    Example:
      kb build
      kb build --only pdf
      kb build --drafts --only site --site-dir preview
      SOURCE_DATE_EPOCH=1700000000 kb build --dist-dir /srv/kb-dist
    """
    from build_kb.app.build import STAGES, BuildOptions, BuildStopped, run_build

    options = BuildOptions(
        content_root=content_root, site_dir=site_dir, dist_dir=dist_dir, config_file=config_file,
        only=frozenset(only or STAGES), drafts=drafts,
    )  # fmt: skip
    try:
        summary = run_build(options, _progress_reporter())
    except ValidationFailed as error:
        print_problems(error)
        raise click.ClickException(f"{error}; nothing was built, previous outputs are unchanged") from None
    except BuildStopped as error:  # it says what became of the previous outputs
        raise click.ClickException(f"{error}; {error.outputs_report()}") from None
    except KbError as error:
        raise click.ClickException(f"{error}; previous outputs are unchanged") from None
    sizes = {name: _size(path) for name, path in summary.outputs.items()}
    if as_json:
        data = {
            "entries": summary.entries, "site_pages": summary.site_pages, "pdf_pages": summary.pdf_pages, "version": summary.version,
            "build_date": summary.build_date.isoformat(), "seconds": summary.seconds,
            "recovered": [path.as_posix() for path in summary.recovered],
            "outputs": {name: {"path": path.as_posix(), "bytes": sizes[name]} for name, path in summary.outputs.items()},
        }  # fmt: skip
        click.echo(json.dumps(data, indent=2))
        return
    counts = [f"{summary.entries} entries"]
    counts += [f"{summary.site_pages} site pages"] if summary.site_pages else []
    counts += [f"{summary.pdf_pages} PDF pages"] if summary.pdf_pages else []
    click.echo(f"{', '.join(counts)}, version {summary.version}", err=True)
    if summary.recovered:
        listing = ", ".join(path.as_posix() for path in summary.recovered)
        click.echo(f"  first put in place what an interrupted build had left half done: {listing}", err=True)
    for name, path in summary.outputs.items():
        click.echo(f"  {name:<7} {path.as_posix():<40} {sizes[name] / 1024:10.1f} KiB", err=True)
    total = sum(summary.seconds.values())
    stages = ", ".join(f"{k} {v:.2f} s" for k, v in summary.seconds.items())
    click.echo(f"  time    {total:.2f} s ({stages})", err=True)
