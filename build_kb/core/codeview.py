"""Every code of a knowledge base as plain rows: for `kb codes`, the code index page and the PDF index."""

from __future__ import annotations

from typing import Any

from build_kb.core.codes import Code
from build_kb.core.model import KnowledgeBase


def entry_url(entry_id: str) -> str:
    """The page of an entry, relative to the site root."""
    return f"entries/{entry_id}.html"


def code_url(code: Code) -> str:
    """The stable page of a code, relative to the site root, for links from tickets."""
    return f"codes/{code.hex}.html"


def code_rows(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """One row per code, sorted by value: every notation, names, messages and the entries carrying it."""
    rows = []
    for value, entries in kb.entries_by_code.items():
        code = Code(value)
        refs = kb.code_refs(value)
        names = list(dict.fromkeys(name for ref in refs for name in ref.names))
        messages = list(dict.fromkeys(ref.message for ref in refs if ref.message))
        rows.append(
            {
                "hex": code.hex,
                "signed": code.signed,
                "unsigned": code.unsigned,
                "facility": code.facility_name,
                "facility_number": code.facility,
                "win32": code.win32,
                "notations": list(code.notations()),
                "shown_as": list(dict.fromkeys(s for ref in refs for s in (ref.code, *ref.shown_as))),
                "names": names,
                "messages": messages,
                "url": code_url(code),
                "entries": [{"id": e.id, "title": e.title, "url": entry_url(e.id)} for e in entries],
            }
        )
    return rows
