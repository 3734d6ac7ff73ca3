"""The whole pipeline for another team: the printing set, built from an empty folder with no mkdocs.yml.

A team that installs the tool and keeps its content elsewhere runs `python -m build_kb build --content ...`
in an empty folder: the packaged default configuration then builds every output, named after the set's
`short_name`, and `check`, `lookup`, `search` and `triage` work on what was built. Nothing of the shipped
ESU content may leak into any output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.helpers import PRINTING, ROOT

pytestmark = pytest.mark.slow

TAXONOMY = yaml.safe_load((PRINTING / "taxonomy.yaml").read_text("utf-8"))
STEM: str = TAXONOMY["short_name"]
ESU = re.compile(r"\bESU\b")
CUPS_LOG = """\
I [12/Mar/2024:09:14:01 +0100] [Job 42] Queued on "Buero-2OG" by "mmuster".
E [12/Mar/2024:09:14:02 +0100] [Job 42] Job stopped due to filter errors; please consult the error_log file for details.
E [12/Mar/2024:09:20:11 +0100] [Job 43] Unable to locate printer "drucker-2og.local".
I [12/Mar/2024:09:20:12 +0100] [Job 43] Job completed.
"""


@dataclass(frozen=True)
class Pipeline:
    project: Path
    """The working folder: empty before the build, no mkdocs.yml in it."""
    content: Path
    """A copy of the printing set, outside the project folder."""


def kb(pipeline: Pipeline, *arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SOURCE_DATE_EPOCH": "1735689600"}
    env.pop("KB_INDEX", None)
    return subprocess.run(
        [sys.executable, "-m", "build_kb", *arguments],
        cwd=pipeline.project,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    base = tmp_path_factory.mktemp("pipeline")
    pipeline = Pipeline(base / "project", base / "team-content")
    pipeline.project.mkdir()
    shutil.copytree(PRINTING, pipeline.content)
    assert not any(pipeline.project.iterdir())
    result = kb(pipeline, "build", "--content", str(pipeline.content))
    assert result.returncode == 0, result.stderr
    assert not (pipeline.project / "mkdocs.yml").exists()
    return pipeline


def test_every_output_is_built_and_named_after_the_set(built: Pipeline) -> None:
    project = built.project
    assert (project / "site" / "index.html").is_file()
    assert (project / "dist" / "index" / "CURRENT").is_file()
    assert (project / "dist" / f"{STEM}-runbook.pdf").read_bytes().startswith(b"%PDF-")
    assert zipfile.is_zipfile(project / "dist" / f"{STEM}-offline.zip")
    assert sorted(p.name for p in (project / "dist").iterdir()) == [
        f"{STEM}-offline.zip",
        f"{STEM}-runbook.pdf",
        "index",
    ]
    index = (project / "site" / "index.html").read_text("utf-8")
    assert TAXONOMY["title"] in index


def test_check_passes(built: Pipeline) -> None:
    result = kb(built, "check", "--strict", str(built.content))
    assert result.returncode == 0, result.stdout + result.stderr


def test_lookup_of_a_code_it_has_and_of_one_it_lacks(built: Pipeline) -> None:
    found = kb(built, "lookup", "0x00000709", "--content", str(built.content), "--json")
    assert found.returncode == 0, found.stderr
    assert [hit["id"] for hit in json.loads(found.stdout)["results"]] == ["default-printer-0x00000709"]
    missing = kb(built, "lookup", "0xC004F074", "--content", str(built.content))
    assert missing.returncode == 1
    assert "0xC004F074 SL_E_VL_BINDING_SERVICE_UNAVAILABLE is not in this knowledge base." in missing.stdout


@pytest.mark.parametrize(
    ("word", "first"), [("hängt", "ipp-unable-to-locate-printer"), ("détecté", "scanner-not-found")]
)
def test_search_by_a_non_ascii_title_word(built: Pipeline, word: str, first: str) -> None:
    result = kb(built, "search", word, "--content", str(built.content), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"][0]["id"] == first


def test_triage_of_a_cups_error_log(built: Pipeline) -> None:
    result = kb(built, "triage", "-", "--content", str(built.content), "--json", stdin=CUPS_LOG)
    assert result.returncode == 0, result.stderr
    findings = {f["line"]: [r["id"] for r in f["results"]] for f in json.loads(result.stdout)["findings"]}
    assert findings == {2: ["cups-filter-failed"], 3: ["ipp-unable-to-locate-printer"]}


def test_no_output_mentions_esu(built: Pipeline) -> None:
    project = built.project
    pages = [p for p in (project / "site").rglob("*") if p.suffix in (".html", ".js", ".json", ".xml")]
    assert len(pages) > 10
    assert [p.relative_to(project).as_posix() for p in pages if ESU.search(p.read_text("utf-8"))] == []
    pdf_text = subprocess.run(
        ["pdftotext", str(project / "dist" / f"{STEM}-runbook.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert TAXONOMY["title"] in " ".join(pdf_text.split())
    assert not ESU.search(pdf_text)
    with zipfile.ZipFile(project / "dist" / f"{STEM}-offline.zip") as archive:
        readme = archive.read(f"{STEM}-offline/README.txt").decode("utf-8")
    assert TAXONOMY["title"] in readme and not ESU.search(readme)
