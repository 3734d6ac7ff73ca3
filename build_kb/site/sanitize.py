"""The HTML of a page body, cut down to what the knowledge base's pages use, with nh3 (Ammonia).

Validation refuses raw HTML, attribute lists and unsafe links in content (`build_kb.content.markup`); this is
the second line, for whatever gets past it: every tag and attribute not listed here is dropped, `<script>`
and `<style>` with their text, and a link or image address keeps only http, https, mailto or a relative
URL. The lists are what Python-Markdown, its extensions (tables, admonitions, details, superfences,
Pygments highlighting, toc permalinks, md_in_html cards) and our own templates (the lookup box) produce.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import nh3
from markupsafe import Markup

URL_SCHEMES = frozenset({"http", "https", "mailto"})
"""Schemes a link may keep; relative URLs (our own pages and anchors) are always kept."""

_TEXT = {"p", "br", "hr", "em", "strong", "b", "i", "s", "del", "ins", "sub", "sup", "small", "mark", "kbd"}
_BLOCKS = {"div", "span", "blockquote", "ul", "ol", "li", "dl", "dt", "dd", "details", "summary"}
_CODE = {"pre", "code", "samp", "var"}
_TABLES = {"table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_LOOKUP_BOX = {"form", "label", "input", "button", "output"}
"""The home page's code lookup box (`render.render_home`); kb-lookup.js gives it its behaviour."""
TAGS = frozenset({*_TEXT, *_BLOCKS, *_CODE, *_TABLES, *_HEADINGS, *_LOOKUP_BOX, "a", "abbr"})

ATTRIBUTES: dict[str, set[str]] = {
    # Classes carry Pygments' token styles, admonition kinds, grid cards and `md-*` styling; ids are the
    # headings' anchors and the lookup box's label target. Neither runs anything.
    "*": {"class"},
    "a": {"href", "title"},
    "abbr": {"title"},
    "details": {"open"},
    "ol": {"start"},
    "th": {"align", "colspan", "rowspan", "style"},
    "td": {"align", "colspan", "rowspan", "style"},
    "col": {"span"},
    "p": {"data-search-exclude"},
    "form": {"data-kb-lookup", "role"},
    "label": {"for"},
    "input": {"id", "name", "autocomplete", "spellcheck", "placeholder", "type"},
    "button": {"type"},
    "output": {"aria-live"},
    **{heading: {"id"} for heading in _HEADINGS},
}


# Built once: every page of the site goes through it.
_CLEANER = nh3.Cleaner(
    tags=set(TAGS),
    attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    link_rel=None,
    strip_comments=True,
    filter_style_properties={"text-align"},  # the tables extension aligns columns so
)


def clean_html(fragment: str) -> str:
    """`fragment` with every tag, attribute and URL scheme not in the allowlists above removed."""
    return _CLEANER.clean(fragment)


def escaped_text(value: str) -> str:
    """Plain text escaped once for HTML, quotes included, as a plain string (for a file: `kb pages`)."""
    return html.escape(value, quote=True)


def html_text(value: str) -> str:
    """Plain text for a template that prints it unescaped (`{{ config.site_name }}`), escaped once.

    mkdocs-material prints the site name and section titles raw in some places and through `| e` in others;
    a `Markup` string is escaped here and left alone by `| e`, so both show the text exactly.
    """
    return Markup(escaped_text(value))


def html_titles(nav: list[object], title: Callable[[str], str] = html_text) -> list[object]:
    """A MkDocs `nav` with every section title made `title(...)`, `html_text` unless given (page paths are
    left as they are)."""

    def convert(item: object) -> object:
        if isinstance(item, dict):
            return {title(str(key)): convert(value) for key, value in item.items()}
        if isinstance(item, list):
            return [convert(child) for child in item]
        return item

    return [convert(item) for item in nav]
