"""The site as plain files: every generated page, the assets and a configuration that needs no kb plugin.

`kb pages` writes them so that MkDocs + Material or Zensical (which runs no MkDocs plugins) can build the
site; `kb serve` writes them into its preview folder. The pages and the generated scripts are the plugin's
own (`plugin.site_pages`, `plugin.generated_assets`), so the exported site and the plugin's site are made of
the same Markdown. Output is deterministic: the same content gives the same bytes.

Layout of the folder written (`PAGES_DIR` is the configuration's `docs_dir`):

    mkdocs.yml              read by `mkdocs build` and by `zensical build` alike
    docs/                   the pages (index.md, entries/, phases/, codes/, ...) and assets/
    overrides/              theme templates, only when the theme folder has any (theme.custom_dir)
    .kb-pages               the files written, so that the next export removes only its own stale files
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from build_kb.core.errors import KbError
from build_kb.core.model import KnowledgeBase
from build_kb.site.plugin import SCRIPTS, STYLESHEETS, generated_assets, site_pages, theme_folder
from build_kb.site.render import entry_page, nav_paths, navigation
from build_kb.site.sanitize import escaped_text, html_titles

CONFIG_FILE = "mkdocs.yml"
PAGES_DIR = "docs"
OVERRIDES_DIR = "overrides"
SITE_DIR = "site"
"""Where both engines build by default, inside the folder (Zensical requires the site inside it)."""
MANIFEST = ".kb-pages"
_TEMPLATE_SUFFIXES = (".html", ".xml", ".j2")
_SKIPPED_SUFFIXES = (".py", ".pyc")


class ExportError(KbError):
    """The export folder cannot be written (it holds files kb pages did not write, or writing failed)."""


def theme_files() -> dict[str, bytes]:
    """The files of the package's theme folder (`site_overrides/`) by path inside it, Python files left out."""
    root = theme_folder()
    found: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or "__pycache__" in relative.parts or path.suffix in _SKIPPED_SUFFIXES:
            continue
        found[relative.as_posix()] = path.read_bytes()
    return found


def _is_template(path: str) -> bool:
    return not path.startswith("assets/") and path.endswith(_TEMPLATE_SUFFIXES)


def _titled(item: object, titles: Mapping[str, str]) -> object:
    """A nav item with a title on every page, so that a dirty build (which reads no other page) names them."""
    if isinstance(item, str):
        return {titles[item]: item} if item in titles else item
    if isinstance(item, dict):
        return {key: _titled(value, titles) for key, value in item.items()}
    if isinstance(item, list):
        return [_titled(value, titles) for value in item]
    return item


def default_config() -> dict[str, Any]:
    """The tool's packaged MkDocs configuration (`build_kb/site/mkdocs.yml`), parsed."""
    text = resources.files("build_kb.site").joinpath("mkdocs.yml").read_text("utf-8")
    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict):
        raise ExportError("build_kb/site/mkdocs.yml: expected a mapping")
    return loaded


NOT_IN_NAV_LIMIT = 1000
"""More entries left out of the navigation than this are written as one pattern, not one path each."""


def export_config(kb: KnowledgeBase, *, custom_dir: bool = False) -> dict[str, Any]:
    """The packaged configuration as the kb plugin would leave it, with the plugin itself taken out.

    What the plugin sets at build time is written out: the site's name and description from the taxonomy,
    the navigation (with every title, see `_titled`), the stylesheet and scripts, and the entries left out of
    the navigation (`not_in_nav`). `theme.variant: classic` asks Zensical for Material's look; MkDocs passes
    unknown theme options to the templates and ignores it.

    Text a theme prints unescaped in places (site name, navigation titles) is escaped once. The kb plugin
    hands MkDocs `sanitize.html_text` values (Markup, which `| e` leaves alone); a YAML file can only hold
    plain text, so it is `sanitize.escaped_text` here, as the pages' front-matter titles are
    (`render.front_matter`): nothing from the content reaches the HTML unescaped, at the price of `&amp;`
    where a template escapes a title a second time.
    """
    defaults = default_config()
    for key in ("site_name", "site_description", "docs_dir", "site_dir", "exclude_docs", "watch"):
        defaults.pop(key, None)  # the content folder's YAML is not in docs/: nothing to exclude or watch
    config: dict[str, Any] = {
        "site_name": escaped_text(kb.taxonomy.title),
        "site_description": escaped_text(" ".join(kb.taxonomy.description.split())),
        "docs_dir": PAGES_DIR,
        "site_dir": SITE_DIR,
        **defaults,
    }
    plugins = config.get("plugins") or {}
    config["plugins"] = {name: options for name, options in plugins.items() if name != "kb"}
    theme = dict(config.get("theme") or {})
    theme["variant"] = "classic"
    if custom_dir:
        theme["custom_dir"] = OVERRIDES_DIR
    config["theme"] = theme
    config["extra_css"] = [*config.get("extra_css", []), *STYLESHEETS]
    config["extra_javascript"] = [*config.get("extra_javascript", []), *SCRIPTS]
    nav = navigation(kb)
    listed = nav_paths(nav)
    titles = {entry_page(e.id): escaped_text(e.title) for e in kb.entries}
    config["nav"] = _titled(html_titles(nav, escaped_text), titles)
    left_out = [f"/{entry_page(e.id)}" for e in kb.entries if entry_page(e.id) not in listed]
    if len(left_out) > NOT_IN_NAV_LIMIT:
        # MkDocs compiles not_in_nav into one pattern set, with RE2 where it is installed (as it is with kb),
        # and RE2 refuses a set of about 5,000 paths. Pages the navigation lists stay in it whatever this says.
        left_out = [f"/{entry_page('*')}"]
    patterns = [line for line in str(config.get("not_in_nav") or "").splitlines() if line.strip()]
    if patterns or left_out:
        config["not_in_nav"] = "\n".join([*patterns, *left_out]) + "\n"
    return config


