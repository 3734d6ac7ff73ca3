"""The PDF runbook (`build_kb.pdf.runbook`): structure, page numbers, code notations, reproducibility, escaping."""

from __future__ import annotations

import hashlib
import re
import string
import subprocess
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from build_kb.content.validate import load_knowledge_base
from build_kb.core.codes import Code
from build_kb.core.errors import BuildError
from build_kb.core.model import KnowledgeBase
from build_kb.pdf import parts, runbook
from build_kb.pdf.runbook import RunbookInfo, build_runbook, runbook_data, runbook_source
from build_kb.site import markdown_text as md
from tests.helpers import TAXONOMY, make_entry, synthetic_entries, write_content

pytestmark = pytest.mark.slow

BUILD_DATE = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PART_UNITS = 4
"""Entry pages per part in the `parted` runbook: several parts, and chapters and the index cut between them."""
VERSION = "1.2.3+test"


@dataclass
class Built:
    kb: KnowledgeBase
    info: RunbookInfo
    pages: list[str]
    """pdftotext -raw of each page; index 0 is page 1."""

    def start_page(self, title: str) -> int:
        """The first page whose running header (its first line) begins with `title`, found from the text alone."""
        found = [n for n, text in enumerate(self.pages, start=1) if text.lstrip().startswith(title)]
        assert found, f"no page has the header {title!r}"
        return found[0]

    def entry_text(self, entry_id: str) -> str:
        """The text of an entry's pages, lines joined with spaces (pdftotext breaks long lines)."""
        start = self.info.entry_pages[entry_id]
        title = self.kb.by_id[entry_id].title
        end = start
        while end < len(self.pages) and self.pages[end].lstrip().startswith(title):
            end += 1
        return " ".join(" ".join(self.pages[start - 1 : end]).split())


def pdf_pages(path: Path) -> list[str]:
    # -raw keeps the content order and the spaces; the default layout mode drops spaces around a hyphen.
    text = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1]


def build(kb: KnowledgeBase, path: Path, **kwargs: Any) -> Built:
    info = build_runbook(kb, path, build_date=kwargs.pop("build_date", BUILD_DATE), version=VERSION, **kwargs)
    return Built(kb, info, pdf_pages(path))


