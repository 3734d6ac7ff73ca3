"""`kb build` under concurrency, kills, other filesystems and a full disk: every output stays whole.

Builds run as users run them, `python -m build_kb build` in child processes, from a working folder without
mkdocs.yml (so with the tool's packaged configuration), on small synthetic content sets, with
SOURCE_DATE_EPOCH so that two builds of one content set are byte-identical. The failures that need a
patched function (a full disk, a rename refused) run in-process through the click command.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from build_kb.app.build import COMMIT_PAUSE_VARIABLE, FAIL_AFTER_VARIABLE, STAGING_PREFIX
from tests.helpers import ROOT, TAXONOMY, synthetic_entries, write_content

EPOCH = "1735689600"  # 2025-01-01T00:00:00Z
PDF = "synthetic-kb-runbook.pdf"
ZIP = "synthetic-kb-offline.zip"


def environment(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SOURCE_DATE_EPOCH": EPOCH}
    for name in (FAIL_AFTER_VARIABLE, COMMIT_PAUSE_VARIABLE):
        env.pop(name, None)
    env.update(extra)
    return env


def command(content: Path, site: Path, dist: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "build_kb", "build",
        "--content", str(content), "--site-dir", str(site), "--dist-dir", str(dist), *extra,
    ]  # fmt: skip


class Running:
    """A build in a child process whose stderr lines are read as they come."""

    def __init__(self, arguments: list[str], cwd: Path, **env: str) -> None:
        self.process = subprocess.Popen(
            arguments,
            cwd=cwd,
            env=environment(**env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.lines: list[str] = []
        self.ended = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self.ended = True
            self._changed.notify_all()

    def wait_for(self, prefix: str, timeout: float = 180) -> bool:
        """Wait until a line starts with `prefix` (True) or the build ends without one (False)."""
        with self._changed:
            self._changed.wait_for(
                lambda: self.ended or any(x.startswith(prefix) for x in self.lines), timeout
            )
            return any(line.startswith(prefix) for line in self.lines)

    def kill(self) -> None:
        self.process.kill()
        self.finish()

    def finish(self, timeout: float = 300) -> tuple[int, str]:
        self.process.wait(timeout)
        self._reader.join(timeout)
        assert self.process.stderr is not None
        self.process.stderr.close()
        return self.process.returncode, "".join(self.lines)


def run(arguments: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        arguments, cwd=cwd, env=environment(**env), capture_output=True, text=True, encoding="utf-8",
        timeout=300, check=False,
    )  # fmt: skip


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def site_files(site: Path) -> dict[str, str]:
    """sha256 of every file of a site, by path relative to it."""
    return {p.relative_to(site).as_posix(): sha256(p) for p in sorted(site.rglob("*")) if p.is_file()}


def index_fingerprint(dist: Path) -> str | None:
    """The content fingerprint of the index's current build, read as `kb search` reads it."""
    from search.store import DOCUMENTS, current_build

    build = current_build(dist / "index")
    assert (build.path / DOCUMENTS).is_file()
    return build.manifest.fingerprint


@dataclass(frozen=True)
class Version:
    """What one complete build of a content set produces."""

    content: Path
    site: dict[str, str]
    pdf: str
    zip: str
    fingerprint: str | None

    def matches(self, site: Path, dist: Path) -> bool:
        return (
            site_files(site) == self.site
            and sha256(dist / PDF) == self.pdf
            and sha256(dist / ZIP) == self.zip
            and index_fingerprint(dist) == self.fingerprint
        )


def make_version(base: Path, name: str, entries: list[dict[str, Any]], title: str) -> Version:
    """Write a content set, build it once into `base/<name>-ref/` and record its outputs."""
    content = write_content(base / name, entries, taxonomy={**TAXONOMY, "title": title})
    work = base / "work"
    work.mkdir(exist_ok=True)
    site, dist = base / f"{name}-ref" / "site", base / f"{name}-ref" / "dist"
    result = run(command(content, site, dist), work)
    assert result.returncode == 0, result.stderr
    return Version(content, site_files(site), sha256(dist / PDF), sha256(dist / ZIP), index_fingerprint(dist))


