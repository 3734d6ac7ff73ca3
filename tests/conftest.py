"""Shared fixtures: a content folder on disk, goldens, and the real content loaded once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CONTENT, make_entry, write_content

pytest_plugins = ["tests.browser_fixtures"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens", action="store_true", help="Rewrite golden files from the current output."
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture
def content_factory(tmp_path: Path) -> Callable[..., Path]:
    """Writes a content folder with the given entries (default: one valid entry) and returns its path."""

    def factory(*entries: dict[str, Any], name: str = "content") -> Path:
        return write_content(tmp_path / name, list(entries) or [make_entry()])

    return factory


@pytest.fixture(scope="session")
def real_kb() -> Any:
    """The project's own content, validated."""
    from build_kb.content.validate import load_knowledge_base

    return load_knowledge_base(CONTENT)
