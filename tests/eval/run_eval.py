"""Score `kb lookup`, `kb search` and `kb triage` on the cases in tests/eval/cases.yaml.

    .venv/bin/python -m tests.eval.run_eval [--index DIR] [--json] [--cases FILE] [--jobs N] [--rebuild]
                                            [--root CHECKOUT]

Every case goes through the real command line in a subprocess (`python -m build_kb ... --json`), against a
search index of the live content/. While the working tree is mid-edit, `--root` runs the code of another
checkout instead, e.g. `git archive HEAD | tar -x -C /tmp/kb-head` then `--root /tmp/kb-head`. A crash is
reported as an error, never counted as "not covered". The report gives, for cases the knowledge base covers, top-1 and top-3
accuracy (overall and per kind), and for cases it does not cover, how often the tool said so and how often it
offered a confident first answer anyway. The exit status is always 0: this is a report, not a gate.

The scoring functions (`parse_output`, `first_hit`, `hit_within`, `score`, ...) are pure so tests can reuse
them. Output parsing is tolerant of fields the tool does not emit yet: a top-level `covered` boolean and a
per-result `confidence` ("high"/"low"). Without `covered`, "the tool says covered" means exit status 0 with
at least one result.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).with_name("cases.yaml")
CONTENT = ROOT / "content"
KINDS = ("lookup", "search", "triage")
TOP_K = 3
TIMEOUT = 120
WARM_UP_CODE = "0xC004F050"
EVALUATED_SET = "esu-kb"
"""The content set the cases were collected for (its taxonomy's `short_name`): another team's content/
brings cases of its own."""


def evaluated_here(content: Path = CONTENT) -> bool:
    """Whether `content` is the content set these cases evaluate."""
    try:
        taxonomy = yaml.safe_load((content / "taxonomy.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(taxonomy, dict) and taxonomy.get("short_name") == EVALUATED_SET


# ----------------------------------------------------------------------------------------------------------
# Cases and outcomes
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One evaluation case from cases.yaml."""

    id: str
    kind: str
    query: str
    expect: tuple[str, ...]
    covered: bool
    source: str
    note: str

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Case:
        """A case from its YAML mapping; ValueError names the case and the problem."""
        name = str(data.get("id", "?"))
        missing = {"id", "kind", "query", "expect", "covered", "source", "note"} - set(data)
        if missing:
            raise ValueError(f"case {name}: missing {', '.join(sorted(missing))}")
        kind = str(data["kind"])
        if kind not in KINDS:
            raise ValueError(f"case {name}: kind {kind!r} is not one of {', '.join(KINDS)}")
        expect = data["expect"] or []
        if not isinstance(expect, list):
            raise ValueError(f"case {name}: expect must be a list")
        covered = data["covered"]
        if not isinstance(covered, bool):
            raise ValueError(f"case {name}: covered must be true or false")
        if covered != bool(expect):
            raise ValueError(f"case {name}: covered cases need expected entries, others need none")
        return cls(
            name, kind, str(data["query"]), tuple(str(e) for e in expect), covered, str(data["source"]),
            str(data["note"]),
        )  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """What the tool answered for one case."""

    ids: tuple[str, ...]
    """Entry ids, best first, without repeats."""
    said_covered: bool
    """The tool's `covered` field, or (before that field exists) exit status 0 with at least one result."""
    confidence: str | None
    """`confidence` of the first result, when the tool gives one."""
    exit_code: int
    error: str | None = None
    """Why the answer could not be read (crash, timeout, output that is not JSON)."""


def load_cases(path: Path = CASES) -> list[Case]:
    """The cases of a cases.yaml file, checked for shape and unique ids."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of cases")
    cases = [Case.from_mapping(item) for item in data]
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise ValueError(f"{path}: duplicate case id {case.id}")
        seen.add(case.id)
    return cases


# ----------------------------------------------------------------------------------------------------------
# Reading the tool's JSON (pure)
# ----------------------------------------------------------------------------------------------------------


def _json_documents(text: str) -> list[Any]:
    """One JSON document, or JSON lines (one value per non-empty line); ValueError if neither."""
    stripped = text.strip()
    if not stripped:
        return []
    try:
        return [json.loads(stripped)]
    except json.JSONDecodeError:
        pass
    documents = []
    for number, line in enumerate(stripped.splitlines(), 1):
        if line.strip():
            try:
                documents.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"output line {number} is not JSON: {error.msg}") from None
    return documents


def _result_lists(value: Any) -> Iterator[list[Any]]:
    """Result lists of a lookup/search document, a triage document, a finding, or a bare list of hits."""
    if isinstance(value, list):
        if all(isinstance(item, Mapping) and "id" in item for item in value):
            yield value
        else:
            for item in value:
                yield from _result_lists(item)
        return
    if not isinstance(value, Mapping):
        return
    if "id" in value and "results" not in value and "hits" not in value:
        yield [value]  # a single hit on a JSON line
        return
    for key in ("results", "hits"):
        if isinstance(value.get(key), list):
            yield value[key]
    if isinstance(value.get("findings"), list):
        for finding in value["findings"]:
            yield from _result_lists(finding)


def parse_output(stdout: str, exit_code: int) -> Outcome:
    """The entry ids, coverage claim and first confidence in a command's JSON output."""
    try:
        documents = _json_documents(stdout)
    except ValueError as error:
        return Outcome((), False, None, exit_code, str(error))
    results = [
        hit for doc in documents for hits in _result_lists(doc) for hit in hits if isinstance(hit, Mapping)
    ]
    ids = tuple(dict.fromkeys(str(hit["id"]) for hit in results if "id" in hit))
    claims = [
        doc["covered"]
        for doc in documents
        if isinstance(doc, Mapping) and isinstance(doc.get("covered"), bool)
    ]
    said_covered = all(claims) if claims else exit_code == 0 and bool(ids)
    first = next((hit for hit in results if "id" in hit), None)
    confidence = first.get("confidence") if first is not None else None
    return Outcome(ids, said_covered, confidence if isinstance(confidence, str) else None, exit_code)


# ----------------------------------------------------------------------------------------------------------
# Scoring (pure)
# ----------------------------------------------------------------------------------------------------------


def first_hit(expect: Sequence[str], got: Sequence[str]) -> bool:
    """The first answer is one of the expected entries."""
    return bool(got) and got[0] in expect


def best_first(expect: Sequence[str], got: Sequence[str]) -> bool:
    """The first answer is the best expected entry."""
    return bool(got) and bool(expect) and got[0] == expect[0]


def hit_within(expect: Sequence[str], got: Sequence[str], k: int = TOP_K) -> bool:
    """An expected entry is among the first `k` answers."""
    return any(entry in expect for entry in got[:k])


def says_not_covered(outcome: Outcome) -> bool:
    """The tool told the user the knowledge base has no answer (a crash tells nothing)."""
    return outcome.error is None and not outcome.said_covered


def confident_first_answer(outcome: Outcome) -> bool:
    """The tool put an entry first without marking it low-confidence (any first answer, before `confidence`)."""
    return bool(outcome.ids) and outcome.confidence in (None, "high")


def _ratio(part: int, whole: int) -> dict[str, Any]:
    return {"n": part, "of": whole, "rate": round(part / whole, 4) if whole else None}


def _covered_stats(pairs: Sequence[tuple[Case, Outcome]]) -> dict[str, Any]:
    n = len(pairs)
    return {
        "cases": n,
        "top1": _ratio(sum(first_hit(c.expect, o.ids) for c, o in pairs), n),
        "top3": _ratio(sum(hit_within(c.expect, o.ids) for c, o in pairs), n),
        "best1": _ratio(sum(best_first(c.expect, o.ids) for c, o in pairs), n),
        "said_not_covered": _ratio(sum(says_not_covered(o) for _, o in pairs), n),
    }


def _uncovered_stats(pairs: Sequence[tuple[Case, Outcome]]) -> dict[str, Any]:
    n = len(pairs)
    return {
        "cases": n,
        "said_not_covered": _ratio(sum(says_not_covered(o) for _, o in pairs), n),
        "confident_first_answer": _ratio(sum(confident_first_answer(o) for _, o in pairs), n),
    }


def failure(case: Case, outcome: Outcome) -> dict[str, Any] | None:
    """Why a case failed, or None when it passed.

    A covered case fails when its first answer is not an expected entry; an uncovered case fails when the
    tool does not say "not covered".
    """
    if outcome.error:
        reason = f"error: {outcome.error}"
    elif case.covered:
        if first_hit(case.expect, outcome.ids):
            return None
        if not outcome.ids:
            reason = "no answer"
        elif hit_within(case.expect, outcome.ids):
            reason = f"expected entry ranked below first (top-{TOP_K} hit)"
        else:
            reason = f"no expected entry in top {TOP_K}"
    else:
        if says_not_covered(outcome):
            return None
        confidence = f", confidence {outcome.confidence}" if outcome.confidence else ""
        reason = f"answered although not covered{confidence}"
    return {
        "id": case.id,
        "kind": case.kind,
        "covered": case.covered,
        "expected": list(case.expect),
        "got": list(outcome.ids[:TOP_K]),
        "reason": reason,
    }


def score(cases: Sequence[Case], outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The whole report as plain data (what --json prints)."""
    if len(cases) != len(outcomes):
        raise ValueError("one outcome per case is needed")
    pairs = list(zip(cases, outcomes, strict=True))
    counts = {
        kind: {
            "covered": sum(c.kind == kind and c.covered for c in cases),
            "not_covered": sum(c.kind == kind and not c.covered for c in cases),
        }
        for kind in KINDS
    }
    covered = [(c, o) for c, o in pairs if c.covered]
    uncovered = [(c, o) for c, o in pairs if not c.covered]
    failures = [f for c, o in pairs if (f := failure(c, o)) is not None]
    return {
        "cases": len(cases),
        "counts": counts,
        "covered": {
            "all": _covered_stats(covered),
            **{kind: _covered_stats([(c, o) for c, o in covered if c.kind == kind]) for kind in KINDS},
        },
        "not_covered": {
            "all": _uncovered_stats(uncovered),
            **{kind: _uncovered_stats([(c, o) for c, o in uncovered if c.kind == kind]) for kind in KINDS},
        },
        "errors": sum(o.error is not None for o in outcomes),
        "failures": failures,
    }


def _cell(ratio: Mapping[str, Any]) -> str:
    if not ratio["of"]:
        return "-"
    return f"{ratio['n']}/{ratio['of']} ({ratio['rate']:.0%})"


def format_report(report: Mapping[str, Any]) -> str:
    """The report as text for a terminal."""
    counts = report["counts"]
    where = f" (code from {report['root']})" if report.get("root") else ""
    lines = [
        f"{report['cases']} cases{where}",
        "",
        f"  {'kind':<8}{'covered':>9}{'not covered':>13}{'total':>7}",
    ]
    for kind in KINDS:
        c, u = counts[kind]["covered"], counts[kind]["not_covered"]
        lines.append(f"  {kind:<8}{c:>9}{u:>13}{c + u:>7}")
    total_c = sum(counts[k]["covered"] for k in KINDS)
    total_u = sum(counts[k]["not_covered"] for k in KINDS)
    lines.append(f"  {'all':<8}{total_c:>9}{total_u:>13}{total_c + total_u:>7}")

    lines += ["", "Covered cases: the first answers", ""]
    header = f"  {'kind':<8}{'top-1':>16}{'top-3':>16}{'best first':>16}{'said not covered':>20}"
    lines.append(header)
    for key in ("all", *KINDS):
        s = report["covered"][key]
        lines.append(
            f"  {key:<8}{_cell(s['top1']):>16}{_cell(s['top3']):>16}{_cell(s['best1']):>16}"
            f"{_cell(s['said_not_covered']):>20}"
        )
    lines.append("  (top-1/top-3: an expected entry first / in the first three; best first: expect[0] first)")

    lines += ["", "Not-covered cases: does the tool admit it?", ""]
    lines.append(f"  {'kind':<8}{'said not covered':>20}{'confident first answer':>26}")
    for key in ("all", *KINDS):
        s = report["not_covered"][key]
        lines.append(f"  {key:<8}{_cell(s['said_not_covered']):>20}{_cell(s['confident_first_answer']):>26}")
    lines.append(
        "  (confident: a first answer not marked low-confidence; any first answer until the field exists)"
    )

    failures = report["failures"]
    lines += ["", f"Failures ({len(failures)})", ""]
    for item in failures:
        state = "covered" if item["covered"] else "not covered"
        expected = ", ".join(item["expected"]) or "(not covered)"
        got = ", ".join(item["got"]) or "(nothing)"
        lines.append(f"  {item['id']}  [{item['kind']}, {state}]  {item['reason']}")
        lines.append(f"      expected: {expected}")
        lines.append(f"      got:      {got}")
    if report["errors"]:
        lines += ["", f"{report['errors']} case(s) could not be run or read; see the failures above."]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------
# Running the tool
# ----------------------------------------------------------------------------------------------------------


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONUTF8": "1", "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"}


def _kb(python: str, *arguments: str) -> list[str]:
    return [python, "-m", "build_kb", *arguments]


def command_for(case: Case, python: str, index: Path, content: Path, log_file: Path | None) -> list[str]:
    """The command line that runs `case` (the query as one argument; a triage case reads `log_file`)."""
    options = ["--index", str(index), "--content", str(content), "--json"]
    if case.kind == "triage":
        if log_file is None:
            raise ValueError("a triage case needs a log file")
        return _kb(python, "triage", *options, str(log_file))
    return _kb(python, case.kind, *options, "--", case.query)


def run_case(
    case: Case, python: str, index: Path, content: Path, workdir: Path, root: Path = ROOT
) -> Outcome:
    """Run one case through the CLI (from the checkout `root`) and read its answer."""
    log_file = None
    if case.kind == "triage":
        log_file = workdir / f"{case.id}.log"
        log_file.write_text(case.query + "\n", encoding="utf-8")
    command = command_for(case, python, index, content, log_file)
    try:
        done = subprocess.run(
            command, cwd=root, env=_environment(), capture_output=True, timeout=TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return Outcome((), False, None, -1, f"{type(error).__name__}: {error}")
    stdout = done.stdout.decode("utf-8", errors="replace")
    stderr = done.stderr.decode("utf-8", errors="replace")
    return check_run(parse_output(stdout, done.returncode), stdout, stderr)


def check_run(outcome: Outcome, stdout: str, stderr: str) -> Outcome:
    """`outcome` marked as an error when the command crashed rather than answered.

    With --json every command prints a JSON document even when it finds nothing (exit status 1), so empty
    output, a traceback or an exit status other than 0 and 1 means the tool failed, not "not covered".
    """
    if outcome.error is not None:
        return outcome
    lines = stderr.strip().splitlines()
    detail = lines[-1] if lines else "no message"
    if "Traceback (most recent call last)" in stderr:
        problem = f"crashed: {detail}"
    elif not stdout.strip():
        problem = f"no JSON output (exit status {outcome.exit_code}): {detail}"
    elif outcome.exit_code not in (0, 1):
        problem = f"exit status {outcome.exit_code}: {detail}"
    else:
        return outcome
    return Outcome(outcome.ids, outcome.said_covered, outcome.confidence, outcome.exit_code, problem)


def prepare_index(python: str, index: Path, content: Path, rebuild: bool, root: Path = ROOT) -> str | None:
    """Build the index when missing (or asked to); otherwise let one command refresh it if stale.

    Done once, before the cases run in parallel, so that no two subprocesses rebuild at the same time.
    Returns a problem to report, or None.
    """
    if rebuild or not index.exists():
        command = _kb(python, "index", "--index", str(index), "--content", str(content), "--json")
    else:
        command = _kb(
            python, "lookup", "--index", str(index), "--content", str(content), "--json", WARM_UP_CODE
        )
    try:
        done = subprocess.run(
            command, cwd=root, env=_environment(), capture_output=True, timeout=TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"could not prepare the index: {error}"
    stderr = done.stderr.decode("utf-8", errors="replace").strip()
    if done.returncode not in (0, 1) or "Traceback (most recent call last)" in stderr:
        last = stderr.splitlines()[-1] if stderr else f"exit status {done.returncode}"
        return f"preparing the index failed: {last}"
    return None


def run_all(
    cases: Iterable[Case], python: str, index: Path, content: Path, jobs: int, root: Path = ROOT
) -> list[Outcome]:
    """Every case through the CLI, `jobs` at a time, in case order."""
    with tempfile.TemporaryDirectory(prefix="kb-eval-logs-") as tmp, ThreadPoolExecutor(max(1, jobs)) as pool:
        workdir = Path(tmp)
        return list(pool.map(lambda case: run_case(case, python, index, content, workdir, root), cases))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.eval.run_eval", description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, help="index folder to build or use (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--cases", type=Path, default=CASES, help="cases file (default: %(default)s)")
    parser.add_argument("--content", type=Path, default=CONTENT, help="content folder (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=4, help="cases run at once (default: %(default)s)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the index even if it exists")
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="checkout whose build_kb/search code runs the cases, e.g. a `git archive HEAD` copy while the "
        "working tree is mid-edit (default: this repository); content/ stays the live one",
    )
    args = parser.parse_args(argv)

    cases = load_cases(args.cases)
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="kb-eval-index-") as tmp:
        index = (args.index or Path(tmp) / "index").resolve()
        content, root = args.content.resolve(), args.root.resolve()
        problem = prepare_index(python, index, content, args.rebuild, root)
        outcomes = run_all(cases, python, index, content, args.jobs, root)
    report = score(cases, outcomes)
    report["index"] = index.as_posix() if args.index else None
    report["root"] = root.as_posix()
    if problem:
        report["problem"] = problem
    if args.json:
        report["outcomes"] = {case.id: asdict(outcome) for case, outcome in zip(cases, outcomes, strict=True)}
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        if problem:
            print(problem, file=sys.stderr)
        print(format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
