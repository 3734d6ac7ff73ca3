"""Content from pull requests is hostile: what `kb check` refuses, and what every output shows as text.

- tests/data/hostile-rejected/ holds the tricks validation must refuse, each a located problem;
- tests/data/sets/hostile/ holds the tricks validation lets through (markup in titles, labels, messages,
  code spans), plus files planted in the content folder that must never be published;
- links, loops, pipes, unreadable files and NUL or ESC bytes get a located message from `kb check`,
  `kb build` and `kb lookup` alike, never a traceback.

The browser half (no script runs on any page, on load or on a click) is tests/site/test_hostile_browser.py.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from build_kb.app.build import BuildOptions, build_site, run_build
from build_kb.app.cli.main import cli
from build_kb.content.fingerprint import content_fingerprint, stat_signature
from build_kb.content.markup import RESERVED_NAMES, link_problem, prose_problems, title_problems
from build_kb.content.schemas import ecma_regex, load_schema
from build_kb.content.validate import check_content, load_knowledge_base
from build_kb.core.errors import Problem
from build_kb.site import markdown_text as md
from build_kb.site.render import front_matter
from build_kb.site.sanitize import clean_html
from tests.helpers import DATA, ROOT, SETS, make_entry, write_content
from tests.site_fixtures import project_config

HOSTILE = SETS / "hostile"
REJECTED = DATA / "hostile-rejected"
STAMP = datetime(2024, 1, 2, tzinfo=UTC)
LOCATED = re.compile(r"^(?:[^:\s]+|[A-Za-z]:[^:]+):\d+:\d+: [^:]+: .+$")
"""A problem line: file:line:col: field: message."""
SITE_EXTENSIONS = ["admonition", "attr_list", "md_in_html", "tables", "toc", "pymdownx.details"]


# --- what validation refuses ---------------------------------------------------------------------------------

REJECTED_PROBLEMS = [
    # (file, field, part of the message): one per trick.
    ("setup/web/image-with-handler.yaml", "summary", "attribute lists such as '{: onerror=alert('image') }'"),
    ("setup/web/image-with-handler.yaml", "summary", "images are not allowed in prose"),
    ("setup/web/script-links.yaml", "causes[0]", "link 'javascript:alert('inline')': a javascript: address"),
    ("setup/web/script-links.yaml", "causes[1]", "link 'javascript:alert('reference')'"),
    ("setup/web/script-links.yaml", "causes[2]", "link 'javascript:alert('autolink')'"),
    ("setup/web/script-links.yaml", "causes[3]", "link 'JaVaScRiPt:alert('case')': a javascript: address"),
    ("setup/web/script-links.yaml", "causes[4]", "link 'javascript:alert('entity')'"),
    ("setup/web/script-links.yaml", "causes[5]", "a data: address is not allowed"),
    ("setup/web/script-links.yaml", "causes[6]", "a vbscript: address is not allowed"),
    ("setup/web/script-links.yaml", "causes[7]", "an address starting with // leaves the site"),
    ("setup/web/script-links.yaml", "causes[8]", "link definition [unused]: 'javascript:alert('unused')'"),
    ("setup/web/script-links.yaml", "causes[9]", "(as the site reads it): a javascript: address"),
    ("setup/web/attribute-lists.yaml", "title", "attribute lists such as '{: onclick=alert('title') }'"),
    (
        "setup/web/attribute-lists.yaml",
        "causes[0]",
        "attribute lists such as '{: onmouseover=alert('block') }'",
    ),
    ("setup/web/attribute-lists.yaml", "causes[1]", "attribute lists such as '{: onclick=alert('inline') }'"),
    (
        "setup/web/attribute-lists.yaml",
        "actions[0].step",
        "'{#kb-codes .md-button onmouseover=alert('step')}'",
    ),
    ("daily/page-structure.yaml", "title", "must be one line"),
    ("daily/page-structure.yaml", "causes[0]", "a line starting with !!! makes a box"),
    ("daily/page-structure.yaml", "causes[1]", "[TOC] is not allowed in prose"),
    ("daily/page-structure.yaml", "causes[2]", "headings are not allowed in prose"),
    ("daily/page-structure.yaml", "causes[3]", "a --- (or ***) line is not allowed in prose"),
    ("daily/page-structure.yaml", "causes[4]", "a line starting with ??? makes a box"),
    ("daily/con.yaml", "id", "'con' is a name Windows reserves for a device"),
    ("daily/trailing-newline.yaml", "tags[0]", "'hostile\\n' is not a valid id"),
    ("daily/source-address.yaml", "source.url", "does not have the expected form"),
    ("daily/user-name.yaml", "source.url", "an address with a user name (user@host) is not allowed"),
    ("daily/user-name.yaml", "escalation.collect[0]", "raw HTML is not allowed"),
    ("references.yaml", "references[0].url", "does not have the expected form"),
    ("references.yaml", "references[1].url", "does not have the expected form"),
    ("references.yaml", "references[2].url", "does not have the expected form"),
    ("taxonomy.yaml", "description", "attribute lists such as '{: onclick=alert('description') }'"),
    ("taxonomy.yaml", "phases[0].summary", "a javascript: address is not allowed"),
    ("taxonomy.yaml", "phases[0].methods[0].title", "must be one line"),
    ("taxonomy.yaml", "phases[0].methods[1].id", "'lpt1' is a name Windows reserves"),
    ("taxonomy.yaml", "phases[1].summary", "raw HTML is not allowed"),
    ("taxonomy.yaml", "phases[2].id", "'aux' is a name Windows reserves"),
    (
        "taxonomy.yaml",
        "products[0].name",
        "attribute lists such as '{: .md-button onclick=alert('product') }'",
    ),
]


@pytest.fixture(scope="module")
def rejected() -> list[Problem]:
    kb, problems = check_content(REJECTED)
    assert kb is None
    return problems


@pytest.mark.parametrize(
    ("file", "field", "message"), REJECTED_PROBLEMS, ids=[f"{f}:{g}" for f, g, _ in REJECTED_PROBLEMS]
)
def test_validation_refuses_the_trick(rejected: list[Problem], file: str, field: str, message: str) -> None:
    shown = (REJECTED / file).relative_to(ROOT).as_posix()
    found = [p for p in rejected if p.path == shown and p.field == field]
    assert any(message in p.message and p.severity == "error" for p in found), (
        f"{shown}: {field}: no error with {message!r}; found {[str(p) for p in found]}"
    )


def test_an_entry_beside_taxonomy_yaml_is_a_warning(rejected: list[Problem]) -> None:
    shown = (REJECTED / "stray-entry.yaml").relative_to(ROOT).as_posix()
    (problem,) = [p for p in rejected if p.path == shown]
    assert problem.severity == "warning" and "belongs in its phase folder" in problem.message


def test_kb_check_reports_every_trick_located_without_a_traceback() -> None:
    result = CliRunner().invoke(cli, ["check", str(REJECTED)])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    problems = lines[:-1]
    assert len(problems) >= len(REJECTED_PROBLEMS)
    assert all(LOCATED.match(line) for line in problems), [
        line for line in problems if not LOCATED.match(line)
    ]
    assert "Traceback" not in result.output


# --- link schemes, attribute lists and page structure, one at a time ---------------------------------------


@pytest.mark.parametrize(
    "href",
    ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "java\tscript:alert(1)", " javascript:x", "\x01javascript:x",
     "data:text/html,x", "vbscript:x", "file:///etc/passwd", "//evil.example/", "\\\\evil.example\\x", "/\\evil"],
)  # fmt: skip
def test_unsafe_link_destinations(href: str) -> None:
    assert link_problem(href)


@pytest.mark.parametrize(
    "href", ["https://example.invalid/x", "http://x.example", "mailto:a@example.invalid", "other.md", "#anchor",
             "../entries/x.md#what-to-do", "x.md?y=1"],
)  # fmt: skip
def test_safe_link_destinations(href: str) -> None:
    assert link_problem(href) is None


@pytest.mark.parametrize(
    "text",
    [
        "Plain words, `{: onclick=x }` in code, **bold**, *em* and a [link](https://example.invalid/).",
        "An escaped brace \\{: onclick=x \\} and \\{x\\}.",
        "- a list\n- of items",
        "Typed entities &lt;script&gt; stay text.",
        "Braces around a GUID {4D36E972-E325-11CE-BFC1-08002BE10318} or a {word} set nothing.",
    ],
)
def test_prose_that_is_allowed(text: str) -> None:
    assert prose_problems(text) == []


@pytest.mark.parametrize(
    "title",
    ["Device class {4D36E972-E325-11CE-BFC1-08002BE10318} is missing", "<script>alert(1)</script> & co"],
)
def test_titles_that_are_allowed(title: str) -> None:
    assert title_problems(title) == []


def test_windows_reserved_names_are_all_there() -> None:
    assert {"con", "prn", "aux", "nul"} <= RESERVED_NAMES
    assert {f"com{n}" for n in range(1, 10)} | {f"lpt{n}" for n in range(1, 10)} <= RESERVED_NAMES


def test_kb_new_refuses_a_reserved_name(tmp_path: Path) -> None:
    root = write_content(tmp_path / "content", [make_entry()])
    result = CliRunner().invoke(cli, ["new", "--id", "nul", "--phase", "prepare", "--content", str(root)])
    assert result.exit_code != 0 and "reserves" in result.output
    assert not (root / "prepare" / "nul.yaml").exists()


def test_schema_patterns_match_the_whole_text() -> None:
    slug = ecma_regex("^[a-z0-9]+(-[a-z0-9]+)*$")
    assert slug.search("abc-1") and not slug.search("abc\n") and not slug.search("abc\n\n")
    assert ecma_regex(r"^a[$]\$$").search("a$$") and not ecma_regex(r"^a[$]\$$").search("a$$\n")


@pytest.mark.parametrize("field", ["id", "phase", "related", "applies_to"])
def test_an_id_with_a_trailing_newline_is_refused(tmp_path: Path, field: str) -> None:
    entry = make_entry("sample-entry", related=["other"])
    entry[field] = [f"{entry[field][0]}\n"] if isinstance(entry[field], list) else f"{entry[field]}\n"
    other = make_entry("other", title="Other entry")
    root = write_content(tmp_path / "content", [entry, other])
    kb, problems = check_content(root)
    assert kb is None
    assert any("is not a valid id" in p.message and "\\n" in p.message for p in problems), problems


def _arrays(schema: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(schema, dict):
        if schema.get("type") == "array":
            yield where, schema
        for key, value in schema.items():
            yield from _arrays(value, f"{where}/{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from _arrays(value, f"{where}/{index}")


@pytest.mark.parametrize("name", ["entry", "taxonomy", "references"])
def test_every_list_has_a_length_limit(name: str) -> None:
    unbounded = [where for where, array in _arrays(load_schema(name)) if "maxItems" not in array]
    assert unbounded == []


def test_a_huge_list_is_refused_by_the_schema(tmp_path: Path) -> None:
    root = write_content(tmp_path / "content", [make_entry()])
    path = root / "prepare" / "sample-entry.yaml"
    text = path.read_text("utf-8").replace(
        "causes:\n", "causes: [" + ",".join(["x"] * 100_000) + "]\nold_causes:\n"
    )
    path.write_text(text.replace("old_causes:\n- The prerequisite update is missing.\n", ""), "utf-8")
    kb, problems = check_content(root)
    assert kb is None
    assert [(p.field, p.message) for p in problems] == [
        ("causes", "the list has 100,000 items; at most 50 are allowed")
    ]


# --- the second line: what the renderer does with what got past validation -------------------------------


def _rendered(prose: str) -> str:
    import markdown

    return str(markdown.markdown(md.prose(prose), extensions=SITE_EXTENSIONS))


@pytest.mark.parametrize(
    ("prose", "forbidden"),
    [
        ('!!! danger "Boxed"\n    boom', "admonition"),
        ('??? note "Folded"\n    text', "<details"),
        ("- !!! danger in a list", "admonition"),
        ("[TOC]\n\n# Heading", 'class="toc"'),
        ("# Heading", "<h1"),
        ("- # Heading in a list", "<h1"),
        ("Setext\n===", "<h1"),
        ("Setext\n---", "<h2"),
        ("A rule\n\n---\n\nbelow", "<hr"),
        ("* * *", "<hr"),
        ("Hover {: onmouseover=alert(1) }", 'onmouseover="'),
        ("Hover\n{: onmouseover=alert(1) }", 'onmouseover="'),
        ("*em*{: onclick=alert(1) }", 'onclick="'),
        ("![p](data:,){: onerror=alert(1) }", 'onerror="'),
        ("Even escaped twice \\\\{: onclick=alert(1) }", 'onclick="'),
    ],
)
def test_prose_cannot_make_page_structure_or_attributes(prose: str, forbidden: str) -> None:
    assert forbidden not in _rendered(prose)


def test_prose_keeps_its_markdown() -> None:
    html = _rendered(
        "**Bold**, *em*, `{code}`, [a link](https://example.invalid/) and \\{braces\\}.\n\n- one\n- two"
    )
    assert "<strong>Bold</strong>" in html and "<em>em</em>" in html and "<code>{code}</code>" in html
    assert (
        '<a href="https://example.invalid/">a link</a>' in html and "{braces}" in html and "\\{" not in html
    )
    assert "<li>one</li>" in html


@pytest.mark.parametrize(
    "title", ["A\n---\ninjected: true", "--- dashes ---", 'Quotes " and \\ and \x1b', "a\u2028b"]
)
def test_a_title_cannot_end_the_front_matter(title: str) -> None:
    from mkdocs.utils.meta import get_data

    body, meta = get_data(front_matter(title) + "# Body\n")
    assert body == "# Body\n"
    assert set(meta) == {"title"}
    assert meta["title"] == title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@pytest.mark.parametrize(
    ("dirty", "gone"),
    [
        ('<img src="data:," onerror="alert(1)">', "onerror"),
        ('<img src="data:,">', "<img"),
        ('<a href="javascript:alert(1)">x</a>', "javascript"),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', "alert"),
        ('<a href="vbscript:x">x</a>', "vbscript"),
        ('<a href="data:text/html,x">x</a>', "data:"),
        ('<p onmouseover="alert(1)">x</p>', "onmouseover"),
        ("<script>alert(1)</script>", "alert"),
        ("<style>body{display:none}</style>", "display"),
        ('<iframe src="https://example.invalid/"></iframe>', "iframe"),
        ('<svg onload="alert(1)"></svg>', "onload"),
        ('<div data-md-component="dialog" style="position:fixed">x</div>', "data-md-component"),
        ('<form action="https://example.invalid/"><input formaction="javascript:alert(1)"></form>', "action"),
    ],
)
def test_the_sanitiser_drops_what_runs(dirty: str, gone: str) -> None:
    assert gone not in clean_html(dirty)


def test_the_sanitiser_keeps_what_the_pages_use() -> None:
    page = (
        '<h2 id="what-to-do">What to do<a class="headerlink" href="#what-to-do" title="Permanent link">¶</a></h2>\n'
        '<div class="admonition quote">\n<p class="admonition-title">Terminal</p>\n'
        '<div class="highlight"><pre><span></span><code><span class="nb">echo</span> x\n</code></pre></div>\n</div>\n'
        '<details class="note" open=""><summary>More</summary><p>x</p></details>\n'
        "<table>\n<thead>\n<tr>\n<th>Notation</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td><code>0x1</code><br>x</td>\n"
        "</tr>\n</tbody>\n</table>\n"
        '<p><a href="../entries/x.html#a">x</a> <a href="https://example.invalid/">y</a> <a href="mailto:a@b.c">z</a></p>\n'
        '<p class="kb-attribution" data-search-exclude="">notice</p>\n'
        '<div class="grid cards kb-flow">\n<ul>\n<li><p><strong>1.</strong></p></li>\n</ul>\n</div>\n'
        '<form class="kb-lookup" data-kb-lookup="" role="search">\n<label for="kb-lookup-input">Look up</label>\n'
        '<input id="kb-lookup-input" name="code" autocomplete="off" spellcheck="false" placeholder="0x1">\n'
        '<button type="submit">Look up</button>\n<output class="kb-lookup-result" aria-live="polite"></output>\n'
        "</form>"
    )  # fmt: skip
    assert clean_html(page) == page


# --- the hostile set: allowed, built, and shown as text ----------------------------------------------------


def test_the_hostile_set_is_valid_strictly() -> None:
    kb = load_knowledge_base(HOSTILE, strict=True)
    assert {e.id for e in kb.entries} == {"script-in-every-field", "other-entry"}


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attributes: list[tuple[str, str, str]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def _site_pages(site: Path) -> list[Path]:
    return [p for p in site.rglob("*.html") if "assets" not in p.relative_to(site).parts]


def _build_hostile(target: Path, content: Path = HOSTILE, kb: Any = None) -> Path:
    """The site of `content` with a team's mkdocs.yml whose docs_dir is the content folder."""
    config = project_config(target.parent / f"{target.name}-project", content)
    build_site(BuildOptions(content_root=content, config_file=config), target, STAMP, kb)
    return target


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build_hostile(tmp_path_factory.mktemp("hostile") / "site")


