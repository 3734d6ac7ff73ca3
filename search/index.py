"""Build an index from a validated knowledge base: the code map, the searchable documents and whoosh.

A build holds the searchable fields of every entry as plain JSON (`documents.json`), the data a whoosh
index is built from; the build written here also holds that whoosh index, sealed (`search.seal`). An
exported copy (the offline bundle) holds only the JSON; `search.cache` builds its whoosh index on the
machine that searches it, with `write_whoosh`.

Every whoosh import of the project lives in `search/` (through `search.engine`); this module,
`search.cache` and `search.query` are the only users, and nothing imports them at start-up.
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from build_kb.content.fingerprint import content_fingerprint, stat_signature
from build_kb.core.codes import Code
from search.analyzer import word_analyzer
from search.codemap import write_codemap
from search.engine import fields, index
from search.results import Hit
from search.seal import seal_build
from search.store import (
    DOCUMENTS,
    FORMAT,
    WHOOSH,
    IndexBuild,
    Manifest,
    commit_build,
    staging_folder,
)

if TYPE_CHECKING:
    from build_kb.core.model import Entry, KnowledgeBase

__all__ = [
    "FIELDS",
    "PHRASE_FIELDS",
    "SHARED_RUNS",
    "TEMPLATE_ENTRIES",
    "TEMPLATE_RUN",
    "TEXT_FIELDS",
    "WHOOSH",
    "build_index",
    "make_schema",
    "notations",
    "shared_runs",
    "write_documents",
    "write_whoosh",
]

TEXT_BOOSTS = {"title": 4.0, "messages": 4.0, "summary": 2.0, "patterns": 2.0, "body": 1.0}
"""Free-text fields, most telling first, with the boost of a word found in each."""
TEXT_FIELDS = tuple(TEXT_BOOSTS)
PHRASE_FIELDS = ("title", "messages")
"""The text fields whose word positions are indexed, the only ones searched for phrases. Positions make up
most of a posting block, which a search unpickles whole: without them in the other fields, the index is a
fifth smaller and a query of common words reads its postings about a third faster; scores are unchanged."""
FIELDS = ("id", "hit", "codes", "related", *TEXT_FIELDS, "phase", "method", "tags")
"""The fields of a document: all text; `hit` is the entry's result fields as JSON."""
TEMPLATE_RUN = 4
"""Words in a row that, found verbatim in several entries' messages, mark boilerplate (`search.query`)."""
TEMPLATE_ENTRIES = 2
SHARED_RUNS = "kb-shared-runs.json"
"""In the whoosh folder: every run of `TEMPLATE_RUN` words (as the index holds them) that the messages of
`TEMPLATE_ENTRIES` or more entries share, so that a search looks the runs of its words up instead of
searching each as a phrase (a phrase of common words reads most of their postings)."""


def make_schema() -> fields.Schema:
    """The index schema; field boosts favour the title and the messages a user pastes."""
    words = word_analyzer()
    text = {
        name: fields.TEXT(analyzer=words, field_boost=boost, phrase=name in PHRASE_FIELDS)
        for name, boost in TEXT_BOOSTS.items()
    }
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        hit=fields.STORED(),
        codes=fields.KEYWORD(lowercase=True, commas=True, scorable=True, field_boost=3.0),
        related=fields.KEYWORD(lowercase=True, commas=True, scorable=True),
        **text,
        phase=fields.ID(stored=True),
        method=fields.ID(stored=True),
        tags=fields.KEYWORD(lowercase=True, commas=True, stored=True),
    )


def notations(entry: Entry) -> list[str]:
    """Every string that stands for one of the entry's codes, lower-cased, without spaces or commas.

    Each code's notations (hex, bare hex, signed, unsigned, HRESULT_FROM_WIN32(n), Win32 number), its
    symbolic names and aliases, the notation the entry writes and its `shown_as` literal strings.
    """
    found: dict[str, None] = {}
    for ref in entry.codes:
        for text in (*Code(ref.value).notations(), *ref.names, ref.code, *ref.shown_as):
            cleaned = "".join(text.split()).replace(",", "").lower()
            if cleaned:
                found[cleaned] = None
    return list(found)


def _body(entry: Entry, kb: KnowledgeBase) -> str:
    """Causes, actions, commands, code messages and notes, escalation and corrections as one text."""
    parts: list[str] = [*entry.causes]
    for action in entry.actions:
        parts += [action.step, action.command or ""]
    for ref in entry.codes:
        parts += [ref.message or "", ref.note or ""]
    parts += [related.reason for related in entry.related_codes]
    if entry.escalation:
        parts += [entry.escalation.contact, *entry.escalation.collect, entry.escalation.note or ""]
    for correction in entry.corrections:
        parts += [correction.source_says, correction.correct, correction.why]
    phase = kb.phases_by_id.get(entry.phase)
    method = phase.method(entry.method) if phase and entry.method else None
    parts += [phase.title if phase else "", method.title if method else ""]
    parts += [entry.source.section or "" if entry.source else ""]
    parts += [" ".join(tag.replace("-", " ") for tag in entry.tags)]
    return "\n".join(part for part in parts if part)


