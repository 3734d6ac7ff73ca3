"""`kb build`: validate, then site, search index, PDF and bundle, each staged and swapped in only at the end.

Every output is first written under a staging folder beside its destination, on the destination's
filesystem. Only when every requested stage has succeeded are the outputs moved into place, one rename
each, after a journal listing those renames has been written: a build killed in the middle of them leaves
every output whole (old or new), and the next build completes the renames from the journal.

Each output folder a build writes (the site folder, the dist folder) has its own lock file, its own journal
and its own staging folders beside it, so builds into different folders run side by side and a build only
ever deletes the leftovers of builds that held the same lock, which are dead.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from build_kb import __version__
from build_kb.content.fingerprint import content_fingerprint, stat_signature
from build_kb.content.validate import find_content, load_knowledge_base
from build_kb.core.errors import BuildError
from build_kb.core.files import exchange, replace_retrying, same_filesystem, write_atomic
from build_kb.core.model import KnowledgeBase

STAGES = ("site", "index", "pdf", "bundle")
STAGING_PREFIX = ".kb-staging-"
FAIL_AFTER_VARIABLE = "KB_TEST_FAIL_AFTER"
"""For the tests of atomic builds only: the stage after which a build fails on purpose."""
COMMIT_PAUSE_VARIABLE = "KB_TEST_COMMIT_PAUSE"
"""For the tests of atomic builds only: seconds to sleep before each rename of a commit or of a recovery,
so that a test can kill a build in the middle of one. Never set it otherwise."""
JOURNAL_FORMAT = 1


def _seconds(text: str | None) -> float:
    try:
        return max(0.0, float(text or 0))
    except ValueError:
        return 0.0


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
    commit_pause: float = field(default_factory=lambda: _seconds(os.environ.get(COMMIT_PAUSE_VARIABLE)))
    """Testing aid, from the environment: seconds to wait before each rename of the commit."""


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
    recovered: list[Path] = field(default_factory=list)
    """Outputs of an interrupted earlier build that this build put in place first, from its journal."""


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


class BuildStopped(BuildError):
    """A build that stopped once it held its locks; says exactly which outputs it changed before stopping.

    `recovered`: outputs of an interrupted earlier build put in place from its journal first;
    `replaced`: this build's outputs already moved into place when it stopped; `kept`: the outputs it was
    to replace and did not (their previous versions are still there).
    """

    def __init__(
        self,
        message: str,
        *,
        recovered: Sequence[Path] = (),
        replaced: Sequence[Path] = (),
        kept: Sequence[Path] = (),
    ) -> None:
        super().__init__(message)
        self.recovered = list(recovered)
        self.replaced = list(replaced)
        self.kept = list(kept)

    def outputs_report(self) -> str:
        """What became of the previous outputs, in words: never "unchanged" when something changed."""
        parts = []
        if self.recovered:
            parts.append(f"an interrupted build's {_listing(self.recovered)} were put in place first")
        if self.replaced:
            parts.append(f"replaced {_listing(self.replaced)}")
        if self.kept:
            parts.append(f"left the previous {_listing(self.kept)} in place")
        if not self.replaced and not self.kept:
            parts.append(
                "the previous outputs are otherwise unchanged" if parts else "previous outputs are unchanged"
            )
        return "; ".join(parts)


def _listing(paths: Sequence[Path]) -> str:
    return ", ".join(path.as_posix() for path in paths)


@dataclass(frozen=True)
class _Folder:
    """An output folder a build writes: its lock file and journal sit beside it, and so do its staging
    folders, named after it, unless it is on another filesystem than its parent (a mount point): the
    staging folders of its files then sit inside it.
    """

    path: Path

    @property
    def lock(self) -> Path:
        return self.path.parent / f".kb-build-{self.path.name}.lock"

    @property
    def journal(self) -> Path:
        return self.path.parent / f".kb-commit-{self.path.name}.json"

    @property
    def prefix(self) -> str:
        """The start of the name of every staging folder of this folder; no other folder's starts so."""
        return f"{STAGING_PREFIX}{self.path.name}~"

    def is_mount_point(self) -> bool:
        """Whether the folder is on another filesystem than the folder it is in (it must exist)."""
        return os.path.ismount(self.path) or not same_filesystem(self.path, self.path.parent)

    def staging_area(self) -> Path:
        """Where this folder's files are staged: beside it, or inside it when it is a mount point."""
        return self.path if self.is_mount_point() else self.path.parent

    def leftovers(self) -> list[Path]:
        """Staging folders of this folder and temporary journals, beside it and inside it."""
        found = []
        temp = re.compile(re.escape(self.journal.name) + r"\.[0-9]+-[0-9a-f]+\.tmp")
        for area in (self.path.parent, self.path):
            with suppress(OSError):
                found += [
                    p for p in area.iterdir() if p.name.startswith(self.prefix) or temp.fullmatch(p.name)
                ]
        return found


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def run_build(options: BuildOptions, report: Reporter | None = None) -> BuildSummary:
    """Build the requested outputs; nothing is replaced unless every requested stage succeeds.

    Raises:
        ValidationFailed: the content is invalid (nothing is built).
        BuildError: the build cannot start (nothing is changed).
        BuildStopped: a stage or the commit failed; says which outputs were changed, if any.
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
        site, dist = _output_folders(options)
        with _locked([folder for folder in (site, dist) if folder is not None]):
            try:
                for folder in (site, dist):
                    if folder is not None:
                        summary.recovered += _recover(folder, options, notify)
                        for leftover in folder.leftovers():  # of a killed build that held this lock
                            _remove(leftover)
                _build_and_commit(options, kb, content_state, site, dist, names, summary, notify)
            except BuildStopped as error:
                error.recovered = summary.recovered
                raise
            except BuildError as error:
                raise BuildStopped(str(error), recovered=summary.recovered) from None
            except OSError as error:
                raise BuildStopped(_cannot_write(error), recovered=summary.recovered) from None
    except BuildStopped:
        raise
    except OSError as error:
        raise BuildError(_cannot_write(error)) from None
    return summary


def _output_folders(options: BuildOptions) -> tuple[_Folder | None, _Folder | None]:
    """The site folder if the site is an output, the dist folder if anything in it is; refuses what a
    rename cannot replace, before anything is built."""
    site = _Folder(options.site_dir) if "site" in options.only else None
    dist = _Folder(options.dist_dir) if options.only & {"index", "pdf", "bundle"} else None
    if dist is not None:
        dist.path.mkdir(parents=True, exist_ok=True)
    if site is not None:
        site.path.parent.mkdir(parents=True, exist_ok=True)
        if site.path.exists() and site.is_mount_point():
            raise BuildError(
                f"cannot replace {site.path.as_posix()}: it is a mount point, another filesystem than the "
                f"folder it is in; build the site into a folder inside it (--site-dir {site.path.as_posix()}/kb)"
            )
    if site is not None and dist is not None and site.path.resolve() == dist.path.resolve():
        raise BuildError(f"--site-dir and --dist-dir are both {site.path.as_posix()}; give two folders")
    return site, dist


@contextmanager
def _locked(folders: list[_Folder]) -> Iterator[None]:
    """Hold the lock of every output folder, in a fixed order: a build never writes a folder that another
    build is writing, and never deletes staging folders but those of builds that held the same lock.

    Operating-system locks, so a killed build releases them; the next build then deletes its leftovers.
    """
    from filelock import FileLock, Timeout

    with ExitStack() as held:
        for folder in sorted(folders, key=lambda f: str(f.lock.absolute())):
            lock = FileLock(folder.lock, timeout=0)
            try:
                lock.acquire()
            except Timeout:
                raise BuildError(
                    f"another kb build is writing to {folder.path.as_posix()}; try again when it is done"
                ) from None
            held.callback(lock.release)
        yield


def _cannot_write(error: OSError, where: Path | None = None) -> str:
    """One line for an OSError, naming the path: shutil.copytree's error lists every file it could not
    copy, with its reason; only the first is told."""
    path: object = error.filename or where
    reason = error.strerror or str(error)
    if isinstance(error, shutil.Error) and error.args and isinstance(error.args[0], list) and error.args[0]:
        failures = error.args[0]
        first = failures[0]
        if isinstance(first, tuple) and len(first) == 3:
            path = first[1]
            found = re.match(r"\[Errno \d+\] ([^:]+)", str(first[2]))
            reason = found.group(1) if found else str(first[2])
        if len(failures) > 1:
            reason += f" (and {len(failures) - 1} more files)"
    reason = (reason.splitlines() or [""])[0][:200]
    where_text = f" {Path(str(path)).as_posix()}" if path else ""
    return f"cannot write{where_text}: {reason}"


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Report a failed write within a stage as one line naming the file, or else the stage's output."""
    try:
        yield
    except OSError as error:
        raise BuildError(_cannot_write(error, path)) from None