def leftovers(base: Path) -> list[Path]:
    """Staging folders and journals anywhere under `base`."""
    return [p for p in base.rglob(".kb-*") if p.name.startswith((STAGING_PREFIX, ".kb-commit-"))]


def copy_outputs(version: Version, site: Path, dist: Path) -> None:
    reference = version.content.parent / f"{version.content.name}-ref"
    shutil.copytree(reference / "site", site)
    shutil.copytree(reference / "dist", dist)


# --- Case 4: builds into shared folders never corrupt each other -------------------------------------------


@pytest.fixture(scope="module")
def larger(tmp_path_factory: pytest.TempPathFactory) -> Version:
    """Content whose site stage takes a few seconds, long enough for a second build to start meanwhile."""
    return make_version(tmp_path_factory.mktemp("larger"), "content", synthetic_entries(30), "Larger")


SCENARIOS = {
    # name: (second build's site, second build's dist, its --only, whether it must succeed)
    "same site, other dist, only the PDF": ("site", "dist2", ["--only", "pdf"], True),
    "same site, other dist, everything": ("site", "dist2", [], False),
    "same dist, other site, everything": ("site2", "dist", [], False),
    "same dist, other site, only the site": ("site2", "dist", ["--only", "site"], True),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_concurrent_builds_sharing_a_folder_never_leave_a_truncated_output(
    larger: Version, tmp_path: Path, scenario: str
) -> None:
    site_name, dist_name, only, must_succeed = SCENARIOS[scenario]
    work = tmp_path / "work"
    work.mkdir()
    site, dist = tmp_path / "site", tmp_path / "dist"
    first = Running(command(larger.content, site, dist), work)
    # Start the second build once the first is writing its pages: from then on to its commit, deleting its
    # staging folders truncates its site or zip, or fails it.
    assert first.wait_for("kb build: site: 1"), "".join(first.lines)
    second = run(command(larger.content, tmp_path / site_name, tmp_path / dist_name, *only), work)
    code, stderr = first.finish()

    assert code == 0, stderr
    assert "Traceback" not in stderr + second.stderr
    assert larger.matches(site, dist), "the first build's outputs are not those of a complete build"
    if must_succeed:
        assert second.returncode == 0, second.stderr
    if second.returncode == 0:
        if "--only" not in only or "site" in only:
            assert site_files(tmp_path / site_name) == larger.site
        if "--only" not in only or "pdf" in only:
            assert sha256(tmp_path / dist_name / PDF) == larger.pdf
    else:
        shared = site if site_name == "site" else dist
        assert second.returncode == 1
        assert f"another kb build is writing to {shared.as_posix()}" in second.stderr, second.stderr
        assert len(second.stderr.strip().splitlines()[-1]) < 300
    assert not leftovers(tmp_path)


def test_a_build_deletes_only_the_leftovers_of_dead_builds_of_its_own_folders(
    larger: Version, tmp_path: Path
) -> None:
    from filelock import FileLock

    work = tmp_path / "work"
    work.mkdir()
    site, dist = tmp_path / "site", tmp_path / "dist"
    copy_outputs(larger, site, dist)
    live = tmp_path / f"{STAGING_PREFIX}site~4242-0123abcd"  # a build writing the site right now
    other = tmp_path / f"{STAGING_PREFIX}elsewhere~4242-0123abcd"  # a folder no build here writes
    for folder in (live, other):
        folder.mkdir()
        (folder / "index.html").write_text("being written", "utf-8")
    with FileLock(tmp_path / ".kb-build-site.lock", timeout=0):
        result = run(command(larger.content, site, tmp_path / "dist2", "--only", "pdf"), work)
        assert result.returncode == 0, result.stderr
        assert (live / "index.html").is_file(), "deleted the staging folder of a build that is running"
        refused = run(command(larger.content, site, dist, "--only", "site"), work)
        assert refused.returncode == 1 and "another kb build is writing to" in refused.stderr
    # The lock is free: that build is dead, and the next build of the site deletes what it left.
    result = run(command(larger.content, site, dist, "--only", "site"), work)
    assert result.returncode == 0, result.stderr
    assert not live.exists()
    assert (other / "index.html").is_file(), "deleted a staging folder of another output folder"
    assert site_files(site) == larger.site


# --- Case 5: atomic commit, recovery, other filesystems, a full disk --------------------------------------


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Version, Version]:
    """Two tiny content sets that differ in every output, each built once."""
    base = tmp_path_factory.mktemp("versions")
    entries = synthetic_entries(5)
    return make_version(base, "a", entries, "Version A"), make_version(base, "b", entries, "Version B")


