"""Errors the library raises; only the CLI and the MkDocs plugin turn them into messages for people."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class KbError(Exception):
    """Root of every error this project raises on purpose."""


class Problem(NamedTuple):
    """One thing wrong with the content, with where it is."""

    path: str
    """File, relative to the project root when possible, with forward slashes."""
    line: int
    """1-based."""
    column: int
    """1-based."""
    field: str
    """Dotted path of the offending key (`codes[1].name`), or `(file)` for the file as a whole."""
    message: str
    severity: str = "error"
    """`error` or `warning`."""

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.path}:{self.line}:{self.column}: {self.field}: {prefix}{self.message}"


class ValidationFailed(KbError):
    """The content has errors (or warnings, in strict mode)."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems)
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the content")

    def report(self) -> str:
        """Every problem on its own line, sorted by file, line and column."""
        return "\n".join(str(p) for p in self.problems)


class RenderError(KbError):
    """An entry could not be turned into a page or PDF section; names the entry's file."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class BuildError(KbError):
    """A build stage failed; the previous outputs are left as they were."""