def test_no_page_carries_a_handler_a_script_url_or_a_script_from_content(hostile_site: Path) -> None:
    for page in _site_pages(hostile_site):
        parser = _Elements()
        parser.feed(page.read_text("utf-8"))
        where = page.relative_to(hostile_site).as_posix()
        handlers = [(t, n) for t, n, _ in parser.attributes if n.startswith("on")]
        assert handlers == [], where
        urls = [(t, n, v) for t, n, v in parser.attributes if n in ("href", "src", "action", "formaction")]
        assert [u for u in urls if link_problem(u[2]) and not u[2].startswith("data:image/svg")] == [], where
        assert not [t for t, _, _ in parser.attributes if t in ("iframe", "object", "embed", "img")], where
        assert not [s for s in parser.scripts if "alert(" in s], where


def test_theme_fields_are_escaped(hostile_site: Path) -> None:
    """The site name, description and section titles, which the theme prints unescaped, arrive escaped."""
    home = (hostile_site / "index.html").read_text("utf-8")
    assert "<script>alert('site name')" not in home and "&lt;script&gt;alert(&#x27;site name&#x27;)" in home
    assert "<script>alert('description')" not in home
    assert 'content="A set whose every field tries to run a script: `&quot;&gt;&lt;script&gt;' in home
    assert "<img src=x onerror=alert(1)>" not in home and "Set&lt;img src=x onerror=alert(1)&gt;" in home
    assert "Hostile &lt;script&gt;alert(&#x27;site name&#x27;)&lt;/script&gt; &quot;KB&quot; &amp; co" in home
    assert "&amp;lt;script&amp;gt;alert(&amp;#x27;site name" not in home  # escaped once, not twice


