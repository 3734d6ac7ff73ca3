"""`kb triage` on hostile logs and patterns: regular expressions run in linear time, memory stays bounded
whatever matches, and nothing from a log line acts on the terminal.

Timings and memory are measured in child processes, with timeouts, so a regression fails instead of hanging
the suite or exhausting the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from build_kb.app.cli.search import MAX_LINES, triage
from build_kb.content.validate import check_content, load_knowledge_base
from search.index import build_index
from tests.helpers import ROOT, make_entry, write_content

CATASTROPHIC = "^(a+)+$"
"""Backtracks exponentially in Python's `re` on 'aaaa…!': about 2**n steps for n a's."""
ESCAPES = ("\x1b", "\x07", "\x9b", "\x9d")
MAX_RSS = 64 * 1024 * 1024
"""Peak resident memory allowed for a triage of a 20 MB log that matches on every line: about three times
what it takes (the interpreter and the index, the same for any log). Keeping every finding took 0.3 GB for
the text report and 0.3-3.5 GB for --json."""


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("KB_CACHE_DIR", str(folder))
    return folder


def _content(root: Path, *patterns: dict[str, Any]) -> Path:
    entry = make_entry(
        "first-entry",
        log_patterns=[{"pattern": "ESU: NO ESU KEY FOUND", "log": "cbs-log"}, *patterns],
    )
    return write_content(root, [entry])


@pytest.fixture
def index(tmp_path: Path) -> Path:
    content = _content(tmp_path / "content", {"pattern": CATASTROPHIC, "regex": True})
    root = tmp_path / "index"
    build_index(load_knowledge_base(content), root, content_root=content)
    return root


def _child(script: str, *arguments: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *arguments],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# --- regular expressions ------------------------------------------------------------------------------


def test_a_catastrophic_pattern_passes_check_and_runs_in_linear_time(tmp_path: Path) -> None:
    content = _content(tmp_path / "content", {"pattern": CATASTROPHIC, "regex": True})
    kb, problems = check_content(content)
    assert kb is not None and problems == []
    script = """
        import sys, time
        from build_kb.content.validate import load_knowledge_base
        from search.codemap import TriageData
        from search.triage import MAX_LINE, LogMatcher
        from pathlib import Path

        matcher = LogMatcher(TriageData.from_kb(load_knowledge_base(Path(sys.argv[1]))))
        started = time.perf_counter()
        assert matcher.match("a" * 35 + "!") is None
        assert matcher.match("a" * (MAX_LINE - 1) + "!") is None
        assert matcher.match("a" * 40) is not None
        print(time.perf_counter() - started)
    """
    completed = _child(script, str(content), timeout=30)  # Python's re: hours (2**35 steps)
    assert completed.returncode == 0, completed.stderr
    assert float(completed.stdout) < 0.5


def test_the_command_on_a_catastrophic_pattern(tmp_path: Path, index: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("a" * 35 + "!\n" + "a" * 50 + "\n", "utf-8")
    script = """
        import sys
        from build_kb.app.cli.main import main
        sys.argv = ["kb", "triage", *sys.argv[1:]]
        main()
    """
    args = [str(log), "--index", str(index), "--content", str(tmp_path / "none"), "--json"]
    completed = _child(script, *args, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert [f["line"] for f in json.loads(completed.stdout)["findings"]] == [2]


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?=ESU)ESU", r"(?<!x)ESU", "a{2000}", "ESU: ("])
def test_a_pattern_re2_cannot_run_is_a_problem_at_its_place(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], pattern: str
) -> None:
    content = _content(tmp_path / "content", {"pattern": pattern, "regex": True})
    _, problems = check_content(content)
    (problem,) = problems
    assert problem.field == "log_patterns[1].pattern" and "invalid regular expression" in problem.message
    assert str(problem).startswith(f"{(content / 'prepare' / 'first-entry.yaml').as_posix()}:")
    line, column = str(problem).split(":")[1:3]
    assert int(line) > 1 and int(column) >= 1
    assert capfd.readouterr().err == ""  # RE2 prints nothing of its own


# --- memory -------------------------------------------------------------------------------------------

_MEASURE = """
    import resource, subprocess, sys
    subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(peak if sys.platform == "darwin" else peak * 1024)
