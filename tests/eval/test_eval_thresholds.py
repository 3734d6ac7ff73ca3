"""The shipped knowledge base against real pastes: thresholds on the evaluation, run through the CLI.

This module reads the live content/ (as tests/test_shipped_content.py does): it measures the shipped set,
not the code. `python -m tests.eval.run_eval` prints the same figures as a report.
"""

from __future__ import annotations

import os
import sys

import pytest

from tests.eval.run_eval import (
    CONTENT,
    EVALUATED_SET,
    evaluated_here,
    load_cases,
    prepare_index,
    run_all,
    score,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not evaluated_here(), reason=f"content/ is not the {EVALUATED_SET} set the cases evaluate"
    ),
]

RIGHT_FIRST = 0.90
"""Covered cases: the share whose first answer is an expected entry, at least."""
CONFIDENT_OUT_OF_SCOPE = 0.05
"""Cases the knowledge base does not cover: the share answered with high confidence, at most."""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    index = tmp_path_factory.mktemp("eval") / "index"
    problem = prepare_index(sys.executable, index, CONTENT, rebuild=True)
    assert problem is None, problem
    cases = load_cases()
    outcomes = run_all(cases, sys.executable, index, CONTENT, jobs=os.cpu_count() or 2)
    return score(cases, outcomes)


def test_no_case_crashes(report: dict[str, object]) -> None:
    assert report["errors"] == 0, report["failures"]


def test_covered_cases_get_the_right_entry_first(report: dict[str, object]) -> None:
    first = report["covered"]["all"]["top1"]  # type: ignore[index]
    assert first["rate"] >= RIGHT_FIRST, report["failures"]


def test_out_of_scope_cases_are_rarely_answered_with_confidence(report: dict[str, object]) -> None:
    confident = report["not_covered"]["all"]["confident_first_answer"]  # type: ignore[index]
    assert confident["rate"] <= CONFIDENT_OUT_OF_SCOPE, report["failures"]
