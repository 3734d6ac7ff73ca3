"""`kb check` against the error-code dictionary: unknown codes, and names or messages it contradicts, are warnings.

Expected names, values and messages are facts of Microsoft's documentation (the ones tests/core/test_dictionary.py
checks the table against), written out here, not read from the dictionary.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from build_kb.app.cli.main import cli
from build_kb.content import validate
from build_kb.content.validate import check_content, load_knowledge_base, message_agrees
from build_kb.core.dictionary import KnownCode
from build_kb.core.errors import ValidationFailed
from tests.helpers import ACTIVATION, PRINTING, make_entry, write_content

ENTRY_HEAD = """\
id: coded
title: An entry with codes
summary: It lists codes.
phase: prepare
applies_to: [product-a]
causes: [Something.]
actions:
  - step: Fix it.
"""


def _content(tmp_path: Path, codes_yaml: str, extra: str = "") -> Path:
    """A content folder with one entry whose `codes:` block is written exactly as given (for line:col)."""
    root = write_content(tmp_path / "content", [])
    (root / "prepare").mkdir()
    listed = textwrap.indent(textwrap.dedent(codes_yaml), "  ")
    text = ENTRY_HEAD + "codes:\n" + listed + textwrap.dedent(extra)
    (root / "prepare" / "coded.yaml").write_text(text, "utf-8")
    return root


def _warnings(root: Path) -> list[str]:
    kb, problems = check_content(root)
    assert kb is not None, [str(p) for p in problems]  # warnings only: the content still loads
    assert all(p.severity == "warning" for p in problems)
    return [f"{p.line}:{p.column}: {p.field}: {p.message}" for p in problems]


def test_an_unknown_code_is_a_warning_at_the_code_naming_the_nearest_known_code(tmp_path: Path) -> None:
    root = _content(tmp_path, '- code: "0xC004F74"\n')
    assert _warnings(root) == [
        "10:11: codes[0].code: 0xC004F74: no such code; did you mean 0xC004F074 SL_E_VL_BINDING_SERVICE_UNAVAILABLE?"
    ]


def test_a_dropped_zero_in_a_win32_hresult_suggests_the_hresult_first(tmp_path: Path) -> None:
    root = _content(tmp_path, '- code: "0x8007005"\n')
    (warning,) = _warnings(root)
    assert warning.startswith("10:11: codes[0].code: 0x8007005: no such code; did you mean 0x80070005 ")


def test_a_decimal_unknown_code_is_shown_with_its_hex(tmp_path: Path) -> None:
    # 0xC004F037 is no licensing code (0xC004F038 SL_E_VL_NOT_ENOUGH_COUNT is one typo away).
    root = _content(tmp_path, '- code: "-1073418185"\n')
    (warning,) = _warnings(root)
    assert warning.startswith("10:11: codes[0].code: -1073418185 (0xC004F037): no such code; did you mean ")
    assert "0xC004F038 SL_E_VL_NOT_ENOUGH_COUNT" in warning


def test_unknown_related_codes_are_checked_too(tmp_path: Path) -> None:
    root = _content(
        tmp_path,
        '- code: "0x80070005"\n',
        'related_codes:\n  - code: "0x8009204"\n    reason: The same fix.\n',
    )
    (warning,) = _warnings(root)
    assert warning.startswith(
        "12:11: related_codes[0].code: 0x8009204: no such code; did you mean 0x80092004 "
    )
    assert "0x80092004 CRYPT_E_NOT_FOUND" in warning


def test_a_name_the_dictionary_does_not_list_for_the_value(tmp_path: Path) -> None:
    root = _content(
        tmp_path,
        """\
          - code: "0x80070005"
            name: ERROR_ACCES_DENIED
            aliases: [E_ACCESSDENIED, ERROR_FILE_NOT_FOUND]
        """,
    )
    assert _warnings(root) == [
        "11:11: codes[0].name: ERROR_ACCES_DENIED is not in the error dictionary, which names 0x80070005 "
        "E_ACCESSDENIED, ERROR_ACCESS_DENIED",
        "12:31: codes[0].aliases[1]: ERROR_FILE_NOT_FOUND is 0x80070002 in the error dictionary, which names "
        "0x80070005 E_ACCESSDENIED, ERROR_ACCESS_DENIED",
    ]


def test_a_related_codes_name_is_checked(tmp_path: Path) -> None:
    root = _content(
        tmp_path,
        '- code: "0x80070005"\n',
        'related_codes:\n  - code: "0x80092004"\n    name: CRYPT_E_NOT_FOND\n    reason: The same fix.\n',
    )
    (warning,) = _warnings(root)
    assert warning.startswith("13:11: related_codes[0].name: CRYPT_E_NOT_FOND is not in the error dictionary")


def test_names_of_every_namespace_of_the_value_are_accepted(tmp_path: Path) -> None:
    # 12002 is ERROR_INTERNET_TIMEOUT in WinINet and ERROR_WINHTTP_TIMEOUT in WinHTTP; the HRESULT has its own.
    root = _content(
        tmp_path,
        """\
          - code: "0x80072EE2"
            name: WININET_E_TIMEOUT
            aliases: [ERROR_INTERNET_TIMEOUT, ERROR_WINHTTP_TIMEOUT]
          - code: "0xD0000022"
            name: STATUS_ACCESS_DENIED
        """,
    )
    assert _warnings(root) == []


def test_a_message_that_contradicts_the_dictionary(tmp_path: Path) -> None:
    root = _content(
        tmp_path,
        """\
          - code: "80070643"
            message: The installation was cancelled.
        """,
    )
    assert _warnings(root) == [
        "11:14: codes[0].message: differs from the message the error dictionary gives 0x80070643: "
        'ERROR_INSTALL_FAILURE "Fatal error during installation."'
    ]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("0x80070005", "Access is denied."),  # the Win32 text of a value that also has an HRESULT text
        ("0x80070005", "General access denied error"),
        ("0x80070005", "ACCESS IS DENIED"),  # case and the ending punctuation
        ("0x80070005", "  Access   is\n denied!  "),  # whitespace
        ("0x80070643", "Error: 0x80070643 Fatal error during installation."),  # as a tool prints it
        ("80070643", "80070643 - Fatal error during installation"),
        # %2, %3 and %1 filled in, as Windows prints the message
        (
            "0x80070022",
            "The wrong diskette is in the drive. Insert Disk 2 (Volume Serial Number: 1A2B-3C4D) into drive A:.",
        ),
        (
            "0x80070022",
            "The wrong diskette is in the drive. Insert %2 (Volume Serial Number: %3) into drive %1.",
        ),
        # the documented text's straight quotes printed curly
        (
            "0x8001012C",
            "One of the trustee strings provided by the user did not conform to the <Domain>\\<Name> syntax "
            "and it was not the \u201c*\u201d string",
        ),
        # WinINet's documentation describes 12002 in other words than the message Windows prints
        ("0x80072EE2", "The operation timed out"),
        # SL_E_ codes have no licence-clean text: nothing to compare with
        ("0xC004F050", "The Software Licensing Service reported that the product key is invalid."),
    ],
)
def test_differences_that_are_no_mistake(tmp_path: Path, code: str, message: str) -> None:
    root = _content(tmp_path, f"- code: {json.dumps(code)}\n  message: {json.dumps(message)}\n")
    assert _warnings(root) == []


def _known(namespace: str, message: str) -> KnownCode:
    return KnownCode(12002, namespace, "SOME_NAME", message)


def test_message_agreement_rules() -> None:
    documented = [
        _known("win32", "The request has timed out.\nThis error can be returned as a result of TCP/IP.")
    ]
    assert message_agrees("the request has timed out", documented) is True  # the first paragraph only
    assert message_agrees("The request has timed", documented) is False  # a cut message is another text
    assert message_agrees("The reply has timed out.", documented) is False
    assert message_agrees("anything", [_known("wininet", "The request has timed out.")]) is None
    assert message_agrees("anything", [KnownCode(5, "win32", "X", None)]) is None
    placeholders = [
        _known("hresult", "{Missing System File} The required system file %hs is bad or missing.")
    ]
    assert message_agrees(
        "{Missing System File} The required system file ntdll.dll is bad or missing.", placeholders
    )
    assert not message_agrees("{Missing System File} The required system file is fine.", placeholders)


def test_strict_fails_on_dictionary_warnings(tmp_path: Path) -> None:
    root = _content(tmp_path, '- code: "0xC004F74"\n')
    load_knowledge_base(root)  # warnings alone load
    with pytest.raises(ValidationFailed):
        load_knowledge_base(root, strict=True)
    runner = CliRunner()
    assert runner.invoke(cli, ["check", str(root)]).exit_code == 0
    strict = runner.invoke(cli, ["check", "--strict", str(root)])
    assert strict.exit_code == 1
    assert "codes[0].code: warning: 0xC004F74: no such code" in strict.output


def test_an_entry_may_leave_name_and_message_to_the_dictionary(tmp_path: Path) -> None:
    root = write_content(tmp_path / "content", [make_entry(codes=[{"code": "0x80092004"}])])
    assert check_content(root)[1] == []


@pytest.mark.parametrize("content", [ACTIVATION, PRINTING], ids=["activation", "printing"])
def test_fixture_content_passes_strict(content: Path) -> None:
    """The fixture sets' codes, names and messages agree with the dictionary (the shipped content's are
    checked by tests/test_shipped_content.py)."""
    kb, problems = check_content(content)
    assert kb is not None and problems == [], [str(p) for p in problems]


def test_suggestions_stop_after_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate, "SUGGESTION_LIMIT", 2)
    entries: list[dict[str, Any]] = [
        make_entry(f"entry-{n}", codes=[{"code": code}])
        for n, code in enumerate(["0xC004F74", "0x8007005", "0x8009204"])
    ]
    _, problems = check_content(write_content(tmp_path / "content", entries))
    messages = [p.message for p in sorted(problems)]
    assert [("did you mean" in m) for m in messages] == [True, True, False]
    assert messages[2] == "0x8009204: no such code (suggestions are given for the first 2 unknown codes only)"