def test_files_planted_in_the_content_folder_are_not_published(hostile_site: Path) -> None:
    published = {p.relative_to(hostile_site).as_posix() for p in hostile_site.rglob("*") if p.is_file()}
    assert not {"planted/evil.html", "planted/notes.txt", "index.md"} & published
    assert not [p for p in published if p.endswith((".yaml", ".yml", ".md"))]
    assert "Planted home page" not in (hostile_site / "index.html").read_text("utf-8")


def test_a_link_in_the_content_folder_is_not_followed_into_the_site(tmp_path: Path) -> None:
    """Even when the content was validated elsewhere: MkDocs walks docs_dir and would copy what links point to."""
    content = tmp_path / "content"
    shutil.copytree(HOSTILE, content)
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:secret\n", "utf-8")
    (content / "planted" / "passwd").symlink_to(secret)
    kb = load_knowledge_base(HOSTILE, strict=True)
    site = _build_hostile(tmp_path / "site", content, kb)
    assert not (site / "planted").exists()
    assert not [p for p in site.rglob("*") if p.is_file() and b"root:x:0:0" in p.read_bytes()]


@pytest.mark.slow
def test_the_offline_zip_holds_no_content_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = project_config(tmp_path / "project", HOSTILE)
    options = BuildOptions(
        content_root=HOSTILE, site_dir=tmp_path / "site", dist_dir=tmp_path / "dist", config_file=config
    )
    summary = run_build(options)
    with zipfile.ZipFile(summary.outputs["bundle"]) as archive:
        names = archive.namelist()
        assert not [n for n in names if n.endswith(("evil.html", "notes.txt", ".yaml", ".md"))]
        home = archive.read(next(n for n in names if n.endswith("/site/index.html"))).decode("utf-8")
    assert "Planted home page" not in home and "<script>alert('site name')" not in home