"""


def _matching_log(folder: Path, padding: int) -> Path:
    """About 20 MB of log, every line pointing at an entry (a code and a known log line)."""
    line = "2020-02-12 10:31:03, Info CBS ESU: NO ESU KEY FOUND hr 0xC004F050 " + "details " * padding + "\n"
    log = folder / f"matching-{padding}.log"
    log.write_text(line * (20_000_000 // len(line)), "utf-8")
    return log


@pytest.mark.skipif(sys.platform == "win32", reason="no resource module")
@pytest.mark.parametrize(
    ("output", "padding"),
    [("--json", 50), ("--text", 0)],  # the JSON of a finding is the larger: fewer, longer lines for it
)
def test_memory_stays_bounded_when_every_line_matches(
    tmp_path: Path, index: Path, output: str, padding: int
) -> None:
    log = _matching_log(tmp_path, padding)
    command = [sys.executable, "-m", "build_kb", "triage", str(log), "--index", str(index)]
    command += ["--content", str(tmp_path / "none"), *([output] if output == "--json" else [])]
    completed = _child(_MEASURE, *command, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert int(completed.stdout) < MAX_RSS, f"{int(completed.stdout) / 2**20:.0f} MiB"


def _invoke(*args: str, **kwargs: Any) -> Result:
    return CliRunner().invoke(triage, list(args), catch_exceptions=False, **kwargs)


def test_the_text_report_shows_the_first_lines_and_counts_the_rest(tmp_path: Path, index: Path) -> None:
    log = tmp_path / "repeated.log"
    log.write_text("ESU: NO ESU KEY FOUND\n" * 100 + "0xC004F050\n", "utf-8")
    common = ["--index", str(index), "--content", str(tmp_path / "none")]
    text = _invoke(str(log), *common)
    assert text.exit_code == 0
    assert text.stdout.count("    line ") == MAX_LINES
    assert f"... and {101 - MAX_LINES} more line(s)" in text.stdout
    assert text.stderr == "101 matching line(s), 1 entry\n"
    fewer = _invoke(str(log), *common, "--max-lines", "3")
    assert fewer.stdout.count("    line ") == 3 and "... and 98 more line(s)" in fewer.stdout
    as_json = _invoke(str(log), *common, "--json")  # every line, as before
    assert [f["line"] for f in json.loads(as_json.stdout)["findings"]] == list(range(1, 102))


# --- terminal escapes ---------------------------------------------------------------------------------

HOSTILE_LINE = "ESU: NO ESU KEY FOUND \x1b]0;pwned\x07 \x1b[2J\x1b[H \x9b2J \x9d0;pwned\x07 \x1bc done\r fake"


def test_escapes_in_a_log_line_never_reach_the_terminal(tmp_path: Path, index: Path) -> None:
    log = tmp_path / "hostile.log"
    log.write_bytes(f"first line\n{HOSTILE_LINE}\n".encode())
    common = ["--index", str(index), "--content", str(tmp_path / "none")]
    text = _invoke(str(log), *common)
    assert text.exit_code == 0
    assert "line 2: ESU: NO ESU KEY FOUND" in text.stdout and "done" in text.stdout
    assert not any(char in text.output for char in (*ESCAPES, "\r")), repr(text.stdout)
    as_json = _invoke(str(log), *common, "--json")
    assert not any(char in as_json.stdout for char in ESCAPES), repr(as_json.stdout)
    assert json.loads(as_json.stdout)["findings"][0]["text"] == HOSTILE_LINE  # kept, escaped
