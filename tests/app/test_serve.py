"""`kb serve`: edits show in the preview, mistakes show as a problem page with file:line:col, fixes recover."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from build_kb.app.cli.main import cli
from build_kb.app.serve import site_path
from build_kb.site.preview import EVENTS_PATH, Preview, problem_page, with_reload
from tests.helpers import ACTIVATION

BIN = Path(sys.executable).parent
ENTRY = Path("install-key") / "ipk-0xc004f050-product-key-invalid.yaml"
PAGE = "entries/ipk-0xc004f050-product-key-invalid.html"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A copy of the activation set to edit."""
    return Path(shutil.copytree(ACTIVATION, tmp_path / "content"))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


SUMMARY = 'summary: "`slmgr /ipk` refuses the key'


@pytest.mark.parametrize(
    ("url", "expected"),
    [("/", "index.html"), ("/entries/x.html?h=y#a", "entries/x.html"), ("/phases/p/", "phases/p/index.html"),
     ("/a%20b.html", "a b.html"), ("/../../etc/passwd", "etc/passwd"), ("/a/../../b", "b")],
)  # fmt: skip
def test_request_paths_stay_inside_the_site(url: str, expected: str) -> None:
    assert site_path(url) == expected


def test_reload_script_goes_before_the_end_of_the_body() -> None:
    page = with_reload(b"<html><body><p>x</p></body></html>", 7)
    assert page.index(b"<script>") < page.index(b"</body>") and f"{EVENTS_PATH}?after=".encode() in page
    assert b"var seen = 7;" in page


# --- the preview's two steps, in process -----------------------------------------------------------------------
@pytest.fixture
def preview(content: Path, tmp_path: Path) -> Iterator[Preview]:
    shown = Preview(content, tmp_path / "work")
    shown.whole()
    yield shown


def _page(preview: Preview, uri: str = PAGE) -> str:
    served = preview.respond(uri)
    assert served is not None
    return served.body.decode("utf-8")


def test_an_edit_shows_at_once_and_the_whole_step_agrees(preview: Preview, content: Path) -> None:
    assert "refuses the key" in _page(preview)
    before = preview.version
    _edit(content / ENTRY, SUMMARY, 'summary: "EDITED `slmgr /ipk` refuses the key')
    update = preview.quick(content / ENTRY)
    assert (
        update is not None
        and update.step == "quick"
        and update.pages == ["entries/ipk-0xc004f050-product-key-invalid.md"]
    )
    assert preview.version > before and "EDITED" in _page(preview)
    quick_markdown = (
        preview.export_dir / "docs" / "entries" / "ipk-0xc004f050-product-key-invalid.md"
    ).read_bytes()
    whole = preview.whole()
    assert "entries/ipk-0xc004f050-product-key-invalid.md" not in whole.pages, "the quick step wrote it right"
    assert "phases/install-key/index.md" in whole.pages, (
        "the listing shows summaries: the whole step updates it"
    )
    assert (
        preview.export_dir / "docs" / "entries" / "ipk-0xc004f050-product-key-invalid.md"
    ).read_bytes() == quick_markdown
    assert "EDITED" in _page(preview, "phases/install-key/index.html")


def test_a_title_change_reads_the_navigation_again(preview: Preview, content: Path) -> None:
    _edit(content / ENTRY, '\ntitle: "', '\ntitle: "Renamed ')
    preview.quick(content / ENTRY)
    update = preview.whole()
    assert update.reloaded
    assert "Renamed" in _page(preview, "entries/gvlk-wrong-edition-key-invalid.html"), (
        "other pages' navigation"
    )


def test_a_mistake_shows_every_problem_and_the_fix_recovers(preview: Preview, content: Path) -> None:
    good = (content / ENTRY).read_text("utf-8")
    _edit(content / ENTRY, SUMMARY, "summary: [unclosed\n" + SUMMARY)
    quick = preview.quick(content / ENTRY)
    assert quick is not None and preview.failing
    page = _page(preview)
    assert "ipk-0xc004f050-product-key-invalid.yaml:" in page and "invalid YAML" in page
    assert _page(preview, "index.html") == page, "every page shows the problems"
    preview.whole()
    assert preview.failing and "no entry has the id" in _page(preview), "the whole step lists the others too"
    (content / ENTRY).write_text(good, "utf-8")
    preview.whole()
    assert not preview.failing and "refuses the key" in _page(preview)


def test_the_quick_step_makes_every_check_of_the_whole_step(preview: Preview, content: Path) -> None:
    """One file's problems are the same in both steps: markup, dictionary, governance and links included."""
    _edit(content / ENTRY, "\nphase: ", '\nreviewed: "2999-01-01"\nphase: ')
    _edit(
        content / ENTRY,
        "    name: SL_E_INVALID_PRODUCT_KEY",
        '    name: SL_E_INVALID_PRODUCT_KEY\n  - code: "0x8FFFFFF1"',
    )
    _edit(
        content / ENTRY, "was mistyped;", "was mistyped (see [the other](../entries/nowhere.md)) <b>or</b>;"
    )
    quick = preview.quick(content / ENTRY)
    assert quick is not None and quick.step == "quick" and preview.failing
    messages = " | ".join(p.message for p in quick.problems)
    for expected in ("no entry has the id 'nowhere'", "is in the future", "no such code", "raw HTML"):
        assert expected in messages
    whole = preview.whole()
    assert sorted(quick.problems) == [p for p in whole.problems if p.path == quick.problems[0].path]


