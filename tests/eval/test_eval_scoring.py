"""The evaluation's own checks: cases.yaml stays in step with content/, and the scoring reads answers right.

No subprocess here: the scoring functions are pure, and the cases file is checked against the entry ids
on disk so a renamed entry shows up as a stale expectation instead of a silent accuracy drop.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.eval.run_eval import (
    CASES,
    CONTENT,
    EVALUATED_SET,
    Case,
    Outcome,
    check_run,
    confident_first_answer,
    evaluated_here,
    failure,
    first_hit,
    hit_within,
    load_cases,
    parse_output,
    says_not_covered,
    score,
)


def _entry_ids(content: Path) -> set[str]:
    ids = set()
    for path in content.rglob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "id" in data and "phase" in data:
            ids.add(str(data["id"]))
    return ids


@pytest.mark.skipif(
    not evaluated_here(), reason=f"content/ is not the {EVALUATED_SET} set the cases evaluate"
)
def test_cases_file_loads_and_names_existing_entries() -> None:
    cases = load_cases(CASES)
    known = _entry_ids(CONTENT)
    stale = {case.id: [e for e in case.expect if e not in known] for case in cases}
    assert {case_id: missing for case_id, missing in stale.items() if missing} == {}


def test_cases_file_has_the_agreed_mix() -> None:
    counts = Counter((case.kind, case.covered) for case in load_cases(CASES))
    assert sum(counts.values()) >= 70
    assert sum(n for (_, covered), n in counts.items() if not covered) >= 25
    assert all(
        counts[(kind, covered)] for kind in ("lookup", "search", "triage") for covered in (True, False)
    )


def test_case_rejects_covered_without_expectation() -> None:
    data = {
        "id": "x",
        "kind": "search",
        "query": "q",
        "expect": [],
        "covered": True,
        "source": "s",
        "note": "n",
    }
    with pytest.raises(ValueError, match="covered cases need"):
        Case.from_mapping(data)


def _search_json(*ids: str, **extra: object) -> str:
    return json.dumps(
        {"query": "q", "code": None, "results": [{"id": i, "score": 1.0} for i in ids], **extra}
    )


def test_parse_search_document_without_covered_uses_exit_status() -> None:
    found = parse_output(_search_json("a", "b", "a"), 0)
    assert found.ids == ("a", "b")
    assert found.said_covered
    assert found.confidence is None
    assert not parse_output(_search_json(), 1).said_covered


def test_parse_reads_upcoming_covered_and_confidence_fields() -> None:
    text = json.dumps({"covered": False, "results": [{"id": "a", "confidence": "low"}]})
    outcome = parse_output(text, 0)
    assert outcome.ids == ("a",)
    assert not outcome.said_covered
    assert outcome.confidence == "low"
    assert not confident_first_answer(outcome)


def test_parse_triage_document_and_json_lines_alike() -> None:
    findings = [
        {"line": 1, "text": "x", "codes": [], "results": [{"id": "b"}, {"id": "a"}]},
        {"line": 2, "text": "y", "codes": [], "results": [{"id": "a"}, {"id": "c"}]},
    ]
    document = parse_output(json.dumps({"file": "f", "findings": findings}), 0)
    lines = parse_output("\n".join(json.dumps(f) for f in findings), 0)
    assert document.ids == lines.ids == ("b", "a", "c")
    assert document.said_covered


def test_parse_reports_output_that_is_not_json() -> None:
    outcome = parse_output("Traceback ...\nboom", 1)
    assert outcome.error is not None
    assert not says_not_covered(outcome)


def test_a_crash_is_an_error_not_a_not_covered_answer() -> None:
    crashed = check_run(parse_output("", 1), "", "Traceback (most recent call last):\nNameError: MIB")
    assert crashed.error == "crashed: NameError: MIB"
    assert not says_not_covered(crashed)
    quiet = check_run(parse_output(_search_json(), 1), _search_json(), "")
    assert quiet.error is None
    assert says_not_covered(quiet)


def test_rank_helpers() -> None:
    assert first_hit(["a", "b"], ["b", "x"])
    assert not first_hit(["a"], [])
    assert hit_within(["a"], ["x", "y", "a"])
    assert not hit_within(["a"], ["x", "y", "z", "a"])


def _case(case_id: str, kind: str, expect: tuple[str, ...]) -> Case:
    return Case(case_id, kind, "q", expect, bool(expect), "s", "n")


def test_score_counts_and_failures() -> None:
    cases = [
        _case("hit", "lookup", ("a",)),
        _case("third", "search", ("a",)),
        _case("quiet", "search", ()),
        _case("loud", "triage", ()),
    ]
    outcomes = [
        Outcome(("a",), True, None, 0),
        Outcome(("x", "y", "a"), True, None, 0),
        Outcome((), False, None, 1),
        Outcome(("a",), True, "high", 0),
    ]
    report = score(cases, outcomes)
    assert report["covered"]["all"]["top1"] == {"n": 1, "of": 2, "rate": 0.5}
    assert report["covered"]["all"]["top3"]["n"] == 2
    assert report["not_covered"]["all"]["said_not_covered"] == {"n": 1, "of": 2, "rate": 0.5}
    assert report["not_covered"]["triage"]["confident_first_answer"]["n"] == 1
    assert [f["id"] for f in report["failures"]] == ["third", "loud"]
    assert failure(cases[0], outcomes[0]) is None
