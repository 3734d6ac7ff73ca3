"""Governance of a living knowledge base: status, owner, review dates and replacements, checked per entry.

Rules, each a located problem:

- `replaced_by` belongs to a retired entry, names another entry, and never a draft (readers would follow it
  to a page that is not published); naming a retired entry is a warning (point at the end of the chain).
- `reviewed` is a real date, not in the future (a warning: a typo, or a clock).
- A published or retired entry's `related` may not name a draft: the published outputs leave drafts out, so
  the link would lead nowhere (an error, not a warning: the build would carry a broken link). Naming a
  retired entry is a warning (readers get there, but its replacement is the better link), except from the
  entry that replaces it.
- TODO text in a published or retired entry is a warning, so `kb check --strict` (CI, the pre-commit hook)
  fails on it while plain `kb check` lets an author save work in progress.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from build_kb.content.links import linked_entry, prose_links, prose_texts
from build_kb.content.load import Document, FieldPath
from build_kb.content.locate import SourceText
from build_kb.core.errors import Problem
from build_kb.core.model import DRAFT, PUBLISHED, RETIRED, Entry, KnowledgeBase

TODO = re.compile(r"\bTODO\b")
TODO_MESSAGE = "TODO text in a published entry"
"""How every TODO warning starts (`kb report` lists them)."""


def status_of(data: Mapping[str, Any]) -> str:
    """An entry's status as written, `published` when it gives none."""
    status = data.get("status", PUBLISHED)
    return status if isinstance(status, str) else PUBLISHED


