"""One view of an error code for every output: entry pages, code pages, the code index, PDF, CLI and JSON.

Each output formats a `CodeView`; none decodes a code or builds a page address on its own, so the site, the
runbook and `kb lookup` always agree on what a code is and where its page lives.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from build_kb.core.codes import Code
from build_kb.core.model import CodeRef, Entry, KnowledgeBase


def entry_url(entry_id: str) -> str:
    """The page of an entry, relative to the site root."""
    return f"entries/{entry_id}.html"


def code_url(hex_code: str) -> str:
    """The stable page of a code (canonical hex), relative to the site root, for links from tickets."""
    return f"codes/{hex_code}.html"


@dataclass(frozen=True, slots=True)
class EntryLink:
    """An entry as a code's view lists it."""

    id: str
    title: str
    url: str
    """Relative to the site root."""

    @classmethod
    def to(cls, entry: Entry) -> EntryLink:
        """The link to an entry's page."""
        return cls(entry.id, entry.title, entry_url(entry.id))


@dataclass(frozen=True, slots=True)
class CodeView:
    """A code decoded once, with what the knowledge base says of it."""

    value: int
    hex: str
    """Canonical form, `0xC004F050`."""
    bare_hex: str
    """Eight digits without `0x`, as Windows Update prints them."""
    signed: int
    unsigned: int
    facility_number: int
    facility: str
    """Facility name without `FACILITY_`, or `UNKNOWN(n)`."""
    win32: int | None
    """The Win32 error number inside a `0x8007xxxx` HRESULT."""
    from_win32: str | None
    """`HRESULT_FROM_WIN32(n)` for such a code."""
    notations: tuple[str, ...]
    """Every notation that parses back to the code."""
    names: tuple[str, ...]
    """Symbolic names the entries give the code."""
    messages: tuple[str, ...]
    """System messages the entries give the code."""
    shown_as: tuple[str, ...]
    """How entries write the code, including strings that are no notation (a mangled number)."""
    url: str | None
    """The code's own page, relative to the site root; None when no entry carries the code (no page)."""
    entries: tuple[EntryLink, ...]
    """Entries carrying the code, in reading order."""

    @classmethod
    def of(
        cls,
        code: Code,
        refs: Sequence[CodeRef] = (),
        entries: Iterable[EntryLink] = (),
        names: Iterable[str] = (),
    ) -> CodeView:
        """The view of `code`, named by `refs` (how entries list it) and by any further `names`."""
        links = tuple(entries)
        return cls(
            value=code.value,
            hex=code.hex,
            bare_hex=code.bare_hex,
            signed=code.signed,
            unsigned=code.unsigned,
            facility_number=code.facility,
            facility=code.facility_name,
            win32=code.win32,
            from_win32=None if code.win32 is None else f"HRESULT_FROM_WIN32({code.win32})",
            notations=code.notations(),
            names=tuple(dict.fromkeys([*(name for ref in refs for name in ref.names), *names])),
            messages=tuple(dict.fromkeys(ref.message for ref in refs if ref.message)),
            shown_as=tuple(dict.fromkeys(s for ref in refs for s in (ref.code, *ref.shown_as))),
            url=code_url(code.hex) if links else None,
            entries=links,
        )

    def shown_otherwise(self) -> tuple[str, ...]:
        """How entries write the code, leaving out the notations every output prints anyway."""
        printed = {n.lower() for n in self.notations}
        return tuple(s for s in self.shown_as if s.strip().lower() not in printed)

    def to_json(self) -> dict[str, Any]:
        """The JSON form shared by `kb codes --json`, `kb lookup --json` and the search data."""
        return {
            "hex": self.hex,
            "signed": self.signed,
            "unsigned": self.unsigned,
            "facility": self.facility,
            "facility_number": self.facility_number,
            "win32": self.win32,
            "hresult_from_win32": self.from_win32,
            "notations": list(self.notations),
            "shown_as": list(self.shown_as),
            "names": list(self.names),
            "messages": list(self.messages),
            "url": self.url,
            "entries": [{"id": e.id, "title": e.title, "url": e.url} for e in self.entries],
        }


def code_view(kb: KnowledgeBase, value: int) -> CodeView:
    """The view of one code of the knowledge base (no names or entries when it has none)."""
    entries = kb.entries_by_code.get(value, ())
    return CodeView.of(Code(value), kb.code_refs(value), [EntryLink.to(e) for e in entries])


def code_views(kb: KnowledgeBase) -> tuple[CodeView, ...]:
    """Every code of the knowledge base, sorted by value."""
    return tuple(code_view(kb, value) for value in kb.entries_by_code)