def _build_and_commit(
    options: BuildOptions,
    kb: KnowledgeBase,
    content_state: tuple[str, str],
    site: _Folder | None,
    dist: _Folder | None,
    names: dict[str, str],
    summary: BuildSummary,
    notify: Reporter,
) -> None:
    token = f"{os.getpid()}-{os.urandom(4).hex()}"
    # Staging folders sit beside their destinations so that moving them in is a rename, never a copy.
    staging = dist.staging_area() / f"{dist.prefix}{token}" if dist is not None else None
    if site is not None:
        site_staging = site.path.parent / f"{site.prefix}{token}"
    else:
        assert staging is not None  # the site is built for the bundle only
        site_staging = staging / "site"
    owned = [(folder, area) for folder, area in ((site, site_staging), (dist, staging)) if folder and area]
    try:
        if staging is not None:
            staging.mkdir()
        staged = _run_stages(options, kb, content_state, staging, site_staging, names, summary, notify)
        plan = _plan(site, dist, staged, token)
        _commit(plan, options, summary, notify)
    finally:
        for folder, area in owned:
            if not folder.journal.exists():  # else an interrupted commit: the next build completes it
                shutil.rmtree(area, ignore_errors=True)


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
    staging: Path | None,
    site_dir: Path,
    names: dict[str, str],
    summary: BuildSummary,
    notify: Reporter,
) -> dict[str, Path]:
    staged: dict[str, Path] = {}
    wanted = options.only
    if "site" in wanted or "bundle" in wanted:
        finish = _timed("site", summary, notify, options)
        with _writing(site_dir):
            summary.site_pages = build_site(options, site_dir, summary.build_date, kb, notify)
        finish()
        if "site" in wanted:
            staged["site"] = site_dir
    if staging is None:
        return staged
    index_dir = staging / "index"
    if "index" in wanted or "bundle" in wanted:
        from search.index import build_index

        finish = _timed("index", summary, notify, options)
        with _writing(index_dir):
            build_index(kb, index_dir, content_root=options.content_root, content_state=content_state)
        finish()
        if "index" in wanted:
            staged["index"] = index_dir
    pdf = staging / names["pdf"]
    if "pdf" in wanted or "bundle" in wanted:
        from build_kb.pdf.runbook import build_runbook

        finish = _timed("pdf", summary, notify, options)
        with _writing(pdf):
            summary.pdf_pages = build_runbook(
                kb,
                pdf,
                build_date=summary.build_date,
                version=summary.version,
                progress=lambda done, total: notify("pdf", "progress", done, total),
            ).pages
        finish()
        if "pdf" in wanted:
            staged["pdf"] = pdf
    if "bundle" in wanted:
        finish = _timed("bundle", summary, notify, options)
        with _writing(staging / names["bundle"]):
            staged["bundle"] = _write_bundle(
                kb, summary, names, staging, site=site_dir, index=index_dir, pdf=pdf
            )
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


