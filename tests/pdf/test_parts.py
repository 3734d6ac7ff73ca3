"""Cutting the runbook into parts (`build_kb.pdf.parts`): blocks, targets, parts and the page map, without Typst."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from build_kb.content.validate import load_knowledge_base
from build_kb.pdf.parts import (
    CONTENTS_LINES_PER_UNIT,
    INDEX_CODES_PER_UNIT,
    PageMap,
    PartLayout,
    Target,
    block_targets,
    contents_lines,
    part_document,
    runbook_blocks,
    split_parts,
)
from build_kb.pdf.runbook import runbook_data
from tests.helpers import make_entry, synthetic_entries, write_content


def _data(tmp_path: Path, entries: list[dict[str, Any]]) -> dict[str, Any]:
    kb = load_knowledge_base(write_content(tmp_path / "content", entries))
    return runbook_data(kb, datetime(2026, 1, 1, tzinfo=UTC), "1")


def test_blocks_follow_the_runbook_order(tmp_path: Path) -> None:
    data = _data(tmp_path, synthetic_entries(9))
    blocks = runbook_blocks(data)
    kinds = [b["kind"] for b in blocks]
    assert kinds[:2] == ["cover", "contents"] and kinds[-1] == "index"
    assert kinds.count("chapter") == len(data["phases"])
    entries = [b["entry"]["id"] for b in blocks if b["kind"] == "entry"]
    in_data = [e["id"] for p in data["phases"] for g in p["groups"] for e in g["entries"]]
    assert entries == in_data
    # the method leads into its first entry only, and entries under a method are one level deeper
    leads = [b["method"]["id"] for b in blocks if b["kind"] == "entry" and b["method"] is not None]
    assert leads == ["online", "phone"]
    assert {b["level"] for b in blocks if b["kind"] == "entry" and b["entry"]["method_title"]} == {3}


def test_a_chapter_block_lists_targets_not_whole_entries(tmp_path: Path) -> None:
    chapter = next(b for b in runbook_blocks(_data(tmp_path, synthetic_entries(6))) if b["kind"] == "chapter")
    listed = [e for g in chapter["phase"]["groups"] for e in g["entries"]]
    assert listed and all(set(e) == {"label", "title"} for e in listed)


def test_every_target_is_carried_by_exactly_one_block(tmp_path: Path) -> None:
    data = _data(tmp_path, synthetic_entries(12))
    carried = Counter(name for block in runbook_blocks(data, part_units=1) for name in block_targets(block))
    assert set(carried.values()) == {1}
    linked = {line["label"] for line in contents_lines(data)}
    linked |= {e["label"] for c in data["codes"] for e in c["entries"]}
    assert linked <= set(carried)


def test_a_method_without_entries_has_no_contents_line(tmp_path: Path) -> None:
    # the only activation entry is under "phone": "online" stays empty
    entries = [make_entry("a", phase="prepare"), make_entry("b", phase="activate", method="phone")]
    lines = contents_lines(_data(tmp_path, entries))
    assert [(line["level"], line["label"]) for line in lines] == [
        (1, "phase-prepare"),
        (2, "entry-a"),
        (1, "phase-activate"),
        (2, "method-activate-phone"),
        (3, "entry-b"),
        (1, "code-index"),
    ]


def test_long_contents_and_index_are_cut_into_runs_a_part_can_hold(tmp_path: Path) -> None:
    data = _data(tmp_path, synthetic_entries(30))
    blocks = runbook_blocks(data, part_units=1)
    contents = [b for b in blocks if b["kind"] == "contents"]
    index = [b for b in blocks if b["kind"] == "index"]
    assert [len(b["lines"]) for b in contents][:-1] == [CONTENTS_LINES_PER_UNIT] * (len(contents) - 1)
    assert sum(len(b["lines"]) for b in contents) == len(contents_lines(data))
    assert [len(b["codes"]) for b in index][:-1] == [INDEX_CODES_PER_UNIT] * (len(index) - 1)
    assert [c["hex"] for b in index for c in b["codes"]] == [c["hex"] for c in data["codes"]]
    assert [b["first"] for b in contents] == [True] + [False] * (len(contents) - 1)
    assert [b["first"] for b in index] == [True] + [False] * (len(index) - 1)
    # uncut, both are one block
    whole = runbook_blocks(data)
    assert [b["kind"] for b in whole].count("contents") == [b["kind"] for b in whole].count("index") == 1


@pytest.mark.parametrize(
    ("costs", "units", "expected"),
    [
        ([1, 1, 1, 1], 2, [[1, 1], [1, 1]]),
        ([1, 1, 1], 2, [[1, 1], [1]]),
        ([1, 5, 1], 2, [[1], [5], [1]]),  # a costlier block is a part alone
        ([2, 2], 4, [[2, 2]]),
        ([3], 1, [[3]]),
    ],
)
def test_split_parts(costs: list[int], units: int, expected: list[list[int]]) -> None:
    blocks = [{"kind": "entry", "cost": cost, "n": n} for n, cost in enumerate(costs)]
    parts = split_parts(blocks, units)
    assert [[b["cost"] for b in part] for part in parts] == expected
    assert [b["n"] for part in parts for b in part] == list(range(len(costs)))


def test_part_document_names_its_targets_and_drops_costs(tmp_path: Path) -> None:
    data = _data(tmp_path, synthetic_entries(4))
    blocks = runbook_blocks(data)
    document = part_document(data, blocks[2:4])
    assert document["targets"] == [name for block in blocks[2:4] for name in block_targets(block)]
    assert all("cost" not in block for block in document["blocks"])
    assert document["title"] == data["title"]


def _layout(pages: int, **targets: int) -> PartLayout:
    return PartLayout(pages, {name: Target(page, 10.0, 20.0) for name, page in targets.items()})


def test_page_map_places_each_part_after_the_one_before() -> None:
    produced = PageMap.of([_layout(3, a=2), _layout(2, b=1, c=2), _layout(4, d=4)])
    assert produced.starts == (1, 4, 6)
    assert produced.total == 9
    assert {name: at.page for name, at in produced.targets.items()} == {"a": 2, "b": 4, "c": 5, "d": 9}
    numbers = produced.numbers(1, "x:")
    assert (numbers["start"], numbers["total"], numbers["unknown"], numbers["scheme"]) == (4, 9, "8", "x:")
    assert produced.pages() == {"a": 2, "b": 4, "c": 5, "d": 9}


def test_page_map_is_settled_only_when_every_number_agrees() -> None:
    used = PageMap.of([_layout(3, a=2), _layout(2, b=1)])
    assert used.settled(PageMap.of([_layout(3, a=2), _layout(2, b=1)]))
    # a position moved on its page: the printed numbers are still right
    assert used.settled(PageMap((1, 4), 5, {"a": Target(2, 0, 0), "b": Target(4, 0, 0)}))
    assert not used.settled(PageMap.of([_layout(3, a=3), _layout(2, b=1)]))
    assert not used.settled(PageMap.of([_layout(4, a=2), _layout(2, b=1)]))
    assert not used.settled(PageMap.of([_layout(3, a=2), _layout(3, b=1)]))


def test_the_first_guess_has_the_digits_of_the_real_count(tmp_path: Path) -> None:
    blocks = [{"kind": "entry", "cost": 1}] * 150
    guess = PageMap.guess(split_parts(blocks, 40))
    assert guess.starts == (1, 41, 81, 121)
    assert guess.numbers(0, "x:")["unknown"] == "888"
    assert guess.targets == {}
