"""Errors of the search package."""

from __future__ import annotations

from build_kb.core.errors import KbError


class IndexUnavailable(KbError):
    """The search index is missing, corrupt or stale and could not be rebuilt."""
