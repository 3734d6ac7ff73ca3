"""Small helpers for writing Markdown safely: plain text that must not turn into markup or HTML."""

from __future__ import annotations

import re

# Only characters Python-Markdown (with the tables extension) lets a backslash escape: escaping any other
# character would print the backslash.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+!|])")
_LEADING_MARKERS = re.compile(r"^(\s*)(?:(-)|(=)|(\d+)\.)", re.MULTILINE)


def _unmark(match: re.Match[str]) -> str:
    space, dash, equals, number = match.groups()
    if dash:
        return f"{space}\\-"
    if equals:  # a setext underline; "=" has no backslash escape
        return f"{space}&#61;"
    return f"{space}{number}\\."


def text(value: str) -> str:
    """Plain text as Markdown that shows exactly `value`: no emphasis, links, headings, lists or raw HTML."""
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _MARKDOWN_SPECIALS.sub(r"\\\1", escaped)
    return _LEADING_MARKERS.sub(_unmark, escaped)


def code_span(value: str) -> str:
    """Inline code showing `value` verbatim, whatever backticks it holds."""
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def code_block(value: str, language: str = "text", indent: str = "") -> str:
    """A fenced code block showing `value` verbatim (copyable on the site)."""
    longest = max((len(run) for run in re.findall(r"`{3,}", value)), default=2)
    fence = "`" * (longest + 1)
    lines = [f"{fence}{language}", *value.splitlines(), fence]
    return "\n".join(indent + line if line else line for line in lines)


def prose(value: str) -> str:
    """Author Markdown, with any stray angle bracket or ampersand shown as text rather than read as HTML.

    Validation already refuses raw HTML, attribute lists and page structure; this is the second line of
    defence for the website, which renders with Python-Markdown (it passes HTML through, and its extensions
    read `{: ...}`, `!!!`, `???` and `[TOC]`). Those are escaped, and so are the headings and rules that
    would break the page's outline; lists, emphasis, links and code stay Markdown. Code spans are left
    alone: Markdown escapes them itself.
    """
    parts = re.split(r"(`+[^`]*?`+)", value)
    return "".join(part if index % 2 else _inert(part) for index, part in enumerate(parts))


_BLOCK_MARKUP = re.compile(
    r"^((?:[ \t]*(?:[-*+]|\d+\.)[ \t]+)*[ \t]*)(#|!!!|\?\?\?|(?:[-*_][ \t]*){3,}$|=+[ \t]*$)", re.MULTILINE
)
"""Lines (or list items) Python-Markdown would read as a heading, an admonition, a collapsible block, a rule
or a setext underline."""


def _unblock(match: re.Match[str]) -> str:
    space, marker = match.groups()
    first = marker[0]
    # `?` and `=` have no backslash escape in Python-Markdown; a character reference shows them as well.
    escaped = {"?": "&#63;", "=": "&#61;"}.get(first, "\\" + first)
    return f"{space}{escaped}{marker[1:]}"


def _inert(text: str) -> str:
    """Prose outside code spans: HTML characters as text, extension syntax and page structure escaped."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A brace after an odd run of backslashes is escaped already; after an even one (none) it is not.
    text = _BRACE.sub(lambda found: found.group() if len(found.group(1)) % 2 else "\\" + found.group(), text)
    text = text.replace("[TOC]", "\\[TOC\\]")
    return _BLOCK_MARKUP.sub(_unblock, text)


_BRACE = re.compile(r"(\\*)\{")


def indent(value: str, prefix: str = "    ") -> str:
    """Indent every non-empty line (for content nested under a list item or an admonition)."""
    return "\n".join(prefix + line if line.strip() else "" for line in value.splitlines())


def anchor(value: str) -> str:
    """A stable HTML id for a heading or tag."""
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "x"
