"""The PDF runbook: the knowledge base as plain data, laid out by a Typst template and compiled in-process.

`runbook_data` decides what the runbook shows (every code notation, labels, cross-references) and
`templates/runbook.typ` only lays it out. All content reaches Typst as string values inside one data literal
(`build_kb.pdf.typst_markup`), so no content string is ever read as Typst markup. The same knowledge base, build
date and version give a byte-identical PDF: the only timestamp is the build date, and nothing random is used.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from build_kb.content.links import linked_entry
from build_kb.core.codes import Code
from build_kb.core.codeview import CodeView, code_views
from build_kb.core.dictionary import ATTRIBUTION
from build_kb.core.errors import BuildError
from build_kb.core.files import write_atomic
from build_kb.core.model import CodeRef, Entry, KnowledgeBase, Method, Phase
from build_kb.pdf.join import SCHEME, join_parts
from build_kb.pdf.parts import (
    ONE_DOCUMENT_UNITS,
    PART_UNITS,
    Block,
    PageMap,
    PartLayout,
    part_document,
    runbook_blocks,
    split_parts,
)
from build_kb.pdf.typeset import typeset, typeset_parts
from build_kb.pdf.typst_markup import markdown_nodes, typst_value

TEMPLATE = "runbook.typ"


@dataclass(frozen=True, slots=True)
class RunbookInfo:
    """What `build_runbook` wrote."""

    path: Path
    pages: int
    """Number of pages."""
    entry_pages: Mapping[str, int]
    """The page each entry starts on, by entry id."""
    size: int
    """File size in bytes."""
    warnings: tuple[str, ...] = ()
    """Typst's warnings, if any (none are expected)."""
    parts: int = 1
    """Documents Typst typeset: 1, or the parts a long runbook was joined from."""
    rounds: int = 1
    """Rounds of typesetting the parts took until their page numbers settled."""
    tagged: bool = True
    """Whether the PDF is tagged (a runbook joined from parts is not)."""


def entry_label(entry_id: str) -> str:
    """The Typst label of an entry's heading (also its PDF destination)."""
    return f"entry-{entry_id}"


def _utc(moment: datetime) -> datetime:
    """A naive build date is taken as UTC, so the output never depends on the machine's time zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _code_card(view: CodeView) -> dict[str, Any]:
    """A code's notations as the template prints them; the view decides what they are."""
    return {
        "hex": view.hex,
        "bare_hex": view.bare_hex,
        "signed": str(view.signed),
        "unsigned": str(view.unsigned),
        "win32": None if view.win32 is None else str(view.win32),
        "hresult_from_win32": view.from_win32,
        "facility": f"{view.facility_number} ({view.facility})",
        "names": list(view.names),
        "name": view.name,
    }


def _prose(text: str, kb: KnowledgeBase) -> list[dict[str, Any]]:
    """An entry's Markdown as nodes, its links to the site's own pages made into what paper can use.

    A link to another entry becomes a cross-reference (`{"k": "xref", "label": ..., "c": inlines}`), printed
    with the entry's page; a link to any other page of the site (a code page, a phase, a section) keeps its
    words only (`{"k": "span", "c": inlines}`), since an address like `../codes/0x80070005.md` means nothing in
    print. Links to outside addresses stay links.
    """
    nodes: list[dict[str, Any]] = _printable(markdown_nodes(text), kb)
    return nodes


def _printable(value: Any, kb: KnowledgeBase) -> Any:
    if isinstance(value, list):
        return [_printable(item, kb) for item in value]
    if not isinstance(value, dict):
        return value
    node = {key: _printable(item, kb) if key in ("c", "items") else item for key, item in value.items()}
    if node.get("k") != "link" or urlsplit(node["url"]).scheme:
        return node
    target = linked_entry(node["url"])
    if target is not None and target in kb.by_id:
        return {"k": "xref", "label": entry_label(target), "c": node["c"]}
    return {"k": "span", "c": node["c"]}