@pytest.fixture
def project(versions: tuple[Version, Version], tmp_path: Path) -> tuple[Path, Path, Path]:
    """A working folder and the outputs of version A, to break."""
    work = tmp_path / "work"
    work.mkdir()
    site, dist = tmp_path / "site", tmp_path / "dist"
    copy_outputs(versions[0], site, dist)
    return work, site, dist


def assert_whole(versions: tuple[Version, Version], site: Path, dist: Path) -> tuple[str, ...]:
    """Every output is whole and of one of the two versions; returns which ("a"/"b") for each output."""
    assert (site / "index.html").is_file(), "site/index.html is missing"
    found = site_files(site)
    checks: list[tuple[str, object, list[object]]] = [
        ("site", found, [v.site for v in versions]),
        ("pdf", sha256(dist / PDF), [v.pdf for v in versions]),
        ("zip", sha256(dist / ZIP), [v.zip for v in versions]),
        ("index", index_fingerprint(dist), [v.fingerprint for v in versions]),
    ]
    which: list[str] = []
    for label, value, known in checks:
        assert value in known, f"the {label} is of neither version"
        which.append("ab"[known.index(value)])
    return tuple(which)


def test_a_kill_in_the_middle_of_the_commit_is_completed_by_the_next_build(
    versions: tuple[Version, Version], project: tuple[Path, Path, Path]
) -> None:
    a, b = versions
    work, site, dist = project
    pause = 1.0  # the site is swapped 1 s after the commit starts, the index 2 s after
    killed = Running(command(b.content, site, dist), work, **{COMMIT_PAUSE_VARIABLE: str(pause)})
    assert killed.wait_for("kb build: commit: started"), "".join(killed.lines)
    time.sleep(1.5 * pause)
    killed.kill()
    assert assert_whole(versions, site, dist) == ("b", "a", "a", "a")  # site, PDF, zip, index
    journal = site.parent / ".kb-commit-dist.json"
    assert journal.is_file(), "no journal of the half-done commit"

    # The next build is killed too, while it completes the commit: after the index, before the PDF.
    recovering = Running(command(a.content, site, dist), work, **{COMMIT_PAUSE_VARIABLE: str(pause)})
    assert recovering.wait_for("kb build: recover: started"), "".join(recovering.lines)
    time.sleep(1.5 * pause)
    recovering.kill()
    assert assert_whole(versions, site, dist) == ("b", "a", "a", "b")  # site, PDF, zip, index
    assert journal.is_file()

    # A build that fails puts the interrupted commit's outputs in place first, and says so.
    failed = run(command(a.content, site, dist), work, **{FAIL_AFTER_VARIABLE: "site"})
    assert failed.returncode == 1
    last = failed.stderr.strip().splitlines()[-1]
    assert "stopped after the site stage" in last and "Traceback" not in failed.stderr
    assert f"an interrupted build's {(dist / 'index').as_posix()}, {(dist / PDF).as_posix()}" in last, last
    assert "previous outputs are unchanged" not in last
    assert b.matches(site, dist)
    assert not leftovers(site.parent)

    result = run(command(a.content, site, dist, "--json"), work)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["recovered"] == []
    assert a.matches(site, dist)


