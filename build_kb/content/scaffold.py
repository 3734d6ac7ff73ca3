"""`kb new`: write a new draft entry that already validates, with the taxonomy's choices filled in.

The entry is a draft (`status: draft`): left out of the site, PDF, index and bundle, and allowed its TODO
placeholders, until its author sets `status: published` (then `kb check --strict` fails on any TODO left).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from build_kb.content.markup import RESERVED_NAMES
from build_kb.content.schemas import SLUG_PATTERN
from build_kb.content.validate import TAXONOMY_FILE, find_content
from build_kb.core.errors import KbError


class ScaffoldError(KbError):
    """The new entry cannot be written as asked."""


def _schema_comment(target: Path, content_root: Path) -> str:
    depth = len(target.relative_to(content_root).parts)
    return f"# yaml-language-server: $schema={'../' * depth}build_kb/content/schema/entry.schema.json\n"


def _governance(today: date) -> dict[str, Any]:
    """The new entry's life so far: a draft, written today, owned by whoever fills in the TODO."""
    return {
        "status": "draft",
        "owner": "TODO: the team or person who keeps this entry true",
        "reviewed": today.isoformat(),
    }


def _messages(taxonomy: dict[str, Any]) -> list[dict[str, str]]:
    """A placeholder message shown where the taxonomy's first `where` term says; none without such terms."""
    terms = (taxonomy.get("vocabularies") or {}).get("where") or []
    return [{"text": "TODO: the exact text Windows prints", "where": terms[0]["id"]}] if terms else []


def scaffold_entry(
    content_root: Path,
    entry_id: str,
    phase: str,
    *,
    method: str | None = None,
    title: str | None = None,
    codes: tuple[str, ...] = (),
    today: date | None = None,
) -> Path:
    """Write the draft `<content>/<phase>[/<method>]/<id>.yaml` and return its path.

    `today` is the date written as `reviewed` (the system's date when not given).

    Raises:
        ScaffoldError: the id is not a slug, the phase or method is unknown, or the file exists.
    """
    if not re.fullmatch(SLUG_PATTERN, entry_id):
        raise ScaffoldError(
            f"'{entry_id}' is not a valid id: use lowercase letters, digits and single hyphens"
        )
    if entry_id in RESERVED_NAMES:
        raise ScaffoldError(f"'{entry_id}' is a name Windows reserves for a device; choose another id")
    taxonomy = yaml.safe_load((content_root / TAXONOMY_FILE).read_text("utf-8"))
    phases = {p["id"]: p for p in taxonomy["phases"]}
    if phase not in phases:
        raise ScaffoldError(f"unknown phase '{phase}'; choose one of: {', '.join(phases)}")
    methods = [m["id"] for m in phases[phase].get("methods", [])]
    if methods and method not in methods:
        raise ScaffoldError(f"phase '{phase}' needs --method, one of: {', '.join(methods)}")
    if not methods and method:
        raise ScaffoldError(f"phase '{phase}' has no methods")
    existing = {p.stem for p in find_content(content_root).entries}
    if entry_id in existing:
        raise ScaffoldError(f"an entry with the id '{entry_id}' already exists")
    folder = content_root / phase / method if method else content_root / phase
    target = folder / f"{entry_id}.yaml"
    entry: dict[str, Any] = {
        "id": entry_id,
        **_governance(today or date.today()),
        "title": title or "TODO: the message or symptom exactly as the user sees it",
        "summary": "TODO: one sentence saying what goes wrong.",
        "phase": phase,
        **({"method": method} if method else {}),
        "applies_to": [taxonomy["products"][0]["id"]],
        "codes": [{"code": code} for code in codes],
        "messages": _messages(taxonomy),
        "causes": ["TODO: why it happens."],
        "actions": [{"step": "TODO: the first thing to do."}],
        "escalation": {"contact": "TODO: whom to contact", "collect": ["TODO: what to collect"]},
        "related": [],
        "references": [],
        "tags": [],
        "source": {"document": "TODO", "section": "TODO: the source heading, verbatim"},
    }
    folder.mkdir(parents=True, exist_ok=True)
    text = _schema_comment(target, content_root) + yaml.safe_dump(entry, sort_keys=False, allow_unicode=True)
    with target.open("x", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    return target
