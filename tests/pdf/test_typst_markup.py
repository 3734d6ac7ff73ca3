"""Markdown prose to Typst nodes, and Python data to Typst literals (`build_kb.pdf.typst_markup`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from build_kb.pdf.typst_markup import (
    inline_nodes,
    markdown_nodes,
    plain_text,
    typst_string,
    typst_value,
)
from tests.helpers import ROOT

TEMPLATE = ROOT / "build_kb" / "pdf" / "templates" / "runbook.typ"


def par(*inlines: Any) -> dict[str, Any]:
    return {"k": "par", "c": list(inlines)}


MARKDOWN_CASES = [
    ("plain text", "Install the key.", [par("Install the key.")]),
    ("empty", "", []),
    ("emphasis", "a *b* c", [par("a ", {"k": "em", "c": ["b"]}, " c")]),
    ("underscore emphasis", "_b_", [par({"k": "em", "c": ["b"]})]),
    ("strong", "**b**", [par({"k": "strong", "c": ["b"]})]),
    ("nested", "**a *b***", [par({"k": "strong", "c": ["a ", {"k": "em", "c": ["b"]}]})]),
    (
        "code span keeps specials",
        "run `slmgr /ipk <key>`",
        [par("run ", {"k": "code", "text": "slmgr /ipk <key>"})],
    ),
    ("code span with backslashes", r"`C:\Windows\Logs`", [par({"k": "code", "text": r"C:\Windows\Logs"})]),
    (
        "link",
        "[the manual](https://example.invalid/m)",
        [par({"k": "link", "url": "https://example.invalid/m", "c": ["the manual"]})],
    ),
    ("soft break is a space", "one\ntwo", [par("one two")]),
    ("hard break", "one  \ntwo", [par("one", {"k": "br"}, "two")]),
    ("two paragraphs", "one\n\ntwo", [par("one"), par("two")]),
    ("raw HTML stays text", "<script>alert(1)</script>", [par("<script>alert(1)</script>")]),
    ("placeholder stays text", "enter <Activation ID>", [par("enter <Activation ID>")]),
    ("entities decode", "a &lt;b&gt; &amp; c", [par("a <b> & c")]),
    ("backslash escapes", r"\*not emphasis\*", [par("*not emphasis*")]),
    ("Typst markup is plain text", "#set text(red) $x$ @ref ~ / =", [par("#set text(red) $x$ @ref ~ / =")]),
    ("escaped leading heading mark", r"\= not a heading", [par("= not a heading")]),
    (
        "bullet list, tight",
        "- a\n- b",
        {"k": "list", "items": [[par("a")], [par("b")]], "tight": True},
    ),
    (
        "bullet list, loose",
        "- a\n\n- b",
        {"k": "list", "items": [[par("a")], [par("b")]], "tight": False},
    ),
    (
        "ordered list keeps its start",
        "3. x\n4. y",
        {"k": "enum", "items": [[par("x")], [par("y")]], "tight": True, "start": 3},
    ),
    (
        "nested list",
        "- a\n  - b",
        {
            "k": "list",
            "items": [[par("a"), {"k": "list", "items": [[par("b")]], "tight": True}]],
            "tight": True,
        },
    ),
    ("indented code block", "    dism /online\n", [{"k": "codeblock", "text": "dism /online"}]),
    (
        "fenced code block",
        "```cmd\nslmgr /dlv\nslmgr /ato\n```",
        [{"k": "codeblock", "text": "slmgr /dlv\nslmgr /ato"}],
    ),
    ("quote", "> note", [{"k": "quote", "c": [par("note")]}]),
    ("heading becomes a bold paragraph", "# Title", [par({"k": "strong", "c": ["Title"]})]),
    ("rule", "---", [{"k": "rule"}]),
    ("image becomes its alt text", "![a *b*](x.png)", [par("a ", {"k": "em", "c": ["b"]})]),
]


@pytest.mark.parametrize(
    ("markdown", "expected"), [c[1:] for c in MARKDOWN_CASES], ids=[c[0] for c in MARKDOWN_CASES]
)
def test_markdown_nodes(markdown: str, expected: Any) -> None:
    """Each Markdown construct maps to its node; everything else stays plain text."""
    assert markdown_nodes(markdown) == (expected if isinstance(expected, list) else [expected])


INLINE_CASES = [
    ("one paragraph", "a *b*", ["a ", {"k": "em", "c": ["b"]}]),
    ("paragraphs joined by a space", "a\n\nb", ["a b"]),
    ("list items joined", "- a\n- b", ["a; b"]),
    ("code block as code", "    x = 1\n", [{"k": "code", "text": "x = 1"}]),
]


@pytest.mark.parametrize(
    ("markdown", "expected"), [c[1:] for c in INLINE_CASES], ids=[c[0] for c in INLINE_CASES]
)
def test_inline_nodes(markdown: str, expected: list[Any]) -> None:
    assert inline_nodes(markdown) == expected


def test_plain_text() -> None:
    nodes = markdown_nodes("Use **`slmgr /dlv`** and [*the manual*](https://x.invalid).")[0]["c"]
    assert plain_text(nodes) == "Use slmgr /dlv and the manual."


STRING_CASES = [
    ("plain", "abc", '"abc"'),
    ("quote", 'say "hi"', r'"say \"hi\""'),
    ("backslash", "C:\\Windows", r'"C:\\Windows"'),
    ("newline", "a\nb", r'"a\nb"'),
    ("tab and carriage return", "a\tb\rc", r'"a\tb\rc"'),
    ("other control character", "a\x01b", r'"a\u{1}b"'),
    ("Typst markup is inert in a string", "#set $x$ <l> @r", '"#set $x$ <l> @r"'),
    ("unicode kept", "Ünïcødé “q” —", '"Ünïcødé “q” —"'),
]


@pytest.mark.parametrize(
    ("value", "expected"), [c[1:] for c in STRING_CASES], ids=[c[0] for c in STRING_CASES]
)
def test_typst_string(value: str, expected: str) -> None:
    assert typst_string(value) == expected


VALUE_CASES: list[tuple[str, Any, str]] = [
    ("none", None, "none"),
    ("booleans", [True, False], "(true, false)"),
    ("negative int", -1073418160, "-1073418160"),
    ("empty array", [], "()"),
    ("empty dictionary", {}, "(:)"),
    ("one-item array keeps its comma", ["a"], '("a",)'),
    ("tuple", ("a", "b"), '("a", "b")'),
    ("flat dictionary", {"k": 1, "none": None}, '("k": 1, "none": none)'),
    ("nested containers go one per line", {"a": [1, 2]}, '(\n  "a": (1, 2),\n)'),
    ("nested one-item array", [{"x": []}], '(\n  ("x": ()),\n)'),
]


@pytest.mark.parametrize(("value", "expected"), [c[1:] for c in VALUE_CASES], ids=[c[0] for c in VALUE_CASES])
def test_typst_value(value: Any, expected: str) -> None:
    assert typst_value(value) == expected


def test_typst_value_refuses_floats() -> None:
    with pytest.raises(TypeError, match="float"):
        typst_value({"x": 1.5})


NASTY = [
    "\\ # $ * _ ` < > @ [ ] ~ / = - + 1.",
    '"quoted" \\"escaped\\"',
    "C:\\Windows\\Logs\\CBS\\CBS.log",
    "line one\nline two\r\n\ttabbed",
    "\x00\x1f\x7f",
    "#{ panic() }",
    ") , (: junk",
    "Ünïcødé “q” — ✓ 😀",
]


def _typst_query(tmp_path: Path, source: str) -> Any:
    import typst

    main = tmp_path / "main.typ"
    main.write_text(source, "utf-8")
    compiler = typst.Compiler(main, root=str(tmp_path), ignore_system_fonts=True)
    return json.loads(compiler.query("<v>", field="value", one=True, format="json"))


def test_typst_value_round_trips_through_typst(tmp_path: Path) -> None:
    """Typst reads back exactly the data written, whatever the strings hold."""
    data = {"strings": NASTY, "nested": [{"a": [NASTY[0]], "b": None, "c": -5, "d": True}], "empty": []}
    assert _typst_query(tmp_path, f"#metadata({typst_value(data)}) <v>") == data


def _render_markdown(tmp_path: Path, markdown: str) -> str:
    """The text pdftotext reads from the template's rendering of `markdown`."""
    import typst

    nodes = typst_value(markdown_nodes(markdown))
    main = tmp_path / "md.typ"
    main.write_text(
        TEMPLATE.read_text("utf-8") + f"\n#set page(width: 16cm, height: auto)\n#md({nodes})\n", "utf-8"
    )
    pdf = tmp_path / "md.pdf"
    typst.compile(main, output=pdf, root=tmp_path, ignore_system_fonts=True)
    return subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


