"""`kb build` end to end: every output, the bundle's contents, reproducibility and atomic replacement.

Builds run as a user runs them, `python -m build_kb build` in a child process, on a copy of the activation
fixture set with a project mkdocs.yml of its own, into folders under tmp_path. Output names come from the
set's `short_name`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from build_kb.app.build import FAIL_AFTER_VARIABLE, STAGING_PREFIX
from tests.helpers import ACTIVATION, ROOT
from tests.site_fixtures import project_config

pytestmark = pytest.mark.slow

EPOCH = "1735689600"  # 2025-01-01T00:00:00Z
TAXONOMY = yaml.safe_load((ACTIVATION / "taxonomy.yaml").read_text("utf-8"))
TITLE: str = TAXONOMY["title"]
STEM: str = TAXONOMY["short_name"]
"""The stem of every output name: `<short_name>-runbook.pdf`, `<short_name>-offline.zip`."""
EDITED_TITLE = f"{TITLE} (edited)"
ENTRIES = len([p for p in ACTIVATION.rglob("*.yaml") if p.parent != ACTIVATION])


@dataclass(frozen=True)
class Project:
    """Where one build reads and writes."""

    content: Path
    site: Path
    dist: Path

    @property
    def pdf(self) -> Path:
        return self.dist / f"{STEM}-runbook.pdf"

    @property
    def zip(self) -> Path:
        return self.dist / f"{STEM}-offline.zip"

    @property
    def config(self) -> Path:
        """The project's own mkdocs.yml (the tool's default with the content folder named), beside the content."""
        config = self.content.parent / "mkdocs.yml"
        if not config.is_file():
            project_config(self.content.parent, self.content)
        return config

    def arguments(self) -> list[str]:
        return [
            "--content", str(self.content), "--site-dir", str(self.site), "--dist-dir", str(self.dist),
            "--config-file", str(self.config),
        ]  # fmt: skip


def kb(
    *arguments: str, cwd: Path = ROOT, epoch: str | None = EPOCH, fail_after: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SOURCE_DATE_EPOCH", None)
    env.pop(FAIL_AFTER_VARIABLE, None)
    if fail_after is not None:
        env[FAIL_AFTER_VARIABLE] = fail_after
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = epoch
    return subprocess.run(
        [sys.executable, "-m", "build_kb", *arguments],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )


def build(project: Project, *extra: str, fail_after: str | None = None) -> subprocess.CompletedProcess[str]:
    return kb("build", *project.arguments(), *extra, fail_after=fail_after)


def snapshot(*folders: Path) -> dict[str, str]:
    """sha256 of every file under the folders, by path."""
    return {
        path.as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in folders
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def new_project(base: Path) -> Project:
    content = base / "content"
    shutil.copytree(ACTIVATION, content)
    return Project(content, base / "site", base / "dist")


def edit_content(project: Project) -> None:
    """A change that alters every output."""
    taxonomy = project.content / "taxonomy.yaml"
    text = taxonomy.read_text("utf-8")
    assert f"\ntitle: {TITLE}\n" in text
    taxonomy.write_text(text.replace(f"\ntitle: {TITLE}\n", f"\ntitle: {EDITED_TITLE}\n"), "utf-8")


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, dict[str, object]]:
    """The activation set built once, with its JSON summary."""
    project = new_project(tmp_path_factory.mktemp("first"))
    result = build(project, "--json")
    assert result.returncode == 0, result.stderr
    return project, json.loads(result.stdout)


@pytest.fixture
def built(first: tuple[Project, dict[str, object]], tmp_path: Path) -> Project:
    """A private copy of the first build's project, outputs included, to break."""
    project, _ = first
    copy = Project(tmp_path / "content", tmp_path / "site", tmp_path / "dist")
    for source, target in zip(
        (project.content, project.site, project.dist), (copy.content, copy.site, copy.dist), strict=True
    ):
        shutil.copytree(source, target)
    return copy


def test_every_output_is_written_and_reported(first: tuple[Project, dict[str, object]]) -> None:
    project, summary = first
    assert (project.site / "index.html").is_file()
    assert (project.site / "codes" / "index.html").is_file()
    assert (project.dist / "index" / "CURRENT").is_file()
    assert project.pdf.read_bytes().startswith(b"%PDF-")
    assert zipfile.is_zipfile(project.zip)
    assert summary["entries"] == len(list(project.content.rglob("*/*.yaml")))
    assert summary["site_pages"] == len(list(project.site.rglob("*.html")))
    assert isinstance(summary["pdf_pages"], int) and summary["pdf_pages"] > summary["entries"]
    assert summary["build_date"] == "2025-01-01T00:00:00+00:00"
    outputs = summary["outputs"]
    assert isinstance(outputs, dict)
    assert set(outputs) == {"site", "index", "pdf", "bundle"}
    assert outputs["pdf"]["bytes"] == project.pdf.stat().st_size
    assert outputs["bundle"]["bytes"] == project.zip.stat().st_size
    seconds = summary["seconds"]
    assert isinstance(seconds, dict)
    assert list(seconds) == ["validate", "site", "index", "pdf", "bundle"]
    assert not list(project.dist.parent.glob(f"{STAGING_PREFIX}*")), "staging folders left behind"