def _code(ref: CodeRef, kb: KnowledgeBase) -> dict[str, Any]:
    view = CodeView.of(Code(ref.value), [ref])
    return {
        **_code_card(view),
        "shown": list(view.shown_otherwise()),
        # The entry's message, else the dictionary's: an entry may leave it out.
        "message": ref.message or view.message,
        "note": _prose(ref.note, kb) if ref.note else None,
    }


def _index_names(view: CodeView) -> list[str]:
    """The names the code index prints: the entries' own, else the dictionary's primary (the index is narrow)."""
    return list(view.entry_names) if view.entry_names else [view.name] if view.name else []


def _target(entry: Entry) -> dict[str, str]:
    return {"id": entry.id, "label": entry_label(entry.id), "title": entry.title}


def _entry(entry: Entry, kb: KnowledgeBase) -> dict[str, Any]:
    phase = kb.phases_by_id[entry.phase]
    method = phase.method(entry.method) if entry.method else None
    escalation = entry.escalation
    vocabularies = kb.taxonomy.vocabularies
    return {
        **_target(entry),
        "phase_title": phase.title,
        "phase_short_title": phase.short_title,
        "method_title": method.title if method else None,
        "applies_to": [kb.products_by_id[p].name for p in entry.applies_to],
        "summary": _prose(entry.summary, kb),
        "codes": [_code(ref, kb) for ref in entry.codes],
        "messages": [{"where": vocabularies.label("where", m.where), "text": m.text} for m in entry.messages],
        "logs": [
            {
                "log": vocabularies.label("log", p.log) if p.log else "Any log",
                "kind": "a line matching the regular expression" if p.regex else "a line containing",
                "pattern": p.pattern,
            }
            for p in entry.log_patterns
        ],
        "causes": [_prose(c, kb) for c in entry.causes],
        "actions": [{"step": _prose(a.step, kb), "command": a.command} for a in entry.actions],
        "escalation": None
        if escalation is None
        else {
            "contact": escalation.contact,
            "collect": [_prose(c, kb) for c in escalation.collect],
            "note": _prose(escalation.note, kb) if escalation.note else None,
        },
        "corrections": [
            {"source_says": c.source_says, "correct": c.correct, "why": _prose(c.why, kb)}
            for c in entry.corrections
        ],
        "related": [_target(kb.by_id[r]) for r in entry.related],
        "linked_from": [_target(e) for e in kb.backlinks.get(entry.id, ()) if e.id not in entry.related],
        "references": [
            {"title": r.title, "url": r.url, "note": r.note}
            for r in (kb.references_by_id[ref] for ref in entry.references)
        ],
        "source": entry.source.describe() if entry.source else None,
        "tags": list(entry.tags),
        "status": _status(entry, kb),
    }


def _status(entry: Entry, kb: KnowledgeBase) -> dict[str, Any] | None:
    """What the runbook says atop a retired entry (and its replacement) or a draft; None for a published one."""
    if entry.is_retired:
        replacement = kb.replacement(entry)
        return {"retired": True, "replaced_by": _target(replacement) if replacement else None}
    if entry.is_draft:
        return {"retired": False, "replaced_by": None}
    return None


def _method(phase: Phase, method: Method) -> dict[str, Any]:
    return {
        "id": method.id,
        "label": f"method-{phase.id}-{method.id}",
        "title": method.title,
        "summary": markdown_nodes(method.summary),
    }


def _phase(number: int, phase: Phase, kb: KnowledgeBase) -> dict[str, Any]:
    entries = kb.phase_entries(phase.id)
    # Entries without a method come first, directly under the phase; then each method in taxonomy order.
    groups: list[dict[str, Any]] = [
        {"method": None, "entries": [_entry(e, kb) for e in entries if e.method is None]}
    ]
    for method in phase.methods:
        chosen = [_entry(e, kb) for e in entries if e.method == method.id]
        groups.append({"method": _method(phase, method), "entries": chosen})
    return {
        "id": phase.id,
        "number": number,
        "label": f"phase-{phase.id}",
        "title": phase.title,
        "short_title": phase.short_title,
        "summary": markdown_nodes(phase.summary),
        "groups": [g for g in groups if g["method"] is not None or g["entries"]],
    }


