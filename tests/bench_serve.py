"""Benchmark of `kb serve`: from saving an entry to the browser having the new page, against a full rebuild.

Not a test: it prints figures. For each size it writes synthetic entries, starts `kb serve` in a fresh
process on a free port and, like the reload script in the browser, long-polls the preview's version, saves
an edit of one entry and times until a GET of that entry's page returns the new text ("shown"), and until
the whole step (full validation, every page compared) has finished too. In the same run it times the full
rebuild that a preview without incremental steps would do on each save: `kb pages` plus `mkdocs build`.

    .venv/bin/python -m tests.bench_serve --sizes 25 1000 --edits 7
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from tests.helpers import synthetic_entries, write_content

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, timeout: float = 60.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return str(response.read().decode("utf-8"))


def _version(base: str, after: int, timeout: float = 60.0) -> int:
    return int(_get(f"{base}__kb__/version?after={after}", timeout))


def _wait_ready(base: str, process: subprocess.Popen[bytes], limit: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if process.poll() is not None:
            raise SystemExit(f"kb serve exited with {process.returncode}")
        try:
            _get(base, timeout=5)
            return time.perf_counter() - started
        except OSError:
            time.sleep(0.05)
    raise SystemExit("kb serve did not start")


def _edit(base: str, entry: Path, page: str, marker: str, whole_limit: float) -> tuple[float, float]:
    """Save an edit; seconds until the page shows it, and until the whole step has published too."""
    current = _version(base, 0)
    versions: list[tuple[int, float]] = []

    def follow() -> None:
        seen = current
        deadline = time.perf_counter() + whole_limit
        while len(versions) < 2 and time.perf_counter() < deadline:
            seen = _version(base, seen)
            versions.append((seen, time.perf_counter()))

    poller = threading.Thread(target=follow)
    poller.start()
    time.sleep(0.05)  # the long poll is waiting, as the browser's is
    edited = entry.read_text("utf-8").replace("\nsummary: ", f"\nsummary: {marker} ", 1)
    saved = time.perf_counter()
    entry.write_text(edited, "utf-8")
    shown = None
    while shown is None and time.perf_counter() - saved < whole_limit:
        if versions and marker in _get(base + page):
            shown = time.perf_counter() - saved
        else:
            time.sleep(0.002)
    poller.join()
    whole = versions[-1][1] - saved if len(versions) >= 2 else float("nan")
    if shown is None:
        raise SystemExit(f"the edit never showed at {page}")
    return shown, whole


def _full_rebuild(content: Path, work: Path) -> float:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "kb"), "pages", "--out", str(work / "pages"), "--content", str(content)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            str(BIN / "mkdocs"),
            "build",
            "-q",
            "-f",
            str(work / "pages" / "mkdocs.yml"),
            "-d",
            str(work / "site"),
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - started


def bench(size: int, edits: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix=f"kb-bench-serve-{size}-") as folder:
        work = Path(folder)
        entries = synthetic_entries(size)
        content = write_content(work / "content", entries)
        target = entries[size // 2]
        entry = content / target["phase"] / target.get("method", "") / f"{target['id']}.yaml"
        page = f"entries/{target['id']}.html"
        port = _free_port()
        base = f"http://127.0.0.1:{port}/"
        env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
        command = [str(BIN / "kb"), "serve", "--content", str(content), "--port", str(port)]
        started = time.perf_counter()
        process = subprocess.Popen(command, stderr=subprocess.DEVNULL, env=env)
        try:
            _wait_ready(base, process, limit=600)
            startup = time.perf_counter() - started
            _get(base + page)  # the page open in the browser, rendered once
            shown, whole = [], []
            for number in range(edits):
                seconds_shown, seconds_whole = _edit(base, entry, page, f"BENCH{number}", whole_limit=120)
                shown.append(seconds_shown)
                whole.append(seconds_whole)
                time.sleep(0.3)
        finally:
            process.terminate()
            process.wait(timeout=30)
        rebuild = _full_rebuild(content, work)
    return {
        "startup": startup,
        "shown": statistics.median(shown),
        "shown_max": max(shown),
        "whole": statistics.median(whole),
        "rebuild": rebuild,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 1000])
    parser.add_argument("--edits", type=int, default=7)
    args = parser.parse_args()
    print(
        f"{'entries':>8} {'startup s':>10} {'shown ms (median, max)':>24} {'whole step s':>13} {'full rebuild s':>15}"
    )
    for size in args.sizes:
        r = bench(size, args.edits)
        shown = f"{r['shown'] * 1000:.0f}, {r['shown_max'] * 1000:.0f}"
        print(
            f"{size:>8} {r['startup']:>10.1f} {shown:>24} {r['whole']:>13.2f} {r['rebuild']:>15.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
