"""One parser for the browser and the CLI: the site's JavaScript reads every code as build_kb.core.codes does.

`tests/data/code-vectors.json` is generated from the Python parser (`scripts/gen_code_vectors.py`); the
first test keeps it current, the second runs each input through the shipped `kb-lookup.js` in Chromium.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers import ROOT

VECTORS = ROOT / "tests" / "data" / "code-vectors.json"
LOOKUP_SCRIPT = ROOT / "site_overrides" / "assets" / "javascripts" / "kb-lookup.js"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_code_vectors", ROOT / "scripts" / "gen_code_vectors.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vector_file_matches_the_python_parser() -> None:
    assert VECTORS.read_text("utf-8") == generator().render(), "run: python scripts/gen_code_vectors.py"


def test_vectors_cover_every_kind_of_input() -> None:
    data = json.loads(VECTORS.read_text("utf-8"))
    vectors = {v["input"]: v["hex"] for v in data["vectors"]}
    assert len(vectors) >= 300
    # The cases where the two parsers once disagreed, and what both must now say.
    assert vectors["-5"] is None
    assert vectors["147012721"] == "0x08C33C71"
    assert vectors["C004F050."] == "0xC004F050"
    assert vectors["0x80070005,"] == "0x80070005"
    assert vectors["0xC004F74"] == "0x0C004F74"
    assert vectors["4294967296"] is None and vectors["0x123456789"] is None
    assert vectors["sl_e_invalid_product_key"] == "0xC004F050"
    assert sum(hex_code is None for hex_code in vectors.values()) >= 40


@pytest.mark.browser
def test_browser_parser_agrees_on_every_vector(browser_context: object, tmp_path: Path) -> None:
    data = json.loads(VECTORS.read_text("utf-8"))
    page_file = tmp_path / "parser.html"
    page_file.write_text(f'<!doctype html><script src="{LOOKUP_SCRIPT.as_uri()}"></script>', "utf-8")
    page = browser_context.new_page()  # type: ignore[attr-defined]
    try:
        page.goto(page_file.as_uri())
        read = page.evaluate(
            "([vectors, names]) => vectors.map((v) => window.kbCanonicalCode(v.input, names))",
            [data["vectors"], data["names"]],
        )
    finally:
        page.close()
    wrong = [
        f"{v['input']!r}: Python {v['hex']}, browser {got}"
        for v, got in zip(data["vectors"], read, strict=True)
        if got != v["hex"]
    ]
    assert not wrong, "\n".join(wrong)
