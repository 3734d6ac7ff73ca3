"""The `kb` command line: exit codes, exact output, help texts and the README."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from build_kb.app.cli.main import cli
from tests.helpers import ACTIVATION, PRINTING, ROOT, make_entry


def test_check_valid_content(runner: CliRunner, content_factory) -> None:
    result = runner.invoke(cli, ["check", str(content_factory())], catch_exceptions=False)
    assert result.exit_code == 0
    assert "1 entries valid" in result.output


def test_check_invalid_content_exits_1_with_locations(
    runner: CliRunner, content_factory, tmp_path, monkeypatch
) -> None:
    content_factory(make_entry(title=5))
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["check", "content"], catch_exceptions=False)
    assert result.exit_code == 1
    assert (
        "content/prepare/sample-entry.yaml:2:8: title: Expected a string but received: number 5"
        in result.output
    )


def test_check_json(runner: CliRunner, content_factory) -> None:
    result = runner.invoke(cli, ["check", "--json", str(content_factory(make_entry(extra=1)))])
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and data["valid"] is False
    assert data["problems"][0]["field"] == "extra" and data["problems"][0]["line"] == 27


def test_check_strict_fails_on_warnings(runner: CliRunner, content_factory) -> None:
    root = content_factory()
    (root / "stray.yml").write_text("x: 1\n", "utf-8")
    assert runner.invoke(cli, ["check", str(root)]).exit_code == 0
    assert runner.invoke(cli, ["check", "--strict", str(root)]).exit_code == 1


@pytest.mark.parametrize(("root", "count"), [(ACTIVATION, 14), (PRINTING, 6)], ids=["activation", "printing"])
def test_check_a_whole_content_set(runner: CliRunner, root: Path, count: int) -> None:
    result = runner.invoke(cli, ["check", "--strict", str(root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"{count} entries valid" in result.output


def test_new_scaffolds_a_valid_entry(runner: CliRunner, content_factory) -> None:
    root = content_factory()
    args = ["new", "--content", str(root), "--id", "fresh-one", "--phase", "activate", "--method", "phone",
            "--code", "0x80072EE2", "--title", "Timed out"]  # fmt: skip
    result = runner.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    created = root / "activate" / "phone" / "fresh-one.yaml"
    assert created.is_file()
    assert created.read_text("utf-8").startswith(
        "# yaml-language-server: $schema=../../../build_kb/content/schema/"
    )
    assert runner.invoke(cli, ["check", "--strict", str(root)]).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--id", "Bad Id", "--phase", "prepare"], "not a valid id"),
        (["--id", "x", "--phase", "nowhere"], "unknown phase"),
        (["--id", "x", "--phase", "activate"], "needs --method"),
        (["--id", "sample-entry", "--phase", "prepare"], "already exists"),
    ],
)
def test_new_refuses_bad_requests(runner: CliRunner, content_factory, args, message) -> None:
    result = runner.invoke(cli, ["new", "--content", str(content_factory()), *args])
    assert result.exit_code == 2 and message in result.output


def test_codes_json_lists_every_code_of_a_set_with_its_facts(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["codes", "--json", "--content", str(ACTIVATION)], catch_exceptions=False)
    rows = {row["hex"]: row for row in json.loads(result.stdout)}
    # Typed from the SDK's values, not computed: (signed, unsigned, facility, Win32 number, name, entries).
    expected = {
        "0x80070005": (-2147024891, 2147942405, "WIN32", 5, "ERROR_ACCESS_DENIED", 1),
        "0x80070643": (-2147023293, 2147944003, "WIN32", 1603, "ERROR_INSTALL_FAILURE", 1),
        "0x8007232B": (-2147015893, 2147951403, "WIN32", 9003, "DNS_ERROR_RCODE_NAME_ERROR", 2),
        "0x80240017": (-2145124329, 2149842967, "WINDOWSUPDATE", None, "WU_E_NOT_APPLICABLE", 1),
        "0x8024402C": (
            -2145107924,
            2149859372,
            "WINDOWSUPDATE",
            None,
            "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED",
            1,
        ),
        "0xC004C003": (-1073430525, 3221536771, "ITF", None, "SL_E_CHPA_PRODUCT_KEY_BLOCKED", 1),
        "0xC004C020": (-1073430496, 3221536800, "ITF", None, "SL_E_CHPA_DMAK_LIMIT_EXCEEDED", 1),
        "0xC004F038": (-1073418184, 3221549112, "ITF", None, "SL_E_VL_NOT_ENOUGH_COUNT", 1),
        "0xC004F041": (
            -1073418175,
            3221549121,
            "ITF",
            None,
            "SL_E_VL_KEY_MANAGEMENT_SERVICE_NOT_ACTIVATED",
            1,
        ),
        "0xC004F050": (-1073418160, 3221549136, "ITF", None, "SL_E_INVALID_PRODUCT_KEY", 2),
        "0xC004F069": (-1073418135, 3221549161, "ITF", None, "SL_E_MISMATCHED_PRODUCT_SKU", 1),
        "0xC004F074": (-1073418124, 3221549172, "ITF", None, "SL_E_VL_BINDING_SERVICE_UNAVAILABLE", 1),
    }
    assert list(rows) == sorted(expected, key=lambda hex_code: int(hex_code, 16))
    for hex_code, (signed, unsigned, facility, win32, name, entries) in expected.items():
        row = rows[hex_code]
        assert (row["signed"], row["unsigned"], row["facility"], row["win32"]) == (
            signed,
            unsigned,
            facility,
            win32,
        )
        assert name in row["names"]
        assert len(row["entries"]) == entries, hex_code
        assert hex_code in row["notations"] and str(signed) in row["notations"]
    # Every way the entries write a code is kept: a negative decimal, a Win32 number, a symbolic name.
    assert rows["0xC004F038"]["shown_as"] == ["-1073418184"]
    assert rows["0x80070005"]["shown_as"] == ["5"] and rows["0x80070005"]["names"] == [
        "ERROR_ACCESS_DENIED",
        "E_ACCESSDENIED",
    ]
    assert rows["0xC004F050"]["shown_as"] == ["SL_E_INVALID_PRODUCT_KEY", "0xC004F050"]


def test_codes_of_a_set_some_of_whose_entries_have_none(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["codes", "--content", str(PRINTING)], catch_exceptions=False)
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines() if line.startswith("0x")] == [
        "0x000006BA",
        "0x00000709",
    ]


def test_codes_text(runner: CliRunner, content_factory) -> None:
    result = runner.invoke(cli, ["codes", "--content", str(content_factory())], catch_exceptions=False)
    assert result.output.splitlines()[0] == "0xC004F050  -1073418160  3221549136  ITF"


def test_invalid_content_in_codes_exits_1_without_traceback(runner: CliRunner, content_factory) -> None:
    result = runner.invoke(cli, ["codes", "--content", str(content_factory(make_entry(title=[1])))])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "title: Expected a string" in result.output


def test_every_command_has_help_with_an_example_and_is_in_the_readme(runner: CliRunner) -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    names = cli.list_commands(click.Context(cli))
    assert len(names) == 11 and names[:2] == ["check", "new"]
    for name in names:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0
        assert "Example" in result.output, name
        assert f"kb {name}" in readme, name


def test_unknown_command_is_a_usage_error(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["frobnicate"]).exit_code == 2


def test_console_script_runs_without_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "content"
    broken.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "build_kb", "check", str(broken)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "taxonomy.yaml:1:1: (file): missing" in result.stderr


def test_readme_quick_start_has_exactly_two_commands() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    lines = [line for line in section.splitlines() if line.strip()]
    assert len(lines) == 2
    assert "kb build" in lines[0] and "pytest" in lines[1]
    run = (ROOT / ".ci" / "run").read_text("utf-8")
    assert "grep -m1 -E '^bash \\.ci/setup && .*pytest' README.md" in run
