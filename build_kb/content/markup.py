"""What a content field may hold: the checks that keep scripts and page structure out of the Markdown.

Content comes from pull requests by many people, so every field that reaches a page is treated as hostile.
The site renders prose with Python-Markdown and `attr_list`, which would turn `{: onerror=... }` into an
attribute and `[x](javascript:...)` into a live link; these checks refuse both, each as a located problem.
Prose is parsed with markdown-it (CommonMark) to find links, images, autolinks and reference definitions;
link validation and normalisation are switched off so that every destination is seen exactly as a browser
would receive it. The site sanitises its HTML as well (`build_kb.site.sanitize`): this is the first line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

from build_kb.content.load import Document, FieldPath, values_at
from build_kb.core.errors import Problem

LINK_SCHEMES = frozenset({"http", "https", "mailto"})
"""Schemes a link in prose may use; relative links (our own pages) have none."""
RESERVED_NAMES = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))}
)
"""Names Windows cannot give a file or folder, whatever the extension (`con.html`, `nul.yaml`): an id that
becomes a file or folder name must not be one, or the offline zip cannot be extracted there."""

ENTRY_PROSE: tuple[FieldPath, ...] = (
    ("summary",),
    ("causes", "*"),
    ("actions", "*", "step"),
    ("codes", "*", "note"),
    ("escalation", "note"),
    ("escalation", "collect", "*"),
    ("corrections", "*", "why"),
    ("related_codes", "*", "reason"),
)
"""Entry fields rendered as Markdown (`md.prose`)."""
ENTRY_TITLES: tuple[FieldPath, ...] = (("title",), ("escalation", "contact"))
"""Entry fields rendered as one line of plain text."""
TAXONOMY_PROSE: tuple[FieldPath, ...] = (
    ("description",),
    ("phases", "*", "summary"),
    ("phases", "*", "methods", "*", "summary"),
)
TAXONOMY_TITLES: tuple[FieldPath, ...] = (
    ("title",),
    ("phases_heading",),
    ("phases", "*", "title"),
    ("phases", "*", "short_title"),
    ("phases", "*", "methods", "*", "title"),
    ("products", "*", "name"),
    ("vocabularies", "where", "*", "label"),
    ("vocabularies", "log", "*", "label"),
    ("vocabularies", "shell", "*", "label"),
)
REFERENCES_TITLES: tuple[FieldPath, ...] = (("references", "*", "title"),)

_ATTRIBUTE_LIST = re.compile(r"\{:?[ ]*[^}\n ][^}\n]*[ ]*\}")
"""The syntax Python-Markdown's attr_list reads (its own expression): `{: .x }`, `{#id .class key=value}`."""
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters, and the invisible direction overrides that make text read differently than it is."""
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_BLOCK_MARKERS = ("!!!", "???")
"""Admonition and collapsible-block markers of Python-Markdown's extensions, unknown to CommonMark."""
_TOC_MARKER = "[TOC]"
RAW_HTML = "raw HTML is not allowed; write Markdown, and put <placeholders> in `backticks`"
"""Raw HTML in any prose field: refused; prose is Markdown only."""
_NO_IMAGES = (
    "images are not allowed in prose: the site publishes no files from the content folder, and an outside "
    "image would load from the network"
)
_HIDDEN = "\x00"
"""Stands for code and escaped characters in the text searched for attribute lists."""


class _EveryLink(MarkdownIt):
    """CommonMark that keeps every link as written: markdown-it drops `javascript:` links by default."""

    def validateLink(self, url: str) -> bool:
        return True

    def normalizeLink(self, url: str) -> str:
        return url

    def normalizeLinkText(self, link: str) -> str:
        return link


# text_join would merge escaped characters (`\{`) into the text; kept apart, they are not syntax.
_parser = _EveryLink("commonmark").disable("text_join")


def _shown(value: str, limit: int = 60) -> str:
    text = value if len(value) <= limit else value[: limit - 1] + "…"
    return repr(text) if not text.isprintable() else f"'{text}'"


def link_problem(url: str) -> str | None:
    """Why a link destination in prose is refused, or None: http, https, mailto and relative links only.

    The scheme is read as a browser reads it: with tabs, line breaks and other control characters removed
    and in any case (`JaVa\\tScript:` is `javascript:`).
    """
    cleaned = "".join(char for char in url if char > " " and char != "\x7f")
    found = _SCHEME.match(cleaned)
    if found:
        scheme = found.group(1).lower()
        if scheme not in LINK_SCHEMES:
            return f"a {scheme}: address is not allowed; link with http, https or mailto, or to a page here"
        return None
    if cleaned[:2].replace("\\", "/") == "//":
        return "an address starting with // leaves the site; write it out with https://"
    return None


