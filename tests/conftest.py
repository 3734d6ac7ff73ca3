"""Shared fixtures: a content folder on disk, goldens, and the fixture content sets loaded once.

Tests of the code run on the fixture sets under tests/data/sets (or on synthetic content); only
tests/test_shipped_content.py reads the shipped content/ folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.helpers import ACTIVATION, PRINTING, make_entry, write_content

pytest_plugins = ["tests.browser_fixtures"]


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Search caches and seal keys go to a folder of the test run, never to the user's own cache (the
    variable reaches the commands tests run in child processes too)."""
    folder = tmp_path_factory.mktemp("kb-cache")
    previous = os.environ.get("KB_CACHE_DIR")
    os.environ["KB_CACHE_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("KB_CACHE_DIR", None)
    else:
        os.environ["KB_CACHE_DIR"] = previous


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
def activation_kb() -> Any:
    """The activation fixture set, validated (strictly: it has no warnings either)."""
    from build_kb.content.validate import load_knowledge_base

    return load_knowledge_base(ACTIVATION, strict=True)


@pytest.fixture(scope="session")
def printing_kb() -> Any:
    """The printing fixture set, validated (strictly)."""
    from build_kb.content.validate import load_knowledge_base

    return load_knowledge_base(PRINTING, strict=True)


@pytest.fixture(scope="session")
def activation_index(tmp_path_factory: pytest.TempPathFactory, activation_kb: Any) -> Path:
    """The activation set's search index, built once per session (the tests only read it)."""
    from search.index import build_index

    root = tmp_path_factory.mktemp("activation-index")
    build_index(activation_kb, root, content_root=ACTIVATION)
    return root


@pytest.fixture
def runner() -> CliRunner:
    """Runs a click command in-process, capturing its output."""
    return CliRunner()


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in tmp_path, so that messages name files as content/...."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
