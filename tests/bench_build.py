"""Benchmark of `kb build`, stage by stage, on synthetic content sets (not a test).

Run: `.venv/bin/python -m tests.bench_build [--sizes 30 1000 10000] [--runs 3]`.

For each size it prints the median seconds of every stage of `run_build` (validate, site, index, pdf,
bundle) and, as the baseline measured in the same run, a bare `mkdocs build` of the very pages the kb
plugin generates, written out as Markdown files, with the same theme, extensions and plugins but no kb
plugin. The site stage's ratio to that baseline is the plugin's whole overhead (loading the content again,
rendering the pages); the target is at most 1.2x. Every run is a fresh process, so imports and caches are
paid each time, as a user pays them. Targets: site <= 1.2x bare mkdocs; PDF <= 10 s at 1,000 entries (issue 14).

Peak memory, per stage and overall, is that of the whole process tree: the build process and every process
it starts (a PDF compiled in child processes counts). A thread of the benchmark's own process sums the
resident set (RSS, from /proc) of the build process and its descendants every 20 ms and gives each sample to
the stage the build reported running at the time (its `run_build` reporter); "startup" is the time before
the first stage (imports), "other" the time between stages. Since 20 ms can miss a short peak, the build
process also reads its own high-water mark (VmHWM, reset at every stage through /proc/self/clear_refs), and
a stage's figure is the larger of the two. RSS counts shared pages once per process. Where /proc is not
there (macOS, Windows) the figures are "n/a".
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import queue as queue_module
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import ROOT, synthetic_entries, write_content

SITE_RATIO_TARGET = 1.2
PDF_TARGET_SECONDS = {1000: 10.0}
STAGES = ("validate", "site", "index", "pdf", "bundle")
STATES = ("startup", *STAGES, "commit", "other")
"""What a memory sample is attributed to: the build's stages, before the first one, and between them."""
SAMPLE_SECONDS = 0.02
MIB = 1024 * 1024
PROC = Path("/proc")


