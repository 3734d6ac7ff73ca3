"""MkDocs wiring: load and validate the content, then add every page as a generated file.

Each handler checks `enabled`, then calls pure functions from `content.validate`, `render` and `authoring`.
`kb build` hands over the knowledge base it has validated already through `KbPlugin.prepare`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files, InclusionLevel

from build_kb.content.validate import load_knowledge_base
from build_kb.core.codes import Code
from build_kb.core.codeview import code_views
from build_kb.core.errors import RenderError, ValidationFailed
from build_kb.core.model import KnowledgeBase
from build_kb.site.authoring import render_authoring
from build_kb.site.render import nav_paths, navigation, render_pages

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.pages import Page

CODE_MAP_SCRIPT = "assets/javascripts/kb-codes.js"
STYLESHEETS = ("assets/stylesheets/kb.css",)
"""Our stylesheet, in the theme folder the plugin adds."""
SCRIPTS = (CODE_MAP_SCRIPT, "assets/javascripts/kb-lookup.js")
"""Scripts every page loads: the code map (generated) and the lookup box."""

PageWritten = Callable[[int, int], None]
"""Told (pages written, pages in all) after each page."""


def theme_folder() -> Path:
    """The theme overrides shipped with the package (`site_overrides/` in the repository)."""
    return Path(str(resources.files("build_kb.site.theme")))


class KbConfig(Config):  # type: ignore[no-untyped-call]
    """Options of the `kb` plugin in mkdocs.yml."""

    enabled = c.Type(bool, default=True)
    """Set to false to build the site without the knowledge base's pages."""
    content = c.Type(str, default="content")
    """The content folder (taxonomy.yaml, references.yaml, the entry folders), relative to mkdocs.yml."""
    strict = c.Type(bool, default=False)
    """Fail on content warnings too, as `kb check --strict` does."""


def code_map_script(kb: KnowledgeBase) -> str:
    """A script defining `window.KB_CODES` for the lookup box: pages by code, names and spellings."""
    views = code_views(kb)
    data = {
        "codes": {view.hex: {"titles": [e.title for e in view.entries], "url": view.url} for view in views},
        "names": {name.upper(): view.hex for view in views for name in view.names},
        "literals": {text: Code(value).hex for text, value in kb.code_spellings.items()},
    }
    return f"window.KB_CODES = {json.dumps(data, sort_keys=True)};\n"


class KbPlugin(BasePlugin[KbConfig]):  # type: ignore[no-untyped-call]
    """Generates the knowledge base's pages from YAML entries."""

    def __init__(self) -> None:
        self.kb: KnowledgeBase | None = None
        self._content_root: Path | None = None
        self._preloaded: KnowledgeBase | None = None
        self._page_written: PageWritten | None = None
        self._pages = (0, 0)
        self._in_nav: set[str] = set()

    def prepare(
        self,
        content_root: Path,
        kb: KnowledgeBase | None = None,
        page_written: PageWritten | None = None,
    ) -> None:
        """What `kb build` hands over before MkDocs runs.

        Arguments:
            content_root: The content folder, overriding the `content` option.
            kb: That folder's content, validated already: used instead of loading it a second time.
            page_written: Called after each page with (pages written, pages in all), for progress.
        """
        self._content_root = content_root
        self._preloaded = kb
        self._page_written = page_written

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return config
        root = self._content_root or Path(config.config_file_path or ".").parent / self.config.content
        try:
            self.kb = self._preloaded or load_knowledge_base(root, strict=self.config.strict)
        except ValidationFailed as error:
            raise PluginError(f"invalid content in {root.as_posix()}:\n{error.report()}") from None
        # The site's identity belongs to the content set, so one configuration serves every team.
        config.site_name = self.kb.taxonomy.title
        config.site_description = " ".join(self.kb.taxonomy.description.split())
        # Our templates and assets come after a project's own custom_dir and before the theme's.
        ours = str(theme_folder())
        if ours not in config.theme.dirs:
            config.theme.dirs.insert(1 if config.theme.custom_dir else 0, ours)
        config.extra_css = [*config.extra_css, *(s for s in STYLESHEETS if s not in config.extra_css)]
        listed = {str(script) for script in config.extra_javascript}
        config.extra_javascript = [*config.extra_javascript, *(s for s in SCRIPTS if s not in listed)]
        config.nav = navigation(self.kb)
        self._in_nav = nav_paths(config.nav)
        return config

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files | None:
        if not self.config.enabled or self.kb is None:
            return files
        try:
            pages = render_pages(self.kb)
        except RenderError as error:
            raise PluginError(f"cannot render {error.path}: {error.reason}") from None
        pages["authoring.md"] = render_authoring(self.kb)
        for path, markdown in pages.items():
            # Entries left out of a long section's navigation are reached from their phase page instead.
            left_out = path.startswith("entries/") and path not in self._in_nav
            inclusion = InclusionLevel.NOT_IN_NAV if left_out else InclusionLevel.UNDEFINED
            files.append(File.generated(config, path, content=markdown, inclusion=inclusion))
        files.append(File.generated(config, CODE_MAP_SCRIPT, content=code_map_script(self.kb)))
        self._pages = (0, len(files.documentation_pages()))
        return files

    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str | None:
        if not self.config.enabled:
            return output
        written, total = self._pages
        self._pages = (written + 1, total)
        if self._page_written is not None:
            self._page_written(written + 1, total)
        return output
