"""Benchmark of the site's search in Chromium, from file:// and from a local web server (not a test).

Run: `.venv/bin/python -m tests.bench_browser [--sizes 25 1000 5000] [--runs 3] [--protocols file http]`.

For each size it builds the site of a synthetic content set twice, in the same run: as `kb build` builds it
("kb") and as Material for MkDocs builds it on its own ("material": Material's search worker and its
search_index.json, with no kb search code and no query rewriting; on file:// the worker runs through
iframe-worker-shim.js, which stands in for the iframe-worker shim the offline plugin would fetch from a
CDN). Each site is opened in Debian's Chromium (headless, a fresh browser context per session, so nothing
is cached), straight from disk and from `python -m http.server` on 127.0.0.1. A session loads the home
page, waits a second as a person would, clicks the search box and types with 50 ms between keys.

Figures, each the median of `--runs` sessions:

- search kB: bytes of the search files (anything under search/ or workers/) the page loaded from
  navigation until the first query's results were on screen (Material loads its index at page load
  over http, and on the first focus from file://).
- ready: from the focus to the search saying it is ready ("Initializing search" gone).
- code / word: from the last key of a first query to its results in the DOM; "code" types an entry's
  error code, "word" (in a fresh session) two words that most entries contain.
- second: the word query typed after the code query, in the same session.
- longest: the longest main-thread task (PerformanceObserver "longtask") from the focus on, over both
  queries of a session ("n/a" where the browser reports no long tasks).

A query whose results never settle within `--timeout` seconds shows `>T`; a code query whose first result
is not the entry carrying the code is marked `!`. Targets at 5,000 entries: code <= 0.3 s, word <= 0.5 s,
longest task <= 200 ms, from both protocols.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import unquote, urlsplit

from tests.helpers import ROOT, synthetic_entries, write_content

DEFAULT_CONFIG = ROOT / "build_kb" / "site" / "mkdocs.yml"
VARIANTS = ("kb", "material", "before")
"""kb: as `kb build` builds the site; material: Material's own search; before: the kb site without
kb-search.js (Material's worker behind kb-search-query.js, as the site searched before search/kb/)."""
KEY_DELAY_MS = 50
THINK_SECONDS = 1.0
SETTLE_SECONDS = 1.0
WORD_QUERY = "certificate denied"
SECOND_QUERY = "registry timeout"
TARGETS = {"code": 0.3, "word": 0.5, "longest": 0.2}

MEASURE = """
(() => {
  if (window.top !== window) { return; }
  const m = window.__kbBench = { long: [], renders: [], lastKey: 0, focus: 0, ready: 0 };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) { m.long.push([e.startTime, e.duration]); }
    }).observe({ type: "longtask", buffered: true });
  } catch (error) { m.noLongTasks = true; }
  document.addEventListener("keyup", () => { m.lastKey = performance.now(); }, true);
  document.addEventListener("focusin", (event) => {
    const t = event.target;
    if (!m.focus && t && t.matches && t.matches("[data-md-component=search-query]")) { m.focus = performance.now(); }
  }, true);
  document.addEventListener("DOMContentLoaded", () => {
    const list = document.querySelector(".md-search-result__list");
    const meta = document.querySelector(".md-search-result__meta");
    let first = null;
    if (list) {
      new MutationObserver(() => {
        const now = list.firstElementChild;
        if (now && now !== first) { m.renders.push(performance.now()); }
        first = now;
      }).observe(list, { childList: true });
    }
    if (meta) {
      new MutationObserver(() => {
        if (!m.ready && !/Initializing/i.test(meta.textContent)) { m.ready = performance.now(); }
      }).observe(meta, { childList: true, characterData: true, subtree: true });
    }
  });
})();
"""


@dataclass
class Session:
    """What one browser session measured (seconds and bytes; None where it timed out)."""

    search_bytes: int = 0
    ready: float | None = None
    first: float | None = None
    second: float | None = None
    longest: float | None = 0.0
    """None: the browser has no long task timing."""
    right: bool = True
    loaded: list[str] = field(default_factory=list)


def code_of(number: int) -> str:
    """The code `synthetic_entries` gives entry `number`."""
    value = 0xC0040000 | (number % 0xFFFF) if number % 2 else 0x80070000 | (1 + number % 0xFFFE)
    return f"0x{value:08X}"


def _material_config(folder: Path, content: Path) -> Path:
    """The tool's configuration with only the file:// worker shim as a polyfill: Material's own search."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "mkdocs.yml"
    root = content.resolve().as_posix()
    config.write_text(
        f"INHERIT: {DEFAULT_CONFIG.as_posix()}\ndocs_dir: {root}\nplugins:\n  kb:\n    content: {root}\n"
        "extra:\n  polyfills:\n    - assets/javascripts/iframe-worker-shim.js\n",
        "utf-8",
    )
    return config


@contextlib.contextmanager
def _material_search() -> Iterator[None]:
    """Builds without the kb search engine, as far as this version of the code has one."""
    try:
        from build_kb.site import search_data
    except ImportError:
        yield
        return
    with mock.patch.object(search_data, "supported_config", return_value=None):
        yield


def build(size: int, variant: str, folder: Path) -> Path:
    """The site of `size` synthetic entries in the given variant, built once per work folder."""
    from build_kb.app.build import BuildOptions, build_site

    site = folder / f"{variant}-{size}" / "site"
    done = site.parent / "built"
    if done.is_file():
        return site
    content = folder / f"content-{size}"
    if not (content / "taxonomy.yaml").is_file():
        write_content(content, synthetic_entries(size))
    config = _material_config(site.parent / "project", content) if variant == "material" else None
    started = time.perf_counter()
    options = BuildOptions(content_root=content, config_file=config)
    with _material_search() if variant != "kb" else contextlib.nullcontext():
        build_site(options, site, datetime(2024, 1, 2, tzinfo=UTC))
    done.write_text(f"{time.perf_counter() - started:.1f}\n", "utf-8")
    return site


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(site: Path) -> Iterator[str]:
    """`python -m http.server` on 127.0.0.1 for the site, stopped on exit."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "http.server",
        str(port),
        "--bind",
        "127.0.0.1",
        "--directory",
        str(site),
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.05)
        else:
            raise SystemExit("http.server did not start")
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()


