"""MkDocs wiring: load and validate the content, then add every page as a generated file.

Each handler only calls pure functions from `validate`, `render` and `authoring`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files, InclusionLevel

from build_kb.site.authoring import render_authoring
from build_kb.core.codeview import code_views
from build_kb.core.errors import ValidationFailed
from build_kb.core.model import KnowledgeBase
from build_kb.site.render import nav_paths, navigation, render_pages
from build_kb.content.validate import load_knowledge_base

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.pages import Page

CODE_MAP_SCRIPT = "assets/javascripts/kb-codes.js"


class KbConfig(Config):  # type: ignore[no-untyped-call]
    """Options of the `kb` plugin."""

    content = c.Type(str, default="content")
    """The content folder, relative to mkdocs.yml."""
    strict = c.Type(bool, default=False)
    """Fail on content warnings too."""


def code_map_script(kb: KnowledgeBase) -> str:
    """A script defining `window.KB_CODES` for the lookup box: pages by code, and symbolic names."""
    views = code_views(kb)
    data = {
        "codes": {view.hex: [e.title for e in view.entries] for view in views},
        "names": {name.upper(): view.hex for view in views for name in view.names},
    }
    return f"window.KB_CODES = {json.dumps(data, sort_keys=True)};\n"


class KbPlugin(BasePlugin[KbConfig]):  # type: ignore[no-untyped-call]
    """Generates the knowledge base's pages from YAML entries."""

    def __init__(self) -> None:
        self.kb: KnowledgeBase | None = None
        self.preloaded: KnowledgeBase | None = None
        """Set by `kb build`, which has validated the content already: used instead of loading it again."""
        self.page_written: Callable[[int, int], None] | None = None
        """Set by `kb build` for its progress display: called with (pages written, pages in all)."""
        self._pages = (0, 0)
        self._in_nav: set[str] = set()

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        root = Path(config.config_file_path or ".").parent / self.config.content
        try:
            self.kb = self.preloaded or load_knowledge_base(root, strict=self.config.strict)
        except ValidationFailed as error:
            raise PluginError(f"invalid content in {root.as_posix()}:\n{error.report()}") from None
        config.nav = navigation(self.kb)
        self._in_nav = nav_paths(config.nav)
        return config

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        if self.kb is None:
            return files
        pages = render_pages(self.kb)
        pages["authoring.md"] = render_authoring(self.kb)
        for path, markdown in pages.items():
            # Entries left out of a long section's navigation are reached from their phase page instead.
            left_out = path.startswith("entries/") and path not in self._in_nav
            inclusion = InclusionLevel.NOT_IN_NAV if left_out else InclusionLevel.UNDEFINED
            files.append(File.generated(config, path, content=markdown, inclusion=inclusion))
        files.append(File.generated(config, CODE_MAP_SCRIPT, content=code_map_script(self.kb)))
        self._pages = (0, len(files.documentation_pages()))
        return files

    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        written, total = self._pages
        self._pages = (written + 1, total)
        if self.page_written is not None:
            self.page_written(written + 1, total)
        return output
