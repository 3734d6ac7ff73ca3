"""`kb build`: validate, then site, search index, PDF and bundle, each staged and swapped in only at the end.

Every output is first written under a staging folder beside its destination. Only when every requested stage
has succeeded are the outputs moved into place, one rename each, so invalid content, a failing stage or a
kill midway leaves the previous outputs exactly as they were.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from build_kb import __version__
from build_kb.content.fingerprint import content_fingerprint, stat_signature
from build_kb.content.validate import find_content, load_knowledge_base
from build_kb.core.errors import BuildError
from build_kb.core.files import replace_retrying
from build_kb.core.model import KnowledgeBase

STAGES = ("site", "index", "pdf", "bundle")
STAGING_PREFIX = ".kb-staging-"
FAIL_AFTER_VARIABLE = "KB_TEST_FAIL_AFTER"
"""For the tests of atomic builds only: the stage after which a build fails on purpose."""


@dataclass(frozen=True)
class BuildOptions:
    """What to build and where."""

    content_root: Path = Path("content")
    site_dir: Path = Path("site")
    dist_dir: Path = Path("dist")
    config_file: Path | None = None
    """MkDocs configuration; None: ./mkdocs.yml when there is one, else the tool's default."""
    only: frozenset[str] = frozenset(STAGES)
    drafts: bool = False
    """Build the draft entries too (marked as drafts), for a preview; published builds leave them out."""
    fail_after: str | None = field(default_factory=lambda: os.environ.get(FAIL_AFTER_VARIABLE) or None)
    """Testing aid, from the environment: raise after this stage, as a crash midway would."""


@dataclass
class BuildSummary:
    """What a build produced, for the closing report."""

    entries: int = 0
    site_pages: int = 0
    """HTML pages of the site (0 when the site was not built)."""
    pdf_pages: int = 0
    """Pages of the PDF runbook (0 when it was not built)."""
    seconds: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, Path] = field(default_factory=dict)
    version: str = ""
    build_date: datetime = datetime(1970, 1, 1, tzinfo=UTC)


class Reporter(Protocol):
    """Told how the build goes: `event` is "start", "done" or "progress" (then with `done` of `total`)."""

    def __call__(self, stage: str, event: str, done: int = 0, total: int = 0) -> None: ...


def _silent(stage: str, event: str, done: int = 0, total: int = 0) -> None:
    """The reporter of a build nobody watches."""


def build_date(content_root: Path) -> datetime:
    """`SOURCE_DATE_EPOCH` if set, else the newest commit touching the content, else the newest file time."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    try:
        result = subprocess.run(
            ["git", "log", "-1", "--format=%ct", "--", "."],
            cwd=content_root,
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        if result.returncode == 0 and result.stdout.strip().isdigit():
            return datetime.fromtimestamp(int(result.stdout.strip()), tz=UTC)
    except (OSError, subprocess.SubprocessError):
        pass
    newest = max((p.stat().st_mtime for p in find_content(content_root).entries), default=0.0)
    return datetime.fromtimestamp(int(newest), tz=UTC)


def replace_tree(staged: Path, target: Path) -> None:
    """Put the folder `staged` where `target` is, keeping the old one until the new one is in place."""
    retired = target.with_name(f"{STAGING_PREFIX}old-{target.name}")
    if retired.exists():
        shutil.rmtree(retired, ignore_errors=True)
    if target.exists():
        replace_retrying(target, retired)
    try:
        replace_retrying(staged, target)
    except OSError:
        if retired.exists() and not target.exists():
            retired.rename(target)
        raise
    shutil.rmtree(retired, ignore_errors=True)


@contextmanager
def _source_date(stamp: datetime) -> Iterator[None]:
    """MkDocs reads SOURCE_DATE_EPOCH for the dates it writes; set it for the duration of a stage."""
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(stamp.timestamp()))
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


class _WarningCollector(logging.Handler):
    """Keeps MkDocs' warnings so a failed strict build can say what went wrong."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _require_config(options: BuildOptions) -> None:
    if options.config_file is not None and not options.config_file.is_file():
        raise BuildError(f"{options.config_file.as_posix()} not found")


DEFAULT_CONFIG = Path("mkdocs.yml")
"""A project's own MkDocs configuration, used when it exists in the working folder."""