def url_problem(url: str, schemes: Iterable[str] = ("http", "https")) -> str | None:
    """Why an address given in a `url` field is refused, or None (the schema checks its characters)."""
    if not url.isascii() or not url.isprintable():
        return "write the address in ASCII: percent-encode other characters, the host in its xn-- form"
    parts = urlsplit(url)
    allowed = tuple(schemes)
    if parts.scheme.lower() not in allowed:
        return f"the address must start with {' or '.join(f'{s}://' for s in allowed)}"
    if not parts.hostname:
        return "the address has no host"
    if "@" in parts.netloc:
        return "an address with a user name (user@host) is not allowed: it hides the real host"
    return None


def attribute_list(text: str) -> str | None:
    """The first attribute list in `text` that sets something (`{: .x }`, `{#id}`, `{key=value}`), or None.

    attr_list reads any `{word}` too, as an attribute without a value, which sets nothing that runs; braces
    around a GUID (`{4D36E972-E325-11CE-BFC1-08002BE10318}`) are text.
    """
    for found in _ATTRIBUTE_LIST.finditer(text):
        inner = found.group()[1:-1].lstrip(": ")
        if inner.startswith(("#", ".")) or "=" in inner or found.group().startswith("{:"):
            return found.group()
    return None


def _raw_html(text: str, tokens: list[Token] | None = None) -> bool:
    for token in _parser.parse(text) if tokens is None else tokens:
        if token.type == "html_block" or any(c.type == "html_inline" for c in token.children or ()):
            return True
    return False


def _inline_text(children: Iterable[Token]) -> str:
    """The text of an inline run as attr_list sees it: code spans and escaped characters hidden."""
    parts = []
    for token in children:
        if token.type == "text":
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif token.type in ("code_inline", "text_special"):
            parts.append(_HIDDEN)
        elif token.type == "image":
            parts.append(_HIDDEN + _inline_text(token.children or ()) + _HIDDEN)
        else:
            parts.append(_HIDDEN)
    return "".join(parts)


def _walk_inline(children: Iterable[Token]) -> Iterator[Token]:
    for token in children:
        yield token
        if token.children:
            yield from _walk_inline(token.children)


def prose_problems(text: str) -> list[str]:
    """Every reason the Markdown `text` of a prose field is refused."""
    found: list[str] = []
    refused: set[str] = set()
    env: dict[str, Any] = {}
    tokens = _parser.parse(text, env)
    commonmark_html = _raw_html(text, tokens)
    if commonmark_html:
        found.append(RAW_HTML)
    for token in tokens:
        if token.type == "heading_open":
            found.append("headings are not allowed in prose: the page has its own")
        elif token.type == "hr":
            found.append("a --- (or ***) line is not allowed in prose: it draws a rule across the page")
        if token.type != "inline":
            continue
        for line in token.content.splitlines():
            if line.lstrip().startswith(_BLOCK_MARKERS):
                marker = line.lstrip()[:3]
                found.append(f"a line starting with {marker} makes a box on the site; write it as a sentence")
        children = token.children or []
        if _TOC_MARKER in "".join(c.content for c in children if c.type == "text"):
            found.append("[TOC] is not allowed in prose: it inserts a table of contents")
        attribute = attribute_list(_inline_text(children))
        if attribute:
            found.append(
                f"attribute lists such as {_shown(attribute.replace(_HIDDEN, ''))} are not allowed; "
                "put literal braces in `backticks` or escape them as \\{"
            )
        for child in _walk_inline(children):
            if child.type == "image":
                found.append(_NO_IMAGES)
            elif child.type == "link_open":
                href = str(child.attrs.get("href", ""))
                reason = link_problem(href)
                if reason:
                    found.append(f"link {_shown(href)}: {reason}")
                    refused.add(href)
    # Definitions no link uses are refused too: Python-Markdown may read a link where CommonMark reads none.
    for label, definition in env.get("references", {}).items():
        href = str(definition.get("href", ""))
        reason = link_problem(href)
        if reason and href not in refused:
            found.append(f"link definition [{label.lower()}]: {_shown(href)}: {reason}")
    if "]" in text or "<" in text:  # a link or HTML is possible: ask the renderer, which parses differently
        addresses, stashed_html = _rendered(text)
        if stashed_html and not commonmark_html:  # else reported above
            found.append(RAW_HTML)
        for tag, _attribute, value in addresses:
            reason = link_problem(value)
            if tag == "img":
                found.append(_NO_IMAGES)
            elif reason and value not in refused:
                found.append(f"link {_shown(value)} (as the site reads it): {reason}")
                refused.add(value)
    if _CONTROL.search(text):
        found.append(_control_message(text))
    return list(dict.fromkeys(found))


