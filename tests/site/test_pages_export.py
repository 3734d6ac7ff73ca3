"""`kb pages`: the exported folder holds every page the plugin makes, builds with MkDocs alone, and is stable."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from build_kb.app.cli.main import cli
from build_kb.core.model import KnowledgeBase
from build_kb.site.authoring import render_authoring
from build_kb.site.export import (
    CONFIG_FILE,
    MANIFEST,
    PAGES_DIR,
    ExportError,
    export_config,
    export_files,
    export_site,
    theme_files,
    write_export,
)
from build_kb.site.plugin import CODE_MAP_SCRIPT, DICTIONARY_SCRIPT, code_map_script
from build_kb.site.render import nav_paths, render_pages
from tests.helpers import ACTIVATION, PRINTING, make_entry, write_content
from tests.site_fixtures import build_set_site

BIN = Path(sys.executable).parent


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(params=["activation", "printing"])
def kb(request: pytest.FixtureRequest) -> KnowledgeBase:
    return request.getfixturevalue(f"{request.param}_kb")  # type: ignore[no-any-return]


def _plugin_files(kb: KnowledgeBase, folder: Path) -> dict[str, str]:
    """What the kb plugin adds to MkDocs (`on_files`), by source path."""
    from mkdocs.config import load_config
    from mkdocs.structure.files import Files

    from build_kb.site.plugin import KbPlugin
    from tests.site_fixtures import DEFAULT_CONFIG

    (folder / "docs").mkdir()
    config = load_config(str(DEFAULT_CONFIG), docs_dir=str(folder / "docs"), site_dir=str(folder / "site"))
    plugin = config.plugins["kb"]
    assert isinstance(plugin, KbPlugin)
    plugin.prepare(folder, kb)
    config = config.plugins.on_config(config)
    files = plugin.on_files(Files([]), config=config)
    assert files is not None
    return {file.src_uri: file.content_string for file in files}


def test_every_page_of_the_plugin_and_every_asset_is_written(kb: KnowledgeBase, tmp_path: Path) -> None:
    files = export_files(kb)
    generated = _plugin_files(kb, tmp_path)
    pages = {**render_pages(kb), "authoring.md": render_authoring(kb)}
    assert {path for path in generated if path.endswith(".md")} == set(pages)
    assert {CODE_MAP_SCRIPT, DICTIONARY_SCRIPT} <= set(generated)
    for path, text in generated.items():
        assert files[f"{PAGES_DIR}/{path}"] == text.encode("utf-8"), path
    assert files[f"{PAGES_DIR}/{CODE_MAP_SCRIPT}"] == code_map_script(kb).encode("utf-8")
    for path, data in theme_files().items():
        assert files[f"{PAGES_DIR}/{path}"] == data, path
    written_pages = {p for p in files if p.endswith(".md")}
    assert written_pages == {f"{PAGES_DIR}/{p}" for p in pages}, "nothing but the generated pages"


def test_configuration_needs_no_kb_plugin_and_names_every_page(kb: KnowledgeBase) -> None:
    config = yaml.safe_load(export_files(kb)[CONFIG_FILE])
    assert "kb" not in config["plugins"] and {"search", "offline"} <= set(config["plugins"])
    assert config["docs_dir"] == PAGES_DIR and config["site_name"] == kb.taxonomy.title
    assert config["theme"]["variant"] == "classic" and config["use_directory_urls"] is False
    assert config["extra_javascript"] == ["assets/javascripts/kb-codes.js", "assets/javascripts/kb-lookup.js"]
    pages = set(render_pages(kb)) | {"authoring.md"}
    assert nav_paths(config["nav"]) <= pages
    entries_in_nav = [item for item in _nav_items(config["nav"]) if isinstance(item, dict)]
    assert all(len(item) == 1 for item in entries_in_nav), "every page in the navigation has its title"


def _nav_items(nav: object) -> list[object]:
    found: list[object] = []
    pending = [nav]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending += item
        elif isinstance(item, dict):
            found.append(item)
            pending += [v for v in item.values() if isinstance(v, list)]
    return found


def test_entries_left_out_of_a_long_sections_navigation_are_listed_as_not_in_nav(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from build_kb.content.validate import load_knowledge_base
    from build_kb.site import export, render

    monkeypatch.setattr(render, "NAV_ENTRY_LIMIT", 3)
    content = write_content(tmp_path / "c", [make_entry(f"prepare-{n}", phase="prepare") for n in range(5)])
    config = export_config(load_knowledge_base(content))
    assert config["not_in_nav"] == "/codes/0x*.md\n" + "".join(f"/entries/prepare-{n}.md\n" for n in range(5))
    # past the limit, one pattern: MkDocs' RE2 pattern set refuses thousands of paths
    monkeypatch.setattr(export, "NOT_IN_NAV_LIMIT", 4)
    assert export_config(load_knowledge_base(content))["not_in_nav"] == "/codes/0x*.md\n/entries/*.md\n"


def test_same_content_same_bytes_and_a_second_write_changes_nothing(
    tmp_path: Path, activation_kb: KnowledgeBase
) -> None:
    first = export_site(activation_kb, tmp_path / "a")
    export_site(activation_kb, tmp_path / "b")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert first.removed == () and first.unchanged == 0
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "a").rglob("*") if p.is_file()}
    again = export_site(activation_kb, tmp_path / "a")
    assert again.written == () and again.removed == ()
    assert stamps == {p: p.stat().st_mtime_ns for p in (tmp_path / "a").rglob("*") if p.is_file()}


def test_a_page_that_is_gone_is_removed_and_only_changed_files_are_written(tmp_path: Path) -> None:
    from build_kb.content.validate import load_knowledge_base

    content = write_content(tmp_path / "c", [make_entry("one"), make_entry("two", title="Two", codes=[])])
    out = tmp_path / "out"
    export_site(load_knowledge_base(content), out)
    (content / "prepare" / "two.yaml").unlink()
    (out / "site").mkdir()  # an engine's output beside the pages is left alone
    result = export_site(load_knowledge_base(content), out)
    assert result.removed == (f"{PAGES_DIR}/entries/two.md",)
    assert not (out / PAGES_DIR / "entries" / "two.md").exists() and (out / "site").is_dir()
    assert f"{PAGES_DIR}/entries/one.md" not in result.written, "an unchanged page is not rewritten"
    assert set(result.written) >= {
        CONFIG_FILE,
        f"{PAGES_DIR}/index.md",
        f"{PAGES_DIR}/phases/prepare/index.md",
    }


def test_a_folder_with_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", "utf-8")
    with pytest.raises(ExportError, match="is not empty and was not written by kb pages"):
        write_export({"x.md": b"x"}, tmp_path)
    assert (tmp_path / "notes.txt").read_text("utf-8") == "mine"
    out = tmp_path / "out"
    write_export({"a.md": b"a"}, out)
    (out / MANIFEST).write_text("../notes.txt\n", "utf-8")
    with pytest.raises(ExportError, match="outside"):
        write_export({"b.md": b"b"}, out)
    assert (tmp_path / "notes.txt").exists()


@pytest.mark.slow
@pytest.mark.parametrize("content", [ACTIVATION, PRINTING], ids=["activation", "printing"])
def test_mkdocs_builds_the_export_strictly_into_the_same_pages_as_the_plugin(
    tmp_path: Path, content: Path
) -> None:
    result = CliRunner().invoke(cli, ["pages", "--out", str(tmp_path / "pages"), "--content", str(content)])
    assert result.exit_code == 0, result.output
    built = subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "-q", "-f", str(tmp_path / "pages" / CONFIG_FILE), "-d", str(tmp_path / "site")],
        capture_output=True,
        text=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": str(BIN)},
        check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    plugin_site = build_set_site(tmp_path / "plugin-site", content)

    def published(site: Path) -> set[str]:
        # search/ is written after the pages, from them, by the search plugins; the rest comes from on_files.
        files = (p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
        return {path for path in files if not path.startswith("search/")}

    exported, generated = published(tmp_path / "site"), published(plugin_site)
    assert exported == generated, (
        "the plugin's site and the export's differ: a file the plugin generates in on_files must be written "
        f"by build_kb.site.export too; only the plugin's: {sorted(generated - exported)}, "
        f"only the export's: {sorted(exported - generated)}"
    )
    title = "<title>Error: 0xC004F050 when installing a product key with slmgr"
    if content == ACTIVATION:
        html = (tmp_path / "site" / "entries" / "ipk-0xc004f050-product-key-invalid.html").read_text("utf-8")
        assert title in html


def test_cli_reports_invalid_content_with_its_location_and_writes_nothing(tmp_path: Path) -> None:
    content = write_content(tmp_path / "c", [make_entry(title=3)])
    result = CliRunner().invoke(cli, ["pages", "--out", str(tmp_path / "out"), "--content", str(content)])
    assert result.exit_code == 1
    assert "prepare/sample-entry.yaml:2:8: title: Expected a string" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_cli_refuses_a_foreign_folder_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x", "utf-8")
    result = CliRunner().invoke(cli, ["pages", "--out", str(tmp_path), "--content", str(ACTIVATION)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {tmp_path.as_posix()} is not empty and was not written by kb pages; give a new or empty folder"
    ]


def test_cli_help_has_examples_and_the_option_is_required() -> None:
    runner = CliRunner()
    shown = runner.invoke(cli, ["pages", "--help"])
    assert shown.exit_code == 0 and "Examples:" in shown.output and "zensical build" in shown.output
    assert runner.invoke(cli, ["pages"]).exit_code == 2


def test_drafts_are_left_out_unless_asked_for(tmp_path: Path) -> None:
    content = write_content(
        tmp_path / "c", [make_entry("published"), make_entry("wip", title="WIP", codes=[], status="draft")]
    )
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["pages", "--out", str(tmp_path / "a"), "--content", str(content)]).exit_code == 0
    )
    assert (
        runner.invoke(
            cli, ["pages", "--out", str(tmp_path / "b"), "--content", str(content), "--drafts"]
        ).exit_code
        == 0
    )
    assert not (tmp_path / "a" / PAGES_DIR / "entries" / "wip.md").exists()
    assert "Draft" in (tmp_path / "b" / PAGES_DIR / "entries" / "wip.md").read_text("utf-8")


def test_titles_from_the_content_are_escaped_in_the_configuration(tmp_path: Path) -> None:
    from build_kb.content.validate import load_knowledge_base
    from tests.helpers import TAXONOMY

    taxonomy = {**TAXONOMY, "title": "Desk <b>A</b> & B"}
    hostile = make_entry("hostile", title="<script>alert(1)</script> & more")
    config = export_config(load_knowledge_base(write_content(tmp_path / "c", [hostile], taxonomy=taxonomy)))
    assert config["site_name"] == "Desk &lt;b&gt;A&lt;/b&gt; &amp; B"
    text = yaml.safe_dump(config["nav"])
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in text
