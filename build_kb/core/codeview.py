"""One view of an error code for every output: entry pages, code pages, the code index, PDF, CLI and JSON.

Each output formats a `CodeView`; none decodes a code or builds a page address on its own, so the site, the
runbook and `kb lookup` always agree on what a code is and where its page lives. A view also carries what the
offline error-code dictionary (`build_kb.core.dictionary`) knows of the code, so an entry may leave its name and
message out and every output still shows them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from build_kb.core.codes import Code
from build_kb.core.dictionary import KnownCode, describe

if TYPE_CHECKING:  # the model costs milliseconds to import, and `kb lookup` needs none of it
    from build_kb.core.model import CodeRef, Entry, KnowledgeBase

NAMESPACE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "hresult": "HRESULT",
        "wua": "Windows Update",
        "ntstatus": "NTSTATUS",
        "setupapi": "SetupAPI",
        "win32": "Win32",
        "wininet": "WinINet",
        "winhttp": "WinHTTP",
        "ras": "RAS",
    }
)
"""Short labels of the dictionary's namespaces (`dictionary.NAMESPACES`), as outputs print them."""

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_TRAILING = re.compile(r"[\s.,;:!?]+$")


def message_key(text: str) -> str:
    """A message as compared with another: case, runs of whitespace, curly quotes and the punctuation that
    ends it make no difference ("Access is denied." and "access is denied" are the same message)."""
    folded = " ".join(text.translate(_QUOTES).split()).casefold()
    return _TRAILING.sub("", folded)


def known_label(known: KnownCode, code: int | None = None) -> str:
    """Where a dictionary name comes from, for readers: `HRESULT`, `Win32 error 5`, `NTSTATUS 0xC0000022`.

    The number is given where the record's value is not the code as written: a Win32 number inside an
    HRESULT (in decimal, as Win32 errors are written), or the form a code wraps (`code`, the value looked up:
    the NTSTATUS inside an HRESULT_FROM_NT, the SetupAPI error of an 0x800Fxxxx HRESULT).
    """
    label = NAMESPACE_LABELS.get(known.namespace, known.namespace)
    if known.value != known.code:
        return f"{label} error {known.value}"
    if code is not None and known.value != code:
        return f"{label} 0x{known.value:08X}"
    return label


def entry_url(entry_id: str) -> str:
    """The page of an entry, relative to the site root."""
    return f"entries/{entry_id}.html"


def code_url(hex_code: str) -> str:
    """The stable page of a code (canonical hex), relative to the site root, for links from tickets."""
    return f"codes/{hex_code}.html"


class EntryLink(NamedTuple):
    """An entry as a code's view lists it."""

    id: str
    title: str
    url: str
    """Relative to the site root."""

    @classmethod
    def to(cls, entry: Entry) -> EntryLink:
        """The link to an entry's page."""
        return cls(entry.id, entry.title, entry_url(entry.id))


class EntriesSay(NamedTuple):
    """What the entries' listings of one code say of it, each text once, in reading order."""

    names: tuple[str, ...]
    messages: tuple[str, ...]
    """The system messages they give the code."""
    shown_as: tuple[str, ...]
    """How they write the code, including strings that are no notation."""


def entries_say(refs: Sequence[CodeRef]) -> EntriesSay:
    """The names, messages and spellings of a code in the entries' listings of it (`KnowledgeBase.code_refs`)."""
    return EntriesSay(
        tuple(dict.fromkeys(name for ref in refs for name in ref.names)),
        tuple(dict.fromkeys(ref.message for ref in refs if ref.message)),
        tuple(dict.fromkeys(s for ref in refs for s in (ref.code, *ref.shown_as))),
    )


class CodeView(NamedTuple):
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
    """Every symbolic name of the code: the entries' names first, then the dictionary's (`known`)."""
    messages: tuple[str, ...]
    """System messages the entries give the code."""
    shown_as: tuple[str, ...]
    """How entries write the code, including strings that are no notation (a mangled number)."""
    url: str | None
    """The code's own page, relative to the site root; None when no entry carries the code (no page)."""
    entries: tuple[EntryLink, ...]
    """Entries carrying the code, in reading order."""
    entry_names: tuple[str, ...] = ()
    """Symbolic names the entries (or the caller) give the code, without the dictionary's."""
    known: tuple[KnownCode, ...] = ()
    """What the error-code dictionary knows of the code in every namespace, as `dictionary.describe` lists it."""

    @classmethod
    def of(
        cls,
        code: Code,
        refs: Sequence[CodeRef] = (),
        entries: Iterable[EntryLink] = (),
        names: Iterable[str] = (),
        messages: Iterable[str] = (),
        shown_as: Iterable[str] = (),
    ) -> CodeView:
        """The view of `code`, named by `refs` (how entries list it), any further `names` and the dictionary;
        `messages` and `shown_as` add to what `refs` give (a view read back from the search index has no refs)."""
        links = tuple(entries)
        said = entries_say(refs)
        own = tuple(dict.fromkeys([*said.names, *names]))
        known = describe(code.value)
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
            names=tuple(dict.fromkeys([*own, *(k.name for k in known)])),
            messages=tuple(dict.fromkeys([*said.messages, *messages])),
            shown_as=tuple(dict.fromkeys([*said.shown_as, *shown_as])),
            url=code_url(code.hex) if links else None,
            entries=links,
            entry_names=own,
            known=known,
        )

    @property
    def primary(self) -> KnownCode | None:
        """The dictionary's record to name the code by where there is room for one name.

        For an HRESULT_FROM_WIN32 code the Win32 error inside (ERROR_FILE_NOT_FOUND for 0x80070002, not the
        DirectInput alias listed first), as FormatMessage describes such a code; among those, the first with a
        message (ERROR_OUTOFMEMORY, not DNS_ERROR_NO_MEMORY, for 0x8007000E).
        """
        wrapped = [k for k in self.known if self.win32 is not None and k.value == self.win32]
        candidates = wrapped or list(self.known)
        return next((k for k in candidates if k.message), candidates[0] if candidates else None)

    @property
    def name(self) -> str | None:
        """The name to print where there is room for one: the entries' first, else the dictionary's primary."""
        if self.entry_names:
            return self.entry_names[0]
        return self.primary.name if self.primary else None

    @property
    def known_messages(self) -> tuple[KnownCode, ...]:
        """The dictionary's records of the code that have a message, each message once."""
        seen: set[str] = set()
        found = []
        for known in self.known:
            if known.message is not None and known.message not in seen:
                seen.add(known.message)
                found.append(known)
        return tuple(found)

    @property
    def message(self) -> str | None:
        """The message to print where there is room for one: the entries' first, else the dictionary's (the
        primary record's, or the first it has)."""
        if self.messages:
            return self.messages[0]
        primary = self.primary
        if primary is not None and primary.message:
            return primary.message
        documented = self.known_messages
        return documented[0].message if documented else None

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
            "known": [
                {"name": k.name, "namespace": k.namespace, "value": k.value, "message": k.message}
                for k in self.known
            ],
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
