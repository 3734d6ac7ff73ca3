"""Building the site of a content set, and reading what is in it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

from build_kb.app.build import BuildOptions, build_site
from tests.helpers import ROOT

FIXED_DATE = datetime(2024, 1, 2, tzinfo=UTC)
DEFAULT_CONFIG = ROOT / "build_kb" / "site" / "mkdocs.yml"
"""The tool's packaged MkDocs configuration, which a team's own mkdocs.yml inherits."""


def project_config(folder: Path, content_root: Path) -> Path:
    """A team's mkdocs.yml in `folder`: the tool's default configuration with its content folder named.

    This is how a project other than this repository sets up its site; nothing in it points at content/.
    """
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "mkdocs.yml"
    content = content_root.resolve().as_posix()
    config.write_text(
        f"INHERIT: {DEFAULT_CONFIG.as_posix()}\ndocs_dir: {content}\nplugins:\n  kb:\n    content: {content}\n",
        "utf-8",
    )
    return config


def build_set_site(target: Path, content_root: Path) -> Path:
    """Build the site of a content folder (a fixture set, or synthetic content) into `target`."""
    config = project_config(target.parent / f"{target.name}-project", content_root)
    build_site(BuildOptions(content_root=content_root, config_file=config), target, FIXED_DATE)
    return target


@dataclass
class PageRefs:
    """What one HTML page points to, and the ids it defines."""

    links: list[str] = field(default_factory=list)
    """href of <a>."""
    loads: list[str] = field(default_factory=list)
    """URLs the browser fetches on its own: script src, stylesheet/icon/preload href, img/iframe/source src."""
    ids: set[str] = field(default_factory=set)


class _RefParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs = PageRefs()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.refs.ids.add(values["id"])
        if tag == "a" and "href" in values:
            self.refs.links.append(values["href"])
        elif tag == "link" and "href" in values and values.get("rel", "") not in ("canonical", "alternate"):
            self.refs.loads.append(values["href"])
        elif tag in ("script", "img", "iframe", "source", "audio", "video", "embed") and "src" in values:
            self.refs.loads.append(values["src"])


def page_refs(path: Path) -> PageRefs:
    parser = _RefParser()
    parser.feed(path.read_text("utf-8"))
    return parser.refs


def resolve(page: Path, href: str, site: Path) -> tuple[Path | None, str]:
    """The file and fragment an internal href points to (None for outside or special links)."""
    if urlsplit(href).scheme or href.startswith("//"):
        return None, ""
    target, fragment = urldefrag(href)
    if not target:
        return page, fragment
    resolved = (page.parent / unquote(target)).resolve()
    if resolved.is_dir():
        resolved = resolved / "index.html"
    return resolved, fragment


CSS_URL = re.compile(r"url\(\s*['\"]?(https?:)?//", re.IGNORECASE)