def runbook_data(kb: KnowledgeBase, build_date: datetime, version: str) -> dict[str, Any]:
    """Everything the template shows, as plain data (strings, numbers, lists, dictionaries).

    Arguments:
        kb: A validated knowledge base.
        build_date: Printed on the cover (as a UTC date).
        version: Printed on the cover and in every footer.

    Returns:
        A JSON-compatible dictionary; prose fields are Markdown nodes (`build_kb.pdf.typst_markup`).

    Raises:
        BuildError: an entry fits no phase or method of the taxonomy (validation rules this out).
    """
    views = code_views(kb)
    codes = [
        {
            **_code_card(view),
            "index_names": _index_names(view),
            "entries": [{"id": e.id, "label": entry_label(e.id)} for e in view.entries],
        }
        for view in views
    ]
    # The dictionary's names and messages are under CC BY 4.0: credited wherever the runbook shows them.
    shows_dictionary = any(view.known for view in views)
    phases = [_phase(number, phase, kb) for number, phase in enumerate(kb.taxonomy.phases, start=1)]
    placed = {e["id"] for p in phases for g in p["groups"] for e in g["entries"]}
    if missing := [e.path for e in kb.entries if e.id not in placed]:
        # Validation makes this impossible; never let an entry drop out of the runbook unnoticed.
        raise BuildError(f"pdf: entries outside every phase and method of the taxonomy: {', '.join(missing)}")
    return {
        "title": kb.taxonomy.title,
        "description": markdown_nodes(kb.taxonomy.description),
        "keywords": ["troubleshooting", "runbook", kb.taxonomy.short_name],
        "build_date": _utc(build_date).strftime("%Y-%m-%d"),
        "version": version,
        "products": [p.name for p in kb.taxonomy.products],
        "counts": {"entries": len(kb), "phases": len(phases), "codes": len(codes)},
        "phases": phases,
        "codes": codes,
        "attribution": ATTRIBUTION if shows_dictionary else None,
    }


def _document_source(
    document: Mapping[str, Any] | str,
    numbers: Mapping[str, Any] | None,
    pages: Mapping[str, int] | str | None = None,
) -> str:
    """A complete Typst document: where page numbers come from, the template, and one call holding the data.

    `document` and `pages` may be given already written as Typst values, as the rounds of a runbook in parts
    do: the document is the same in every round, and the page map the same for every part of a round.
    """
    template = resources.files("build_kb.pdf").joinpath("templates", TEMPLATE).read_text("utf-8")
    call = document if isinstance(document, str) else typst_value(document)
    page_map = pages if isinstance(pages, str) else typst_value(pages)
    return f"#let kb-numbers = {typst_value(numbers)}\n#let kb-pages = {page_map}\n{template}\n#runbook({call})\n"


def runbook_source(kb: KnowledgeBase, build_date: datetime, version: str) -> str:
    """The complete Typst source of the runbook as one document (what `build_runbook` typesets when it fits)."""
    data = runbook_data(kb, build_date, version)
    return _document_source(part_document(data, runbook_blocks(data, sys.maxsize)), None)