def test_a_failed_rename_in_the_commit_says_exactly_what_was_replaced(
    versions: tuple[Version, Version],
    project: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rename refused midway (EXDEV from a mount point, a file held open on Windows) is no claim that
    the previous outputs are unchanged: the message lists what was replaced and what was kept."""
    from build_kb.app import build as build_module

    a, b = versions
    work, site, dist = project
    real = build_module.replace_retrying  # type: ignore[attr-defined]

    def refuse_the_pdf(source: Path, target: Path, **kwargs: Any) -> None:
        if target.name == PDF:
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), str(source), None, str(target))
        real(source, target, **kwargs)

    monkeypatch.setattr(build_module, "replace_retrying", refuse_the_pdf)
    result = invoke(work, monkeypatch, b.content, site, dist)
    assert result.exit_code == 1
    line = one_error_line(result.output)
    assert "previous outputs are unchanged" not in line
    assert f"replaced {site.as_posix()}, {(dist / 'index').as_posix()}" in line, line
    assert f"left the previous {(dist / PDF).as_posix()}, {(dist / ZIP).as_posix()} in place" in line, line
    assert assert_whole(versions, site, dist) == ("b", "a", "a", "b")  # site, PDF, zip, index
    assert not leftovers(site.parent)

    monkeypatch.setattr(build_module, "replace_retrying", real)
    result = invoke(work, monkeypatch, a.content, site, dist)
    assert result.exit_code == 0, result.output
    assert a.matches(site, dist)


def test_a_dist_dir_on_another_filesystem_is_staged_inside_it(
    versions: tuple[Version, Version],
    project: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A mount point as --dist-dir: its files are staged inside it, so that every move is a rename."""
    from build_kb.app import build as build_module

    b = versions[1]
    work, site, dist = project
    real_same, real_commit = build_module.same_filesystem, build_module._commit  # type: ignore[attr-defined]
    staged: list[Path] = []

    def mounted(first: Path, second: Path) -> bool:
        if {first.absolute(), second.absolute()} == {dist.absolute(), dist.parent.absolute()}:
            return False
        return real_same(first, second)

    def spy(plan: Any, *args: Any) -> None:
        staged.extend(step.staged for folder, steps in plan for step in steps if folder.path == dist)
        real_commit(plan, *args)

    monkeypatch.setattr(build_module, "same_filesystem", mounted)
    monkeypatch.setattr(build_module, "_commit", spy)
    result = invoke(work, monkeypatch, b.content, site, dist)
    assert result.exit_code == 0, result.output
    assert staged and all(dist.absolute() in path.absolute().parents for path in staged), staged
    assert b.matches(site, dist)
    assert not leftovers(site.parent)


def test_a_site_dir_that_is_a_mount_point_is_refused_before_anything_is_built(
    versions: tuple[Version, Version],
    project: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    b = versions[1]
    work, site, dist = project
    before = site_files(site), sha256(dist / PDF)
    real = os.path.ismount
    monkeypatch.setattr(
        os.path, "ismount", lambda path: Path(path).absolute() == site.absolute() or real(path)
    )
    result = invoke(work, monkeypatch, b.content, site, dist)
    assert result.exit_code == 1
    line = one_error_line(result.output)
    assert f"cannot replace {site.as_posix()}: it is a mount point" in line, line
    assert "site: started" not in result.output
    assert (site_files(site), sha256(dist / PDF)) == before


def invoke(work: Path, monkeypatch: pytest.MonkeyPatch, content: Path, site: Path, dist: Path) -> Any:
    from build_kb.app.cli.main import cli

    monkeypatch.chdir(work)  # no mkdocs.yml here: the packaged configuration
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    for name in (FAIL_AFTER_VARIABLE, COMMIT_PAUSE_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    arguments = ["build", "--content", str(content), "--site-dir", str(site), "--dist-dir", str(dist)]
    return CliRunner().invoke(cli, arguments, catch_exceptions=False)


def one_error_line(output: str) -> str:
    """The command's error: one line, no traceback, no dump."""
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, output
    assert "Traceback" not in output and "[(" not in output, output
    assert len(errors[0]) < 1000, errors[0]
    return errors[0]


def _no_space(path: object = None) -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), *([str(path)] if path else []))


@pytest.mark.parametrize("where", ["site page", "copied tree", "zip member", "journal"])
def test_a_full_disk_is_one_line_naming_the_path(
    versions: tuple[Version, Version],
    project: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    import zipfile

    import mkdocs.utils

    from build_kb.app import build as build_module

    b = versions[1]
    work, site, dist = project
    before = site_files(site), sha256(dist / PDF), sha256(dist / ZIP)
    if where == "site page":  # a page's write fails: an OSError without a file name, as from write()

        def write_file(content: bytes, output_path: str) -> None:
            raise _no_space()

        monkeypatch.setattr(mkdocs.utils, "write_file", write_file)
    elif where == "copied tree":  # shutil.copytree gathers every file's failure into one shutil.Error
        real_copyfile = shutil.copyfile

        def copyfile(source: Any, target: Any, *args: Any, **kwargs: Any) -> Any:
            if "bundle-index" in str(target):
                raise _no_space(target)
            return real_copyfile(source, target, *args, **kwargs)

        monkeypatch.setattr(shutil, "copyfile", copyfile)
    elif where == "zip member":

        def writestr(self: zipfile.ZipFile, *args: Any, **kwargs: Any) -> None:
            raise _no_space()

        monkeypatch.setattr(zipfile.ZipFile, "writestr", writestr)
    else:

        def write_atomic(target: Path, data: bytes) -> None:
            raise _no_space(target)

        monkeypatch.setattr(build_module, "write_atomic", write_atomic)
    result = invoke(work, monkeypatch, b.content, site, dist)
    assert result.exit_code == 1
    line = one_error_line(result.output)
    assert "No space left on device" in line and "cannot write " in line, line
    assert line.split("cannot write ", 1)[1].split(":")[0].count("/") >= 1, f"no path in {line}"
    assert line.endswith("previous outputs are unchanged"), line
    assert (site_files(site), sha256(dist / PDF), sha256(dist / ZIP)) == before
    assert not leftovers(site.parent)


@pytest.fixture
def kill_log() -> Iterator[list[str]]:
    log: list[str] = []
    yield log
    print("\n".join(log))


@pytest.mark.slow
def test_twenty_kills_at_random_moments_leave_every_output_whole(
    versions: tuple[Version, Version], project: tuple[Path, Path, Path], kill_log: list[str]
) -> None:
    """Kill builds at random moments (a third of them during the commit, and the build after one of those
    during its recovery); after each kill every output is whole, and the next build recovers."""
    rng = random.Random(20250101)
    work, site, dist = project
    pause = 0.15  # each of the four renames of a commit waits this long: the commit lasts about 0.6 s
    started = time.perf_counter()
    kills = whole = completed = 0
    target = 1
    while kills < 20:
        kind = rng.choice(["anywhere", "anywhere", "commit"])
        build = Running(
            command(versions[target].content, site, dist), work, **{COMMIT_PAUSE_VARIABLE: str(pause)}
        )
        if kind == "commit":
            assert build.wait_for("kb build: commit: started"), "".join(build.lines)
            delay = rng.uniform(0, 4 * pause + 0.05)
        else:
            delay = rng.uniform(0, 5.0)
        time.sleep(delay)
        build.kill()
        kills += 1
        which = assert_whole(versions, site, dist)
        whole += 1
        journal = any(site.parent.glob(".kb-commit-*"))
        kill_log.append(f"kill {kills:2d}: {kind:8} +{delay:.2f} s, outputs {which}, journal left: {journal}")
        if journal and kills < 20:
            build = Running(command(versions[1 - target].content, site, dist), work,
                            **{COMMIT_PAUSE_VARIABLE: str(pause)})  # fmt: skip
            assert build.wait_for("kb build: recover: started"), "".join(build.lines)
            delay = rng.uniform(0, 3 * pause + 0.05)
            time.sleep(delay)
            build.kill()
            kills += 1
            which = assert_whole(versions, site, dist)
            whole += 1
            kill_log.append(f"kill {kills:2d}: recovery +{delay:.2f} s, outputs {which}")
        target = 1 - target
        result = run(command(versions[target].content, site, dist), work)
        assert result.returncode == 0, result.stderr
        assert versions[target].matches(site, dist)
        assert not leftovers(site.parent), leftovers(site.parent)
        completed += 1
        target = 1 - target
    seconds = time.perf_counter() - started
    kill_log.append(
        f"{kills} kills, outputs whole {whole}/{kills}, {completed} builds completed, {seconds:.0f} s"
    )
    assert whole == kills == 20
