"""MkDocs rendering an exported folder one page at a time, when the page is asked for: `kb serve`'s engine.

A whole MkDocs build renders every page with its navigation (40 s for 1,000 entries on two cores), and a
dirty build still reads the theme, lists its templates and renders the 404 page and sitemap on every run
(0.5 s and more). The preview needs one page at a time: this keeps MkDocs' configuration, files, navigation
and Jinja environment loaded and renders a page (Markdown, then the theme's template, with every plugin
event) only when a browser asks for it and its source changed since. Other files are served from where they
are, the theme's assets from the theme's folder.

It calls `mkdocs.commands.build._populate_page` and `_build_page`, the two steps `mkdocs build` runs for each
page: MkDocs 1.x is frozen (1.6.1 is its last release), so they do not move under us.
"""

from __future__ import annotations

import mimetypes
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from build_kb.core.errors import KbError
from build_kb.site.search_data import index_config


class SiteError(KbError):
    """MkDocs could not load the configuration or render a page."""


@dataclass(frozen=True)
class Served:
    """A response body and its media type."""

    body: bytes
    media_type: str


def media_type(path: str) -> str:
    """The Content-Type for a file name."""
    if path.endswith((".js", ".mjs")):
        return "text/javascript; charset=utf-8"
    guessed, _ = mimetypes.guess_type(path)
    if guessed is None:
        return "application/octet-stream"
    return (
        f"{guessed}; charset=utf-8"
        if guessed.startswith("text/") or guessed.endswith(("json", "xml"))
        else guessed
    )


class LiveSite:
    """The pages of an exported folder (`build_kb.site.export`), rendered by MkDocs on request.

    Thread-safe: requests and changes may come from several threads; MkDocs runs under one lock.
    """

    def __init__(self, config_file: Path, site_dir: Path) -> None:
        self._config_file = config_file
        self._site_dir = site_dir
        self._lock = threading.RLock()
        self._fresh: set[str] = set()
        self._state: dict[str, Any] = {}
        self.reload()

    def reload(self) -> None:
        """Read the configuration, the files and the navigation again: after the configuration changed."""
        from mkdocs.config import load_config
        from mkdocs.exceptions import MkDocsException
        from mkdocs.structure.files import get_files as mkdocs_files
        from mkdocs.structure.files import set_exclusions
        from mkdocs.structure.nav import get_navigation
        from mkdocs.structure.pages import Page

        with self._lock:
            try:
                config = load_config(str(self._config_file), site_dir=str(self._site_dir))
                config = config.plugins.on_config(config)
                config.plugins.on_pre_build(config=config)
                files = mkdocs_files(config)
                env = config.theme.get_env()
                files.add_files_from_theme(env, config)
                files = config.plugins.on_files(files, config=config)
                set_exclusions(files, config)
                nav = get_navigation(files, config)
                nav = config.plugins.on_nav(nav, config=config, files=files)
                for file in files.documentation_pages():
                    if file.page is None:
                        Page(None, file, config)
                env = config.plugins.on_env(env, config=config, files=files)
            except (MkDocsException, OSError) as error:
                raise SiteError(f"cannot load {self._config_file.as_posix()}: {error}") from None
            self._state = {
                "config": config,
                "files": files,
                "nav": nav,
                "env": env,
                "by_uri": {file.dest_uri: file for file in files},
                "doc_files": files.documentation_pages(),
            }
            self._fresh.clear()

    def search_config(self) -> dict[str, Any]:
        """The `config` part of the search index Material writes for this configuration
        (`search_data.index_config`); empty when the site has no search."""
        with self._lock:
            return index_config(self._state["config"]) or {}

    def page_uri(self, src_uri: str) -> str | None:
        """The address (dest_uri) of the page built from `src_uri`, None when there is no such page."""
        with self._lock:
            file = self._state["files"].get_file_from_path(src_uri)
            return None if file is None else str(file.dest_uri)

    def has(self, src_uris: set[str]) -> bool:
        """Whether every one of these Markdown sources is a page of the loaded files."""
        with self._lock:
            known = self._state["files"].src_uris
            return all(uri in known for uri in src_uris)

    def invalidate(self, src_uris: set[str]) -> None:
        """Forget the rendering of these pages (their Markdown changed); the next request renders them."""
        with self._lock:
            for uri in src_uris:
                dest = self.page_uri(uri)
                if dest is not None:
                    self._fresh.discard(dest)

    def respond(self, uri: str) -> Served | None:
        """The file at the site address `uri` (`entries/x.html`), rendering it first if it is a stale page."""
        with self._lock:
            file = self._state["by_uri"].get(uri)
            if file is None:
                return None
            if file.is_documentation_page():
                if uri not in self._fresh:
                    self._render(file)
                    self._fresh.add(uri)
                return Served(Path(file.abs_dest_path).read_bytes(), "text/html; charset=utf-8")
            return Served(file.content_bytes, media_type(uri))

    def not_found(self) -> Served | None:
        """The theme's 404 page, rendered once per load."""
        with self._lock:
            target = self._site_dir / "404.html"
            if "404.html" not in self._fresh:
                from mkdocs.commands.build import _build_theme_template

                state = self._state
                if "404.html" not in state["config"].theme.static_templates:
                    return None
                _build_theme_template("404.html", state["env"], state["files"], state["config"], state["nav"])
                self._fresh.add("404.html")
            return Served(target.read_bytes(), "text/html; charset=utf-8") if target.is_file() else None

    def _render(self, file: Any) -> None:
        from mkdocs.commands.build import _build_page, _populate_page

        from build_kb.site.sanitize import clean_html

        state = self._state
        try:
            _populate_page(file.page, state["config"], state["files"])
            # What the kb plugin does to every page (on_page_content), so the preview is the site kb build makes.
            file.page.content = clean_html(file.page.content or "")
            _build_page(file.page, state["config"], state["doc_files"], state["nav"], state["env"])
        except Exception as error:  # MkDocs and its Markdown extensions raise anything; name the page
            raise SiteError(f"cannot render {file.src_uri}: {type(error).__name__}: {error}") from error