# --- files that are not plain files: a located message from check, build and lookup -----------------------


def _in_copy(tmp_path: Path, change: Callable[[Path], None]) -> Path:
    content = tmp_path / "content"
    shutil.copytree(HOSTILE, content)
    change(content)
    return content


def _folder_loop(content: Path) -> None:
    (content / "daily" / "loop").symlink_to(".", target_is_directory=True)


def _file_loop(content: Path) -> None:
    (content / "daily" / "self.yaml").symlink_to("self.yaml")


def _outside_link(content: Path) -> None:
    (content / "daily" / "passwd.yaml").symlink_to("/etc/passwd")


def _linked_taxonomy(content: Path) -> None:
    target = content.parent / "taxonomy-elsewhere.yaml"
    (content / "taxonomy.yaml").rename(target)
    (content / "taxonomy.yaml").symlink_to(target)


def _nul_byte(content: Path) -> None:
    path = content / "daily" / "other-entry.yaml"
    path.write_bytes(path.read_bytes().replace(b"summary: ", b"summary: \x00", 1))


def _esc_byte(content: Path) -> None:
    path = content / "daily" / "other-entry.yaml"
    path.write_bytes(path.read_bytes().replace(b"title: ", b"title: \x1b[2J", 1))


def _pipe(content: Path) -> None:
    os.mkfifo(content / "daily" / "pipe.yaml")