def _file_of(url: str, base: str, site: Path) -> Path | None:
    if not url.startswith(base):
        return None
    return site / unquote(urlsplit(url[len(base) :]).path)


def _settled(page: Any, after: float, timeout: float) -> float | None:
    """Page time of the last fresh rendering of the results after `after`, once none came for a second."""
    deadline = time.monotonic() + timeout
    last_seen: float | None = None
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        renders = [r for r in page.evaluate("window.__kbBench.renders") if r > after]
        latest = renders[-1] if renders else None
        if latest != last_seen:
            last_seen, quiet_since = latest, time.monotonic()
        elif latest is not None and time.monotonic() - quiet_since >= SETTLE_SECONDS:
            return float(latest)
        time.sleep(0.05)
    return None


def _type(page: Any, text: str) -> float:
    page.keyboard.type(text, delay=KEY_DELAY_MS)
    return float(page.evaluate("window.__kbBench.lastKey"))


def session(
    browser: Any, site: Path, base: str, queries: list[str], expected: str, timeout: float
) -> Session:
    """One fresh context: load the home page, focus the search, type each query; see `Session`."""
    context = browser.new_context()
    context.add_init_script(MEASURE)
    page = context.new_page()
    requests: list[Any] = []
    page.on("request", lambda request: requests.append(request))
    result = Session()
    try:
        page.goto(base + "index.html", wait_until="load")
        time.sleep(THINK_SECONDS)
        page.locator("input.md-search__input").click()
        last_key = _type(page, queries[0])
        first = _settled(page, last_key, timeout)
        bench = page.evaluate("window.__kbBench")
        origin = float(page.evaluate("performance.timeOrigin"))
        if first is not None:
            result.first = (first - last_key) / 1000
            cutoff = origin + first
            for request in requests:
                path = _file_of(request.url, base, site)
                started = float(request.timing.get("startTime", -1))  # epoch ms, as performance.timeOrigin
                if 0 <= started <= cutoff and path is not None and ({"search", "workers"} & set(path.parts)):
                    result.search_bytes += path.stat().st_size if path.is_file() else 0
                    result.loaded.append(path.relative_to(site).as_posix())
            hrefs = page.locator(".md-search-result__item > a").evaluate_all("els => els.map(e => e.href)")
            result.right = not expected or (bool(hrefs) and f"/{expected}.html" in str(hrefs[0]))
        if bench["ready"]:
            result.ready = max(0.0, (bench["ready"] - bench["focus"]) / 1000)
        if len(queries) > 1 and first is not None:
            page.locator("input.md-search__input").press("Control+a")
            last_key = _type(page, queries[1])
            second = _settled(page, last_key, timeout)
            result.second = None if second is None else (second - last_key) / 1000
        bench = page.evaluate("window.__kbBench")
        tasks = [duration for start, duration in bench["long"] if start >= bench["focus"]]
        result.longest = None if bench.get("noLongTasks") else max(tasks, default=0.0) / 1000
    finally:
        context.close()
    return result


def _median(values: list[float | None]) -> float:
    """The median, a timed-out run counting as infinitely slow."""
    return statistics.median(float("inf") if v is None else v for v in values)


def _show(value: float | None, timeout: float) -> str:
    if value is None:
        return "n/a"
    if value == float("inf"):
        return f">{timeout:.0f}"
    return f"{value:.2f}"