def test_a_schema_mistake_has_its_line_and_column(preview: Preview, content: Path) -> None:
    _edit(content / ENTRY, "\ntitle: ", "\ntitle: 3\nformer_title: ")
    preview.quick(content / ENTRY)
    body = _page(preview)
    assert preview.failing and "ipk-0xc004f050-product-key-invalid.yaml:" in body
    lines = [p for p in preview.problems if p.severity == "error"]
    assert all(p.line > 0 and p.column > 0 for p in lines) and lines


def test_problem_page_escapes_what_it_shows(tmp_path: Path) -> None:
    from build_kb.core.errors import Problem

    page = problem_page([Problem("c/<x>.yaml", 2, 5, "title", "bad <script>")], tmp_path).decode("utf-8")
    assert "c/&lt;x&gt;.yaml:2:5" in page and "<script>" not in page


# --- the command, as a person runs it -------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return str(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        return str(error.read().decode("utf-8"))


def _until(check: Callable[[], bool], what: str, limit: float = 30.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        try:
            if check():
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{what} within {limit} s")


@pytest.mark.slow
def test_kb_serve_shows_an_edit_then_the_problems_then_the_fix(content: Path, tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}/"
    log = tmp_path / "serve.log"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [str(BIN / "kb"), "serve", "--content", str(content), "--port", str(port)], stderr=stderr, env=env
        )
    try:
        _until(lambda: "refuses the key" in _get(base + PAGE), "the preview serving the entry")
        assert "Volume activation knowledge base" in _get(base)
        good = (content / ENTRY).read_text("utf-8")
        _edit(content / ENTRY, SUMMARY, 'summary: "PREVIEWED `slmgr /ipk` refuses the key')
        _until(lambda: "PREVIEWED" in _get(base + PAGE), "the edit shown", limit=10)
        (content / ENTRY).write_text(good.replace("title: ", "title:\n  - [broken\n", 1), "utf-8")
        # The watcher may read the file half written and report that first; the page then settles on the
        # problem of the whole file.
        _until(lambda: "invalid YAML" in _get(base + PAGE) and "ipk-0xc004f050-product-key-invalid.yaml:" in _get(base + PAGE),
               "the problem page", limit=10)  # fmt: skip
        problems = _get(base + PAGE)
        assert "<code>" in problems and "invalid YAML" in problems
        (content / ENTRY).write_text(good, "utf-8")
        _until(lambda: "refuses the key" in _get(base + PAGE) and "problem" not in _get(base + PAGE),
               "the site back after the fix", limit=15)  # fmt: skip
    finally:
        process.terminate()
        process.wait(timeout=20)
    terminal = log.read_text("utf-8")
    assert "ipk-0xc004f050-product-key-invalid.yaml:" in terminal and "invalid YAML" in terminal
    assert "Traceback" not in terminal and "valid again" in terminal


def test_cli_port_in_use_is_one_clear_line(content: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--content", str(content), "--port", str(port)])
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith(f"Error: cannot listen on 127.0.0.1:{port}:") and "--port" in last
    assert "Traceback" not in result.output


def test_cli_missing_content_folder_and_help(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--content", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "content folder not found" in result.output
    shown = CliRunner().invoke(cli, ["serve", "--help"])
    assert shown.exit_code == 0 and "Examples:" in shown.output and "--port" in shown.output
    assert CliRunner().invoke(cli, ["serve", "--port", "x"]).exit_code == 2


def test_content_invalid_from_the_start_shows_problems_until_fixed(content: Path, tmp_path: Path) -> None:
    good = (content / ENTRY).read_text("utf-8")
    (content / ENTRY).write_text(good.replace("\nphase: install-key", "\nphase: nowhere", 1), "utf-8")
    shown = Preview(content, tmp_path / "work")
    shown.whole()
    assert shown.failing and "unknown phase" in _page(shown, "index.html")
    assert shown.quick(content / ENTRY) is None, "nothing valid to show yet: the whole step decides"
    (content / ENTRY).write_text(good, "utf-8")
    update = shown.whole()
    assert not shown.failing and not update.recovered and "refuses the key" in _page(shown)


def test_search_index_is_made_from_the_pages_and_follows_edits(preview: Preview, content: Path) -> None:
    import json

    served = preview.respond("search/search_index.json")
    assert served is not None and served.media_type == "application/json"
    index = json.loads(served.body)
    assert index["config"]["pipeline"] == [] and "0[xX]" in index["config"]["separator"]
    locations = {doc["location"] for doc in index["docs"]}
    assert PAGE in locations and "index.html" in locations
    assert not any(location.startswith("codes/") for location in locations), "search: exclude is honoured"
    entry = next(doc for doc in index["docs"] if doc["location"] == PAGE)
    assert (
        entry["title"] == "Error: 0xC004F050 when installing a product key with slmgr" and entry["boost"] == 2
    )
    _edit(content / ENTRY, SUMMARY, 'summary: "SEARCHABLE `slmgr /ipk` refuses the key')
    preview.quick(content / ENTRY)
    served = preview.respond("search/search_index.json")
    assert served is not None and "SEARCHABLE" in next(
        doc["text"] for doc in json.loads(served.body)["docs"] if doc["location"] == PAGE
    )
