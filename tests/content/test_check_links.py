"""`kb check` on the links inside prose fields (located at the link, not the field), GitHub annotations, and
the pre-commit hook this repository offers other repositories."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import markdown
import pytest
import yaml
from click.testing import CliRunner

from build_kb.app.cli.content import github_annotation
from build_kb.app.cli.main import cli
from build_kb.content.links import page_anchors, prose_links, slug
from build_kb.content.validate import check_content, load_knowledge_base
from build_kb.core.errors import Problem
from build_kb.site.render import render_entry
from tests.helpers import ACTIVATION, PRINTING, ROOT, make_entry, write_content


def _content(*entries: dict[str, Any]) -> Path:
    return write_content(
        Path("content"),
        [
            *entries,
            make_entry(
                "target-entry", title="The target", related_codes=[{"code": "0x80070005", "reason": "Same."}]
            ),
            make_entry("draft-entry", status="draft"),
            make_entry("retired-entry", status="retired", replaced_by="target-entry"),
        ],
    )


def _link_problems(cause: str, field: str = "causes") -> list[Problem]:
    entry = make_entry("linking-entry", **({field: [cause]} if field == "causes" else {field: cause}))
    root = _content(entry)
    return [p for p in check_content(root)[1] if p.path.endswith("linking-entry.yaml")]


@pytest.mark.parametrize(
    "href",
    [
        "../entries/target-entry.md",
        "target-entry.md",
        "../entries/target-entry.md#what-to-do",
        "../entries/target-entry.md#codes-with-the-same-fix",
        "../entries/target-entry.md#0xc004f050",
        "../entries/target-entry.md#the-target",
        "#why-it-happens",
        "#error-codes",
        "../codes/0xC004F050.md",
        "../codes/index.md",
        "../phases/prepare/index.md",
        "../phases/activate/online.md",
        "../tags.md",
        "../index.md",
        "https://example.invalid/page",
        "mailto:desk@example.invalid",
    ],
)
def test_links_that_work_are_no_problem(in_tmp: Path, href: str) -> None:
    assert _link_problems(f"See [this]({href}).") == []


@pytest.mark.parametrize(
    ("href", "message"),
    [
        ("../entries/nowhere.md", "no entry has the id 'nowhere'"),
        ("nowhere.md", "no entry has the id 'nowhere'"),
        (
            "../entries/target-entry.md#no-such",
            "no anchor #no-such on the page of 'target-entry' (its anchors: ",
        ),
        ("#no-such-section", "no anchor #no-such-section on this page"),
        ("../entries/draft-entry.md", "'draft-entry' is a draft, left out of the published outputs"),
        ("../codes/0xc004f050.md", "the code's page is codes/0xC004F050.md"),
        ("../codes/0x80070643.md", "no code page codes/0x80070643.md: no published entry carries that code"),
        ("../phases/nowhere/index.md", "no phase 'nowhere' in the taxonomy"),
        ("../phases/activate/by-pigeon.md", "phase 'activate' has no method 'by-pigeon'"),
        (
            "../entries/target-entry.html",
            "leads to entries/target-entry.html, which is no page of the site (link the page's source",
        ),
        ("../docs/guide.md", "leads to docs/guide.md, which is no page of the site"),
        ("/entries/target-entry.md", "is an absolute path, which breaks under a sub-path and from disk"),
        ("../tags.md#no-such-tag", "no tag 'no-such-tag' on the tags page"),
    ],
)
def test_broken_links_are_errors(in_tmp: Path, href: str, message: str) -> None:
    problems = _link_problems(f"See [this]({href}).")
    assert [(p.field, p.severity) for p in problems] == [("causes[0]", "error")], problems
    assert message in problems[0].message


def test_a_link_to_a_retired_entry_is_a_warning_naming_its_replacement(in_tmp: Path) -> None:
    problems = _link_problems("See [the old one](../entries/retired-entry.md).")
    assert [(p.severity, p.message) for p in problems] == [
        ("warning", "'retired-entry' is retired: link to 'target-entry' instead")
    ]


def test_a_draft_may_link_to_a_draft(in_tmp: Path) -> None:
    root = _content(make_entry("linking-entry", status="draft", causes=["See [it](draft-entry.md)."]))
    assert check_content(root)[1] == []


def test_a_link_in_the_summary_is_an_error(in_tmp: Path) -> None:
    problems = _link_problems("Refused, see [this](../entries/target-entry.md).", field="summary")
    assert [p.field for p in problems] == ["summary"]
    assert "a link in summary breaks where it is listed" in problems[0].message


def test_an_undefined_reference_link_is_an_error_with_a_hint_for_a_reference_id(in_tmp: Path) -> None:
    problems = _link_problems("See [the manual][manual] and [that][nothing].")
    assert [p.message for p in problems] == [
        "[manual] is a reference link without a definition in this field, so it shows as text; "
        "to cite the reference 'manual', list it under references",
        "[nothing] is a reference link without a definition in this field, so it shows as text",
    ]


def test_a_defined_reference_link_is_checked_like_any(in_tmp: Path) -> None:
    ok = "See [the target][t].\n\n[t]: ../entries/target-entry.md"
    broken = "See [the target][t].\n\n[t]: ../entries/gone.md"
    assert _link_problems(ok) == []
    assert [p.message for p in _link_problems(broken)] == ["no entry has the id 'gone'"]


def test_code_spans_hold_no_links() -> None:
    assert prose_links("Run `[x](nowhere.md)` and `a[b][c]`.") == ([], [])


def _position_of(root: Path, problem: Problem) -> str:
    lines = (root.parent / problem.path).read_text("utf-8").splitlines()
    return lines[problem.line - 1][problem.column - 1 :]


def test_each_problem_is_at_its_link_in_a_block_scalar(in_tmp: Path) -> None:
    root = write_content(Path("content"), [make_entry("target-entry"), make_entry("linking-entry")])
    path = root / "prepare" / "linking-entry.yaml"
    text = path.read_text("utf-8").replace(
        "causes:\n- The prerequisite update is missing.\n",
        "causes:\n- |\n  First a [good link](target-entry.md), then\n  a [bad one](gone.md) and\n"
        "  [another bad one](../entries/gone-too.md#what-to-do).\n",
    )
    path.write_text(text, "utf-8")
    problems = [p for p in check_content(root)[1] if p.path.endswith("linking-entry.yaml")]
    assert [_position_of(Path("content"), p)[:40] for p in problems] == [
        "](gone.md) and",
        "](../entries/gone-too.md#what-to-do).",
    ]
    assert [p.field for p in problems] == ["causes[0]", "causes[0]"]


def test_the_same_broken_link_twice_is_reported_at_each(in_tmp: Path) -> None:
    problems = _link_problems("[a](gone.md) and [b](gone.md)")
    assert len(problems) == 2 and problems[0].column < problems[1].column


def test_links_in_every_prose_field_are_checked(in_tmp: Path) -> None:
    entry = make_entry(
        "linking-entry",
        actions=[{"step": "Read [it](gone-1.md)."}],
        codes=[{"code": "0xC004F050", "note": "See [it](gone-2.md)."}],
        escalation={"contact": "Desk", "note": "See [it](gone-3.md).", "collect": ["[it](gone-4.md)"]},
        corrections=[{"source_says": "a", "correct": "b", "why": "See [it](gone-5.md)."}],
        related_codes=[{"code": "0x80070005", "reason": "See [it](gone-6.md)."}],
    )
    problems = [p for p in check_content(_content(entry))[1] if p.path.endswith("linking-entry.yaml")]
    assert sorted(p.field for p in problems) == [
        "actions[0].step", "codes[0].note", "corrections[0].why", "escalation.collect[0]", "escalation.note",
        "related_codes[0].reason",
    ]  # fmt: skip


# --- the anchors the checker knows are the ones the pages have --------------------------------------------
def _rendered_ids(page: str) -> set[str]:
    converter = markdown.Markdown(extensions=["toc", "attr_list", "admonition", "tables", "md_in_html"])
    converter.convert(page.split("---", 2)[2])
    found: set[str] = set()
    pending = list(converter.toc_tokens)
    while pending:
        token = pending.pop()
        found.add(token["id"])
        pending += token["children"]
    return found


@pytest.mark.parametrize("content", [ACTIVATION, PRINTING], ids=["activation", "printing"])
def test_page_anchors_match_the_rendered_pages(content: Path) -> None:
    kb = load_knowledge_base(content)
    for entry in kb:
        backlinked = any(e.id not in entry.related for e in kb.backlinks.get(entry.id, ()))
        assert page_anchors(entry, backlinked) == _rendered_ids(render_entry(entry, kb)), entry.id


def test_page_anchors_tell_equal_headings_apart() -> None:
    kb = load_knowledge_base(ACTIVATION)
    entry = next(iter(kb))
    import dataclasses

    twin = dataclasses.replace(entry, title="What to do")
    assert {"what-to-do", "what-to-do_1"} <= page_anchors(twin, False)
    assert page_anchors(twin, False) == _rendered_ids(render_entry(twin, kb))


def test_slug_is_python_markdowns() -> None:
    from markdown.extensions.toc import slugify

    for text in (
        "Error: 0xC004F050 when installing",
        "Druckauftrag hängt — „Fehler“",
        "A  b -- c",
        "C# & .NET",
    ):
        assert slug(text) == slugify(text, "-")


# --- where authors work: GitHub annotations and the pre-commit hook ----------------------------------------
def test_github_annotations_are_escaped() -> None:
    problem = Problem("content/a b,c.yaml", 3, 7, "causes[0]", "100% wrong: no\nentry", "warning")
    assert github_annotation(problem) == (
        "::warning file=content/a b%2Cc.yaml,line=3,col=7,title=kb check%3A causes[0]::"
        "causes[0]: 100%25 wrong: no%0Aentry"
    )


def test_kb_check_format_github(runner: CliRunner, in_tmp: Path) -> None:
    _content(make_entry("linking-entry", causes=["See [it](gone.md)."], summary="TODO"))
    result = runner.invoke(cli, ["check", "--format", "github", "content"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "::error file=content/prepare/linking-entry.yaml,line=" in lines[-1]
    assert lines[-1].endswith("::causes[0]: no entry has the id 'gone'")
    assert lines[0].startswith("::warning file=content/prepare/linking-entry.yaml,line=")
    assert "summary: TODO text in a published entry" in lines[0]
    assert "content/prepare/linking-entry.yaml:" not in result.stdout  # annotations only on stdout


def test_kb_check_format_json_is_the_json_option(runner: CliRunner, in_tmp: Path) -> None:
    _content(make_entry("linking-entry"))
    one = runner.invoke(cli, ["check", "--format", "json", "content"]).stdout
    assert one == runner.invoke(cli, ["check", "--json", "content"]).stdout


def _hook() -> dict[str, Any]:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))
    assert isinstance(hooks, list) and len(hooks) == 1 and isinstance(hooks[0], dict)
    return dict(hooks[0])


def test_the_pre_commit_hook_is_declared_as_documented() -> None:
    import re

    hook = _hook()
    assert hook["id"] == "kb-check" and hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert re.search(hook["files"], "content/prepare/entry.yaml") and re.search(hook["files"], "a.yml")
    assert not re.search(hook["files"], "README.md")
    assert hook["args"][-1] == "content"


def _run_hook(cwd: Path) -> subprocess.CompletedProcess[str]:
    """The hook's command as pre-commit runs it: entry, then args, no file names, in the repository."""
    hook = _hook()
    command = shlex.split(hook["entry"]) + list(hook["args"])
    executable = Path(sys.executable).with_name(command[0])  # the console script installed beside Python
    return subprocess.run(
        [str(executable), *command[1:]], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_pre_commit_hook_runs_on_a_fixture_set(tmp_path: Path) -> None:
    shutil.copytree(ACTIVATION, tmp_path / "content")
    result = _run_hook(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "14 entries valid" in result.stderr
    broken = tmp_path / "content" / "prepare" / "update-80070643-install-failure.yaml"
    data = yaml.safe_load(broken.read_text("utf-8"))
    data["causes"].append("See [the other entry](../entries/no-such-entry.md).")
    broken.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")
    result = _run_hook(tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "content/prepare/update-80070643-install-failure.yaml:" in result.stderr
    assert ": no entry has the id 'no-such-entry'" in result.stderr