def build_runbook(
    kb: KnowledgeBase,
    output: Path,
    *,
    build_date: datetime,
    version: str,
    tagged: bool = True,
    part_units: int | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunbookInfo:
    """Typeset the runbook and write it to `output` atomically (a file beside it, then one rename).

    A runbook of up to `ONE_DOCUMENT_UNITS` entry pages is typeset as one document, in this process: Typst's
    own iterations reuse its layout, so this is the fastest way, and the PDF can be tagged. A longer one is
    typeset in parts of `PART_UNITS`, each by a Typst process of its own (`workers` at a time), until the page
    numbers they print settle, and the parts are joined (`build_kb.pdf.parts`, `build_kb.pdf.join`): memory
    stays that of the parts being typeset, whatever the length.

    Arguments:
        kb: A validated knowledge base.
        output: The PDF to write; its folder must exist.
        build_date: The PDF's creation date and the date on the cover; the same date gives the same bytes.
        version: Printed on the cover and in every footer.
        tagged: Write a tagged (accessible) PDF, about 2.5 times larger. Only a runbook typeset as one
            document can be tagged: the structure trees of parts cannot be joined.
        part_units: Typeset in parts of this much work (in entry pages) whatever the length; one part is one
            document. By default, as said above.
        workers: Typst processes at once for a runbook in parts; by default the machine's cores, at most 4.
        progress: Told `(done, total)` as parts are typeset (two rounds are expected; a third adds to it).

    Returns:
        Page count, each entry's start page and the file size.

    Raises:
        BuildError: Typst failed, or the file could not be written; `output` is then left as it was.
    """
    data = runbook_data(kb, build_date, version)
    blocks = runbook_blocks(data, sys.maxsize)
    if part_units is None:
        fits = sum(block["cost"] for block in blocks) <= ONE_DOCUMENT_UNITS
        part_units = sys.maxsize if fits else PART_UNITS
    if part_units != sys.maxsize:  # long contents and indexes are cut to fit a part
        blocks = runbook_blocks(data, part_units)
    parts = split_parts(blocks, part_units)
    stamp = int(_utc(build_date).timestamp())
    if len(parts) == 1:
        single = typeset(_document_source(part_document(data, parts[0]), None), stamp=stamp, tagged=tagged)
        unstable = [m for m in single.warnings if "converge" in m]
        if unstable:
            raise BuildError(f"pdf: page numbers may be wrong, Typst reports: {unstable[0]}")
        assert single.pdf is not None
        pdf, warnings, rounds = single.pdf, single.warnings, 1
        page_map = PageMap.of([PartLayout.from_info(single.info)])
    else:
        pdf, page_map, warnings, rounds = _typeset_in_parts(data, parts, stamp, workers, progress)
        tagged = False
    _write_atomically(output, pdf)
    return RunbookInfo(
        path=output,
        pages=page_map.total,
        # runbook_data has made sure every entry is placed
        entry_pages={e.id: page_map.targets[entry_label(e.id)].page for e in kb.entries},
        size=len(pdf),
        warnings=warnings,
        parts=len(parts),
        rounds=rounds,
        tagged=tagged,
    )


MAX_ROUNDS = 5
"""Rounds of typesetting parts before page numbers that keep moving are an error (Typst itself allows 5)."""


def _typeset_in_parts(
    data: Mapping[str, Any],
    parts: Sequence[Sequence[Block]],
    stamp: int,
    workers: int | None,
    progress: Callable[[int, int], None] | None,
) -> tuple[bytes, PageMap, tuple[str, ...], int]:
    # Written once: only the numbers change from one round to the next.
    documents = [typst_value(part_document(data, part)) for part in parts]
    costs = [sum(block["cost"] for block in part) for part in parts]
    workers = workers or min(os.cpu_count() or 1, 4)
    # The first round only lays the parts out, with guessed numbers, to learn where every page falls; each
    # later one prints the numbers the one before found, until they are the numbers it finds.
    used = PageMap.guess(parts)
    typeset_count = 0
    lock = threading.Lock()

    def one_done(_: int) -> None:
        nonlocal typeset_count
        with lock:  # called from the threads that wait on the Typst processes
            typeset_count += 1
            if progress is not None:
                progress(typeset_count, len(parts) * max(2, round_number))

    for round_number in range(1, MAX_ROUNDS + 1):
        export = round_number > 1
        pages = typst_value(used.pages())
        sources = [_document_source(doc, used.numbers(n, SCHEME), pages) for n, doc in enumerate(documents)]
        results = typeset_parts(
            sources, stamp=stamp, export=export, workers=workers, costs=costs, done=one_done
        )
        produced = PageMap.of(PartLayout.from_info(result.info) for result in results)
        if export and used.settled(produced):
            pdfs = [result.pdf for result in results if result.pdf is not None]
            warnings = tuple(dict.fromkeys(w for result in results for w in result.warnings))
            return join_parts(pdfs, data, produced.targets), produced, warnings, round_number
        used = produced
    raise BuildError(f"pdf: page numbers still moved after {MAX_ROUNDS} rounds of typesetting the parts")


def _write_atomically(output: Path, data: bytes) -> None:
    try:
        write_atomic(output, data)
    except OSError as error:
        raise BuildError(f"pdf: cannot write {output.as_posix()}: {error.strerror or error}") from None
