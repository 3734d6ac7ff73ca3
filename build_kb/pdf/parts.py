"""The runbook as a sequence of blocks, cut into parts Typst can typeset one at a time, and the page map joining them.

Typst holds the layout of a whole document in memory (about 1.5 MB per entry page), so a runbook of ten
thousand entries does not fit a laptop as one document. It is typeset as parts instead: each part is a run of
blocks (the cover, contents pages, a chapter page, an entry, error-code index pages) that starts on a page of
its own, so cutting between two blocks changes no page. A part prints the page numbers of targets in other
parts from a page map, and the build typesets the parts again until the map it gave them is the map they
produce (`PageMap.settled`), as Typst itself iterates its layout until page references converge.

Pure functions and frozen data, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Block = dict[str, Any]
"""One block of the runbook: `{"kind": "cover" | "contents" | "chapter" | "entry" | "index", ...}`."""

CONTENTS_LINES_PER_UNIT = 25
"""Contents lines that cost Typst about as much as one entry page."""
INDEX_CODES_PER_UNIT = 4
"""Error-code index rows that cost Typst about as much as one entry page."""
PART_UNITS = 200
"""The work in one part, in entry pages: about 300 MB of Typst memory and 1.5 s of CPU."""
ONE_DOCUMENT_UNITS = 1500
"""The most work typeset as one document: about 2.7 GB of Typst memory (1.8 MB per entry page). Up to this,
one document is faster than parts, which are laid out twice (each round in fresh processes, so nothing of the
first layout is reused), and it can be tagged."""


def contents_lines(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The contents, in reading order: each phase, then its entries and methods, then the code index."""
    lines: list[dict[str, Any]] = []
    for phase in data["phases"]:
        lines.append({"level": 1, "label": phase["label"], "title": phase["title"]})
        for group in phase["groups"]:
            method = group["method"]
            # A method without entries has no heading of its own: its chapter page says it is empty.
            if method is not None and group["entries"]:
                lines.append({"level": 2, "label": method["label"], "title": method["title"]})
            level = 2 if method is None else 3
            lines.extend({"level": level, "label": e["label"], "title": e["title"]} for e in group["entries"])
    lines.append({"level": 1, "label": "code-index", "title": "Error-code index"})
    return lines


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)] or [items]


def runbook_blocks(data: Mapping[str, Any], part_units: int = PART_UNITS) -> list[Block]:
    """The whole runbook as blocks, long contents and long indexes cut into runs a part can hold.

    Arguments:
        data: `build_kb.pdf.runbook.runbook_data`.
        part_units: The work a part holds, in entry pages; contents and index runs are cut to fit it.
    """
    blocks: list[Block] = [{"kind": "cover", "cost": 1}]
    lines = contents_lines(data)
    for n, run in enumerate(_chunks(lines, part_units * CONTENTS_LINES_PER_UNIT)):
        cost = math.ceil(len(run) / CONTENTS_LINES_PER_UNIT)
        blocks.append({"kind": "contents", "first": n == 0, "lines": list(run), "cost": cost})
    for phase in data["phases"]:
        # A chapter page lists its entries, so it needs their titles and labels, not the entries themselves.
        listing = {
            **phase,
            "groups": [
                {
                    "method": group["method"],
                    "entries": [{"label": e["label"], "title": e["title"]} for e in group["entries"]],
                }
                for group in phase["groups"]
            ],
        }
        blocks.append({"kind": "chapter", "phase": listing, "cost": 1})
        for group in phase["groups"]:
            method = group["method"]
            for position, entry in enumerate(group["entries"]):
                blocks.append(
                    {
                        "kind": "entry",
                        "entry": entry,
                        "level": 2 if method is None else 3,
                        # The method's heading and summary lead into its first entry's page.
                        "method": method if position == 0 else None,
                        "cost": 1,
                    }
                )
    for n, run in enumerate(_chunks(data["codes"], part_units * INDEX_CODES_PER_UNIT)):
        cost = math.ceil(len(run) / INDEX_CODES_PER_UNIT)
        blocks.append({"kind": "index", "first": n == 0, "codes": list(run), "cost": cost})
    return blocks