# The commit. Each step moves one staged output into place with renames and can be repeated: after a kill at
# any moment, doing every step of the journal again, in order, completes the commit.


@dataclass(frozen=True)
class _Step:
    """One output to move into place."""

    output: str
    """site, index, pdf or bundle."""
    kind: str
    """tree: a folder replaced as a whole; index: a build added to an index root and made current; file."""
    staged: Path
    target: Path
    retired: Path | None = None
    """tree: where the previous folder goes while the staged one takes its place."""
    inode: int = 0
    """tree: the staged folder's inode number, by which the folder in place is known for the new one."""
    name: str = ""
    """index: the name of the build in the index root."""


_STEP_KINDS = {"site": "tree", "index": "index", "pdf": "file", "bundle": "file"}


def _plan(
    site: _Folder | None, dist: _Folder | None, staged: dict[str, Path], token: str
) -> list[tuple[_Folder, list[_Step]]]:
    """The steps of the commit, by output folder, in the order they are done."""
    plan: list[tuple[_Folder, list[_Step]]] = []
    if site is not None and "site" in staged:
        folder = staged["site"]
        retired = site.path.parent / f"{site.prefix}{token}-old"
        plan.append((site, [_Step("site", "tree", folder, site.path, retired, folder.stat().st_ino)]))
    steps = []
    if dist is not None and "index" in staged:
        from search.store import current_build, new_build_name

        build = current_build(staged["index"]).path
        steps.append(_Step("index", "index", build, dist.path / "index", name=new_build_name()))
    for key in ("pdf", "bundle"):
        if dist is not None and key in staged:
            steps.append(_Step(key, "file", staged[key], dist.path / staged[key].name))
    if dist is not None and steps:
        plan.append((dist, steps))
    return plan


