"""Benchmark of `kb build`, stage by stage, on synthetic content sets (not a test).

Run: `.venv/bin/python -m tests.bench_build [--sizes 30 1000 10000] [--runs 3]`.

For each size it prints the median seconds of every stage of `run_build` (validate, site, index, pdf,
bundle) and, as the baseline measured in the same run, a bare `mkdocs build` of the very pages the kb
plugin generates, written out as Markdown files, with the same theme, extensions and plugins but no kb
plugin. The site stage's ratio to that baseline is the plugin's whole overhead (loading the content again,
rendering the pages); the target is at most 1.2x. Every run is a fresh process, so imports and caches are
paid each time, as a user pays them. Targets: site <= 1.2x bare mkdocs; PDF <= 15 s at 1,000 entries.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import ROOT, synthetic_entries, write_content

SITE_RATIO_TARGET = 1.2
PDF_TARGET_SECONDS = {1000: 15.0}
STAGES = ("validate", "site", "index", "pdf", "bundle")


def _peak_mib() -> float:
    try:
        import resource
    except ImportError:  # Windows: no resource module; the figure is left out
        return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def _kb_build(content: Path, out: Path, only: tuple[str, ...], queue: Any) -> None:
    from build_kb.app.build import BuildOptions, run_build

    options = BuildOptions(
        content_root=content,
        site_dir=out / "site",
        dist_dir=out / "dist",
        config_file=ROOT / "mkdocs.yml",
        only=frozenset(only),
    )
    started = time.perf_counter()
    summary = run_build(options)
    total = time.perf_counter() - started
    queue.put((dict(summary.seconds), total, summary.site_pages, summary.pdf_pages, _peak_mib()))


def _bare_mkdocs(config_file: Path, queue: Any) -> None:
    started = time.perf_counter()
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    build(load_config(config_file=str(config_file), strict=True))
    queue.put((time.perf_counter() - started, _peak_mib()))


def write_baseline(content: Path, folder: Path) -> Path:
    """The generated pages as plain Markdown files, and an mkdocs.yml for them without the kb plugin."""
    from build_kb.content.validate import load_knowledge_base
    from build_kb.site.authoring import render_authoring
    from build_kb.site.plugin import CODE_MAP_SCRIPT, code_map_script
    from build_kb.site.render import nav_paths, navigation, render_pages

    kb = load_knowledge_base(content)
    docs = folder / "docs"
    pages = render_pages(kb)
    pages["authoring.md"] = render_authoring(kb)
    pages[CODE_MAP_SCRIPT] = code_map_script(kb)
    for name, text in pages.items():
        path = docs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text("utf-8"))
    config.pop("watch", None)
    config["docs_dir"] = str(docs)
    config["site_dir"] = str(folder / "site")
    config["theme"]["custom_dir"] = str(ROOT / "site_overrides")
    config["plugins"] = [p for p in config["plugins"] if not (isinstance(p, dict) and "kb" in p)]
    config["nav"] = nav = navigation(kb)
    # The plugin marks entries left out of a long section's nav as not_in_nav; say the same of the files.
    left_out = sorted(set(pages) - nav_paths(nav))
    config["not_in_nav"] = "\n".join(
        ["/codes/0x*.md", *(f"/{name}" for name in left_out if name.endswith(".md"))]
    )
    config_file = folder / "mkdocs.yml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")
    return config_file


def _spawned(target: Any, *args: Any) -> Any:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    if process.exitcode:
        raise SystemExit(f"{target.__name__} failed with exit code {process.exitcode}")
    return result


def bench(size: int, runs: int, folder: Path, with_pdf: bool) -> None:
    content = write_content(folder / f"content-{size}", synthetic_entries(size))
    only = STAGES[1:] if with_pdf else ("site", "index")
    baseline_config = write_baseline(content, folder / f"bare-{size}")
    stage_runs: dict[str, list[float]] = {stage: [] for stage in STAGES}
    totals: list[float] = []
    bare: list[float] = []
    peaks: list[float] = []
    bare_peaks: list[float] = []
    site_pages = pdf_pages = 0
    for run in range(runs):
        # Alternate the two so that a slower moment of the machine hits both alike.
        seconds, total, site_pages, pdf_pages, peak = _spawned(
            _kb_build, content, folder / f"out-{size}-{run}", only
        )
        for stage, value in seconds.items():
            stage_runs[stage].append(value)
        totals.append(total)
        peaks.append(peak)
        elapsed, bare_peak = _spawned(_bare_mkdocs, baseline_config)
        bare.append(elapsed)
        bare_peaks.append(bare_peak)
        stages = ", ".join(f"{stage} {value:.2f}" for stage, value in seconds.items())
        print(f"  ({size} entries, run {run + 1}: {stages}; bare mkdocs {elapsed:.2f} s)", flush=True)

    medians = {stage: statistics.median(values) for stage, values in stage_runs.items() if values}
    bare_median = statistics.median(bare)
    ratio = medians["site"] / bare_median
    print(f"{size:>6} entries, {site_pages} site pages" + (f", {pdf_pages} PDF pages" if pdf_pages else ""))
    for stage, median in medians.items():
        print(f"         {stage:<9} {median:8.2f} s   [{', '.join(f'{v:.2f}' for v in stage_runs[stage])}]")
    print(f"         {'total':<9} {statistics.median(totals):8.2f} s   peak RSS {max(peaks):.0f} MiB")
    verdict = "met" if ratio <= SITE_RATIO_TARGET else "MISSED"
    print(
        f"         bare mkdocs build of the same pages {bare_median:.2f} s "
        f"[{', '.join(f'{v:.2f}' for v in bare)}], peak RSS {max(bare_peaks):.0f} MiB; "
        f"site stage = {ratio:.2f}x (target <= {SITE_RATIO_TARGET}x: {verdict})"
    )
    target = PDF_TARGET_SECONDS.get(size)
    if target is not None and "pdf" in medians:
        pdf_verdict = "met" if medians["pdf"] <= target else "MISSED"
        print(f"         pdf {medians['pdf']:.2f} s (target <= {target:.0f} s: {pdf_verdict})")


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
