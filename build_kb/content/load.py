"""Read YAML files safely, keeping the source position of every key and value.

PyYAML alone loses positions, keeps the last of two duplicate keys without a word and expands aliases
without limit; this module reports each of those as a `Problem` instead.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from build_kb.core.errors import Problem

MAX_FILE_BYTES = 256 * 1024
"""Entries are a few kilobytes; anything this large is a mistake or an attack."""

FieldPath = tuple[str | int, ...]


def format_field(path: FieldPath) -> str:
    """`("codes", 1, "name")` -> `codes[1].name`; the empty path is the whole document."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(document)"


@dataclass
class Document:
    """A parsed YAML file: its data and where each part of it came from."""

    path: str
    """As shown in messages."""
    data: Any
    positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    """1-based (line, column) of each value, by field path."""
    key_positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    """1-based (line, column) of each mapping key, by the field path it names."""

    def where(self, path: FieldPath, *, key: bool = False) -> tuple[int, int]:
        """The position of `path`, or of its nearest parent that has one."""
        table = self.key_positions if key else self.positions
        for cut in range(len(path), -1, -1):
            found = table.get(path[:cut]) or self.positions.get(path[:cut])
            if found:
                return found
        return (1, 1)

    def problem(
        self, path: FieldPath, message: str, *, key: bool = False, severity: str = "error"
    ) -> Problem:
        """A problem located at `path` in this document."""
        line, column = self.where(path, key=key)
        return Problem(self.path, line, column, format_field(path), message, severity)


class _NoAliasLoader(yaml.SafeLoader):
    """A SafeLoader that records aliases as problems instead of expanding them, and keeps dates as text."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_marks: list[yaml.Mark] = []

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(AliasEvent):
            event = self.get_event()  # type: ignore[no-untyped-call]
            self.alias_marks.append(event.start_mark)
            return ScalarNode("tag:yaml.org,2002:null", "", event.start_mark, event.end_mark)
        return super().compose_node(parent, index)


# YAML 1.1 reads `reviewed: 2025-01-31` as a date and `2025-02-30` as an error without a position; editors
# (YAML 1.2) read both as text. Text it is, here too: the schema checks the form, validation the calendar.
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def _date_as_text(loader: Any, node: Node) -> Any:
    return loader.construct_yaml_str(node)


_NoAliasLoader.add_constructor(_TIMESTAMP, _date_as_text)
_FAST_LOADER: Any = None
if yaml.__with_libyaml__:

    class _FastLoader(yaml.CSafeLoader):
        """libyaml's loader, keeping dates as text."""

    _FastLoader.add_constructor(_TIMESTAMP, _date_as_text)
    _FAST_LOADER = _FastLoader


def _position(mark: yaml.Mark) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


def _decode(raw: bytes, shown: str) -> tuple[str | None, list[Problem]]:
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        message = f"not valid UTF-8 (byte 0x{raw[exc.start]:02X}); save the file as UTF-8"
        return None, [Problem(shown, line, column, "(file)", message)]


_NOT_YAML = re.compile(r"[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters a YAML file may not hold (YAML 1.1's printable set, as PyYAML and libyaml check it)."""
_CONTROL_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "BS", 0x0B: "VT", 0x0C: "FF", 0x1B: "ESC", 0x7F: "DEL"}


def _character_problems(text: str, shown: str) -> list[Problem]:
    """The first character YAML refuses (NUL, ESC, other control characters), located, with how many."""
    found = _NOT_YAML.search(text)
    if found is None:
        return []
    position = found.start()
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    code = ord(found.group())
    name = _CONTROL_NAMES.get(code, "control character")
    count = len(_NOT_YAML.findall(text))
    more = f" ({count} in this file)" if count > 1 else ""
    message = (
        f"{name} (U+{code:04X}) is not allowed in a YAML file{more}; remove it, or write it as an escape "
        "such as \\x1b in a double-quoted string"
    )
    return [Problem(shown, line, column, "(file)", message)]


LINK_REFUSED = (
    "symbolic links are not allowed in the content folder: copy the file or folder in "
    "(a link is never followed, read or published)"
)