def block_targets(block: Block) -> list[str]:
    """The labels a block carries: what links and page references in any part may point to."""
    kind = block["kind"]
    if kind == "chapter":
        return [block["phase"]["label"]]
    if kind == "entry":
        method = block["method"]
        return ([method["label"]] if method is not None else []) + [block["entry"]["label"]]
    if kind == "index" and block["first"]:
        return ["code-index"]
    return []


def split_parts(blocks: Sequence[Block], part_units: int = PART_UNITS) -> list[list[Block]]:
    """Consecutive runs of blocks, each costing at most `part_units` (a costlier block is a part alone)."""
    parts: list[list[Block]] = []
    current: list[Block] = []
    spent = 0
    for block in blocks:
        if current and spent + block["cost"] > part_units:
            parts.append(current)
            current, spent = [], 0
        current.append(block)
        spent += block["cost"]
    if current:
        parts.append(current)
    return parts


def part_document(data: Mapping[str, Any], blocks: Sequence[Block]) -> dict[str, Any]:
    """What the template's `runbook` call receives for one part: the runbook's front facts and its blocks."""
    return {
        "title": data["title"],
        "description": data["description"],
        "keywords": data["keywords"],
        "build_date": data["build_date"],
        "version": data["version"],
        "products": data["products"],
        "counts": data["counts"],
        "attribution": data["attribution"],
        "targets": [name for block in blocks for name in block_targets(block)],
        "blocks": [{k: v for k, v in block.items() if k != "cost"} for block in blocks],
    }


@dataclass(frozen=True, slots=True)
class Target:
    """Where a label lands in the joined runbook."""

    page: int
    """1-based page of the whole runbook."""
    x: float
    y: float
    """Position on the page, in points from the top left corner."""


@dataclass(frozen=True, slots=True)
class PartLayout:
    """What one typeset part reports: its page count and where its targets landed (pages counted in the part)."""

    pages: int
    targets: Mapping[str, Target]

    @classmethod
    def from_info(cls, info: Mapping[str, Any]) -> PartLayout:
        """From the `<runbook-info>` metadata the template leaves on a document's first page."""
        targets = {str(name): Target(int(page), float(x), float(y)) for name, page, x, y in info["targets"]}
        return cls(pages=int(info["pages"]), targets=targets)


@dataclass(frozen=True, slots=True)
class PageMap:
    """The page numbers one round of typesetting gives the parts: where each starts, and every target's page."""

    starts: tuple[int, ...]
    total: int
    targets: Mapping[str, Target]

    @classmethod
    def of(cls, layouts: Iterable[PartLayout]) -> PageMap:
        """The map a round of parts produced: each part follows the one before it."""
        starts: list[int] = []
        targets: dict[str, Target] = {}
        page = 1
        for layout in layouts:
            starts.append(page)
            for name, at in layout.targets.items():
                targets[name] = Target(page + at.page - 1, at.x, at.y)
            page += layout.pages
        return cls(tuple(starts), page - 1, targets)

    @classmethod
    def guess(cls, parts: Sequence[Sequence[Block]]) -> PageMap:
        """A first map, before any part is typeset: one page per unit of work.

        Only the widths of its numbers matter (the parts are typeset again with the real map), so the guess
        aims at the right number of digits.
        """
        starts: list[int] = []
        page = 1
        for part in parts:
            starts.append(page)
            page += sum(block["cost"] for block in part)
        return cls(tuple(starts), page - 1, {})

    def numbers(self, part: int, scheme: str) -> dict[str, Any]:
        """The `kb-numbers` a part is typeset with (see the template); `pages` gives `kb-pages`."""
        return {
            "start": self.starts[part],
            "total": self.total,
            "unknown": "8" * len(str(self.total)),
            "scheme": scheme,
        }

    def pages(self) -> dict[str, int]:
        """The `kb-pages` every part of a round is typeset with: each target's page, by label."""
        return {name: at.page for name, at in sorted(self.targets.items())}

    def settled(self, produced: PageMap) -> bool:
        """Whether parts typeset with this map printed the numbers `produced` says are right."""
        return (
            self.starts == produced.starts
            and self.total == produced.total
            and {n: t.page for n, t in self.targets.items()}
            == {n: t.page for n, t in produced.targets.items()}
        )