def parse_date(text: object) -> date | None:
    """The ISO date `YYYY-MM-DD`, or None when it is no date of the calendar."""
    if not isinstance(text, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def strings(data: Any, path: FieldPath = ()) -> Iterator[tuple[FieldPath, str]]:
    """Every text value of a document with its field path, in document order."""
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from strings(value, (*path, str(key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from strings(value, (*path, index))


def todo_problems(doc: Document, source: SourceText) -> list[Problem]:
    """A warning at each TODO of a published or retired entry (drafts may hold them)."""
    if status_of(doc.data) == DRAFT:
        return []
    found = []
    for path, text in strings(doc.data):
        if TODO.search(text):
            message = f"{TODO_MESSAGE}: finish it, or set `status: draft` until it is done"
            found.append(source.problem(path, message, ("TODO",), severity="warning")[0])
    return found


@dataclass(frozen=True)
class Roster:
    """Every entry's status and replacement, by id, as written."""

    statuses: Mapping[str, str]
    replacements: Mapping[str, str]

    @classmethod
    def of(cls, entries: Iterable[Mapping[str, Any]]) -> Roster:
        """The roster of entries' data (each valid against the schema)."""
        listed = list(entries)
        return cls(
            {data["id"]: status_of(data) for data in listed},
            {data["id"]: data["replaced_by"] for data in listed if isinstance(data.get("replaced_by"), str)},
        )

    @classmethod
    def edited(cls, kb: KnowledgeBase, data: Mapping[str, Any]) -> Roster:
        """The roster of `kb` with one of its entries as `data` (valid against the schema) now writes it."""
        others = [entry for entry in kb.entries if entry.id != data["id"]]
        own = cls.of([data])
        return cls(
            {**{entry.id: entry.status for entry in others}, **own.statuses},
            {**{entry.id: entry.replaced_by for entry in others if entry.replaced_by}, **own.replacements},
        )


def governance_problems(doc: Document, roster: Roster, today: date, source: SourceText) -> list[Problem]:
    """The status, review and replacement rules of one entry (see the module's docstring).

    Arguments:
        doc: The entry, valid against the schema.
        roster: Every entry's status and replacement.
        today: The date `reviewed` may not be after.
        source: The entry's text, for positions inside values.
    """
    data = doc.data
    status = status_of(data)
    statuses = roster.statuses
    problems: list[Problem] = []
    replaced_by = data.get("replaced_by")
    if replaced_by is not None:
        target = statuses.get(replaced_by)
        if status != RETIRED:
            problems.append(
                doc.problem(
                    ("replaced_by",), f"only a retired entry has a replacement; add `status: {RETIRED}`"
                )
            )
        elif replaced_by == data["id"]:
            problems.append(doc.problem(("replaced_by",), "an entry cannot replace itself"))
        elif target is None:
            problems.append(doc.problem(("replaced_by",), f"no entry has the id '{replaced_by}'"))
        elif target == DRAFT:
            message = f"'{replaced_by}' is a draft: publish it first, or readers follow the link to nothing"
            problems.append(doc.problem(("replaced_by",), message))
        elif target == RETIRED:
            message = f"'{replaced_by}' is retired too: point at the entry that replaces it"
            problems.append(doc.problem(("replaced_by",), message, severity="warning"))
    reviewed = data.get("reviewed")
    if reviewed is not None:
        day = parse_date(reviewed)
        if day is None:
            problems.append(doc.problem(("reviewed",), f"'{reviewed}' is not a date of the calendar"))
        elif day > today:
            message = f"{reviewed} is in the future (today is {today.isoformat()})"
            problems.append(doc.problem(("reviewed",), message, severity="warning"))
    if status != DRAFT:
        for index, ident in enumerate(data.get("related", [])):
            if statuses.get(ident) == DRAFT:
                message = (
                    f"'{ident}' is a draft, left out of the published outputs: publish it or drop the link"
                )
                problems.append(doc.problem(("related", index), message))
            elif statuses.get(ident) == RETIRED and roster.replacements.get(ident) != data["id"]:
                message = f"'{ident}' is retired: link to the entry that replaces it"
                problems.append(doc.problem(("related", index), message, severity="warning"))
    return problems + todo_problems(doc, source)


# --- the knowledge base as a whole, for `kb report` ----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Overdue:
    """A published entry past its review date."""

    entry: Entry
    due: date
    days: int
    """Days past the due date."""


def overdue(kb: KnowledgeBase, today: date) -> list[Overdue]:
    """Published entries whose `reviewed` date plus their interval is before `today`, longest overdue first."""
    found = []
    for entry in kb.entries:
        due = entry.review_due(kb.taxonomy.review_every_days) if entry.status == PUBLISHED else None
        if due is not None and due < today:
            found.append(Overdue(entry, due, (today - due).days))
    return sorted(found, key=lambda item: (item.due, item.entry.id))


def never_reviewed(kb: KnowledgeBase) -> list[Entry]:
    """Published entries without a `reviewed` date."""
    return [entry for entry in kb.entries if entry.status == PUBLISHED and entry.reviewed is None]


def unowned(kb: KnowledgeBase) -> list[Entry]:
    """Drafts and published entries without an owner (or with a TODO for one); retired ones need none."""
    return [
        entry
        for entry in kb.entries
        if not entry.is_retired and (entry.owner is None or TODO.search(entry.owner))
    ]


def inbound_links(kb: KnowledgeBase) -> dict[str, set[str]]:
    """For each entry id, the published or retired entries leading to its page: by `related`, by a link in
    their prose, or as the replacement a retired entry points at."""
    found: dict[str, set[str]] = {}
    for source in kb.entries:
        if source.is_draft:
            continue  # a draft's links are on no published page
        targets = set(source.related)
        targets |= {source.replaced_by} if source.replaced_by else set()
        for text in prose_texts(source):
            links, _ = prose_links(text)
            targets |= {ident for link in links if (ident := linked_entry(link.href)) is not None}
        for target in targets - {source.id}:
            found.setdefault(target, set()).add(source.id)
    return found


def orphans(kb: KnowledgeBase) -> list[Entry]:
    """Published entries no other entry links to (readers reach them only from listings and search)."""
    linked = inbound_links(kb)
    return [entry for entry in kb.entries if entry.status == PUBLISHED and not linked.get(entry.id)]