def _site_config(options: BuildOptions, site_dir: Path) -> Any:
    """MkDocs' configuration: the given file, else ./mkdocs.yml, else the tool's packaged default."""
    from mkdocs.config import load_config

    if options.config_file is not None or DEFAULT_CONFIG.is_file():
        config_file = options.config_file or DEFAULT_CONFIG
        return load_config(config_file=str(config_file), site_dir=str(site_dir), strict=True)
    default = resources.files("build_kb.site").joinpath("mkdocs.yml").read_text("utf-8")
    stream = io.StringIO(default)
    return load_config(
        config_file=stream, docs_dir=str(options.content_root.resolve()), site_dir=str(site_dir), strict=True
    )


def build_site(
    options: BuildOptions,
    site_dir: Path,
    stamp: datetime,
    kb: KnowledgeBase | None = None,
    report: Reporter = _silent,
) -> int:
    """Run MkDocs (strict) into `site_dir`; returns the number of HTML pages.

    `kb`, when given, is the content already loaded from `options.content_root`; the plugin then uses it
    rather than loading and validating the same files a second time. `report` hears of every page written.
    """
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.exceptions import MkDocsException

    from build_kb.site.plugin import KbPlugin

    _require_config(options)
    collector = _WarningCollector()
    mkdocs_logger = logging.getLogger("mkdocs")
    mkdocs_logger.addHandler(collector)
    try:
        with _source_date(stamp):
            config = _site_config(options, site_dir)
            plugin = config.plugins.get("kb")
            if not isinstance(plugin, KbPlugin):
                raise BuildError(
                    "site: the MkDocs configuration does not enable the kb plugin (plugins: - kb)"
                )
            plugin.prepare(
                options.content_root.resolve(),
                kb,
                lambda done, total: report("site", "progress", done, total),
            )
            mkdocs_build(config)
    except MkDocsException as error:
        details = "\n".join(collector.messages)
        raise BuildError(f"site: {error.format_message()}" + (f"\n{details}" if details else "")) from None
    finally:
        mkdocs_logger.removeHandler(collector)
    return sum(1 for _ in site_dir.rglob("*.html"))


def output_names(kb: KnowledgeBase) -> dict[str, str]:
    """File names in dist/ for this content set."""
    stem = kb.taxonomy.short_name
    return {"pdf": f"{stem}-runbook.pdf", "bundle": f"{stem}-offline.zip"}


def run_build(options: BuildOptions, report: Reporter | None = None) -> BuildSummary:
    """Build the requested outputs; nothing is replaced unless every requested stage succeeds.

    Raises:
        ValidationFailed: the content is invalid (nothing is built).
        BuildError: a stage failed (nothing is replaced).
    """
    notify = report or _silent
    summary = BuildSummary()
    started = time.perf_counter()
    if options.only & {"site", "bundle"}:
        _require_config(options)  # before validating, not after
    notify("validate", "start")
    if not options.content_root.is_dir():
        load_knowledge_base(options.content_root)  # reports the missing folder as a content problem
    # Read the content's state before loading it: an edit made meanwhile then shows up as a change later.
    content_state = (stat_signature(options.content_root), content_fingerprint(options.content_root))
    kb = load_knowledge_base(options.content_root, drafts=options.drafts)
    summary.seconds["validate"] = time.perf_counter() - started
    notify("validate", "done")
    summary.entries = len(kb)
    summary.build_date = build_date(options.content_root)
    summary.version = f"{__version__}+{content_state[1][:10]}"
    names = output_names(kb)

    try:
        options.dist_dir.mkdir(parents=True, exist_ok=True)
        with _exclusive(options.dist_dir):
            # Staging folders sit beside their destinations so that moving them in is a rename, never a copy.
            staging = options.dist_dir.parent / f"{STAGING_PREFIX}{os.getpid()}"
            site_staging = options.site_dir.parent / f"{STAGING_PREFIX}{os.getpid()}-site"
            for parent in {options.dist_dir.parent, options.site_dir.parent}:
                for stale in parent.glob(f"{STAGING_PREFIX}*"):  # left by a killed build
                    shutil.rmtree(stale, ignore_errors=True)
            staging.mkdir()
            try:
                staged = _run_stages(
                    options, kb, content_state, staging, site_staging, names, summary, notify
                )
                _commit(options, staged, names, summary)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
                shutil.rmtree(site_staging, ignore_errors=True)
    except OSError as error:
        where = f" {Path(error.filename).as_posix()}" if error.filename else ""
        raise BuildError(f"cannot write{where}: {error.strerror or error}") from None
    return summary