def _commit(
    plan: list[tuple[_Folder, list[_Step]]], options: BuildOptions, summary: BuildSummary, notify: Reporter
) -> None:
    """Move every staged output into place, once every stage has succeeded.

    A journal of the steps is written beside each output folder before the first rename and deleted after
    the last: a build killed in between is completed by the next one (`_recover`). A step failing here
    (a file held open on Windows) stops the commit: what is in place stays, the rest keeps its previous
    version, and the error says which is which.
    """
    notify("commit", "start")
    for _, steps in plan:
        for step in steps:
            _check_renamable(step)
    written: list[Path] = []
    try:
        for folder, steps in plan:
            write_atomic(folder.journal, _journal(folder, steps))
            written.append(folder.journal)
    except OSError as error:
        for journal in written:
            journal.unlink(missing_ok=True)
        raise BuildError(_cannot_write(error, written[-1] if written else None)) from None
    done: list[Path] = []
    every = [step for _, steps in plan for step in steps]
    try:
        for folder, steps in plan:
            for step in steps:
                _pause(options)
                _apply(step)
                done.append(step.target)
                summary.outputs[step.output] = step.target
            folder.journal.unlink()
    except OSError as error:
        for folder, steps in plan:
            # Not to be completed later, its outputs being each whole, old or new; unless a folder could be
            # neither swapped nor put back: its journal then has the next build move the new one in.
            if not any(step.kind == "tree" and not step.target.exists() for step in steps):
                folder.journal.unlink(missing_ok=True)
        failed = every[len(done)]
        raise BuildStopped(
            f"cannot move {failed.target.as_posix()} into place: {error.strerror or error}",
            replaced=done,
            kept=[step.target for step in every[len(done) :]],
        ) from None
    notify("commit", "done")


def _pause(options: BuildOptions) -> None:
    if options.commit_pause:
        time.sleep(options.commit_pause)


def _check_renamable(step: _Step) -> None:
    """Refuse, before anything moves, a step whose rename would cross filesystems (EXDEV)."""
    destination = step.target.parent if step.kind != "index" else step.target
    while not destination.exists() and destination != destination.parent:
        destination = destination.parent
    crossing = not same_filesystem(step.staged, destination)
    if step.kind == "tree" and step.target.exists():
        crossing = crossing or os.path.ismount(step.target) or not same_filesystem(step.staged, step.target)
    if crossing:
        raise BuildError(
            f"cannot move {step.staged.as_posix()} to {step.target.as_posix()}: another filesystem "
            "(a mount point?); nothing was replaced"
        )


def _apply(step: _Step) -> None:
    """Do one step, or what is left of it after a kill; doing it again when it is done changes nothing."""
    if step.kind == "tree":
        _put_tree(step)
    elif step.kind == "index":
        from search.store import put_build

        put_build(step.target, step.staged, step.name)  # repeatable, as a step must be
    elif step.staged.exists():
        replace_retrying(step.staged, step.target)


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


def _new_in_place(step: _Step) -> bool:
    """Whether the staged folder is now at `target`: known by its inode, or else by its staged name gone."""
    if step.inode:
        return _inode(step.target) == step.inode
    return step.target.exists() and not step.staged.exists()