def _statm_rss(pid: int) -> int | None:
    """Resident bytes of one process, None when it is gone or /proc has no figure."""
    try:
        return int((PROC / str(pid) / "statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in (PROC / str(pid) / "task").iterdir():
            with contextlib.suppress(OSError, ValueError):
                found += [int(child) for child in (task / "children").read_text().split()]
    return found


def tree_rss(pid: int) -> int | None:
    """Resident bytes of the process `pid` and all its descendants; None where /proc gives no figure."""
    own = _statm_rss(pid)
    if own is None:
        return None
    total, seen, todo = own, {pid}, _children(pid)
    while todo:
        child = todo.pop()
        if child in seen:
            continue
        seen.add(child)
        total += _statm_rss(child) or 0
        todo += _children(child)
    return total


class TreeSampler(threading.Thread):
    """Samples `tree_rss(pid)` every `SAMPLE_SECONDS`, keeping the peak of each state `state.value` names."""

    def __init__(self, pid: int, state: Any, names: Sequence[str]) -> None:
        super().__init__(daemon=True)
        self.pid, self.state, self.names = pid, state, names
        self.peaks: dict[str, int] = {}
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            rss = tree_rss(self.pid)
            if rss is None:
                if self.samples == 0 and not (PROC / "self" / "statm").is_file():
                    return  # no /proc: no figures
            else:
                name = self.names[self.state.value]
                self.peaks[name] = max(self.peaks.get(name, 0), rss)
                self.samples += 1
            self._stop_event.wait(SAMPLE_SECONDS)

    def stop(self) -> dict[str, int]:
        self._stop_event.set()
        self.join()
        return self.peaks


def _own_hwm(reset: bool) -> int | None:
    """This process's peak resident bytes since the last reset (VmHWM); None where /proc has none."""
    try:
        lines = (PROC / "self" / "status").read_text().splitlines()
        peak = next(int(line.split()[1]) * 1024 for line in lines if line.startswith("VmHWM:"))
        if reset:
            (PROC / "self" / "clear_refs").write_text("5")
    except (OSError, ValueError, StopIteration):
        return None
    return peak


class _StageReporter:
    """The build's reporter in the build process: tells the sampler the stage, keeps its own peaks."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self.own: dict[str, int] = {}
        self.current = "startup"

    def switch(self, name: str) -> None:
        peak = _own_hwm(reset=True)
        if peak is not None:
            self.own[self.current] = max(self.own.get(self.current, 0), peak)
        self.current = name
        self.state.value = STATES.index(name)

    def __call__(self, stage: str, event: str, done: int = 0, total: int = 0) -> None:
        if event == "start":
            self.switch(stage if stage in STATES else "other")
        elif event == "done":
            self.switch("other")


def _kb_build(content: Path, out: Path, only: tuple[str, ...], state: Any, queue: Any) -> None:
    from build_kb.app.build import BuildOptions, run_build

    reporter = _StageReporter(state)
    options = BuildOptions(
        content_root=content,
        site_dir=out / "site",
        dist_dir=out / "dist",
        config_file=ROOT / "mkdocs.yml",
        only=frozenset(only),
    )
    started = time.perf_counter()
    summary = run_build(options, reporter)
    total = time.perf_counter() - started
    reporter.switch("other")
    queue.put(
        {
            "seconds": dict(summary.seconds),
            "total": total,
            "site_pages": summary.site_pages,
            "pdf_pages": summary.pdf_pages,
            "own_peaks": reporter.own,
        }
    )


def _bare_mkdocs(config_file: Path, state: Any, queue: Any) -> None:
    started = time.perf_counter()
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    build(load_config(config_file=str(config_file), strict=True))
    peak = _own_hwm(reset=False)
    queue.put({"total": time.perf_counter() - started, "own_peaks": {} if peak is None else {"bare": peak}})


def write_baseline(content: Path, folder: Path) -> Path:
    """The generated pages as plain Markdown files, and an mkdocs.yml for them without the kb plugin."""
    from build_kb.content.validate import load_knowledge_base
    from build_kb.site.authoring import render_authoring
    from build_kb.site.plugin import CODE_MAP_SCRIPT, SCRIPTS, STYLESHEETS, code_map_script
    from build_kb.site.render import nav_paths, navigation, render_pages
    from build_kb.site.sanitize import html_text

    kb = load_knowledge_base(content)
    docs = folder / "docs"
    pages = render_pages(kb)
    pages["authoring.md"] = render_authoring(kb)
    pages[CODE_MAP_SCRIPT] = code_map_script(kb)
    for name, text in pages.items():
        path = docs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    # The tool's default configuration (the repository's mkdocs.yml inherits it), with what the plugin adds
    # to it made explicit: the site's title, the theme folder, the stylesheet and the scripts.
    config = yaml.safe_load((ROOT / "build_kb" / "site" / "mkdocs.yml").read_text("utf-8"))
    config["site_name"] = str(html_text(kb.taxonomy.title))
    config["site_description"] = str(html_text(" ".join(kb.taxonomy.description.split())))
    config["docs_dir"] = str(docs)
    config["site_dir"] = str(folder / "site")
    config["theme"]["custom_dir"] = str(ROOT / "site_overrides")
    config["extra_css"] = list(STYLESHEETS)
    config["extra_javascript"] = list(SCRIPTS)
    plugins = config["plugins"]
    config["plugins"] = (
        {name: options for name, options in plugins.items() if name != "kb"}
        if isinstance(plugins, dict)
        else [p for p in plugins if p != "kb" and not (isinstance(p, dict) and "kb" in p)]
    )
    config["nav"] = nav = navigation(kb)
    # The plugin marks entries left out of a long section's nav as not_in_nav; say the same of the files.
    left_out = sorted(set(pages) - nav_paths(nav))
    # As folder patterns: MkDocs' RE2 pattern set refuses thousands of paths (10,000 entries), and pages the
    # navigation lists stay in it whatever not_in_nav says.
    folders = sorted({name.rpartition("/")[0] for name in left_out if name.endswith(".md")})
    config["not_in_nav"] = "\n".join(["/codes/0x*.md", *(f"/{folder}/*.md" for folder in folders if folder)])
    config_file = folder / "mkdocs.yml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")
    return config_file


def _spawned(target: Any, *args: Any, names: Sequence[str] = STATES) -> dict[str, Any]:
    """Run `target(*args, state, queue)` in a fresh process; its result with `peaks` (bytes per state).

    A peak is the larger of the sampled process tree's and the build process's own high-water mark.
    """
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    state = context.RawValue("i", 0)
    process = context.Process(target=target, args=(*args, state, queue))
    process.start()
    assert process.pid is not None
    sampler = TreeSampler(process.pid, state, names)
    sampler.start()
    result: dict[str, Any] | None = None
    try:
        while result is None:
            try:
                result = queue.get(timeout=1)
            except queue_module.Empty:
                if not process.is_alive():  # died without a result: say so rather than wait forever
                    break
        process.join()
    finally:
        sampled = sampler.stop()
    if process.exitcode or result is None:
        raise SystemExit(f"{target.__name__} failed with exit code {process.exitcode}")
    own = result.pop("own_peaks")
    result["peaks"] = {name: max(sampled.get(name, 0), own.get(name, 0)) for name in {*sampled, *own}}
    result["samples"] = sampler.samples
    return result


def _peak(peaks: list[dict[str, int]], names: Sequence[str]) -> float | None:
    """The largest peak of these states over the runs, in MiB; None where there is no figure."""
    values = [run[name] for run in peaks for name in names if name in run]
    return max(values) / MIB if values else None


def measure_build(size: int, runs: int, folder: Path, with_pdf: bool, log: bool = True) -> dict[str, Any]:
    """Figures of `runs` kb builds of `size` synthetic entries and as many bare mkdocs builds, as data.

    Seconds are medians over the runs, peaks (MiB of the process tree, None without /proc) the largest.
    """
    content = folder / f"content-{size}"
    if not (content / "taxonomy.yaml").is_file():
        write_content(content, synthetic_entries(size))
    only = STAGES[1:] if with_pdf else ("site", "index")
    baseline_config = write_baseline(content, folder / f"bare-{size}")
    stage_runs: dict[str, list[float]] = {stage: [] for stage in STAGES}
    totals: list[float] = []
    outside: list[float] = []
    bare: list[float] = []
    peaks: list[dict[str, int]] = []
    bare_peaks: list[dict[str, int]] = []
    site_pages = pdf_pages = 0
    for run in range(runs):
        # Alternate the two so that a slower moment of the machine hits both alike.
        out = folder / f"out-{size}-{run}"
        result = _spawned(_kb_build, content, out, only)
        shutil.rmtree(out, ignore_errors=True)  # a large site's outputs need not pile up on disk
        for stage, value in result["seconds"].items():
            stage_runs[stage].append(value)
        totals.append(result["total"])
        outside.append(result["total"] - sum(result["seconds"].values()))
        peaks.append(result["peaks"])
        site_pages, pdf_pages = result["site_pages"], result["pdf_pages"]
        baseline = _spawned(_bare_mkdocs, baseline_config, names=("bare",))
        bare.append(baseline["total"])
        bare_peaks.append(baseline["peaks"])
        if log:
            times = ", ".join(f"{stage} {value:.2f}" for stage, value in result["seconds"].items())
            print(
                f"  ({size} entries, run {run + 1}: {times}; bare mkdocs {baseline['total']:.2f} s; "
                f"{result['samples']} memory samples)",
                flush=True,
            )
    stages: dict[str, dict[str, Any]] = {
        stage: {"seconds": statistics.median(values), "runs": values, "peak_mib": _peak(peaks, [stage])}
        for stage, values in stage_runs.items()
        if values
    }
    bare_median = statistics.median(bare)
    return {
        "entries": size,
        "runs": runs,
        "site_pages": site_pages,
        "pdf_pages": pdf_pages,
        "stages": stages,
        # Time and memory outside the stages: before the first (imports), between them (the build date from
        # git, the lock, the journal) and the commit of the outputs; the time counts from run_build's call.
        "outside": {
            "seconds": statistics.median(outside),
            "runs": outside,
            "peak_mib": _peak(peaks, ["startup", "commit", "other"]),
        },
        "total": {"seconds": statistics.median(totals), "runs": totals, "peak_mib": _peak(peaks, STATES)},
        "bare_mkdocs": {"seconds": bare_median, "runs": bare, "peak_mib": _peak(bare_peaks, ["bare"])},
        "site_ratio": stages["site"]["seconds"] / bare_median,
        "site_ratio_target": SITE_RATIO_TARGET,
        "pdf_target_seconds": PDF_TARGET_SECONDS.get(size),
    }


def mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def bench(size: int, runs: int, folder: Path, with_pdf: bool) -> None:
    figures = measure_build(size, runs, folder, with_pdf)
    stages, bare = figures["stages"], figures["bare_mkdocs"]
    pdf_pages = figures["pdf_pages"]
    print(
        f"{size:>6} entries, {figures['site_pages']} site pages"
        + (f", {pdf_pages} PDF pages" if pdf_pages else "")
    )
    for stage, row in stages.items():
        print(
            f"         {stage:<9} {row['seconds']:8.2f} s   peak {mib(row['peak_mib']):>5} MiB   "
            f"[{', '.join(f'{v:.2f}' for v in row['runs'])}]"
        )
    total, outside = figures["total"], figures["outside"]
    print(f"         {'outside':<9} {outside['seconds']:8.2f} s   peak {mib(outside['peak_mib']):>5} MiB")
    print(f"         {'total':<9} {total['seconds']:8.2f} s   peak {mib(total['peak_mib']):>5} MiB")
    ratio = figures["site_ratio"]
    verdict = "met" if ratio <= SITE_RATIO_TARGET else "MISSED"
    print(
        f"         bare mkdocs build of the same pages {bare['seconds']:.2f} s "
        f"[{', '.join(f'{v:.2f}' for v in bare['runs'])}], peak {mib(bare['peak_mib'])} MiB; "
        f"site stage = {ratio:.2f}x (target <= {SITE_RATIO_TARGET}x: {verdict})"
    )
    target = figures["pdf_target_seconds"]
    if target is not None and "pdf" in stages:
        pdf_verdict = "met" if stages["pdf"]["seconds"] <= target else "MISSED"
        print(f"         pdf {stages['pdf']['seconds']:.2f} s (target <= {target:.0f} s: {pdf_verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[30, 1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--pdf-up-to",
        type=int,
        default=10000,
        help="Build the PDF and the bundle only for sizes up to this (the PDF of 10,000 entries takes minutes).",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kb-bench-build-") as folder:
        for size in args.sizes:
            bench(size, args.runs, Path(folder), with_pdf=size <= args.pdf_up_to)


if __name__ == "__main__":
    main()
