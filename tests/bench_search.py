"""Benchmark of the offline search on synthetic content sets (not a test).

Run: `.venv/bin/python tests/bench_search.py [--sizes 1000,10000] [--runs 5]`.

For each size it prints medians of `--runs` runs of: the index build; a cold `kb lookup` process and its
ratio to `python -c pass` measured in the same run (target <= 3x); a cold `kb search` process, for a
pasted message without codes and for `SHORT_QUERY`, and its ratio to a bare
`python -c "import whoosh.index, whoosh.searching"` (target <= 1.5x); and warm in-process latencies of code
lookups, code searches and long pasted messages. Cold commands are timed from a project folder, where they
first check that the content has not changed, and from an offline bundle, where there is no content to
check. The bundle is a real one (`export_build`, no whoosh index): its first search builds a whoosh index in
the per-user cache (pointed at a temporary folder), which the warm-up run pays and later runs reuse.
"""

from __future__ import annotations

import argparse
import compileall
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOOKUP_TARGET = 3.0
SEARCH_TARGET = 1.5
WARM_QUERIES = 200
STAT_CHECK = "import sys, pathlib; from build_kb.content.fingerprint import stat_signature as s; s(pathlib.Path(sys.argv[1]))"
SHORT_QUERY = "product key is invalid"
"""The short query of issue 14; its three words are in nearly every synthetic entry."""


def _kb_command() -> list[str]:
    """The installed `kb` console script, or `python -m build_kb` where there is none."""
    script = Path(sys.executable).parent / ("kb.exe" if os.name == "nt" else "kb")
    return [str(script)] if script.is_file() and os.name != "nt" else [sys.executable, "-m", "build_kb"]


def _seconds(command: Sequence[str], cwd: Path) -> float:
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{completed.stderr.decode(errors='replace')}")
    return elapsed


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _warm_ms(function: Callable[[str], Any], queries: list[str]) -> float:
    samples = []
    for query in queries:
        started = time.perf_counter()
        function(query)
        samples.append(time.perf_counter() - started)
    return _median_ms(samples)


def _pastes(kb: Any, rng: random.Random, count: int) -> tuple[list[str], list[str]]:
    """Long pasted messages, 150-250 words: an entry's message and prose buried in log noise; once as
    pasted (with the entry's code) and once with every code removed (words only)."""
    noise = "2020-02-12 10:31:02, Info CBS Exec: Processing started. Client: WindowsUpdateAgent, hr: 0x0\n"
    pastes = []
    for entry in rng.sample(list(kb.entries), count):
        parts = [noise * 3, entry.messages[0].text, " ".join(entry.causes), entry.actions[0].step, noise * 3]
        pastes.append("\n".join(parts))
    return pastes, [re.sub(r"0x[0-9A-Fa-f]{8}", "", paste) for paste in pastes]