def _put_tree(step: _Step) -> None:
    """Put the folder `staged` where `target` is; the previous one is deleted only once the new one is in.

    On Linux the two swap places in one atomic rename, so `target` is never missing; elsewhere the previous
    folder is first renamed aside, leaving `target` missing for the moment between two renames (a kill
    there: the next build does the second).
    """
    assert step.retired is not None
    if not _new_in_place(step):
        if step.staged.is_dir():
            if not step.target.exists():
                replace_retrying(step.staged, step.target)
            elif not exchange(step.staged, step.target):  # else the previous folder is now at `staged`
                if step.retired.exists():
                    shutil.rmtree(step.retired)
                replace_retrying(step.target, step.retired)
                try:
                    replace_retrying(step.staged, step.target)
                except OSError:
                    with suppress(OSError):
                        replace_retrying(step.retired, step.target)
                    raise
        elif not step.target.exists() and step.retired.exists():
            replace_retrying(step.retired, step.target)  # the new folder is lost: the previous one goes back
            return
    if _new_in_place(step):  # the previous folder, wherever it went, is no longer needed
        shutil.rmtree(step.staged, ignore_errors=True)
        shutil.rmtree(step.retired, ignore_errors=True)


def _relative(folder: _Folder, path: Path) -> list[str]:
    return list(path.relative_to(folder.path.parent).parts)


def _journal(folder: _Folder, steps: list[_Step]) -> bytes:
    """The journal of a folder's steps; paths relative to the folder's parent, so that only this folder's
    outputs and staging folders can be named in it."""
    records = [
        {
            "output": step.output, "staged": _relative(folder, step.staged),
            "target": _relative(folder, step.target),
            "retired": _relative(folder, step.retired) if step.retired else None,
            "inode": step.inode, "name": step.name,
        }
        for step in steps
    ]  # fmt: skip
    return (json.dumps({"format": JOURNAL_FORMAT, "steps": records}, indent=2) + "\n").encode("utf-8")


def _read_journal(folder: _Folder) -> list[_Step]:
    """The steps of an interrupted commit, checked to name nothing but the folder's outputs and staging.

    Raises:
        BuildError: the journal is unreadable or names something else.
    """
    from search.store import BUILDS, is_build_name

    def path(parts: object, staging: bool) -> Path:
        if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts) or not parts:
            raise ValueError("a path is not a list of names")
        if any(p in ("", ".", "..") or "/" in p or "\\" in p for p in parts):
            raise ValueError(f"{'/'.join(parts)} is not a plain relative path")
        if staging:
            inside = parts[0] == folder.path.name and len(parts) > 1
            if not parts[1 if inside else 0].startswith(folder.prefix):
                raise ValueError(f"{'/'.join(parts)} is not a staging folder of {folder.path.name}")
        elif parts[0] != folder.path.name or len(parts) > 2:
            raise ValueError(f"{'/'.join(parts)} is not an output of {folder.path.name}")
        return folder.path.parent.joinpath(*parts)

    try:
        data = json.loads(folder.journal.read_bytes())
        if data["format"] != JOURNAL_FORMAT:
            raise ValueError(f"format {data['format']}, this version reads format {JOURNAL_FORMAT}")
        steps = []
        for record in data["steps"]:
            output = str(record["output"])
            kind = _STEP_KINDS[output]
            name = str(record["name"])
            if kind == "index" and not is_build_name(name):
                raise ValueError(f"{name!r} is not the name of an index build")
            retired = path(record["retired"], staging=True) if kind == "tree" else None
            step = _Step(output, kind, path(record["staged"], True), path(record["target"], False), retired,
                         int(record["inode"]), name)  # fmt: skip
            if kind == "index" and step.staged.parent.name != BUILDS:
                raise ValueError(f"{step.staged.as_posix()} is not an index build")
            steps.append(step)
    except (OSError, ValueError, KeyError, TypeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise BuildError(
            f"{folder.journal.as_posix()}: unreadable journal of an interrupted build ({reason}); delete it "
            f"and the {folder.prefix}* folders beside it to discard that build"
        ) from None
    return steps


def _recover(folder: _Folder, options: BuildOptions, notify: Reporter) -> list[Path]:
    """Complete the commit a killed build left half done in `folder`, from its journal; returns the outputs
    it put in place (none when there was no journal). Held under the folder's lock."""
    if not folder.journal.exists():
        return []
    steps = _read_journal(folder)
    notify("recover", "start")
    try:
        for step in steps:
            _pause(options)
            _apply(step)
    except OSError as error:
        raise BuildError(
            f"cannot complete the commit of an interrupted build from {folder.journal.as_posix()}: "
            f"{_cannot_write(error)}"
        ) from None
    folder.journal.unlink()
    notify("recover", "done")
    return [step.target for step in steps]