class _Addresses(HTMLParser):
    """The href and src attributes of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [(tag, name, value or "") for name, value in attrs if name in ("href", "src")]


@functools.cache
def _site_markdown() -> Any:
    import markdown  # Python-Markdown, which the site renders with (a dependency of MkDocs)

    return markdown.Markdown(extensions=["attr_list", "tables"])


def _rendered(text: str) -> tuple[list[tuple[str, str, str]], bool]:
    """(tag, attribute, address) of every link and image Python-Markdown makes of `text`, and whether it
    passes any raw HTML through.

    CommonMark and Python-Markdown disagree at the edges: `[x](javascript:alert(1)//' a')` is no link to
    markdown-it (a space in the destination) but is one to Python-Markdown, with `' a'` as its title. The
    site renders with Python-Markdown, so its reading is checked too.
    """
    converter = _site_markdown()
    converter.reset()
    parser = _Addresses()
    parser.feed(str(converter.convert(text)))
    parser.close()
    stashed = any(str(block).lstrip().startswith("<") for block in converter.htmlStash.rawHtmlBlocks)
    return parser.found, stashed


def _control_message(text: str) -> str:
    found = _CONTROL.search(text)
    assert found is not None
    return f"control character U+{ord(found.group()):04X} is not allowed; remove it"


def title_problems(text: str) -> list[str]:
    """Every reason a one-line plain-text field (a title, a label, a name) is refused."""
    found = []
    if "\n" in text or "\r" in text or "\u2028" in text or "\u2029" in text:
        found.append("must be one line: remove the line break")
    elif _CONTROL.search(text):
        found.append(_control_message(text))
    attribute = attribute_list(text)
    if attribute:
        found.append(f"attribute lists such as {_shown(attribute)} are not allowed in a title")
    return found


def field_problems(
    doc: Document, prose: Iterable[FieldPath] = (), titles: Iterable[FieldPath] = ()
) -> list[Problem]:
    """The prose and title checks of `doc`'s fields, each problem at its field."""
    problems = []
    for pattern in prose:
        for where, value in values_at(doc.data, pattern):
            if isinstance(value, str):
                problems += [doc.problem(where, message) for message in prose_problems(value)]
    for pattern in titles:
        for where, value in values_at(doc.data, pattern):
            if isinstance(value, str):
                problems += [doc.problem(where, message) for message in title_problems(value)]
    return problems


def reserved_name_problems(doc: Document, fields: Iterable[FieldPath]) -> list[Problem]:
    """Ids that become file or folder names but are names Windows reserves (`con`, `nul`, `com1`, ...)."""
    problems = []
    for pattern in fields:
        for where, value in values_at(doc.data, pattern):
            if isinstance(value, str) and value.lower() in RESERVED_NAMES:
                message = (
                    f"'{value}' is a name Windows reserves for a device: its page could not be saved or "
                    "unzipped there; choose another id"
                )
                problems.append(doc.problem(where, message))
    return problems


def url_problems(doc: Document, fields: Iterable[FieldPath], schemes: Iterable[str]) -> list[Problem]:
    """The `url_problem` check of every address at `fields`."""
    allowed = tuple(schemes)
    problems = []
    for pattern in fields:
        for where, value in values_at(doc.data, pattern):
            reason = url_problem(value, allowed) if isinstance(value, str) else None
            if reason:
                problems.append(doc.problem(where, reason))
    return problems


def hostile_content_problems(
    taxonomy: Document | None, references: Document | None, entries: Iterable[Document]
) -> list[Problem]:
    """Every check of this module over a content set's documents (those that passed their schema)."""
    problems: list[Problem] = []
    if taxonomy is not None:
        problems += field_problems(taxonomy, TAXONOMY_PROSE, TAXONOMY_TITLES)
        problems += reserved_name_problems(
            taxonomy, (("phases", "*", "id"), ("phases", "*", "methods", "*", "id"))
        )
    if references is not None:
        problems += field_problems(references, (), REFERENCES_TITLES)
        problems += url_problems(references, (("references", "*", "url"),), ("https",))
    for doc in entries:
        problems += field_problems(doc, ENTRY_PROSE, ENTRY_TITLES)
        problems += reserved_name_problems(doc, (("id",),))
        problems += url_problems(doc, (("source", "url"),), ("http", "https"))
    return problems