def read_regular(path: Path, limit: int = MAX_FILE_BYTES) -> tuple[bytes | None, str]:
    """The bytes of the regular file `path`, or None and why not: a link, not a regular file, too large.

    The file is opened without following a link where the system can (O_NOFOLLOW) and without blocking
    (a pipe would wait forever), then checked on the open descriptor, so that nothing swapped in between
    the check and the read is read.
    """
    flags = (
        os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    )
    try:
        if path.is_symlink():
            return None, LINK_REFUSED
        descriptor = os.open(path, flags)
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            return None, "not a regular file"
        if info.st_size > limit:
            return None, f"file is {info.st_size:,} bytes; the limit is {limit:,}"
        chunks = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(descriptor, min(remaining, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        raw = b"".join(chunks)
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    finally:
        os.close(descriptor)
    if len(raw) > limit:
        return None, f"file is over {limit:,} bytes; the limit is {limit:,}"
    return raw, ""


def _tab_problems(text: str, shown: str) -> list[Problem]:
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            problems.append(
                Problem(
                    shown, number, indent.index("\t") + 1, "(file)", "tab in indentation; indent with spaces"
                )
            )
    return problems


def _walk(node: Node, path: FieldPath, doc: Document, problems: list[Problem]) -> None:
    doc.positions.setdefault(path, _position(node.start_mark))
    if isinstance(node, MappingNode):
        seen: dict[object, tuple[int, int]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                problems.append(
                    Problem(
                        doc.path,
                        *_position(key_node.start_mark),
                        format_field(path),
                        "keys must be plain text",
                    )
                )
                continue
            key = key_node.value
            child = (*path, key)
            if key in seen:
                first = seen[key]
                problems.append(
                    Problem(
                        doc.path,
                        *_position(key_node.start_mark),
                        format_field(child),
                        f"duplicate key '{key}' (first defined at line {first[0]}); YAML would keep only the last",
                    )
                )
                continue
            seen[key] = _position(key_node.start_mark)
            doc.key_positions[child] = seen[key]
            _walk(value_node, child, doc, problems)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), doc, problems)


class _SharedNode(Exception):
    """A node met twice while walking: the document uses an alias."""


def _unshared(node: Node) -> None:
    """Raise `_SharedNode` if any node of the tree appears twice (libyaml's composer resolves aliases so)."""
    seen: set[int] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            raise _SharedNode
        seen.add(id(current))
        if isinstance(current, MappingNode):
            for key_node, value_node in current.value:
                pending += (key_node, value_node)
        elif isinstance(current, SequenceNode):
            pending += current.value


def _parse_fast(text: str, shown: str) -> Document | None:
    """Parse with libyaml when the document is well formed and has no aliases; None to take the slow path.

    libyaml parses about five times faster than PyYAML's Python parser, but it resolves aliases itself and
    words its errors differently; every document it cannot handle cleanly goes through `_parse_exact`,
    whose messages and positions are the ones users see.
    """
    if _FAST_LOADER is None:
        return None
    loader = _FAST_LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _unshared(node)
        doc = Document(shown, None)
        problems: list[Problem] = []
        _walk(node, (), doc, problems)
        if problems:  # reported from the exact parser, so that every message comes from one place
            return None
        doc.data = loader.construct_document(node)
    except (_SharedNode, yaml.YAMLError, RecursionError, ValueError, OverflowError):
        return None
    finally:
        loader.dispose()
    return doc


def parse_yaml(text: str, shown: str) -> tuple[Document | None, list[Problem]]:
    """Parse YAML text into a `Document`, collecting every problem found.

    Arguments:
        text: The file's text.
        shown: The file name to put in messages.

    Returns:
        The document (None when it cannot be used) and the problems found.
    """
    problems = _tab_problems(text, shown) + _character_problems(text, shown)
    if problems:
        return None, problems
    doc = _parse_fast(text, shown)
    return (doc, []) if doc is not None else _parse_exact(text, shown)


def _parse_exact(text: str, shown: str) -> tuple[Document | None, list[Problem]]:
    """PyYAML's Python parser, with aliases intercepted before they are expanded."""
    problems: list[Problem] = []
    loader = _NoAliasLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, [Problem(shown, 1, 1, "(file)", "file is empty; expected a mapping of keys")]
        doc = Document(shown, None)
        _walk(node, (), doc, problems)
        if loader.alias_marks:
            count = len(loader.alias_marks)
            message = f"YAML aliases (*name) are not allowed; write the value out ({count} in this file)"
            problems.append(Problem(shown, *_position(loader.alias_marks[0]), "(file)", message))
        if problems:
            return None, problems
        doc.data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        # At the end of the file the problem mark says nothing; where the unclosed construct began does.
        at_end = "end of stream" in (exc.problem or "")
        found = (exc.context_mark if at_end else None) or exc.problem_mark or exc.context_mark
        line, column = _position(found) if found else (1, 1)
        reason = " ".join(filter(None, [exc.context, exc.problem])) or "invalid YAML"
        return None, [Problem(shown, line, column, "(file)", f"invalid YAML: {reason}")]
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError) as exc:
        return None, [Problem(shown, 1, 1, "(file)", f"invalid YAML: {exc}")]
    finally:
        loader.dispose()
    return doc, problems


def read_yaml(path: Path, shown: str) -> tuple[Document | None, list[Problem]]:
    """Read and parse a YAML file, refusing oversized and non-UTF-8 files with a located problem."""
    raw, refused = read_regular(path)
    if raw is None:
        return None, [Problem(shown, 1, 1, "(file)", refused)]
    text, problems = _decode(raw, shown)
    if text is None:
        return None, problems
    if not text.strip():
        return None, [Problem(shown, 1, 1, "(file)", "file is empty; expected a mapping of keys")]
    return parse_yaml(text, shown)


def values_at(data: Any, pattern: FieldPath, prefix: FieldPath = ()) -> Iterator[tuple[FieldPath, Any]]:
    """Values matching a field pattern where `*` stands for every list index."""
    if not pattern:
        yield prefix, data
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        for index, item in enumerate(data if isinstance(data, list) else []):
            yield from values_at(item, rest, (*prefix, index))
    elif isinstance(data, dict) and head in data:
        yield from values_at(data[head], rest, (*prefix, head))