def _entries() -> list[dict[str, Any]]:
    entries = synthetic_entries(14)
    # A code carried by two entries, so the index must list two pages for it.
    entries[7]["codes"].append({"code": entries[4]["codes"][0]["code"]})
    # A long entry, so the running header must repeat on its second page.
    entries[5]["actions"] = [
        {"step": f"Step {n}: " + "check the service and the network. " * 6} for n in range(40)
    ]
    return entries


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Synthetic content made for the runbook: a code two entries carry, an entry longer than a page."""
    folder = tmp_path_factory.mktemp("runbook")
    kb = load_knowledge_base(write_content(folder / "content", _entries()))
    return build(kb, folder / "runbook.pdf")


@pytest.fixture(scope="module")
def parted(tmp_path_factory: pytest.TempPathFactory, built: Built) -> Built:
    """The same content typeset in parts of at most 4 entry pages, each by a Typst process of its own."""
    folder = tmp_path_factory.mktemp("runbook-parts")
    return build(built.kb, folder / "runbook.pdf", part_units=PART_UNITS, workers=2)


@pytest.fixture(scope="module")
def sliced(tmp_path_factory: pytest.TempPathFactory, built: Built) -> Built:
    """Every block a part of its own: the error-code index is cut into runs of a few codes, one per part."""
    folder = tmp_path_factory.mktemp("runbook-sliced")
    return build(built.kb, folder / "runbook.pdf", part_units=1, workers=2)


@pytest.fixture(params=["built", "parted", "sliced"], ids=["one-document", "in-parts", "block-by-block"])
def synthetic(request: pytest.FixtureRequest) -> Built:
    """The synthetic runbook typeset as one document and in parts: both must be the same runbook."""
    runbook: Built = request.getfixturevalue(request.param)
    return runbook


@pytest.fixture(scope="module")
def activation_runbook(tmp_path_factory: pytest.TempPathFactory, activation_kb: KnowledgeBase) -> Built:
    return build(activation_kb, tmp_path_factory.mktemp("activation-runbook") / "runbook.pdf")


@pytest.fixture(scope="module")
def printing_runbook(tmp_path_factory: pytest.TempPathFactory, printing_kb: KnowledgeBase) -> Built:
    return build(printing_kb, tmp_path_factory.mktemp("printing-runbook") / "runbook.pdf")


@pytest.fixture(
    params=["built", "parted", "sliced", "activation_runbook", "printing_runbook"],
    ids=["synthetic", "synthetic-in-parts", "synthetic-block-by-block", "activation", "printing"],
)
def each(request: pytest.FixtureRequest) -> Built:
    """The synthetic runbook (as one document and in parts) and the runbooks of both fixture sets."""
    runbook: Built = request.getfixturevalue(request.param)
    return runbook


def _page_number(reader: PdfReader, destination: Any) -> int:
    """The 1-based page a bookmark or named destination points to."""
    index = reader.get_destination_page_number(destination)
    assert index is not None
    return index + 1


def _flatten(outline: list[Any]) -> list[Any]:
    items = []
    for item in outline:
        items.extend(_flatten(item) if isinstance(item, list) else [item])
    return items


def test_outline_has_every_phase_method_and_entry(each: Built) -> None:
    """Bookmarks: one per phase, method and entry, each pointing at the page the entry starts on."""
    reader = PdfReader(each.info.path)
    items = {item.title: _page_number(reader, item) for item in _flatten(reader.outline)}
    for phase in each.kb.taxonomy.phases:
        assert phase.title in items
        for method in phase.methods:
            assert method.title in items
    for entry in each.kb.entries:
        assert items[entry.title] == each.start_page(entry.title) == each.info.entry_pages[entry.id]
    assert "Error-code index" in items


def test_phases_in_taxonomy_order_each_entry_on_its_own_page(synthetic: Built) -> None:
    reader = PdfReader(synthetic.info.path)
    top = [item.title for item in reader.outline if not isinstance(item, list)]
    assert top == [p["title"] for p in TAXONOMY["phases"]] + ["Error-code index"]
    starts = [synthetic.info.entry_pages[e.id] for e in synthetic.kb.entries]
    assert starts == sorted(starts)
    assert len(set(starts)) == len(starts)


def test_info_matches_the_pdf(each: Built) -> None:
    assert each.info.pages == len(PdfReader(each.info.path).pages) == len(each.pages)
    assert each.info.size == each.info.path.stat().st_size
    assert each.info.warnings == ()
    assert set(each.info.entry_pages) == {e.id for e in each.kb.entries}


def test_every_code_in_every_notation_on_its_entry_page(each: Built) -> None:
    """pdftotext finds each code as hex, bare hex, signed, unsigned, Win32 forms and names where it is listed."""
    for entry in each.kb.entries:
        text = each.entry_text(entry.id)
        for ref in entry.codes:
            code = Code(ref.value)
            # notations() also lists the lower-case hex, which is only a way of typing the same thing
            expected = [n for n in code.notations() if n != code.hex.lower()] + list(ref.names)
            if code.win32 is not None:
                assert f"HRESULT_FROM_WIN32({code.win32})" in expected
            for notation in expected:
                assert notation in text, f"{notation} missing from {entry.id}"


def test_cover(each: Built) -> None:
    cover = " ".join(each.pages[0].split())
    assert each.kb.taxonomy.title in cover
    assert "Build date 2026-11-25" in cover.replace("BUILD DATE", "Build date")
    assert VERSION in cover
    for product in each.kb.taxonomy.products:
        assert product.name in cover
    assert "Page 1 of" not in cover


def test_footer_page_x_of_y_and_running_header(synthetic: Built) -> None:
    total = len(synthetic.pages)
    for number, text in enumerate(synthetic.pages[1:], start=2):
        assert f"Page {number} of {total}" in text
    long_entry = synthetic.kb.by_id["entry-00005"]
    start = synthetic.info.entry_pages[long_entry.id]
    # the second page of a long entry carries its title in the header; the page before the start does not
    assert synthetic.pages[start].lstrip().startswith(long_entry.title)
    assert not synthetic.pages[start - 2].lstrip().startswith(long_entry.title)


def _toc(built: Built) -> dict[str, int]:
    """Title -> printed page number, read from the text of the contents pages (wrapped titles joined back)."""
    lines = [
        line
        for text in built.pages
        if text.lstrip().startswith("Contents")
        for line in text.splitlines()
        if not line.startswith(("Contents", "Page ", built.kb.taxonomy.title))
    ]
    contents = " ".join(
        " ".join(lines).replace("\u2060", " ").split()
    )  # Typst joins the page number with U+2060
    titles = [entry.title for entry in built.kb.entries] + [p.title for p in built.kb.taxonomy.phases]
    found: dict[str, int] = {}
    for title in titles:
        match = re.search(re.escape(" ".join(title.split())) + r" (\d+)(?: |$)", contents)
        if match:
            found[title] = int(match[1])
    return found


def test_table_of_contents_page_numbers_match_entry_start_pages(each: Built) -> None:
    toc = _toc(each)
    for entry in each.kb.entries:
        assert toc[entry.title] == each.start_page(entry.title), entry.title
    for phase in each.kb.taxonomy.phases:
        assert phase.title in toc


def test_code_index_lists_every_code_with_its_entry_pages(each: Built) -> None:
    """Each index row: hex, signed, unsigned, Win32 forms, then the start pages of the entries carrying it."""
    index_text = "\n".join(t for t in each.pages if t.lstrip().startswith("Error-code index"))
    assert each.kb.entries_by_code
    for value, entries in each.kb.entries_by_code.items():
        code = Code(value)
        row = f"{code.hex} {code.signed} {code.unsigned} "
        row += f"HRESULT_FROM_WIN32({code.win32}) {code.win32} " if code.win32 is not None else "— "
        match = re.search(re.escape(row) + r"(\d+(?:, \d+)*)\n(.*)", index_text)
        assert match, f"no index row for {code.hex}"
        pages = [int(p) for p in match[1].split(", ")]
        assert pages == [each.start_page(e.title) for e in entries]
        for name in {n for ref in each.kb.code_refs(value) for n in ref.names}:
            assert name in match[2]


def test_the_synthetic_content_has_a_code_carried_by_two_entries(built: Built) -> None:
    shared = [v for v, entries in built.kb.entries_by_code.items() if len(entries) == 2]
    assert shared, "the fixture should have a code carried by two entries"


def test_see_references_print_the_right_page(each: Built) -> None:
    checked = 0
    for entry in each.kb.entries:
        text = each.entry_text(entry.id)
        for related_id in entry.related:
            target = each.kb.by_id[related_id]
            match = re.search(re.escape(f"See {target.title}, p. ") + r"(\d+)", text)
            assert match, f"{entry.id} does not point to {related_id}"
            assert int(match[1]) == each.start_page(target.title)
            checked += 1
    assert checked == sum(len(entry.related) for entry in each.kb.entries) > 0


def _internal_links(reader: PdfReader, page_number: int) -> list[tuple[str, int]]:
    """(destination name, target page) of every internal link on a page."""
    links = []
    for annotation in reader.pages[page_number - 1].get("/Annots") or []:
        name = annotation.get_object().get("/Dest")
        if name is not None:
            links.append((str(name), _page_number(reader, reader.named_destinations[str(name)])))
    return links


def test_cross_references_and_index_pages_are_links_to_the_entries(synthetic: Built) -> None:
    """The "see" title and its page number, and each page number in the index, jump to the entry."""
    reader = PdfReader(synthetic.info.path)
    entry = synthetic.kb.by_id["entry-00002"]
    target = entry.related[0]
    links = _internal_links(reader, synthetic.info.entry_pages[entry.id])
    assert links.count((f"entry-{target}", synthetic.info.entry_pages[target])) == 2
    index_pages = [
        n for n, t in enumerate(synthetic.pages, start=1) if t.lstrip().startswith("Error-code index")
    ]
    index_links = {link for page in index_pages for link in _internal_links(reader, page)}
    assert index_links == {(f"entry-{e.id}", synthetic.info.entry_pages[e.id]) for e in synthetic.kb.entries}


def test_contents_and_chapter_pages_link_every_entry(synthetic: Built) -> None:
    """Each line of the contents and of a chapter page is a link to its target, title and page number alike."""
    reader = PdfReader(synthetic.info.path)
    expected = {(f"entry-{e.id}", synthetic.info.entry_pages[e.id]) for e in synthetic.kb.entries}
    contents = [n for n, t in enumerate(synthetic.pages, start=1) if t.lstrip().startswith("Contents")]
    assert contents == [2]
    assert expected <= set(_internal_links(reader, 2))
    chapters = [synthetic.start_page(phase["title"]) for phase in TAXONOMY["phases"]]
    assert expected <= {link for page in chapters for link in _internal_links(reader, page)}
    # no address is left that only the build understands
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            assert action is None or not str(action.get("/URI", "")).startswith("kb-runbook-target:")


def test_parts_make_the_same_runbook_as_one_document(built: Built, parted: Built) -> None:
    """Typeset in parts and joined, the runbook reads page for page as the one typeset as one document."""
    assert parted.info.parts > 1 and built.info.parts == 1
    assert parted.info.rounds >= 2
    assert (built.info.tagged, parted.info.tagged) == (True, False)
    assert parted.info.pages == built.info.pages
    assert parted.info.entry_pages == built.info.entry_pages
    assert parted.pages == built.pages
    joined, whole = PdfReader(parted.info.path), PdfReader(built.info.path)
    assert joined.metadata is not None and whole.metadata is not None
    assert (joined.metadata.title, joined.metadata.creation_date) == (
        whole.metadata.title,
        whole.metadata.creation_date,
    )
    assert str(joined.root_object["/Lang"]) == "en"


def test_an_index_cut_into_runs_keeps_one_heading_and_repeats_the_table_header(sliced: Built) -> None:
    index_pages = [t for t in sliced.pages if t.lstrip().startswith("Error-code index")]
    assert len(index_pages) > 1
    assert sum(t.count("Every error code in this runbook") for t in index_pages) == 1
    assert all("HEX SIGNED UNSIGNED WIN32 PAGES" in " ".join(t.split()) for t in index_pages)
    assert PdfReader(sliced.info.path).named_destinations["code-index"] is not None


def test_two_builds_in_parts_are_byte_identical(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_content(tmp_path / "content", synthetic_entries(6)))
    first, second = (
        build_runbook(kb, tmp_path / name, build_date=BUILD_DATE, version=VERSION, part_units=2, workers=2)
        for name in ("a.pdf", "b.pdf")
    )
    assert first.parts > 1
    assert first.path.read_bytes() == second.path.read_bytes()
    # one worker or two: the parts are the same documents, so the file is the same
    alone = build_runbook(
        kb, tmp_path / "c.pdf", build_date=BUILD_DATE, version=VERSION, part_units=2, workers=1
    )
    assert alone.path.read_bytes() == first.path.read_bytes()


def test_a_set_without_codes_in_some_entries_indexes_only_the_others(printing_runbook: Built) -> None:
    """The printing set: entries without codes are in the contents, the outline and the text, not the index."""
    reader = PdfReader(printing_runbook.info.path)
    index_pages = [
        n for n, t in enumerate(printing_runbook.pages, start=1) if t.lstrip().startswith("Error-code index")
    ]
    index_links = {link for page in index_pages for link in _internal_links(reader, page)}
    carriers = {e.id for entries in printing_runbook.kb.entries_by_code.values() for e in entries}
    assert carriers and carriers < {e.id for e in printing_runbook.kb.entries}
    assert {target for target, _ in index_links} == {f"entry-{entry_id}" for entry_id in carriers}
    # Non-ASCII titles come through whole: guillemets, typographic apostrophes, umlauts, en dashes.
    text = printing_runbook.entry_text("lpadmin-forbidden")
    assert "« lpadmin: Forbidden » beim Hinzufügen eines Druckers" in text
    assert "Connexion à l’imprimante impossible – erreur 0x000006BA" in printing_runbook.entry_text(
        "spooler-0x000006ba-rpc-unavailable"
    )


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_content(tmp_path / "content", synthetic_entries(4)))
    first = build_runbook(kb, tmp_path / "a.pdf", build_date=BUILD_DATE, version=VERSION)
    second = build_runbook(kb, tmp_path / "b.pdf", build_date=BUILD_DATE, version=VERSION)
    digest = [hashlib.sha256(i.path.read_bytes()).hexdigest() for i in (first, second)]
    assert digest[0] == digest[1]
    # a naive date is taken as UTC, and another time zone for the same instant changes nothing
    naive = build_runbook(kb, tmp_path / "c.pdf", build_date=BUILD_DATE.replace(tzinfo=None), version=VERSION)
    shifted = BUILD_DATE.astimezone(timezone(timedelta(hours=5)))
    zoned = build_runbook(kb, tmp_path / "d.pdf", build_date=shifted, version=VERSION)
    assert naive.path.read_bytes() == zoned.path.read_bytes() == first.path.read_bytes()
    later = build_runbook(kb, tmp_path / "e.pdf", build_date=BUILD_DATE + timedelta(days=1), version=VERSION)
    assert later.path.read_bytes() != first.path.read_bytes()


TORTURE = [
    "\\ # $ * _ ` < > @ [ ] ~ / = - + 1.",
    "<script>alert('x')</script>",
    "// not a comment",
    "/* not a comment */",
    "= not a heading",
    "#set text(fill: red)",
    "$x^2$ is not math",
    "- not a list",
    "+ not a numbered list",
    "1. not a numbered list",
    "C:\\Windows\\Logs\\CBS\\CBS.log",
    "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\SoftwareProtectionPlatform",
    "\\\\server\\share\\esu.msu",
    "slmgr /ato <Activation ID>",
    '@label <label> #label("x") #{ 1 + 1 }',
    "\"double\" and 'single' quotes -- --- ...",
    "Ünïcødé € ß æ ø Ελληνικά Кириллица “curly” — ✓",
    "%windir%\\System32\\slmgr.vbs /dlv {braces} (parens) a|b",
]


def _literal(text: str) -> str:
    """Markdown showing exactly `text`: CommonMark lets a backslash escape any ASCII punctuation."""
    return "".join(f"\\{c}" if c in string.punctuation else c for c in text)


def _torture_kb(root: Path) -> KnowledgeBase:
    nasty = [
        make_entry(
            f"nasty-{n:02d}",
            title=f"Title {s}",
            summary=_literal(s),
            messages=[{"text": f"{s}\nsecond line of {n}", "where": "slmgr"}],
            log_patterns=[{"pattern": s, "log": "cbs-log"}],
            causes=[_literal(s), f"In code: {md.code_span(s)}"],
            actions=[{"step": f"Type {md.code_span(s)} exactly.", "command": s, "shell": "cmd"}],
            escalation={"contact": s, "collect": [md.code_span(s)], "note": _literal(s)},
            corrections=[{"source_says": s, "correct": s, "why": _literal(s)}],
            source={"document": "KB0000001", "section": s},
        )
        for n, s in enumerate(TORTURE)
    ]
    return load_knowledge_base(write_content(root, nasty))


@pytest.mark.parametrize("part_units", [PART_UNITS, None], ids=["in-parts", "one-document"])
def test_torture_strings_round_trip(tmp_path: Path, part_units: int | None) -> None:
    """Strings full of Typst and Markdown syntax print exactly as written, in every kind of field."""
    options = {} if part_units is None else {"part_units": part_units}
    built = build(_torture_kb(tmp_path / "content"), tmp_path / "nasty.pdf", **options)
    assert (built.info.parts > 1) == (part_units is not None)
    bookmarks = {item.title for item in _flatten(PdfReader(built.info.path).outline)}
    assert {f"Title {nasty}" for nasty in TORTURE} <= bookmarks
    for n, nasty in enumerate(TORTURE):
        entry_id = f"nasty-{n:02d}"
        start = built.info.entry_pages[entry_id]
        # header, heading, summary, message, log pattern, two causes, step, command, collect, contact, note,
        # source says, correct, why and source section: 16 places, each showing the string whole (lines
        # joined, since a long string may wrap at one of its spaces)
        assert built.entry_text(entry_id).count(nasty) == 16, nasty
        assert (
            f"second line of {n}" in built.pages[start - 1].splitlines()
        )  # the message keeps its line break


def test_typst_failure_is_a_build_error_and_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = load_knowledge_base(write_content(tmp_path / "content", [make_entry()]))
    output = tmp_path / "runbook.pdf"
    output.write_bytes(b"previous")
    monkeypatch.setattr(runbook, "_document_source", lambda *args: '#let x = (\n#panic("broken template")\n')
    with pytest.raises(BuildError, match=r"^pdf: Typst could not typeset the runbook: ") as raised:
        build_runbook(kb, output, build_date=BUILD_DATE, version=VERSION)
    assert raised.value.__cause__ is None
    assert output.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith((".partial", ".tmp"))] == []


def test_a_part_typst_fails_on_is_a_build_error_and_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = load_knowledge_base(write_content(tmp_path / "content", synthetic_entries(4)))
    output = tmp_path / "runbook.pdf"
    output.write_bytes(b"previous")
    real = runbook._document_source
    # the part holding the second entry breaks; the others typeset
    monkeypatch.setattr(
        runbook,
        "_document_source",
        lambda document, *rest: (
            '#panic("broken part")' if "entry-00001" in str(document) else real(document, *rest)
        ),
    )
    with pytest.raises(BuildError, match=r"^pdf: Typst could not typeset the runbook: .*broken part"):
        build_runbook(kb, output, build_date=BUILD_DATE, version=VERSION, part_units=2)
    assert output.read_bytes() == b"previous"


def test_numbers_that_never_settle_are_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kb = load_knowledge_base(write_content(tmp_path / "content", synthetic_entries(4)))
    monkeypatch.setattr(parts.PageMap, "settled", lambda self, produced: False)
    with pytest.raises(BuildError, match=r"page numbers still moved after 5 rounds"):
        build_runbook(kb, tmp_path / "r.pdf", build_date=BUILD_DATE, version=VERSION, part_units=2)
    assert not (tmp_path / "r.pdf").exists()


def test_unwritable_output_is_a_build_error(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_content(tmp_path / "content", [make_entry()]))
    with pytest.raises(BuildError, match="pdf: cannot write"):
        build_runbook(kb, tmp_path / "missing" / "runbook.pdf", build_date=BUILD_DATE, version=VERSION)


def test_runbook_data_shape(tmp_path: Path) -> None:
    """The data the template receives: phases in order, methods as groups, codes in every notation."""
    entries = synthetic_entries(6)
    kb = load_knowledge_base(write_content(tmp_path / "content", entries))
    data = runbook_data(kb, BUILD_DATE, VERSION)
    assert [p["id"] for p in data["phases"]] == ["prepare", "activate"]
    assert [p["number"] for p in data["phases"]] == [1, 2]
    activate = data["phases"][1]
    assert [g["method"]["id"] for g in activate["groups"]] == ["online", "phone"]
    assert data["build_date"] == "2026-11-25"
    assert data["counts"] == {"entries": 6, "phases": 2, "codes": 6}
    entry = data["phases"][0]["groups"][0]["entries"][0]
    assert entry["label"] == "entry-entry-00000"
    code = entry["codes"][0]
    assert code["hex"] == "0x80070001"
    assert (code["signed"], code["unsigned"]) == ("-2147024895", "2147942401")
    assert (code["win32"], code["hresult_from_win32"]) == ("1", "HRESULT_FROM_WIN32(1)")
    assert entry["related"] == [
        {"id": "entry-00001", "label": "entry-entry-00001", "title": kb.by_id["entry-00001"].title}
    ]
    assert [c["hex"] for c in data["codes"]] == sorted(c["hex"] for c in data["codes"])


def test_runbook_source_is_deterministic_and_holds_content_only_in_strings(tmp_path: Path) -> None:
    kb = _torture_kb(tmp_path / "content")
    source = runbook_source(kb, BUILD_DATE, VERSION)
    assert source == runbook_source(kb, BUILD_DATE, VERSION)
    call = source[source.rindex("\n#runbook(") :]
    # outside string literals, the data call holds only Typst literal syntax: no content leaks as markup
    outside = re.sub(r'"(?:[^"\\]|\\.)*"', '""', call)
    assert set(outside) <= set('#runbook()"":, \n-0123456789truefalsenon')


def test_shown_as_lists_only_notations_not_printed_anyway(tmp_path: Path) -> None:
    entry = make_entry(codes=[{"code": "c004f050", "shown_as": ["-1073418160", "C004F05O"]}])
    kb = load_knowledge_base(write_content(tmp_path / "content", [entry]))
    code = runbook_data(kb, BUILD_DATE, VERSION)["phases"][0]["groups"][0]["entries"][0]["codes"][0]
    assert code["shown"] == ["C004F05O"]


def test_an_entry_outside_the_taxonomy_is_an_error_not_dropped(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_content(tmp_path / "content", [make_entry()]))
    stray = KnowledgeBase(
        kb.taxonomy, kb.references, (replace(kb.entries[0], phase="activate", method="fax"),)
    )
    with pytest.raises(BuildError, match=r"entries outside every phase and method.*sample-entry\.yaml"):
        runbook_data(stray, BUILD_DATE, VERSION)


def test_a_runbook_in_parts_reports_its_progress(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_content(tmp_path / "content", synthetic_entries(4)))
    steps: list[tuple[int, int]] = []
    info = build_runbook(
        kb,
        tmp_path / "r.pdf",
        build_date=BUILD_DATE,
        version=VERSION,
        part_units=2,
        progress=lambda *s: steps.append(s),
    )
    assert info.rounds == 2
    assert [done for done, _ in steps] == list(range(1, 2 * info.parts + 1))
    assert {total for _, total in steps} == {2 * info.parts}


@pytest.mark.parametrize("part_units", [None, 1], ids=["one-document", "in-parts"])
def test_links_to_the_sites_pages_print_as_cross_references_or_words(
    tmp_path: Path, part_units: int | None
) -> None:
    """Paper has no use for `b.md`: a link to an entry prints its page and jumps there; other site links keep words."""
    entries = [
        make_entry(
            "a",
            codes=[{"code": "0x80070005"}],
            causes=[
                "Check [the other entry](b.md), [its code](../codes/0x80070005.md), "
                "[what to do](#what-to-do) and [the manual](https://example.com/manual)."
            ],
        ),
        make_entry("b", title="The other entry", codes=[{"code": "0x80070002"}]),
    ]
    kb = load_knowledge_base(write_content(tmp_path / "content", entries))
    options = {} if part_units is None else {"part_units": part_units}
    built = build(kb, tmp_path / "r.pdf", **options)
    text = built.entry_text("a")
    page_b = built.info.entry_pages["b"]
    assert (
        f"Check the other entry (p. {page_b}), its code, what to do and the manual (https://example.com/manual)."
        in text
    )
    assert ".md" not in text and "#what-to-do" not in text
    reader = PdfReader(built.info.path)
    assert _internal_links(reader, built.info.entry_pages["a"]).count(("entry-b", page_b)) == 2


def test_a_runbook_too_long_for_one_document_is_typeset_in_parts_by_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = load_knowledge_base(write_content(tmp_path / "content", synthetic_entries(6)))
    whole = build_runbook(kb, tmp_path / "a.pdf", build_date=BUILD_DATE, version=VERSION)
    assert (whole.parts, whole.tagged) == (1, True)
    monkeypatch.setattr(runbook, "ONE_DOCUMENT_UNITS", 5)
    monkeypatch.setattr(runbook, "PART_UNITS", 3)
    parted = build_runbook(kb, tmp_path / "b.pdf", build_date=BUILD_DATE, version=VERSION)
    assert parted.parts > 1 and not parted.tagged
    assert parted.entry_pages == whole.entry_pages