def documents(kb: KnowledgeBase) -> Iterator[dict[str, str]]:
    """One whoosh document per entry."""
    for entry in kb.entries:
        yield {
            "id": entry.id,
            "hit": json.dumps(Hit.from_entry(entry).summary(), ensure_ascii=False),
            "codes": ",".join(notations(entry)),
            "related": ",".join(dict.fromkeys(Code(r.value).hex.lower() for r in entry.related_codes)),
            "title": entry.title,
            "messages": "\n".join(m.text for m in entry.messages),
            "summary": entry.summary,
            "patterns": "\n".join(p.pattern for p in entry.log_patterns),
            "body": _body(entry, kb),
            "phase": entry.phase,
            "method": entry.method or "",
            "tags": ",".join(entry.tags),
        }


@contextmanager
def _repeatable_names(seed: str) -> Iterator[None]:
    """Seed the `random` module whoosh names its segments with, and put its state back afterwards.

    whoosh draws segment names from the module-level generator; seeded with the content's fingerprint,
    the same content gives the same file names, and so the same bytes in the offline zip.
    """
    saved = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(saved)


def write_documents(docs: Iterable[dict[str, str]], path: Path) -> None:
    """Write the documents as `documents.json`: `{"documents": [...]}`, the same bytes for the same content."""
    items = [{name: document[name] for name in FIELDS} for document in docs]
    text = json.dumps({"format": FORMAT, "documents": items}, ensure_ascii=False, separators=(",", ":"))
    path.write_bytes(text.encode("utf-8"))


def shared_runs(docs: Iterable[dict[str, str]]) -> list[str]:
    """The runs of `TEMPLATE_RUN` words of the messages field that `TEMPLATE_ENTRIES` or more documents hold,
    each as its words joined by spaces, sorted.

    The words are the index's own tokens in position order, so a run is exactly what a whoosh phrase query
    of those words matches in the messages field (positions are consecutive: the stop filter renumbers them).
    """
    analyzer = make_schema()["messages"].analyzer
    holders: dict[str, int] = {}
    for document in docs:
        words = [token.text for token in analyzer(document["messages"])]
        runs = {" ".join(words[at : at + TEMPLATE_RUN]) for at in range(len(words) - TEMPLATE_RUN + 1)}
        for run in runs:
            holders[run] = holders.get(run, 0) + 1
    return sorted(run for run, count in holders.items() if count >= TEMPLATE_ENTRIES)


def write_whoosh(docs: Iterable[dict[str, str]], folder: Path, seed: str) -> None:
    """Write the whoosh index of the documents into the empty folder `folder`, byte for byte the same for a
    seed, and beside it the shared runs of words (`SHARED_RUNS`).

    One segment, written as separate files rather than whoosh's compound file: the compound file's
    directory records every part's modification time.
    """
    docs = list(docs)
    runs = {"run": TEMPLATE_RUN, "entries": TEMPLATE_ENTRIES, "runs": shared_runs(docs)}
    text = json.dumps(runs, ensure_ascii=False, separators=(",", ":"))
    with _repeatable_names(seed):
        whoosh_index = index.create_in(str(folder), make_schema())
        writer = whoosh_index.writer(limitmb=256, compound=False)
        try:
            for document in docs:
                writer.add_document(**document)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        whoosh_index.close()
    (folder / SHARED_RUNS).write_bytes(text.encode("utf-8"))


def build_index(
    kb: KnowledgeBase,
    index_root: Path,
    *,
    content_root: Path | None = None,
    content_state: tuple[str, str] | None = None,
) -> Path:
    """Build the code map, the documents and the sealed whoosh index of `kb` as a new build under
    `index_root` and make it current.

    Readers keep seeing the previous build until the pointer file is swapped; the previous build is kept
    and older ones are deleted.

    Arguments:
        kb: The validated knowledge base.
        index_root: The index folder (`dist/index` by default); created when missing.
        content_root: The content folder `kb` was loaded from; its fingerprint is recorded so that the
            commands notice when the content changes. Without it the index is never considered stale.
        content_state: (stat signature, fingerprint) of the content taken before `kb` was loaded, if known.

    Returns:
        The new build's folder.
    """
    if content_state is None and content_root is not None:
        content_state = (stat_signature(content_root), content_fingerprint(content_root))
    signature, fingerprint = content_state or (None, None)
    staged = staging_folder(index_root)
    try:
        write_codemap(kb, staged)
        docs = list(documents(kb))
        write_documents(docs, staged / DOCUMENTS)
        (staged / WHOOSH).mkdir()
        write_whoosh(docs, staged / WHOOSH, seed=fingerprint or str(len(kb)))
        # Without a seal (no cache folder can be written) the build is searched like a bundle's.
        with contextlib.suppress(OSError):
            seal_build(staged)
        Manifest(FORMAT, len(kb), fingerprint, signature).write(staged / "manifest.json")
        build: IndexBuild = commit_build(index_root, staged)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return build.path