FILE_CASES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    # case: (how, file the problem names, part of the message)
    "folder link loop": (_folder_loop, "daily/loop", "symbolic links are not allowed"),
    "file link loop": (_file_loop, "daily/self.yaml", "symbolic links are not allowed"),
    "link to /etc/passwd": (_outside_link, "daily/passwd.yaml", "symbolic links are not allowed"),
    "linked taxonomy": (_linked_taxonomy, "taxonomy.yaml", "symbolic links are not allowed"),
    "NUL byte": (_nul_byte, "daily/other-entry.yaml", "NUL (U+0000) is not allowed in a YAML file"),
    "ESC byte": (_esc_byte, "daily/other-entry.yaml", "ESC (U+001B) is not allowed in a YAML file"),
    "named pipe": (_pipe, "daily/pipe.yaml", "not a regular file"),
}


def _kb(arguments: list[str]) -> Any:
    return CliRunner().invoke(cli, arguments)


def _assert_located(result: Any, content: Path, file: str, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, OSError | RuntimeError)
    shown = (content / file).relative_to(Path.cwd()).as_posix()
    located = [line for line in result.output.splitlines() if shown in line and message in line]
    assert located, result.output
    assert re.search(rf"{re.escape(shown)}:\d+:\d+: \S+: ", located[0]), located[0]


