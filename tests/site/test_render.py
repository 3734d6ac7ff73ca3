"""Rendering: golden files pair an entry with the Markdown page it must produce."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from build_kb.content.validate import load_knowledge_base
from build_kb.site import markdown_text as md
from build_kb.site.render import navigation, render_entry, render_pages
from tests.helpers import ROOT, make_entry, write_content

GOLDEN = ROOT / "tests" / "golden" / "render"
CASES = sorted(GOLDEN.glob("*.yaml"))


class _LiteralDumper(yaml.SafeDumper):
    """Writes multi-line strings as blocks so golden diffs stay readable."""


_LiteralDumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None
    ),
)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden_entry_page(case: Path, tmp_path: Path, update_goldens: bool) -> None:
    golden = yaml.safe_load(case.read_text("utf-8"))
    entries = [golden["entry"], *golden.get("neighbours", [])]
    kb = load_knowledge_base(write_content(tmp_path / "content", entries))
    markdown = render_entry(kb.by_id[golden["entry"]["id"]], kb)
    if update_goldens:
        golden["markdown"] = markdown
        case.write_text(
            yaml.dump(golden, Dumper=_LiteralDumper, sort_keys=False, allow_unicode=True), "utf-8"
        )
    assert markdown == golden["markdown"]


def test_golden_cases_exist() -> None:
    assert len(CASES) >= 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain words", "plain words"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert\\(1\\)&lt;/script&gt;"),
        ("a_b*c`d", "a\\_b\\*c\\`d"),
        ("# not a heading", "\\# not a heading"),
        ("1. not a list", "1\\. not a list"),
        ("2024. was the year", "2024\\. was the year"),
        ("= underline", "&#61; underline"),
        ("~tilde~", "~tilde~"),
        ("- not a bullet", "\\- not a bullet"),
        ("C:\\Windows\\Logs", "C:\\\\Windows\\\\Logs"),
        ("[link](x)", "\\[link\\]\\(x\\)"),
        ("a | b", "a \\| b"),
        ("AT&T", "AT&amp;T"),
    ],
)
def test_text_escaping(value: str, expected: str) -> None:
    assert md.text(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "1. not a list", "12. twelve", "- dash", "+ plus", "* star", "= equals", "# hash", "~x~", "a|b",
        "a_b_c", "*em* **strong**", "C:\\Windows\\Logs\\CBS", "[x](y)", "<b>bold</b>", "AT&T", "`tick`",
        "{curly} !bang", "line one\n2. line two\n===",
    ],
)  # fmt: skip
def test_text_shows_exactly_the_value_once_rendered(value: str) -> None:
    import html
    import re

    import markdown

    rendered = markdown.markdown(md.text(value), extensions=["tables", "attr_list", "md_in_html"])
    visible = html.unescape(re.sub(r"</?p>", "", rendered))
    assert visible == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("slmgr /ato", "`slmgr /ato`"),
        ("a`b", "``a`b``"),
        ("`edge`", "`` `edge` ``"),
    ],
)
def test_code_span(value: str, expected: str) -> None:
    assert md.code_span(value) == expected


def test_code_block_outlasts_backticks_inside() -> None:
    block = md.code_block("echo ```x```")
    assert block.startswith("````text\n") and block.endswith("\n````")


def test_prose_keeps_code_spans_but_escapes_html() -> None:
    assert md.prose("Run `<Activation ID>` not <b>") == "Run `<Activation ID>` not &lt;b&gt;"


def test_pages_cover_every_entry_phase_and_code(tmp_path: Path) -> None:
    entries = [
        make_entry("one"),
        make_entry("two", phase="activate", method="phone", codes=[{"code": "80070643"}], related=["one"]),
    ]
    kb = load_knowledge_base(write_content(tmp_path / "c", entries))
    pages = render_pages(kb)
    assert {"entries/one.md", "entries/two.md", "phases/prepare/index.md", "phases/activate/phone.md"} <= set(
        pages
    )
    assert {"codes/0xC004F050.md", "codes/0x80070643.md", "codes/index.md", "tags.md", "index.md"} <= set(
        pages
    )
    assert "[Error: 0xC004F050 when installing the key](../entries/one.md)" in pages["entries/two.md"]
    assert "Linked from:" in pages["entries/one.md"]
    flat = str(navigation(kb))
    assert "entries/one.md" in flat and "entries/two.md" in flat
