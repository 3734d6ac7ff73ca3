"""Factories for tests and benchmarks: single entries, whole synthetic content sets on disk, and the fixture
content sets under tests/data/sets."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SETS = DATA / "sets"
"""Fixture content sets: full content folders that tests of the code run on (never the shipped content/)."""
ACTIVATION = SETS / "activation"
"""A desktop team's volume-activation set: 14 entries in 3 phases (one with 3 methods), a code in every
notation (0x-hex, bare hex, negative decimal, HRESULT_FROM_WIN32(n), Win32 decimal, a symbolic name), shared
codes, shown_as spellings, literal and regex log patterns, corrections, references and lookup examples."""
PRINTING = SETS / "printing"
"""A bilingual (German, French) print desk's set: 6 entries, a phase without methods, entries without
codes, non-ASCII titles, its own vocabularies (a bash shell), sources with and without an address, and no
lookup examples."""
LOGS = DATA / "logs"
WINDOWS_UPDATE_LOG = LOGS / "windows-update.log"
"""A WindowsUpdate.log whose failures the activation set's entries explain."""

TAXONOMY: dict[str, Any] = {
    "title": "Synthetic knowledge base",
    "short_name": "synthetic-kb",
    "description": "Generated entries for tests and benchmarks.",
    "phases": [
        {"id": "prepare", "title": "Preparing", "summary": "Getting ready."},
        {
            "id": "activate",
            "title": "Activating",
            "summary": "Turning it on.",
            "methods": [
                {"id": "online", "title": "Online", "summary": "Over the network."},
                {"id": "phone", "title": "By phone", "summary": "With a call."},
            ],
        },
    ],
    "products": [{"id": "product-a", "name": "Product A"}, {"id": "product-b", "name": "Product B"}],
    "vocabularies": {
        "where": [
            {"id": "slmgr", "label": "The licensing script"},
            {"id": "windows-update", "label": "Windows Update"},
            {"id": "other", "label": "Shown"},
        ],
        "log": [{"id": "cbs-log", "label": "CBS.log"}],
        "shell": [
            {"id": "cmd", "label": "Command Prompt", "highlight": "bat"},
            {"id": "text", "label": "Text"},
        ],
    },
}
REFERENCES: dict[str, Any] = {
    "references": [{"id": "manual", "title": "The manual", "url": "https://example.invalid/manual"}]
}

_WORDS = [
    "activation",
    "key",
    "license",
    "server",
    "update",
    "package",
    "install",
    "restart",
    "network",
    "proxy",
    "firewall",
    "service",
    "registry",
    "certificate",
    "signature",
    "timeout",
    "denied",
    "invalid",
    "missing",
    "rollup",
    "servicing",
    "stack",
    "prerequisite",
    "volume",
    "management",
    "tool",
    "remote",
    "machine",
    "console",
    "elevated",
    "prompt",
    "domain",
    "account",
    "product",
    "edition",
]


def make_entry(entry_id: str = "sample-entry", **overrides: Any) -> dict[str, Any]:
    """A valid entry for the synthetic taxonomy; keyword arguments replace fields."""
    entry: dict[str, Any] = {
        "id": entry_id,
        "title": "Error: 0xC004F050 when installing the key",
        "summary": "The key is refused.",
        "phase": "prepare",
        "applies_to": ["product-a"],
        "codes": [
            {"code": "0xC004F050", "name": "SL_E_INVALID_PRODUCT_KEY", "message": "The key is invalid."}
        ],
        "messages": [{"text": "Error: 0xC004F050", "where": "slmgr"}],
        "causes": ["The prerequisite update is missing."],
        "actions": [{"step": "Install the key again.", "command": "slmgr /ipk <key>", "shell": "cmd"}],
        "escalation": {"contact": "Support", "collect": ["C:\\Windows\\Logs\\CBS\\CBS.log"]},
        "source": {"document": "KB0000001", "section": "Sample section"},
    }
    entry.update(overrides)
    return entry


def write_content(
    root: Path, entries: list[dict[str, Any]], *, taxonomy: dict[str, Any] | None = None
) -> Path:
    """Write a content folder (taxonomy, references, one file per entry in its phase folder)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "taxonomy.yaml").write_text(yaml.safe_dump(taxonomy or TAXONOMY, sort_keys=False), "utf-8")
    (root / "references.yaml").write_text(yaml.safe_dump(REFERENCES, sort_keys=False), "utf-8")
    for entry in entries:
        folder = root / entry["phase"] / entry["method"] if entry.get("method") else root / entry["phase"]
        folder.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(entry, sort_keys=False, allow_unicode=True)
        (folder / f"{entry['id']}.yaml").write_text(text, "utf-8")
    return root


def synthetic_entries(count: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """`count` plausible entries with distinct codes, about 150 words each, linked to their neighbours."""
    rng = random.Random(seed)
    entries = []
    for number in range(count):
        value = 0xC0040000 | (number % 0xFFFF) if number % 2 else 0x80070000 | (1 + number % 0xFFFE)
        words = [rng.choice(_WORDS) for _ in range(120)]
        phase = "prepare" if number % 3 == 0 else "activate"
        entry = make_entry(
            f"entry-{number:05d}",
            title=f"Error 0x{value:08X}: {' '.join(words[:6])}",
            summary=" ".join(words[6:20]).capitalize() + ".",
            phase=phase,
            codes=[{"code": f"0x{value:08X}", "name": f"SYNTH_E_{number:05d}"}],
            messages=[{"text": f"Error: 0x{value:08X} {' '.join(words[20:32])}", "where": "slmgr"}],
            log_patterns=[{"pattern": f"SYNTH: failure {number:05d}", "log": "cbs-log"}],
            causes=[" ".join(words[32:60]) + "."],
            actions=[
                {"step": " ".join(words[60:80]) + "."},
                {"step": " ".join(words[80:100]) + ".", "command": f"slmgr /ato {number}", "shell": "cmd"},
            ],
            related=[f"entry-{(number + 1) % count:05d}"] if count > 1 else [],
            references=["manual"],
            tags=[rng.choice(_WORDS)],
            source={"document": "SYNTH", "section": f"Synthetic section {number}"},
        )
        if phase == "activate":
            entry["method"] = "online" if number % 2 else "phone"
        entries.append(entry)
    return entries