@contextmanager
def _exclusive(dist_dir: Path) -> Iterator[None]:
    """Hold the build lock beside `dist_dir`: two builds at once would delete each other's staging folders.

    An operating-system lock, so a killed build releases it; the next build then deletes its leftovers.
    """
    from filelock import FileLock, Timeout

    lock = FileLock(dist_dir.parent / f".kb-build-{dist_dir.name}.lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise BuildError(
            f"another kb build is writing to {dist_dir.as_posix()}; try again when it is done"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _timed(stage: str, summary: BuildSummary, notify: Reporter, options: BuildOptions) -> Callable[[], None]:
    notify(stage, "start")
    started = time.perf_counter()

    def finish() -> None:
        summary.seconds[stage] = time.perf_counter() - started
        notify(stage, "done")
        if options.fail_after == stage:
            raise BuildError(f"stopped after the {stage} stage as asked (--fail-after)")

    return finish


def _run_stages(
    options: BuildOptions,
    kb: KnowledgeBase,
    content_state: tuple[str, str],
    staging: Path,
    site_dir: Path,
    names: dict[str, str],
    summary: BuildSummary,
    notify: Reporter,
) -> dict[str, Path]:
    staged: dict[str, Path] = {}
    wanted = options.only
    if "site" in wanted or "bundle" in wanted:
        finish = _timed("site", summary, notify, options)
        summary.site_pages = build_site(options, site_dir, summary.build_date, kb, notify)
        finish()
        if "site" in wanted:
            staged["site"] = site_dir
    index_dir = staging / "index"
    if "index" in wanted or "bundle" in wanted:
        from search.index import build_index

        finish = _timed("index", summary, notify, options)
        build_index(kb, index_dir, content_root=options.content_root, content_state=content_state)
        finish()
        if "index" in wanted:
            staged["index"] = index_dir
    pdf = staging / names["pdf"]
    if "pdf" in wanted or "bundle" in wanted:
        from build_kb.pdf.runbook import build_runbook

        finish = _timed("pdf", summary, notify, options)
        summary.pdf_pages = build_runbook(
            kb, pdf, build_date=summary.build_date, version=summary.version
        ).pages
        finish()
        if "pdf" in wanted:
            staged["pdf"] = pdf
    if "bundle" in wanted:
        finish = _timed("bundle", summary, notify, options)
        staged["bundle"] = _write_bundle(kb, summary, names, staging, site=site_dir, index=index_dir, pdf=pdf)
        finish()
    return staged


def _write_bundle(
    kb: KnowledgeBase,
    summary: BuildSummary,
    names: dict[str, str],
    staging: Path,
    *,
    site: Path,
    index: Path,
    pdf: Path,
) -> Path:
    """The offline zip of the staged site, index and PDF, with its README, under one top folder."""
    from build_kb.bundle.archive import bundle_readme, write_zip
    from search.store import export_build

    root = names["bundle"].removesuffix(".zip")
    readme = bundle_readme(
        title=kb.taxonomy.title, version=summary.version, build_date=summary.build_date,
        pdf_name=names["pdf"], root=root, lookup_example=next(iter(kb.lookup_examples), None),
        search_example=kb.entries[0].title if kb.entries else "the message you see",
    )  # fmt: skip
    # The staged index carries the time it was built in its names; the copy in the zip must not.
    portable_index = export_build(index, staging / "bundle-index", int(summary.build_date.timestamp()))
    zip_path = staging / names["bundle"]
    sources = [(f"{root}/site", site), (f"{root}/index", portable_index), (f"{root}/{names['pdf']}", pdf)]
    write_zip(zip_path, sources, {f"{root}/README.txt": readme}, summary.build_date)
    return zip_path


def _commit(
    options: BuildOptions, staged: dict[str, Path], names: dict[str, str], summary: BuildSummary
) -> None:
    """Move every staged output into place: one rename per output, done only after every stage succeeded."""
    if "site" in staged:
        replace_tree(staged["site"], options.site_dir)
        summary.outputs["site"] = options.site_dir
    if "index" in staged:
        from search.index import install_index

        summary.outputs["index"] = install_index(staged["index"], options.dist_dir / "index")
    for key in ("pdf", "bundle"):
        if key in staged:
            target = options.dist_dir / names[key]
            replace_retrying(staged[key], target)
            summary.outputs[key] = target
