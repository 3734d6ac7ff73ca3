"""Benchmark of the PDF stage: `build_runbook` on synthetic content sets (not a test).

Run: `.venv/bin/python -m tests.bench_pdf [--sizes 30 1000] [--runs 3] [--part-units N]`. Each run is a fresh
process, so Typst's in-memory caches from an earlier run cannot flatter the figures. Target: at most 10 s at
1,000 entries. A runbook longer than `ONE_DOCUMENT_UNITS` entry pages is typeset in parts by child processes:
the figures then give the build process's peak and the largest Typst process's (they run `workers` at a time).
`--part-units 200` typesets any size in parts; `--part-units 1000000` as one document.
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

TARGET_SECONDS = {1000: 10.0}
Figures = tuple[float, int, int, int, int, float, float]


def _one_run(
    content: Path, output: Path, part_units: int | None, queue: multiprocessing.Queue[Figures]
) -> None:
    from build_kb.content.validate import load_knowledge_base
    from build_kb.pdf.runbook import build_runbook

    kb = load_knowledge_base(content)
    started = time.perf_counter()
    info = build_runbook(
        kb, output, build_date=datetime(2026, 1, 1, tzinfo=UTC), version="bench", part_units=part_units
    )
    elapsed = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    typst = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    queue.put((elapsed, info.pages, info.size, info.parts, info.rounds, own, typst))


def bench(size: int, runs: int, folder: Path, part_units: int | None) -> None:
    content = write_content(folder / f"content-{size}", synthetic_entries(size))
    context = multiprocessing.get_context("spawn")
    seconds: list[float] = []
    pages = size_bytes = parts = rounds = 0
    own_peak = typst_peak = 0.0
    for run in range(runs):
        queue: multiprocessing.Queue[Figures] = context.Queue()
        process = context.Process(
            target=_one_run, args=(content, folder / f"runbook-{size}-{run}.pdf", part_units, queue)
        )
        process.start()
        elapsed, pages, size_bytes, parts, rounds, own, typst = queue.get()
        process.join()
        seconds.append(elapsed)
        own_peak, typst_peak = max(own_peak, own), max(typst_peak, typst)
    median = statistics.median(seconds)
    target = TARGET_SECONDS.get(size)
    verdict = (
        "" if target is None else f" (target <= {target:.0f} s: {'met' if median <= target else 'MISSED'})"
    )
    runs_text = ", ".join(f"{s:.2f}" for s in seconds)
    print(
        f"{size:>5} entries: median {median:6.2f} s of {runs} runs [{runs_text}]{verdict}; "
        f"{pages} pages, {size_bytes / 1024 / 1024:.1f} MiB, {parts} part(s), {rounds} round(s); peak RSS "
        f"{own_peak:.0f} MiB" + (f" (largest Typst process {typst_peak:.0f} MiB)" if parts > 1 else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[30, 1000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--part-units",
        type=int,
        default=None,
        help="Typeset in parts of this many entry pages (default: automatic).",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kb-bench-pdf-") as folder:
        for size in args.sizes:
            bench(size, args.runs, Path(folder), args.part_units)


if __name__ == "__main__":
    main()