RENDER_CASES = [
    ("text stays literal", "#set text(red) $x$ <y> @z ~ = 1.", ["#set text(red) $x$ <y> @z ~ = 1."]),
    ("emphasis loses only its marks", "a *b* **c** `d`", ["a b c d"]),
    ("ordered list keeps its numbers", "3. three\n4. four", ["3. three", "4. four"]),
    ("bullets", "- one\n- two", ["• one", "• two"]),
    (
        "link prints its address",
        "[the manual](https://example.invalid/m)",
        ["the manual (https://example.invalid/m)"],
    ),
    ("bare link prints once", "[https://x.invalid](https://x.invalid)", ["https://x.invalid"]),
    # pdftotext collapses runs of spaces, so the lines here have single spaces.
    ("code block keeps its lines", "```\nfirst line\nsecond\n```", ["first line", "second"]),
    ("hard break", "one\\\ntwo", ["one", "two"]),
]


@pytest.mark.parametrize(
    ("markdown", "lines"), [c[1:] for c in RENDER_CASES], ids=[c[0] for c in RENDER_CASES]
)
def test_template_renders_markdown(tmp_path: Path, markdown: str, lines: list[str]) -> None:
    """The template's `md` function turns the nodes into the expected printed lines."""
    printed = [line.strip() for line in _render_markdown(tmp_path, markdown).splitlines() if line.strip()]
    assert printed == lines