@pytest.fixture(params=sorted(FILE_CASES))
def bad_content(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, str, str]:
    if request.param == "named pipe" and not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    change, file, message = FILE_CASES[request.param]
    monkeypatch.chdir(tmp_path)  # nothing is written in the repository; messages show paths relative to here
    return _in_copy(tmp_path / "case", change), file, message


def test_kb_check_names_the_file(bad_content: tuple[Path, str, str]) -> None:
    content, file, message = bad_content
    _assert_located(_kb(["check", str(content)]), content, file, message)


def test_kb_build_names_the_file(bad_content: tuple[Path, str, str], tmp_path: Path) -> None:
    content, file, message = bad_content
    result = _kb(
        [
            "build",
            "--content",
            str(content),
            "--site-dir",
            str(tmp_path / "s"),
            "--dist-dir",
            str(tmp_path / "d"),
        ]
    )
    _assert_located(result, content, file, message)
    assert not (tmp_path / "s").exists()


def test_kb_lookup_names_the_file(bad_content: tuple[Path, str, str], tmp_path: Path) -> None:
    content, file, message = bad_content
    result = _kb(["lookup", "0x80070005", "--content", str(content), "--index", str(tmp_path / "index")])
    _assert_located(result, content, file, message)


def _unreadable(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Reading `path` fails with EIO, as a failing disk does (root reads any file whatever its mode)."""
    real_open, real_read_bytes = os.open, Path.read_bytes
    target = str(path)

    def failing_open(file: Any, *args: Any, **kwargs: Any) -> int:
        if str(file) == target:
            raise OSError(errno.EIO, os.strerror(errno.EIO), target)
        return real_open(file, *args, **kwargs)

    def failing_read_bytes(self: Path) -> bytes:
        if str(self) == target:
            raise OSError(errno.EIO, os.strerror(errno.EIO), target)
        return real_read_bytes(self)

    monkeypatch.setattr(os, "open", failing_open)
    monkeypatch.setattr(Path, "read_bytes", failing_read_bytes)


@pytest.mark.parametrize("command", ["check", "build", "lookup"])
def test_an_unreadable_file_is_named_by_every_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.chdir(tmp_path)
    content = _in_copy(tmp_path / "case", lambda _: None)
    _unreadable(monkeypatch, content / "daily" / "other-entry.yaml")
    arguments = {
        "check": ["check", str(content)],
        "build": ["build", "--content", str(content), "--site-dir", str(tmp_path / "s"), "--dist-dir", str(tmp_path / "d")],
        "lookup": ["lookup", "0x80070005", "--content", str(content), "--index", str(tmp_path / "index")],
    }[command]  # fmt: skip
    _assert_located(_kb(arguments), content, "daily/other-entry.yaml", "cannot read: Input/output error")


def test_the_fingerprints_follow_no_link(tmp_path: Path) -> None:
    content = _in_copy(tmp_path / "case", lambda _: None)
    before = (stat_signature(content), content_fingerprint(content))
    _folder_loop(content)
    _file_loop(content)
    (content / "daily" / "dangling.yaml").symlink_to(tmp_path / "nowhere")
    after = (stat_signature(content), content_fingerprint(content))
    assert after[0] != before[0] and after[1] != before[1]


def test_a_control_character_in_a_file_name_does_not_reach_the_terminal(tmp_path: Path) -> None:
    content = _in_copy(tmp_path / "case", lambda _: None)
    shutil.copy(content / "daily" / "other-entry.yaml", content / "daily" / "evil\x1b[2J.yaml")
    result = CliRunner().invoke(cli, ["check", str(content)], color=True)
    assert result.exit_code == 1
    assert "\x1b[2J" not in result.output and "evil" in result.output
