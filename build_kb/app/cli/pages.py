"""`kb pages`: the site's Markdown, assets and a plugin-free configuration, for MkDocs or Zensical."""

from __future__ import annotations

from pathlib import Path

import click

from build_kb.app.cli.common import content_option, print_problems
from build_kb.core.errors import KbError, ValidationFailed


@click.command()
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder to write: mkdocs.yml, docs/ (the pages and assets). New, empty, or written by kb pages before.",
)
@content_option
@click.option("--strict", is_flag=True, help="Fail on content warnings too.")
@click.option("--drafts", is_flag=True, help="Include draft entries (marked as drafts); left out by default.")
def pages(out_dir: Path, content_root: Path, strict: bool, drafts: bool) -> None:
    """Write every page of the site as Markdown, with its assets and a configuration needing no kb plugin.

    The folder builds with MkDocs + Material or with Zensical, which runs no MkDocs plugins. Writing again
    changes only the files whose content changed and removes pages that are gone; the same content always
    gives the same bytes. Exit status: 0 written, 1 invalid content or a folder that cannot be written.

    \b
    Examples:
      kb pages --out build/pages
      kb pages --out build/pages --drafts       drafts too, marked as drafts
      mkdocs build -f build/pages/mkdocs.yml -d build/site-mkdocs
      cd build/pages && zensical build        # writes build/pages/site
      kb pages --out build/pages --content my-kb --strict
    """
    from build_kb.content.validate import check_content
    from build_kb.site.export import export_files, write_export

    kb, problems = check_content(content_root)
    if kb is None or (strict and problems):
        print_problems(ValidationFailed(problems))
        raise click.ClickException(f"{ValidationFailed(problems)}; nothing was written")
    if problems:
        print_problems(ValidationFailed(problems))
    try:
        files = export_files(kb if drafts else kb.without_drafts())
        result = write_export(files, out_dir)
    except KbError as error:
        raise click.ClickException(str(error)) from None
    page_count = sum(1 for path in files if path.endswith(".md"))
    click.echo(
        f"{page_count} pages and {len(files) - page_count} other files in {out_dir.as_posix()}: "
        f"{len(result.written)} written, {result.unchanged} unchanged, {len(result.removed)} removed",
        err=True,
    )
    config = (out_dir / "mkdocs.yml").as_posix()
    click.echo(f"build with: mkdocs build -f {config}   or: zensical build -f {config}", err=True)
