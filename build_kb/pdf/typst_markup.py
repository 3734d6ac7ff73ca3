"""Markdown prose and Python data as Typst values, so no content string is ever parsed as Typst markup.

The runbook template receives every text as a Typst `str` and shows it as text: `#set`, `$math$`, `= heading`,
`<label>` or `C:\\Windows` in the content stay exactly what they are. Only the Markdown structure (paragraphs,
lists, emphasis, code, links) is mapped, from markdown-it-py tokens to small node dictionaries the template
lays out:

- blocks: `{"k": "par", "c": inlines}`, `{"k": "list", "items": [blocks], "tight": bool}`,
  `{"k": "enum", "start": n, "items": [blocks], "tight": bool}`, `{"k": "codeblock", "text": s}`,
  `{"k": "quote", "c": blocks}`, `{"k": "rule"}`;
- inlines: a plain `str`, `{"k": "em" | "strong" | "strike", "c": inlines}`, `{"k": "code", "text": s}`,
  `{"k": "link", "url": s, "c": inlines}`, `{"k": "br"}`.

Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

Inline = str | dict[str, Any]
"""An inline node: plain text as a `str`, or a dictionary."""
Block = dict[str, Any]
"""A block node."""

# Raw HTML off: a stray `<script>` or `<Activation ID>` arrives as text, never as an HTML token.
_PARSER = MarkdownIt("commonmark", {"html": False})
_CONTAINERS = {"em_open": "em", "strong_open": "strong", "s_open": "strike", "link_open": "link"}
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')


def markdown_nodes(text: str) -> list[Block]:
    """Markdown as a list of block nodes (see the module docstring).

    Arguments:
        text: Author Markdown (CommonMark; raw HTML is shown as text).

    Returns:
        Block nodes; an empty list for blank text.
    """
    tokens = _PARSER.parse(text)
    blocks, _ = _blocks(tokens, 0, None)
    return blocks


def inline_nodes(text: str) -> list[Inline]:
    """Markdown as inline nodes only, for one-line places (a table cell, a link label); blocks are joined."""
    found: list[Inline] = []
    for block in markdown_nodes(text):
        if found:
            found.append(" ")
        found.extend(_flatten(block))
    return _merge_text(found)


def plain_text(nodes: Sequence[Inline]) -> str:
    """The text of nodes without any markup (for PDF bookmarks and tests)."""
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            parts.append(node)
        elif "text" in node:
            parts.append(node["text"])
        elif "c" in node:
            parts.append(plain_text(node["c"]))
        elif "items" in node:
            parts.append(" ".join(plain_text(item) for item in node["items"]))
    return "".join(parts)


def _flatten(block: Block) -> list[Inline]:
    kind = block["k"]
    if kind == "par":
        return list(block["c"])
    if kind == "codeblock":
        return [{"k": "code", "text": block["text"]}]
    if kind == "quote":
        return [node for child in block["c"] for node in _flatten(child)]
    if kind in {"list", "enum"}:
        found: list[Inline] = []
        for item in block["items"]:
            found.extend(["; "] if found else [])
            found.extend(node for child in item for node in _flatten(child))
        return found
    return []


def _blocks(tokens: Sequence[Token], start: int, closing: str | None) -> tuple[list[Block], int]:
    """Block nodes from `tokens[start:]` up to the token of type `closing`; returns them and the next index."""
    blocks: list[Block] = []
    index = start
    while index < len(tokens):
        token = tokens[index]
        if token.type == closing:
            return blocks, index + 1
        if token.type in {"paragraph_open", "heading_open"}:
            inline = tokens[index + 1]
            children = _inlines(inline.children or [])
            # Author prose has no place for headings; keep the words, as a bold paragraph.
            if token.type == "heading_open":
                children = [{"k": "strong", "c": children}]
            blocks.append({"k": "par", "c": children})
            index += 3
        elif token.type in {"bullet_list_open", "ordered_list_open"}:
            list_node, index = _list(tokens, index)
            blocks.append(list_node)
        elif token.type == "blockquote_open":
            inner, index = _blocks(tokens, index + 1, "blockquote_close")
            blocks.append({"k": "quote", "c": inner})
        elif token.type in {"code_block", "fence"}:
            blocks.append({"k": "codeblock", "text": token.content.removesuffix("\n")})
            index += 1
        elif token.type == "hr":
            blocks.append({"k": "rule"})
            index += 1
        else:  # html_block cannot occur with HTML off; anything else unknown is skipped, never lost silently
            if token.content:
                blocks.append({"k": "par", "c": [token.content]})
            index += 1
    return blocks, index


def _list(tokens: Sequence[Token], index: int) -> tuple[Block, int]:
    opening = tokens[index]
    ordered = opening.type == "ordered_list_open"
    close = "ordered_list_close" if ordered else "bullet_list_close"
    items: list[list[Block]] = []
    tight = True
    index += 1
    while tokens[index].type != close:
        # list_item_open: its paragraphs are hidden when the list is tight
        following = tokens[index + 1]
        tight = tight and not (following.type == "paragraph_open" and not following.hidden)
        item, index = _blocks(tokens, index + 1, "list_item_close")
        items.append(item)
    node: Block = {"k": "enum" if ordered else "list", "items": items, "tight": tight}
    if ordered:
        start = opening.attrs.get("start", 1)
        node["start"] = int(start) if isinstance(start, int | str) and str(start).isdigit() else 1
    return node, index + 1


def _inlines(children: Sequence[Token]) -> list[Inline]:
    stack: list[tuple[dict[str, Any], list[Inline]]] = []
    current: list[Inline] = []
    for token in children:
        kind = token.type
        if kind in _CONTAINERS:
            node: dict[str, Any] = {"k": _CONTAINERS[kind]}
            if kind == "link_open":
                node["url"] = str(token.attrs.get("href", ""))
            stack.append((node, current))
            current = []
        elif kind.endswith("_close") and stack:
            node, parent = stack.pop()
            node["c"] = _merge_text(current)
            parent.append(node)
            current = parent
        elif kind == "code_inline":
            current.append({"k": "code", "text": token.content})
        elif kind == "softbreak":
            current.append(" ")
        elif kind == "hardbreak":
            current.append({"k": "br"})
        elif kind == "image":
            current.extend(_inlines(token.children or []))
        else:  # text, and anything else carrying words
            current.append(token.content)
    while stack:  # unbalanced input cannot come from markdown-it, but never drop words
        node, parent = stack.pop()
        parent.extend(current)
        current = parent
    return _merge_text(current)


def _merge_text(nodes: Sequence[Inline]) -> list[Inline]:
    """Adjacent strings joined, empty strings dropped: fewer, larger text runs for Typst."""
    merged: list[Inline] = []
    for node in nodes:
        if isinstance(node, str):
            if not node:
                continue
            if merged and isinstance(merged[-1], str):
                merged[-1] += node
                continue
        merged.append(node)
    return merged


def typst_string(value: str) -> str:
    """A Typst string literal holding exactly `value`."""
    escaped = _NEEDS_ESCAPE.sub(lambda m: _ESCAPES.get(m.group(), f"\\u{{{ord(m.group()):x}}}"), value)
    return f'"{escaped}"'


def typst_value(value: Any, indent: str = "") -> str:
    """Python data (str, int, bool, None, lists, string-keyed mappings) as a Typst literal.

    Containers holding other containers are written one item per line, so a golden copy diffs well.

    Raises:
        TypeError: for any other type (floats included: the runbook has no use for them).
    """
    if isinstance(value, str):
        return typst_string(value)
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Mapping):
        if not value:
            return "(:)"
        pairs = [f"{typst_string(str(k))}: {typst_value(v, indent + '  ')}" for k, v in value.items()]
        return _container(pairs, list(value.values()), indent, array=False)
    if isinstance(value, list | tuple):
        if not value:
            return "()"
        items = [typst_value(v, indent + "  ") for v in value]
        return _container(items, list(value), indent, array=True)
    raise TypeError(f"cannot write {type(value).__name__} as a Typst value")


def _container(items: list[str], values: list[Any], indent: str, *, array: bool) -> str:
    if any(isinstance(v, Mapping | list | tuple) and v for v in values):
        inner = indent + "  "
        return "(\n" + "".join(f"{inner}{item},\n" for item in items) + f"{indent})"
    # A one-item array needs its trailing comma, or the parentheses are mere grouping.
    return "(" + ", ".join(items) + ("," if array and len(items) == 1 else "") + ")"
