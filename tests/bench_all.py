"""The benchmarks of issue 14 in one command: the site's search in Chromium and `kb build` (not a test).

Run (the full set takes a long while; nothing else should run on the machine meanwhile):

    .venv/bin/python -m tests.bench_all [--sizes 25 1000 5000] [--runs 3] [--skip-browser]
        [--skip-build] [--pdf-up-to 10000] [--timeout 120] [--work DIR] [--json figures.json]

For each size it writes one synthetic content set (`tests.helpers.synthetic_entries`) and prints one table
of two parts, between the machine's load average (1, 5 and 15 minutes) at the start and at the end of the
size, since every timing here is as noisy as the machine was busy:

browser (`tests.bench_browser`): the site as `kb build` builds it ("kb") against the same pages with
Material's own search ("Material"), built and measured in the same run, each opened in headless Chromium
from file:// and from `python -m http.server`, in fresh browser contexts; medians of `--runs` sessions.
A session loads the home page, waits a second, clicks the search box and types with 50 ms between keys.

- search kB, code / word: kilobytes of the search files (under search/ or workers/) loaded from navigation until the
  first query's results were on screen, for the code query and for the word query.
- ready: from the focus to the search saying it is ready.
- code: from the last key of a first query (an entry's error code) to its results in the DOM; `!` when
  the first result is not that entry.
- word: the same for a first query of two words most entries contain (in a fresh session).
- second: a word query typed after the code query, in the same session.
- longest: the longest main-thread task (PerformanceObserver "longtask") from the focus on, over both
  queries of a session; "<0.05" when there was none (the browser reports only tasks over 50 ms).
- kb/Mat: the kb figure divided by Material's (below 1: kb is faster or loads less); "-" where either is
  0, "<0.05" or timed out. Over http Material loads its index with the page, so its ready is often 0.

A query whose results never settle within `--timeout` seconds shows `>T` (null in the JSON).

build (`tests.bench_build`): `kb build` in a fresh process per run, stage by stage (validate, site, index,
pdf, bundle; pdf and bundle only up to `--pdf-up-to` entries), medians of `--runs` runs, against a bare
`mkdocs build` of the very pages the plugin generates (same theme, extensions and plugins, no kb plugin),
run alternately with it.

- s: the stage's median seconds (`run_build`'s own timing); total: the whole `run_build`; outside: the
  total less the stages (the build date from git, the lock, the commit of the outputs), with the peak of
  the imports before the first stage, of the time between the stages and of the commit.
- peak MiB: the largest resident memory of the build's whole process tree (the build process and every
  process it starts) while that stage ran, over the runs: sampled every 20 ms from /proc by a thread of this
  process, attributed to the stage the build reported running, and never below the build process's own
  high-water mark for the stage. The total's peak is the largest of all.
- site/bare: the site stage over the bare mkdocs build (target <= 1.2x); total/bare: the whole build over it.

Figures the platform does not give (memory without /proc, the load average, long tasks) show "n/a".
`--json FILE` writes every figure (and each run's) as JSON, rewritten after each size, for the note.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests import bench_browser, bench_build
from tests.helpers import synthetic_entries, write_content

BROWSER_ROWS = (
    ("code_kb", "search kB, code"),
    ("word_kb", "search kB, word"),
    ("ready", "ready s"),
    ("code", "first code query s"),
    ("word", "first word query s"),
    ("second", "second query s"),
    ("longest", "longest task s"),
)
PROTOCOLS = ("file", "http")
LONG_TASK_SECONDS = 0.05
"""The browser reports only tasks longer than this: a longest task of 0 means none was."""


def load_average() -> tuple[float, float, float] | None:
    """The 1, 5 and 15 minute load averages; None where the platform has none."""
    try:
        return os.getloadavg()
    except (AttributeError, OSError):
        return None


def _load(label: str) -> tuple[float, float, float] | None:
    load = load_average()
    shown = "n/a" if load is None else " ".join(f"{value:.2f}" for value in load)
    print(f"  load average at {label}: {shown} (1, 5, 15 min; {os.cpu_count() or 'n/a'} CPUs)", flush=True)
    return load


def _plain(value: Any) -> Any:
    """`value` with infinities and NaNs as null and paths as text, for JSON."""
    if isinstance(value, float):
        return None if math.isinf(value) or math.isnan(value) else value
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _cell(key: str, row: dict[str, Any], timeout: float) -> str:
    value = row[key]
    if key.endswith("_kb"):
        return f"{value:.0f}"
    if key == "longest" and value == 0:
        return f"<{LONG_TASK_SECONDS}"
    if value is None:
        shown = "n/a"
    elif math.isinf(value):
        shown = f">{timeout:.0f}"
    else:
        shown = f"{value:.3f}"
    return shown + ("" if key != "code" or row["right"] else "!")


def _versus(key: str, ours: float | None, theirs: float | None) -> str:
    if key == "longest" and 0 in (ours, theirs):
        return "-"
    return bench_browser._ratio(ours, theirs).strip()


def print_browser(figures: dict[str, dict[str, dict[str, Any]]], runs: int, timeout: float) -> None:
    protocols = [protocol for protocol in PROTOCOLS if protocol in figures]
    print(f"  browser (median of {runs} session{'s' if runs > 1 else ''} per figure)", flush=True)
    print(f"    {'':<20}" + "".join(f"  {protocol + '://':<24}" for protocol in protocols))
    print(f"    {'':<20}" + f"  {'kb':>7} {'Material':>8} {'kb/Mat':>7}" * len(protocols))
    for key, label in BROWSER_ROWS:
        cells = []
        for protocol in protocols:
            ours, theirs = figures[protocol]["kb"], figures[protocol]["material"]
            cells.append(
                f"  {_cell(key, ours, timeout):>7} {_cell(key, theirs, timeout):>8} "
                f"{_versus(key, ours[key], theirs[key]):>7}"
            )
        print(f"    {label:<20}" + "".join(cells), flush=True)


def print_build(figures: dict[str, Any]) -> None:
    pdf = f", {figures['pdf_pages']} PDF pages" if figures["pdf_pages"] else ", no PDF"
    print(
        f"  build (median of {figures['runs']} run{'s' if figures['runs'] > 1 else ''}; {figures['site_pages']} site pages{pdf}; "
        "peak = RSS of the build's process tree)",
        flush=True,
    )
    print(f"    {'stage':<12} {'s':>8} {'peak MiB':>9}   runs s")
    for stage, row in figures["stages"].items():
        runs = ", ".join(f"{value:.2f}" for value in row["runs"])
        print(f"    {stage:<12} {row['seconds']:>8.2f} {bench_build.mib(row['peak_mib']):>9}   [{runs}]")
    total, bare, outside = figures["total"], figures["bare_mkdocs"], figures["outside"]
    print(
        f"    {'outside':<12} {outside['seconds']:>8.2f} {bench_build.mib(outside['peak_mib']):>9}   "
        "(not in a stage: the date from git, the lock, the commit)"
    )
    print(f"    {'total':<12} {total['seconds']:>8.2f} {bench_build.mib(total['peak_mib']):>9}")
    print(
        f"    {'bare mkdocs':<12} {bare['seconds']:>8.2f} {bench_build.mib(bare['peak_mib']):>9}   "
        f"site/bare {figures['site_ratio']:.2f}x (target <= {figures['site_ratio_target']}x), "
        f"total/bare {total['seconds'] / bare['seconds']:.2f}x",
        flush=True,
    )
    target = figures["pdf_target_seconds"]
    if target is not None and "pdf" in figures["stages"]:
        print(f"    pdf target at {figures['entries']} entries: <= {target:.0f} s", flush=True)


def _failed(part: str, record: dict[str, Any]) -> None:
    print(f"  {part}: FAILED", flush=True)
    traceback.print_exc()
    record[part] = {"error": traceback.format_exc(limit=3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 1000, 5000])
    parser.add_argument("--runs", type=int, default=3, help="sessions per browser figure, builds per size")
    parser.add_argument("--skip-browser", action="store_true", help="leave out the browser figures")
    parser.add_argument("--skip-build", action="store_true", help="leave out the build figures")
    parser.add_argument(
        "--pdf-up-to",
        type=int,
        default=10000,
        help="build the PDF and the bundle only for sizes up to this (10,000 entries take minutes)",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for one query")
    parser.add_argument("--work", type=Path, help="keep the content sets and browser sites here, reuse them")
    parser.add_argument("--json", type=Path, help="write every figure to this file as JSON")
    args = parser.parse_args(argv)

    report: dict[str, Any] = {
        "command": [Path(sys.executable).name, "-m", "tests.bench_all", *(argv or sys.argv[1:])],
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "options": {
            "runs": args.runs,
            "pdf_up_to": args.pdf_up_to,
            "timeout": args.timeout,
            "key_delay_ms": bench_browser.KEY_DELAY_MS,
            "memory_sample_seconds": bench_build.SAMPLE_SECONDS,
        },
        "sizes": [],
    }
    failures = 0
    print(
        f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count() or 'n/a'} CPUs",
        flush=True,
    )
    with contextlib.ExitStack() as stack:
        work = args.work or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kb-bench-all-")))
        work.mkdir(parents=True, exist_ok=True)
        for size in args.sizes:
            print(f"\n== {size:,} entries", flush=True)
            record: dict[str, Any] = {"entries": size, "load_start": _load("start")}
            started = time.perf_counter()
            content = work / f"content-{size}"
            if not (content / "taxonomy.yaml").is_file():
                write_content(content, synthetic_entries(size))
            if not args.skip_browser:
                try:
                    # A browser per size, closed before the builds are timed.
                    with bench_browser.launch() as browser:
                        report["machine"]["chromium"] = browser.version
                        figures = bench_browser.measure_size(
                            size, work, browser, args.runs, PROTOCOLS, ("kb", "material"), args.timeout
                        )
                    record["browser"] = figures
                    print_browser(figures, args.runs, args.timeout)
                except (Exception, SystemExit):
                    failures += 1
                    _failed("browser", record)
            if not args.skip_build:
                try:
                    figures = bench_build.measure_build(
                        size, args.runs, work, with_pdf=size <= args.pdf_up_to, log=False
                    )
                    record["build"] = figures
                    print_build(figures)
                except (Exception, SystemExit):
                    failures += 1
                    _failed("build", record)
            record["load_end"] = _load("end")
            record["seconds"] = time.perf_counter() - started
            report["sizes"].append(record)
            if args.json:
                args.json.write_text(json.dumps(_plain(report), indent=1) + "\n", "utf-8")
    if args.json:
        print(f"\nfigures written to {args.json}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