def bench(size: int, runs: int, folder: Path) -> None:
    from build_kb.content.validate import load_knowledge_base
    from search.codemap import lookup
    from search.index import build_index
    from search.query import IndexSearcher
    from search.store import current_build, export_build
    from tests.helpers import synthetic_entries, write_content

    content = write_content(folder / f"content-{size}", synthetic_entries(size))
    kb = load_knowledge_base(content)
    root = folder / f"index-{size}"
    builds = []
    for _ in range(runs):
        started = time.perf_counter()
        build_index(kb, root, content_root=content)
        builds.append(time.perf_counter() - started)
    build = current_build(root)
    index_mib = sum(p.stat().st_size for p in build.path.rglob("*") if p.is_file()) / 1024 / 1024

    rng = random.Random(size)
    codes = [f"0x{value:08X}" for value in rng.sample(list(kb.entries_by_code), min(WARM_QUERIES, len(kb)))]
    pastes, worded = _pastes(kb, rng, min(WARM_QUERIES // 4, len(kb)))
    kb_command = _kb_command()
    absent = folder / "no-content"
    bundle = export_build(root, folder / f"bundle-{size}" / "index", stamp=1735689600)
    commands = {
        "pass": [sys.executable, "-c", "pass"],
        "whoosh": [sys.executable, "-c", "import whoosh.index, whoosh.searching"],
        # The parts of a cold command that do not depend on the query: click and the command group, and
        # the check that the content is unchanged (one stat per file), each in a process of its own.
        "cli": [sys.executable, "-c", "import build_kb.app.cli.main"],
        "check-import": [sys.executable, "-c", "import build_kb.content.fingerprint"],
        "check": [sys.executable, "-c", STAT_CHECK, str(content)],
        "lookup": [*kb_command, "lookup", codes[0], "--index", str(root), "--content", str(content)],
        "lookup-bundle": [*kb_command, "lookup", codes[0], "--index", str(bundle), "--content", str(absent)],
        "search": [*kb_command, "search", worded[0], "--index", str(root), "--content", str(content)],
        "search-bundle": [*kb_command, "search", worded[0], "--index", str(bundle), "--content", str(absent)],
        "search-short": [*kb_command, "search", SHORT_QUERY, "--index", str(root), "--content", str(content)],
        "search-short-bundle": [
            *kb_command,
            "search",
            SHORT_QUERY,
            "--index",
            str(bundle),
            "--content",
            str(absent),
        ],
    }
    for command in commands.values():  # warm the page cache and the bytecode caches
        _seconds(command, folder)
    cold: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(max(runs, 5)):  # interleaved, so drift affects every command alike
        for name, command in commands.items():
            cold[name].append(_seconds(command, folder))
    ms = {name: _median_ms(samples) for name, samples in cold.items()}

    with IndexSearcher(build) as searcher:
        warm_search_code = _warm_ms(searcher.search, codes)
        warm_paste = _warm_ms(searcher.search, pastes)
        warm_worded = _warm_ms(searcher.search, worded)
    warm_lookup = _warm_ms(lambda text: lookup(build, text), codes)

    def verdict(ratio: float, target: float) -> str:
        return f"target <= {target}x: {'met' if ratio <= target else 'MISSED'}"

    print(f"\n{size} entries (index {index_mib:.1f} MiB, {len(pastes)} pastes of ~200 words)")
    print(f"  index build                {statistics.median(builds):8.2f} s   (median of {runs})")
    print(f"  python -c pass             {ms['pass']:8.1f} ms")
    for name in ("lookup", "lookup-bundle"):
        ratio = ms[name] / ms["pass"]
        print(
            f"  cold kb {name:<18} {ms[name]:8.1f} ms   {ratio:4.2f}x python -c pass ({verdict(ratio, LOOKUP_TARGET)})"
        )
    files = sum(1 for path in content.rglob("*") if path.is_file())
    print(
        f"    of which click and kb's command group {ms['cli'] - ms['pass']:6.1f} ms (import, over python -c pass)"
    )
    print(
        f"    of which the content check   {ms['check'] - ms['check-import']:6.1f} ms ({files} files, one stat "
        "each, without the imports)"
    )
    print(f"  python -c 'import whoosh'  {ms['whoosh']:8.1f} ms")
    for name in ("search", "search-bundle", "search-short", "search-short-bundle"):
        ratio = ms[name] / ms["whoosh"]
        print(
            f"  cold kb {name:<19} {ms[name]:7.1f} ms   {ratio:4.2f}x bare whoosh import ({verdict(ratio, SEARCH_TARGET)})"
        )
    print(f"  warm lookup (code map)     {warm_lookup:8.2f} ms   (median of {len(codes)} codes)")
    print(f"  warm search, code          {warm_search_code:8.2f} ms   (median of {len(codes)} codes)")
    print(f"  warm search, long paste    {warm_paste:8.2f} ms   (median of {len(pastes)} pastes with a code)")
    print(f"  warm search, paste, words  {warm_worded:8.2f} ms   (the same pastes without codes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,10000", help="Comma-separated entry counts.")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if str(ROOT) not in sys.path:  # run as a script: make `tests.helpers` importable
        sys.path.insert(0, str(ROOT))
    from search.seal import CACHE_ENV

    print(f"python {sys.version.split()[0]}, kb command: {' '.join(_kb_command())}")
    # pip compiles a package's modules when it installs them; an editable install under
    # PYTHONDONTWRITEBYTECODE (set on some machines, this one included) would compile every module edited
    # since at each cold start, about 2 ms each, which no installed copy pays.
    compileall.compile_dir(ROOT / "build_kb", quiet=1)
    compileall.compile_dir(ROOT / "search", quiet=1)
    with tempfile.TemporaryDirectory(prefix="kb-bench-search-") as folder:
        # The sealing key and the bundles' whoosh indexes: in the temporary folder, not the user's cache.
        os.environ[CACHE_ENV] = str(Path(folder) / "cache")
        for size in (int(part) for part in args.sizes.split(",") if part.strip()):
            bench(size, args.runs, Path(folder))


if __name__ == "__main__":
    main()