def config_text(config: Mapping[str, Any]) -> str:
    """The configuration as YAML, always the same text for the same settings."""
    header = (
        "# Written by `kb pages` from the content set; do not edit, write the pages again instead.\n"
        "# Build with `mkdocs build -f mkdocs.yml` (MkDocs + Material) or `zensical build -f mkdocs.yml`.\n"
    )
    body = yaml.dump(dict(config), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100_000)
    return header + body


class _Dumper(yaml.SafeDumper):
    """Writes text of several lines (`not_in_nav`) as a literal block, as a person would."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_text)


def export_files(kb: KnowledgeBase) -> dict[str, bytes]:
    """Every file of the export by its path in the folder (forward slashes), in a stable order."""
    files: dict[str, bytes] = {}
    theme = theme_files()
    templates = {path: data for path, data in theme.items() if _is_template(path)}
    files[CONFIG_FILE] = config_text(export_config(kb, custom_dir=bool(templates))).encode("utf-8")
    for path, markdown in site_pages(kb).items():
        files[f"{PAGES_DIR}/{path}"] = markdown.encode("utf-8")
    for path, data in theme.items():
        files[f"{OVERRIDES_DIR}/{path}" if path in templates else f"{PAGES_DIR}/{path}"] = data
    for path, script in generated_assets(kb).items():
        files[f"{PAGES_DIR}/{path}"] = script.encode("utf-8")
    return files


@dataclass(frozen=True)
class WriteResult:
    """What `write_export` changed in the folder."""

    written: tuple[str, ...]
    """Files created or rewritten (their bytes differed)."""
    removed: tuple[str, ...]
    """Files an earlier export wrote that this one no longer has."""
    unchanged: int
    """Files left as they were, their modification time included."""


def _previous(out_dir: Path) -> list[str] | None:
    manifest = out_dir / MANIFEST
    if manifest.is_file():
        return [line for line in manifest.read_text("utf-8").splitlines() if line]
    return None


def _inside(out_dir: Path, relative: str) -> Path:
    target = (out_dir / relative).resolve()
    if not target.is_relative_to(out_dir.resolve()) or target == out_dir.resolve():
        raise ExportError(f"{MANIFEST} in {out_dir.as_posix()} names a file outside it: {relative}")
    return target


def write_export(files: Mapping[str, bytes], out_dir: Path) -> WriteResult:
    """Write `files` into `out_dir`, touching only what changed, and remove what an earlier export left.

    A file whose bytes are unchanged keeps its modification time, so a dirty MkDocs build rebuilds only
    what changed. Refuses a folder that is not empty and was not written by an export (no `.kb-pages`).

    Raises:
        ExportError: the folder holds other files, or a file cannot be written.
    """
    try:
        previous = _previous(out_dir)
        if previous is None and out_dir.exists():
            if not out_dir.is_dir():
                raise ExportError(f"{out_dir.as_posix()} is a file; give a folder")
            if any(out_dir.iterdir()):
                raise ExportError(
                    f"{out_dir.as_posix()} is not empty and was not written by kb pages; give a new or empty folder"
                )
        out_dir.mkdir(parents=True, exist_ok=True)
        written: list[str] = []
        unchanged = 0
        for relative, data in files.items():
            target = out_dir / relative
            if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
                unchanged += 1
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written.append(relative)
        removed = [relative for relative in previous or () if relative not in files]
        for relative in removed:
            _inside(out_dir, relative).unlink(missing_ok=True)
        _remove_empty_folders(out_dir, removed)
        manifest = "".join(f"{relative}\n" for relative in sorted(files)).encode("utf-8")
        manifest_path = out_dir / MANIFEST
        if not manifest_path.is_file() or manifest_path.read_bytes() != manifest:
            manifest_path.write_bytes(manifest)
    except OSError as error:
        where = Path(error.filename).as_posix() if error.filename else out_dir.as_posix()
        raise ExportError(f"cannot write {where}: {error.strerror or error}") from None
    return WriteResult(tuple(written), tuple(removed), unchanged)


def _remove_empty_folders(out_dir: Path, removed: Iterable[str]) -> None:
    folders = {parent for relative in removed for parent in Path(relative).parents if parent != Path()}
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        path = out_dir / folder
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def export_site(kb: KnowledgeBase, out_dir: Path) -> WriteResult:
    """Write the knowledge base's pages, assets and configuration into `out_dir` (see the module's notes)."""
    return write_export(export_files(kb), out_dir)
