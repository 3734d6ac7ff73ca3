"""Positions inside YAML values: the line and column of a word or a link in a prose field, not only of the
field's first character, so that an editor jumps straight to it."""

from __future__ import annotations

import bisect
from pathlib import Path

from build_kb.content.load import Document, FieldPath, format_field
from build_kb.core.errors import Problem


class SourceText:
    """The text of one YAML file, read when a position inside a value is first asked for."""

    def __init__(self, doc: Document, path: Path) -> None:
        self.doc = doc
        self.path = path
        self._text: str | None = None
        self._starts: list[int] = []
        self._bounds: list[tuple[int, int]] = []

    def _load(self) -> str:
        if self._text is None:
            try:
                self._text = self.path.read_bytes().decode("utf-8-sig", "replace")
            except OSError:
                self._text = ""
            self._starts = [0]
            for index, char in enumerate(self._text):
                if char == "\n":
                    self._starts.append(index + 1)
            self._bounds = sorted({*self.doc.positions.values(), *self.doc.key_positions.values()})
        return self._text

    def _offset(self, position: tuple[int, int]) -> int:
        line, column = position
        return self._starts[min(line, len(self._starts)) - 1] + column - 1

    def _position(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self._starts, offset) - 1
        return index + 1, offset - self._starts[index] + 1

    def find(self, path: FieldPath, needles: tuple[str, ...], after: int = 0) -> tuple[tuple[int, int], int]:
        """Where the first of `needles` is found inside the value at `path`, at or after the offset `after`.

        The value ends where the next key or value of the file starts. Returns the 1-based (line, column) and
        the offset just past what was found (to look for the next one from); the value's own position when
        none is found there (a quoted value with escapes, say).
        """
        start_position = self.doc.where(path)
        text = self._load()
        if not text:
            return start_position, after
        start = max(self._offset(start_position), after)
        later = bisect.bisect_right(self._bounds, start_position)
        end = self._offset(self._bounds[later]) if later < len(self._bounds) else len(text)
        for needle in needles:
            if not needle:
                continue
            found = text.find(needle, start, max(end, start))
            if found >= 0:
                return self._position(found), found + len(needle)
        return start_position, after

    def problem(
        self,
        path: FieldPath,
        message: str,
        needles: tuple[str, ...] = (),
        *,
        severity: str = "error",
        after: int = 0,
    ) -> tuple[Problem, int]:
        """A problem at the first of `needles` inside the value at `path`, and the offset past it."""
        (line, column), past = self.find(path, needles, after) if needles else (self.doc.where(path), after)
        return Problem(self.doc.path, line, column, format_field(path), message, severity), past
