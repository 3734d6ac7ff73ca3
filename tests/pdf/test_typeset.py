"""Typst runs in child processes (`build_kb.pdf.typeset`) and joining their PDFs (`build_kb.pdf.join`)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from build_kb.core.errors import BuildError
from build_kb.pdf import typeset
from build_kb.pdf.join import SCHEME, join_parts
from build_kb.pdf.parts import Target

pytestmark = pytest.mark.slow


def _document(text: str, link: str | None = None) -> str:
    """A small document leaving the metadata the build reads, with one labelled heading `t-<text>`."""
    body = f'#link("{link}")[away]' if link else ""
    return (
        f"= {text} <t-{text}>\n{body}\n"
        f'#context [#metadata((pages: counter(page).final().first(), targets: (("t-{text}", '
        f"locate(<t-{text}>).page(), 0, 0),))) <runbook-info>]\n"
    )


def test_parts_come_back_in_their_order_whatever_order_they_ran_in() -> None:
    done: list[int] = []
    results = typeset.typeset_parts(
        [_document("zero"), _document("one"), _document("two")],
        stamp=0,
        export=True,
        workers=2,
        costs=[1, 3, 2],
        done=done.append,
    )
    assert [r.info["targets"][0][0] for r in results] == ["t-zero", "t-one", "t-two"]
    assert all(r.pdf is not None and r.pdf.startswith(b"%PDF-") for r in results)
    assert sorted(done) == [0, 1, 2]
    laid_out = typeset.typeset_parts([_document("zero")], stamp=0, export=False, workers=1)
    assert laid_out[0].pdf is None and laid_out[0].info["pages"] == 1


def test_a_typst_error_in_a_part_names_the_error() -> None:
    with pytest.raises(BuildError, match=r"^pdf: Typst could not typeset the runbook: .*nope"):
        typeset.typeset_parts([_document("fine"), '#panic("nope")'], stamp=0, export=True, workers=2)


def test_a_child_that_dies_is_a_build_error(tmp_path: Path) -> None:
    # no source in the folder: the child stops with a traceback and writes no result
    with pytest.raises(BuildError, match=r"the Typst process for empty stopped: FileNotFoundError"):
        typeset._run_child(tmp_path.joinpath("empty"), 0, export=True)


def test_a_document_cannot_read_files_beside_its_folder(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret", "utf-8")
    with pytest.raises(BuildError, match="Typst could not typeset"):
        typeset.typeset_parts([f'#read("{secret.as_posix()}")'], stamp=0, export=True, workers=1)


def test_joining_rewrites_links_and_rejects_a_link_to_nowhere() -> None:
    first, second = typeset.typeset_parts(
        [_document("a", link=f"{SCHEME}t-b"), _document("b", link="https://example.com/")],
        stamp=0,
        export=True,
        workers=2,
    )
    assert first.pdf is not None and second.pdf is not None
    data: dict[str, list[object]] = {"phases": [], "codes": []}
    targets = {"t-a": Target(1, 0, 0), "t-b": Target(2, 0, 0), "code-index": Target(2, 0, 0)}
    joined = join_parts([first.pdf, second.pdf], data, targets)
    reader = PdfReader(io.BytesIO(joined))
    links = [[a.get_object() for a in page.get("/Annots") or []] for page in reader.pages]
    assert [str(link.get("/Dest")) for link in links[0]] == ["t-b"]
    assert "/A" not in links[0][0]
    assert [str(link["/A"]["/URI"]) for link in links[1]] == ["https://example.com/"]
    assert reader.get_destination_page_number(reader.named_destinations["t-b"]) == 1
    assert join_parts([first.pdf, second.pdf], data, targets) == joined
    with pytest.raises(BuildError, match="a link points at 't-b', which no part of the runbook holds"):
        join_parts([first.pdf, second.pdf], data, {"t-a": Target(1, 0, 0), "code-index": Target(1, 0, 0)})