def measure(
    size: int, variant: str, site: Path, protocol: str, runs: int, timeout: float, browser: Any
) -> dict[str, Any]:
    number = size // 2
    code = code_of(number)
    expected = f"entry-{number:05d}"
    with serve(site) if protocol == "http" else contextlib.nullcontext(site.resolve().as_uri() + "/") as base:
        assert isinstance(base, str)
        code_runs = [
            session(browser, site, base, [code, SECOND_QUERY], expected, timeout) for _ in range(runs)
        ]
        word_runs = [session(browser, site, base, [WORD_QUERY], "", timeout) for _ in range(runs)]
    longest = [
        None if a.longest is None or b.longest is None else max(a.longest, b.longest)
        for a, b in zip(code_runs, word_runs, strict=True)
    ]
    return {
        "code_kb": statistics.median(r.search_bytes for r in code_runs) / 1000,
        "word_kb": statistics.median(r.search_bytes for r in word_runs) / 1000,
        "ready": _median([r.ready for r in code_runs]),
        "code": _median([r.first for r in code_runs]),
        "word": _median([r.first for r in word_runs]),
        "second": _median([r.second for r in code_runs]),
        "longest": None if None in longest else statistics.median(v for v in longest if v is not None),
        "right": all(r.right for r in code_runs),
        "loaded": sorted({p for r in code_runs + word_runs for p in r.loaded}),
    }


def measure_size(
    size: int,
    work: Path,
    browser: Any,
    runs: int = 3,
    protocols: tuple[str, ...] = ("file", "http"),
    variants: tuple[str, ...] = ("kb", "material"),
    timeout: float = 120.0,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Build the sites of `size` entries (once per `work` folder) and measure each: protocol -> variant -> row.

    A row is what `measure` returns: kB (`code_kb`, `word_kb`), seconds (`ready`, `code`, `word`,
    `second`, `longest`; inf for a timeout, None for no figure), `right` and the files `loaded`.
    """
    sites = {variant: build(size, variant, work) for variant in variants}
    return {
        protocol: {
            variant: measure(size, variant, site, protocol, runs, timeout, browser)
            for variant, site in sites.items()
        }
        for protocol in protocols
    }


@contextlib.contextmanager
def launch() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright, as the browser tests launch it; closed on exit."""
    from playwright.sync_api import sync_playwright

    from tests.browser_fixtures import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None or float("inf") in (ours, theirs) or theirs == 0:
        return "   -"
    return f"{ours / theirs:5.2f}x"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 1000, 5000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--protocols", nargs="+", choices=("file", "http"), default=["file", "http"])
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=["kb", "material"])
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for one query")
    parser.add_argument("--work", type=Path, help="keep the built sites here and reuse them")
    parser.add_argument(
        "--list-files", action="store_true", help="print the search files each first query loaded"
    )
    args = parser.parse_args(argv)

    with contextlib.ExitStack() as stack:
        work = args.work or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kb-bench-browser-")))
        work.mkdir(parents=True, exist_ok=True)
        browser = stack.enter_context(launch())
        header = (
            f"{'entries':>7} {'proto':<5} {'site':<8} {'code kB':>8} {'word kB':>8} {'ready s':>7} "
            f"{'code s':>7} {'word s':>7} {'second':>7} {'longest':>7}   vs material: code   word  longest"
        )
        print(
            f"Chromium {browser.version}, medians of {args.runs}, {KEY_DELAY_MS} ms between keys", flush=True
        )
        print(header, flush=True)
        for size in args.sizes:
            figures = measure_size(
                size, work, browser, args.runs, tuple(args.protocols), tuple(args.variants), args.timeout
            )
            for protocol, rows in figures.items():
                for variant, row in rows.items():
                    other = rows.get("material") if variant != "material" else None
                    versus = (
                        f"   {_ratio(row['code'], other['code'])} {_ratio(row['word'], other['word'])} "
                        f"{_ratio(row['longest'], other['longest'])}"
                        if other
                        else ""
                    )
                    print(
                        f"{size:>7} {protocol:<5} {variant:<8} {row['code_kb']:>8.0f} {row['word_kb']:>8.0f} "
                        f"{_show(row['ready'], args.timeout):>7} "
                        f"{_show(row['code'], args.timeout) + ('' if row['right'] else '!'):>7} "
                        f"{_show(row['word'], args.timeout):>7} {_show(row['second'], args.timeout):>7} "
                        f"{_show(row['longest'], args.timeout):>7}{versus}",
                        flush=True,
                    )
                    if args.list_files:
                        print("        loaded: " + " ".join(row["loaded"]), flush=True)
        print(
            f"Targets at 5,000 entries: code <= {TARGETS['code']} s, word <= {TARGETS['word']} s, "
            f"longest task <= {TARGETS['longest']} s.",
            flush=True,
        )


if __name__ == "__main__":
    main()
