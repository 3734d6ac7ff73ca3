"""Governance fields: status, owner, reviewed, review_every, replaced_by; drafts left out of every output,
retired entries kept at their address pointing at their replacement; `kb new` writes a draft."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from build_kb.app.cli.main import cli
from build_kb.content.validate import check_content, load_knowledge_base
from build_kb.core.errors import Problem
from build_kb.core.model import DEFAULT_REVIEW_DAYS
from build_kb.pdf.runbook import runbook_data
from build_kb.site.render import render_pages
from search.codemap import TriageData
from search.index import build_index
from search.results import Hit
from search.triage import LogMatcher
from tests.helpers import ACTIVATION, TAXONOMY, make_entry, write_content

TODAY = date(2026, 6, 1)
TODAY_DT = datetime(2026, 6, 1, tzinfo=UTC)


def _write(root: Path, *entries: dict[str, Any], taxonomy: dict[str, Any] | None = None) -> Path:
    return write_content(root, list(entries), taxonomy=taxonomy)


def _problems(root: Path) -> list[str]:
    return [str(p) for p in check_content(root, today=TODAY)[1]]


def _retired_set(root: Path) -> Path:
    """A retired entry replaced by a published one, a draft and an unrelated published entry."""
    return _write(
        root,
        make_entry("old-key-refused", status="retired", replaced_by="key-refused", title="Old: key refused"),
        make_entry("key-refused", title="The key is refused", owner="Desk team", reviewed="2026-01-10"),
        make_entry("wip-entry", status="draft", title="Work in progress", codes=[{"code": "0xC004F074"}]),
        make_entry("other-entry", title="Something else", codes=[{"code": "0x80070005"}]),
    )


# --- fields, schema and model ---------------------------------------------------------------------------------
def test_existing_content_stays_valid_and_published(activation_kb) -> None:
    assert {entry.status for entry in activation_kb} == {"published"}
    assert all(e.owner is None and e.reviewed is None and e.replaced_by is None for e in activation_kb)
    assert activation_kb.taxonomy.review_every_days == DEFAULT_REVIEW_DAYS


def test_fields_reach_the_model(in_tmp: Path) -> None:
    taxonomy = {**TAXONOMY, "review_every_days": 90}
    root = _write(
        Path("content"),
        make_entry("a-entry", owner="Platform team", reviewed="2026-01-31", review_every=30),
        make_entry("b-entry"),
        taxonomy=taxonomy,
    )
    kb = load_knowledge_base(root)
    entry = kb.by_id["a-entry"]
    assert (entry.status, entry.owner, entry.reviewed, entry.review_every) == (
        "published", "Platform team", date(2026, 1, 31), 30,
    )  # fmt: skip
    assert kb.taxonomy.review_every_days == 90
    assert entry.review_due(90) == date(2026, 3, 2)
    assert kb.by_id["b-entry"].review_due(90) is None


def test_an_unquoted_date_is_read_as_text(in_tmp: Path) -> None:
    root = _write(Path("content"), make_entry())
    path = root / "prepare" / "sample-entry.yaml"
    path.write_text(path.read_text("utf-8") + "reviewed: 2026-02-01\n", "utf-8")
    kb = load_knowledge_base(root)
    assert kb.by_id["sample-entry"].reviewed == date(2026, 2, 1)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"status": "archived"},
            "status: Expected one of: draft, published, retired but received: 'archived'",
        ),
        ({"reviewed": "31.01.2026"}, "reviewed: '31.01.2026' does not have the expected form"),
        ({"reviewed": "2026-02-30"}, "reviewed: '2026-02-30' is not a date of the calendar"),
        ({"review_every": 0}, "review_every: 0 is less than the minimum of 1"),
        ({"owner": ""}, "owner: '' should be non-empty"),
        (
            {"replaced_by": "b-entry"},
            "replaced_by: only a retired entry has a replacement; add `status: retired`",
        ),
        ({"status": "retired", "replaced_by": "nowhere"}, "replaced_by: no entry has the id 'nowhere'"),
        ({"status": "retired", "replaced_by": "a-entry"}, "replaced_by: an entry cannot replace itself"),
    ],
)
def test_governance_errors_are_located(in_tmp: Path, fields: dict[str, Any], expected: str) -> None:
    root = _write(Path("content"), make_entry("a-entry", **fields), make_entry("b-entry"))
    kb, problems = check_content(root, today=TODAY)
    assert kb is None
    found = [str(p) for p in problems if p.severity == "error"]
    assert len(found) == 1 and expected in found[0], found
    assert found[0].startswith("content/prepare/a-entry.yaml:")
    line = int(found[0].split(":")[1])
    key = expected.split(":")[0]
    assert (root / "prepare" / "a-entry.yaml").read_text("utf-8").splitlines()[line - 1].startswith(key)


def test_a_review_date_in_the_future_is_a_warning(in_tmp: Path) -> None:
    root = _write(Path("content"), make_entry(reviewed="2026-06-02"))
    kb, problems = check_content(root, today=TODAY)
    assert kb is not None
    assert [p.message for p in problems] == ["2026-06-02 is in the future (today is 2026-06-01)"]
    assert problems[0].severity == "warning"


def test_replaced_by_a_draft_is_an_error_and_by_a_retired_entry_a_warning(in_tmp: Path) -> None:
    root = _write(
        Path("content"),
        make_entry("a-entry", status="retired", replaced_by="b-entry"),
        make_entry("b-entry", status="draft"),
        make_entry("c-entry", status="retired", replaced_by="a-entry"),
    )
    found = _problems(root)
    assert any(
        "a-entry.yaml" in p and "replaced_by: 'b-entry' is a draft: publish it first" in p for p in found
    ), found
    assert any(
        "c-entry.yaml" in p and "replaced_by: warning: 'a-entry' is retired too" in p for p in found
    ), found


def test_related_to_a_draft_is_an_error_from_a_published_entry_only(in_tmp: Path) -> None:
    root = _write(
        Path("content"),
        make_entry("published-one", related=["draft-one"]),
        make_entry("draft-one", status="draft", related=["draft-two"]),
        make_entry("draft-two", status="draft"),
    )
    kb, problems = check_content(root, today=TODAY)
    assert kb is None
    assert [(p.path, p.field, p.severity) for p in problems] == [
        ("content/prepare/published-one.yaml", "related[0]", "error")
    ]
    assert "'draft-one' is a draft, left out of the published outputs" in problems[0].message


def test_related_to_a_retired_entry_is_a_warning_except_from_its_replacement(in_tmp: Path) -> None:
    root = _write(
        Path("content"),
        make_entry("old-one", status="retired", replaced_by="new-one"),
        make_entry("new-one", related=["old-one"]),
        make_entry("other-one", related=["old-one"]),
    )
    kb, problems = check_content(root, today=TODAY)
    assert kb is not None
    assert [(p.path, p.field, p.severity, p.message) for p in problems] == [
        ("content/prepare/other-one.yaml", "related[0]", "warning",
         "'old-one' is retired: link to the entry that replaces it"),
    ]  # fmt: skip


# --- TODO text ------------------------------------------------------------------------------------------------
def test_todo_in_a_published_entry_is_a_warning_at_the_word(in_tmp: Path) -> None:
    root = _write(
        Path("content"),
        make_entry(summary="The key is refused (TODO: which key?).", causes=["Fine.", "TODO"]),
    )
    kb, problems = check_content(root, today=TODAY)
    assert kb is not None  # valid: an author may save work in progress
    text = (root / "prepare" / "sample-entry.yaml").read_text("utf-8").splitlines()
    assert [(p.field, p.severity) for p in problems] == [("summary", "warning"), ("causes[1]", "warning")]
    for problem in problems:
        assert problem.message.startswith("TODO text in a published entry")
        assert text[problem.line - 1][problem.column - 1 :].startswith("TODO")
    with pytest.raises(Exception, match="2 problems"):
        load_knowledge_base(root, strict=True)


def test_todo_in_a_draft_is_fine(in_tmp: Path) -> None:
    root = _write(Path("content"), make_entry(status="draft", summary="TODO"), make_entry("done-entry"))
    assert check_content(root, today=TODAY)[1] == []


def test_words_holding_todo_are_no_todo(in_tmp: Path) -> None:
    root = _write(Path("content"), make_entry(summary="Run the TODOLIST tool and the mastodon client."))
    assert check_content(root, today=TODAY)[1] == []


# --- kb new ---------------------------------------------------------------------------------------------------
def test_kb_new_writes_a_draft_that_passes_strict_and_stays_out_of_lookups(
    runner: CliRunner, in_tmp: Path
) -> None:
    root = _write(Path("content"), make_entry())
    args = ["new", "--content", "content", "--id", "fresh-one", "--phase", "prepare", "--code", "0x80072EE2"]
    assert runner.invoke(cli, args, catch_exceptions=False).exit_code == 0
    created = root / "prepare" / "fresh-one.yaml"
    data = yaml.safe_load(created.read_text("utf-8"))
    assert data["status"] == "draft" and "TODO" in data["owner"]
    assert data["messages"][0]["where"] == "slmgr"  # the taxonomy's first `where`, not a made-up one
    checked = runner.invoke(cli, ["check", "--strict", "content"])
    assert checked.exit_code == 0, checked.output
    assert "2 entries valid (1 draft)" in checked.output
    # The draft is not published: no lookup finds it, no search lists its TODO title.
    lookup = runner.invoke(cli, ["lookup", "0x80072EE2", "--content", "content", "--index", "idx", "--json"])
    assert lookup.exit_code == 1 and json.loads(lookup.stdout)["results"] == []
    search = runner.invoke(
        cli, ["search", "TODO message symptom", "--content", "content", "--index", "idx", "--json"]
    )
    assert all(hit["id"] != "fresh-one" for hit in json.loads(search.stdout)["results"])


def test_publishing_the_scaffold_fails_strict_on_every_todo(runner: CliRunner, in_tmp: Path) -> None:
    root = _write(Path("content"), make_entry())
    runner.invoke(cli, ["new", "--content", "content", "--id", "fresh-one", "--phase", "prepare"])
    created = root / "prepare" / "fresh-one.yaml"
    created.write_text(created.read_text("utf-8").replace("status: draft", "status: published"), "utf-8")
    assert runner.invoke(cli, ["check", "content"]).exit_code == 0
    strict = runner.invoke(cli, ["check", "--strict", "content"])
    assert strict.exit_code == 1
    assert (
        "content/prepare/fresh-one.yaml:6:9: title: warning: TODO text in a published entry" in strict.output
    )
    assert strict.output.count("TODO text in a published entry") >= 8


# --- drafts in the outputs ------------------------------------------------------------------------------------
def test_drafts_are_validated_but_left_out_unless_asked_for(in_tmp: Path) -> None:
    root = _retired_set(Path("content"))
    everything, _ = check_content(root, today=TODAY)
    assert everything is not None and "wip-entry" in everything.by_id
    kb = load_knowledge_base(root)
    assert "wip-entry" not in kb.by_id and len(kb) == 3
    assert "wip-entry" in load_knowledge_base(root, drafts=True).by_id
    assert not any("wip-entry" in path for path in render_pages(kb))
    assert "codes/0xC004F074.md" not in render_pages(kb)  # only the draft carries it
    pdf_ids = {
        e["id"] for p in runbook_data(kb, TODAY_DT, "v")["phases"] for g in p["groups"] for e in g["entries"]
    }
    assert pdf_ids == {"old-key-refused", "key-refused", "other-entry"}
    shown = render_pages(load_knowledge_base(root, drafts=True))
    assert '!!! note "Draft"' in shown["entries/wip-entry.md"]


def test_a_draft_is_still_checked(in_tmp: Path) -> None:
    root = _write(Path("content"), make_entry(status="draft", related=["nowhere"]))
    assert any("related[0]: no entry has the id 'nowhere'" in p for p in _problems(root))


def test_kb_build_drafts_puts_them_in_the_index(runner: CliRunner, in_tmp: Path) -> None:
    root = _retired_set(Path("content"))
    args = ["build", "--content", "content", "--only", "index", "--dist-dir", "dist"]
    assert runner.invoke(cli, args, catch_exceptions=False).exit_code == 0
    assert _lookup_ids(runner, "0xC004F074", "dist/index") == []
    assert runner.invoke(cli, [*args, "--drafts"], catch_exceptions=False).exit_code == 0
    assert _lookup_ids(runner, "0xC004F074", "dist/index") == ["wip-entry"]
    assert root.is_dir()


def _lookup_ids(runner: CliRunner, code: str, index: str) -> list[str]:
    result = runner.invoke(cli, ["lookup", code, "--index", index, "--content", "content", "--json"])
    return [hit["id"] for hit in json.loads(result.stdout)["results"]]


@pytest.mark.slow
def test_the_plugin_option_drafts_shows_them_on_the_site(tmp_path: Path) -> None:
    from build_kb.app.build import BuildOptions, build_site
    from tests.site_fixtures import DEFAULT_CONFIG, FIXED_DATE

    root = _retired_set(tmp_path / "content").resolve()
    for drafts, expected in ((False, False), (True, True)):
        config = tmp_path / f"mkdocs-{drafts}.yml"
        config.write_text(
            f"INHERIT: {DEFAULT_CONFIG.as_posix()}\ndocs_dir: {root.as_posix()}\n"
            f"plugins:\n  kb:\n    content: {root.as_posix()}\n    drafts: {str(drafts).lower()}\n",
            "utf-8",
        )
        site = tmp_path / f"site-{drafts}"
        build_site(BuildOptions(content_root=root, config_file=config), site, FIXED_DATE)
        assert (site / "entries" / "wip-entry.html").is_file() is expected
        assert (site / "entries" / "old-key-refused.html").is_file()


# --- retired entries ------------------------------------------------------------------------------------------


def test_a_retired_page_says_so_and_links_its_replacement(in_tmp: Path) -> None:
    kb = load_knowledge_base(_retired_set(Path("content")))
    pages = render_pages(kb)
    page = pages["entries/old-key-refused.md"]
    notice = '!!! warning "Retired"\n\n    This entry is retired and kept for old links. See [The key is refused](../entries/key-refused.md) instead.'
    assert notice in page
    assert page.index("# Old: key refused") < page.index(notice) < page.index("The key is refused.")
    assert "search:\n  boost: 0.5" in page
    assert "Retired" not in pages["entries/key-refused.md"]
    # Its code keeps its page, listing it last and marked.
    code_page = pages["codes/0xC004F050.md"]
    assert code_page.index("[The key is refused]") < code_page.index("[Old: key refused]")
    assert "[Old: key refused](../entries/old-key-refused.md)** *(retired)*" in code_page
    phase = pages["phases/prepare/index.md"]
    assert phase.index("[Something else]") < phase.index("[Old: key refused]")


def test_a_retired_entry_without_a_replacement_says_nothing_replaces_it(in_tmp: Path) -> None:
    kb = load_knowledge_base(_write(Path("content"), make_entry(status="retired")))
    assert "Nothing replaces it." in render_pages(kb)["entries/sample-entry.md"]


def test_the_runbook_marks_a_retired_entry_with_its_replacement(in_tmp: Path) -> None:
    kb = load_knowledge_base(_retired_set(Path("content")))
    entries = {
        e["id"]: e
        for p in runbook_data(kb, TODAY_DT, "v")["phases"]
        for g in p["groups"]
        for e in g["entries"]
    }
    assert entries["old-key-refused"]["status"] == {
        "retired": True,
        "replaced_by": {"id": "key-refused", "label": "entry-key-refused", "title": "The key is refused"},
    }
    assert entries["key-refused"]["status"] is None


@pytest.mark.slow
def test_the_runbook_compiles_with_a_retired_notice(in_tmp: Path) -> None:
    from pypdf import PdfReader

    from build_kb.pdf.runbook import build_runbook

    kb = load_knowledge_base(_retired_set(Path("content")))
    info = build_runbook(kb, in_tmp / "out.pdf", build_date=TODAY_DT, version="v", tagged=False)
    text = " ".join(page.extract_text() for page in PdfReader(info.path).pages)
    assert "Retired. Kept for old references. See The key is refused, p." in " ".join(text.split())


def test_lookups_list_retired_entries_last_with_their_replacement(runner: CliRunner, in_tmp: Path) -> None:
    _retired_set(Path("content"))
    result = runner.invoke(cli, ["lookup", "0xC004F050", "--content", "content", "--index", "idx", "--json"])
    hits = json.loads(result.stdout)["results"]
    assert [hit["id"] for hit in hits] == ["key-refused", "old-key-refused"]
    assert "status" not in hits[0]
    assert (hits[1]["status"], hits[1]["replaced_by"]) == ("retired", "key-refused")
    text = runner.invoke(cli, ["lookup", "0xC004F050", "--content", "content", "--index", "idx"]).output
    assert "retired: see key-refused instead" in text
    searched = runner.invoke(
        cli, ["search", "key refused", "--content", "content", "--index", "idx", "--json"]
    )
    ids = [hit["id"] for hit in json.loads(searched.stdout)["results"]]
    assert ids.index("key-refused") < ids.index("old-key-refused") == len(ids) - 1


def test_hits_keep_their_status_through_the_stored_summary() -> None:
    hit = Hit("a", "A", "p", (), "", "entries/a.html", 1.0, status="retired", replaced_by="b")
    assert Hit.from_json(hit.summary()) == hit
    published = Hit("a", "A", "p", (), "", "entries/a.html", 1.0)
    assert set(published.summary()) == {"id", "title", "phase", "codes", "source", "url"}
    assert Hit.from_json({**published.summary(), "status": "nonsense"}).status == "published"


def test_triage_ranks_a_retired_entry_after_its_replacement(in_tmp: Path) -> None:
    kb = load_knowledge_base(_retired_set(Path("content")))
    matcher = LogMatcher(TriageData.from_kb(kb))
    found = matcher.match("Installing the key failed: 0xC004F050")
    assert found is not None
    assert [hit.id for hit in matcher.hits(found)] == ["key-refused", "old-key-refused"]


def test_index_of_a_fixture_set_is_unchanged_by_statuses(tmp_path: Path) -> None:
    """The stored results of published entries carry no new keys (scripts rely on their shape)."""
    content = tmp_path / "activation"
    shutil.copytree(ACTIVATION, content)
    build = build_index(load_knowledge_base(content), tmp_path / "index")
    documents = json.loads((build / "documents.json").read_text("utf-8"))["documents"]
    assert all("status" not in json.loads(doc["hit"]) for doc in documents)


def test_problem_sorting_still_works_with_governance_problems(in_tmp: Path) -> None:
    root = _write(Path("content"), make_entry(summary="TODO", reviewed="2026-02-30"))
    problems = check_content(root, today=TODAY)[1]
    assert problems == sorted(problems) and all(isinstance(p, Problem) for p in problems)