def test_progress_is_plain_log_lines_off_a_terminal(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    result = build(project, "--only", "index")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[:4] == [
        "kb build: validate: started",
        lines[1],
        "kb build: index: started",
        lines[3],
    ]
    assert lines[1].startswith("kb build: validate: done in ") and lines[3].startswith(
        "kb build: index: done in "
    )
    assert "\x1b[" not in result.stderr and "\r" not in result.stderr
    assert f"{ENTRIES} entries, version 0.1.0+" in result.stderr


def test_bundle_holds_site_pdf_index_and_readme(first: tuple[Project, dict[str, object]]) -> None:
    project, _ = first
    with zipfile.ZipFile(project.zip) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        assert names == sorted(names)
        assert {name.split("/")[0] for name in names} == {f"{STEM}-offline"}
        root = f"{STEM}-offline/"
        for required in ("site/index.html", "site/search/search_index.json", "index/CURRENT", "README.txt"):
            assert root + required in names
        assert archive.read(f"{root}{STEM}-runbook.pdf") == project.pdf.read_bytes()
        site_files = {p.relative_to(project.site).as_posix() for p in project.site.rglob("*") if p.is_file()}
        assert {n.removeprefix(root + "site/") for n in names if n.startswith(root + "site/")} == site_files
        readme = archive.read(root + "README.txt").decode("utf-8")
        assert "\r\n" in readme and "\n" not in readme.replace("\r\n", "")
        assert "site/index.html" in readme and "kb lookup" in readme and f"{STEM}-runbook.pdf" in readme
        assert TITLE in readme
        for info in infos:
            assert info.date_time == (2025, 1, 1, 0, 0, 0), info.filename
            assert info.external_attr >> 16 == 0o100644, info.filename
        pointer = archive.read(root + "index/CURRENT").decode("utf-8")
        assert pointer == "01735689600000000000-0\n"
        manifest = json.loads(archive.read(f"{root}index/builds/{pointer.strip()}/manifest.json"))
        assert manifest["entries"] == ENTRIES and manifest["fingerprint"] is None


def test_two_builds_are_byte_identical(first: tuple[Project, dict[str, object]], tmp_path: Path) -> None:
    project, _ = first
    # Another folder, another process, another hash seed: nothing of that may reach the outputs.
    again = new_project(tmp_path)
    result = build(again)
    assert result.returncode == 0, result.stderr
    assert sha256(again.pdf) == sha256(project.pdf)
    assert sha256(again.zip) == sha256(project.zip)

    def relative(folder: Path) -> dict[str, str]:
        return {Path(k).relative_to(folder).as_posix(): v for k, v in snapshot(folder).items()}

    assert relative(again.site) == relative(project.site)


def test_another_build_date_changes_the_outputs(
    first: tuple[Project, dict[str, object]], tmp_path: Path
) -> None:
    project, _ = first
    later = new_project(tmp_path)
    result = kb("build", *later.arguments(), "--only", "pdf", "--only", "bundle", epoch="1767225600")
    assert result.returncode == 0, result.stderr
    assert sha256(later.pdf) != sha256(project.pdf)
    assert sha256(later.zip) != sha256(project.zip)


def test_the_bundle_index_answers_lookups_without_content(
    first: tuple[Project, dict[str, object]], tmp_path: Path
) -> None:
    project, _ = first
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(project.zip) as archive:
        archive.extractall(unpacked)
    before = snapshot(unpacked)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for index in (unpacked, unpacked / f"{STEM}-offline", unpacked / f"{STEM}-offline" / "index"):
        result = kb("lookup", "0xC004F050", "--index", str(index), "--json", cwd=elsewhere)
        assert result.returncode == 0, result.stderr
        ids = [hit["id"] for hit in json.loads(result.stdout)["results"]]
        assert "ipk-0xc004f050-product-key-invalid" in ids
    # Run from the project, where a content folder exists: the bundle is used as it is, never rebuilt.
    result = kb("search", "product key is invalid", "--index", str(unpacked), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"]
    assert snapshot(unpacked) == before


@pytest.mark.parametrize("stage", ["site", "index", "pdf", "bundle"])
def test_a_build_failing_after_any_stage_leaves_the_previous_outputs(built: Project, stage: str) -> None:
    before = snapshot(built.site, built.dist)
    edit_content(built)
    result = build(built, fail_after=stage)
    assert result.returncode == 1
    assert f"stopped after the {stage} stage" in result.stderr
    assert "previous outputs are unchanged" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(built.site, built.dist) == before
    assert not list(built.dist.parent.glob(f"{STAGING_PREFIX}*"))


def test_invalid_content_builds_nothing_and_names_the_place(built: Project) -> None:
    before = snapshot(built.site, built.dist)
    entry = sorted(built.content.glob("*/*.yaml"))[0]
    entry.write_text(entry.read_text("utf-8") + "title: twice\n", "utf-8")
    result = build(built)
    assert result.returncode == 1
    assert f"{entry.name}:" in result.stderr and "duplicate key" in result.stderr.lower()
    assert "nothing was built" in result.stderr and "Traceback" not in result.stderr
    assert snapshot(built.site, built.dist) == before


def test_a_killed_build_leaves_the_previous_outputs_and_the_next_build_cleans_up(built: Project) -> None:
    before = snapshot(built.site, built.dist)
    edit_content(built)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SOURCE_DATE_EPOCH": EPOCH}
    env.pop(FAIL_AFTER_VARIABLE, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "build_kb", "build", *built.arguments()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    seen = []
    for line in process.stderr:  # kill it once the site is staged and the PDF is being written
        seen.append(line)
        if line.startswith("kb build: pdf: started"):
            process.kill()
            break
    process.wait(timeout=60)
    assert any(line.startswith("kb build: pdf: started") for line in seen), "".join(seen)
    assert process.returncode != 0
    assert list(built.dist.parent.glob(f"{STAGING_PREFIX}*")), "the kill should leave its staging folder"
    assert snapshot(built.site, built.dist) == before

    result = build(built)
    assert result.returncode == 0, result.stderr
    assert not list(built.dist.parent.glob(f"{STAGING_PREFIX}*"))
    assert EDITED_TITLE in (built.site / "index.html").read_text("utf-8")


def test_only_pdf_replaces_the_pdf_and_nothing_else(built: Project) -> None:
    site_before = snapshot(built.site)
    zip_before = sha256(built.zip)
    index_before = snapshot(built.dist / "index")
    pdf_before = sha256(built.pdf)
    edit_content(built)
    result = build(built, "--only", "pdf", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary["outputs"]) == {"pdf"} and summary["site_pages"] == 0 and summary["pdf_pages"] > 0
    assert sha256(built.pdf) != pdf_before
    assert snapshot(built.site) == site_before
    assert sha256(built.zip) == zip_before
    assert snapshot(built.dist / "index") == index_before


def test_missing_mkdocs_config_is_reported_before_any_work(built: Project, tmp_path: Path) -> None:
    before = snapshot(built.site, built.dist)
    result = kb(
        "build", "--content", str(built.content), "--site-dir", str(built.site), "--dist-dir", str(built.dist),
        "--config-file", str(tmp_path / "missing.yml"), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert "missing.yml not found" in result.stderr and "Traceback" not in result.stderr
    assert "started" not in result.stderr
    assert snapshot(built.site, built.dist) == before


def test_missing_content_folder_is_a_content_problem(tmp_path: Path) -> None:
    missing = Project(tmp_path / "nowhere", tmp_path / "site", tmp_path / "dist")
    result = build(missing)
    assert result.returncode == 1
    assert "nowhere:1:1" in result.stderr and "content folder not found" in result.stderr
    assert "Traceback" not in result.stderr
    assert not missing.site.exists()


def test_a_second_build_into_the_same_dist_is_refused_while_one_runs(built: Project) -> None:
    from filelock import FileLock

    before = snapshot(built.site, built.dist)
    with FileLock(built.dist.parent / f".kb-build-{built.dist.name}.lock", timeout=0):
        result = build(built)
    assert result.returncode == 1
    assert "another kb build is writing to" in result.stderr and "Traceback" not in result.stderr
    assert snapshot(built.site, built.dist) == before
    assert build(built).returncode == 0  # the lock is free again


def test_site_and_dist_in_different_folders(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(ACTIVATION, content)
    project = Project(content, tmp_path / "www" / "kb", tmp_path / "out" / "dist")
    result = build(project, "--only", "site", "--only", "pdf")
    assert result.returncode == 0, result.stderr
    assert (project.site / "index.html").is_file() and project.pdf.is_file()
    for parent in (project.site.parent, project.dist.parent):
        assert not list(parent.glob(f"{STAGING_PREFIX}*")), parent


def test_long_stages_log_their_progress_by_quarters(tmp_path: Path) -> None:
    import re

    project = new_project(tmp_path)
    result = build(project, "--only", "site")
    assert result.returncode == 0, result.stderr
    steps = [
        tuple(map(int, m)) for m in re.findall(r"^kb build: site: (\d+)/(\d+) pages$", result.stderr, re.M)
    ]
    assert len(steps) == 3, result.stderr
    total = steps[0][1]
    assert total == len(list(project.site.rglob("*.html"))) - 1  # every page but the 404 page, a theme file
    assert [done * 4 // total for done, _ in steps] == [1, 2, 3]
