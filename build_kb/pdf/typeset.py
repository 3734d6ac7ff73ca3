"""Typst runs: one document typeset in this process, or the parts of a long runbook side by side in child processes.

Typst keeps its caches for the life of the process (nothing frees them between two compilations), so each part
is typeset by a process of its own, `python -m build_kb.pdf.typeset FOLDER STAMP MODE`, whose memory is gone
when it ends. A child reads `FOLDER/runbook.typ` and writes `FOLDER/result.json` (the `<runbook-info>` metadata
and Typst's warnings, or the error) and, when asked to export, `FOLDER/runbook.pdf`. Each document sits alone
in its own folder, which is Typst's root, so it can read no other file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from build_kb.core.errors import BuildError

SOURCE = "runbook.typ"
RESULT = "result.json"
OUTPUT = "runbook.pdf"


@dataclass(frozen=True, slots=True)
class Typeset:
    """One Typst run: the PDF (None when only the layout was asked for), the `<runbook-info>` metadata, warnings."""

    pdf: bytes | None
    info: dict[str, Any]
    warnings: tuple[str, ...]


def typeset(source: str, *, stamp: int, tagged: bool, export: bool = True) -> Typeset:
    """Typeset `source` in this process.

    Arguments:
        source: A complete Typst document leaving `<runbook-info>` metadata.
        stamp: The PDF's creation date, in seconds since the epoch.
        tagged: Write a tagged (accessible) PDF.
        export: Write the PDF; without it only the layout is computed (for the page numbers).

    Raises:
        BuildError: Typst failed.
    """
    with tempfile.TemporaryDirectory(prefix="kb-runbook-") as folder:
        main = Path(folder) / SOURCE
        main.write_text(source, "utf-8")
        return _typeset_file(main, stamp=stamp, tagged=tagged, export=export)


def _typeset_file(main: Path, *, stamp: int, tagged: bool, export: bool) -> Typeset:
    import typst

    try:
        compiler = typst.Compiler(main, root=main.parent, font_paths=[], ignore_system_fonts=True)
        pdf: object = None
        warnings: Sequence[Any] = ()
        if export:
            pdf, warnings = compiler.compile_with_warnings(format="pdf", timestamp=stamp, pdf_tags=tagged)
        info = json.loads(compiler.query("<runbook-info>", field="value", one=True, format="json"))
    except RuntimeError as error:  # TypstError, or a bare RuntimeError from the binding itself
        message = getattr(error, "message", None) or str(error)
        hints = "".join(f"\n  hint: {hint}" for hint in getattr(error, "hints", None) or ())
        raise BuildError(f"pdf: Typst could not typeset the runbook: {message}{hints}") from None
    if export and not isinstance(pdf, bytes):
        raise BuildError("pdf: Typst returned no PDF")
    return Typeset(pdf if isinstance(pdf, bytes) else None, info, tuple(str(w.message) for w in warnings))


def typeset_parts(
    sources: Sequence[str],
    *,
    stamp: int,
    export: bool,
    workers: int,
    costs: Sequence[int] | None = None,
    done: Callable[[int], None] | None = None,
) -> list[Typeset]:
    """Typeset each source in a child process of its own, `workers` at a time; untagged (the parts are joined).

    Arguments:
        sources: Complete Typst documents, one per part.
        stamp: The PDFs' creation date.
        export: Write the PDFs, or only lay them out.
        workers: Child processes at once.
        costs: How long each part is expected to take, in any unit: the costliest start first, so that no
            long part is left to run alone at the end.
        done: Called with the part's position each time one is typeset.

    Raises:
        BuildError: a part failed; the first failure in part order is reported.
    """
    with tempfile.TemporaryDirectory(prefix="kb-runbook-parts-") as root:
        folders = [Path(root) / f"part-{n:04d}" for n in range(len(sources))]
        for folder, source in zip(folders, sources, strict=True):
            folder.mkdir()
            (folder / SOURCE).write_text(source, "utf-8")

        def run(n: int) -> Typeset:
            result = _run_child(folders[n], stamp, export)
            if done is not None:
                done(n)
            return result

        order = sorted(range(len(sources)), key=lambda n: -costs[n]) if costs else range(len(sources))
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = {n: pool.submit(run, n) for n in order}
            return [futures[n].result() for n in range(len(sources))]


def _run_child(folder: Path, stamp: int, export: bool) -> Typeset:
    command = [sys.executable, "-m", __name__, str(folder), str(stamp), "export" if export else "layout"]
    finished = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", errors="replace")
    result_file = folder / RESULT
    if not result_file.is_file():
        detail = finished.stderr.strip().splitlines()[-1:] or [f"exit status {finished.returncode}"]
        raise BuildError(f"pdf: the Typst process for {folder.name} stopped: {detail[0]}")
    result = json.loads(result_file.read_text("utf-8"))
    if "error" in result:
        raise BuildError(str(result["error"]))
    pdf = (folder / OUTPUT).read_bytes() if export else None
    return Typeset(pdf, result["info"], tuple(result["warnings"]))


def main(argv: Sequence[str]) -> int:
    """The child process: typeset FOLDER/runbook.typ and write result.json (and runbook.pdf)."""
    folder, stamp, mode = Path(argv[0]), int(argv[1]), argv[2]
    try:
        done = _typeset_file(folder / SOURCE, stamp=stamp, tagged=False, export=mode == "export")
    except BuildError as error:
        (folder / RESULT).write_text(json.dumps({"error": str(error)}), "utf-8")
        return 1
    if done.pdf is not None:
        (folder / OUTPUT).write_bytes(done.pdf)
    (folder / RESULT).write_text(json.dumps({"info": done.info, "warnings": list(done.warnings)}), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
