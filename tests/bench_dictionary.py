"""Benchmark of the offline error-code dictionary (not a test).

Run: `.venv/bin/python tests/bench_dictionary.py [--runs 15]`.

Prints medians of `--runs` fresh processes, each command run once per round so that load on the machine
falls on all of them alike, and each one's ratio to `python -c pass` measured in the same run (target for a
lookup: <= 4x):

- importing build_kb.core.dictionary (reads no data);
- describing one code (`describe_text("0x80070005")`): a binary search over the table's bytes;
- describing a symbolic name (`describe_text("crypt_e_not_found")`): a search of the upper-cased bytes;
- decoding every record (`all_codes()`), as a `kb codes --all` listing and the first `nearest` call do;
- the design not taken: gunzip the table and build a dict of every record by value, then look one up.

Then warm in-process latencies: `describe`, `value_of_name`, `nearest` on unknown values.

The processes compile into a temporary bytecode cache (PYTHONPYCACHEPREFIX), as an installed package has
its .pyc files: where PYTHONDONTWRITEBYTECODE is set, every process would otherwise compile every module.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "build_kb" / "core" / "data" / "codes.tsv"
TARGET = 4.0
T = TypeVar("T")

GUNZIP_ALL = """
import gzip, sys
table = {}
for line in gzip.decompress(open(sys.argv[1], "rb").read()).decode("utf-8").split("\\n")[1:]:
    if line:
        value, namespace, name, message = line.split("\\t")
        table.setdefault(int(value, 16), []).append((namespace, name, message))
print(table[0x80070005])
"""


def _seconds(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def _script(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        gz = Path(tmp) / "codes.tsv.gz"
        gz.write_bytes(gzip.compress(TABLE.read_bytes(), compresslevel=9, mtime=0))
        commands = {
            "python -c pass": _script("pass"),
            "import dictionary": _script("import build_kb.core.dictionary"),
            "lookup 0x80070005": _script(
                "from build_kb.core.dictionary import describe_text; print(describe_text('0x80070005'))"
            ),
            "lookup crypt_e_not_found": _script(
                "from build_kb.core.dictionary import describe_text; print(describe_text('crypt_e_not_found'))"
            ),
            "decode all records": _script(
                "from build_kb.core.dictionary import all_codes; print(sum(1 for _ in all_codes()))"
            ),
            "alternative: gunzip + dict": [sys.executable, "-c", GUNZIP_ALL, str(gz)],
        }
        for command in commands.values():  # warm the OS file cache and write the bytecode
            _seconds(command, env)
        samples: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(args.runs):
            for label, command in commands.items():
                samples[label].append(_seconds(command, env))
        base = statistics.median(samples["python -c pass"])
        print(f"table: {TABLE.stat().st_size:,} bytes, {gz.stat().st_size:,} gzipped; {args.runs} runs")
        print(f"{'cold process (median)':32} {'ms':>8} {'x pass':>8}")
        for label, values in samples.items():
            median = statistics.median(values)
            print(f"{label:32} {median * 1000:8.1f} {median / base:8.2f}")
        ratio = statistics.median(samples["lookup 0x80070005"]) / base
        print(
            f"lookup target <= {TARGET}x python -c pass: {'met' if ratio <= TARGET else 'MISSED'} ({ratio:.2f}x)"
        )

    sys.path.insert(0, str(ROOT))
    from build_kb.core import dictionary

    def warm_us(function: Callable[[T], object], inputs: Sequence[T]) -> float:
        times = []
        for item in inputs:
            started = time.perf_counter()
            function(item)
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1e6

    codes = [k.code for k in list(dictionary.all_codes())[::40]]
    names = [k.name.lower() for k in list(dictionary.all_codes())[::40]]
    unknown = [0x87D00000 + 7919 * i for i in range(200)]
    print(f"{'warm, in process (median)':32} {'us':>8}")
    print(f"{'describe':32} {warm_us(dictionary.describe, codes):8.1f}")
    print(f"{'value_of_name (before names())':32} {warm_us(dictionary.value_of_name, names):8.1f}")
    print(f"{'nearest, unknown values':32} {warm_us(dictionary.nearest, unknown):8.1f}")
    print(
        f"{'nearest, one typo away':32} {warm_us(dictionary.nearest, [0x0C004F74, 0x8007005, 0x8024017]):8.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
