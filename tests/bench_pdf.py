"""Benchmark of the PDF stage: `build_runbook` on synthetic content sets (not a test).

Run: `.venv/bin/python -m tests.bench_pdf [--sizes 30 1000] [--runs 3]`. Each run is a fresh process, so
Typst's in-memory caches from an earlier run cannot flatter the figures. Target: at most 15 s at 1,000 entries.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.helpers import synthetic_entries, write_content

TARGET_SECONDS = {1000: 15.0}


def _one_run(content: Path, output: Path, queue: multiprocessing.Queue[tuple[float, int, int]]) -> None:
    from build_kb.content.validate import load_knowledge_base
    from build_kb.pdf.runbook import build_runbook

    kb = load_knowledge_base(content)
    started = time.perf_counter()
    info = build_runbook(kb, output, build_date=datetime(2026, 1, 1, tzinfo=UTC), version="bench")
    queue.put((time.perf_counter() - started, info.pages, info.size))


def bench(size: int, runs: int, folder: Path) -> None:
    content = write_content(folder / f"content-{size}", synthetic_entries(size))
    context = multiprocessing.get_context("spawn")
    seconds: list[float] = []
    pages = size_bytes = 0
    for run in range(runs):
        queue: multiprocessing.Queue[tuple[float, int, int]] = context.Queue()
        process = context.Process(
            target=_one_run, args=(content, folder / f"runbook-{size}-{run}.pdf", queue)
        )
        process.start()
        elapsed, pages, size_bytes = queue.get()
        process.join()
        seconds.append(elapsed)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    median = statistics.median(seconds)
    target = TARGET_SECONDS.get(size)
    verdict = (
        "" if target is None else f" (target <= {target:.0f} s: {'met' if median <= target else 'MISSED'})"
    )
    runs_text = ", ".join(f"{s:.2f}" for s in seconds)
    print(
        f"{size:>5} entries: median {median:6.2f} s of {runs} runs [{runs_text}]{verdict}; "
        f"{pages} pages, {size_bytes / 1024 / 1024:.1f} MiB, peak RSS so far {peak_mib:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[30, 1000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kb-bench-pdf-") as folder:
        for size in args.sizes:
            bench(size, args.runs, Path(folder))


if __name__ == "__main__":
    main()
