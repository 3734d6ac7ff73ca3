"""Code normalization: every notation of every article code, decoding, and extraction from free text."""

from __future__ import annotations

import random
import string

import pytest

from build_kb.codes import Code, CodeSyntaxError, extract_codes, hresult_from_win32, parse_code

# (canonical value, signed, unsigned, facility number, facility name, win32, symbolic name) from
# ../shared/reference/error-codes.md, checked against winerror.h and slerror.h.
ARTICLE_CODES = [
    (0x80096010, -2146869232, 2148098064, 9, "SECURITY", None, "TRUST_E_BAD_DIGEST"),
    (0xC004F050, -1073418160, 3221549136, 4, "ITF", None, "SL_E_INVALID_PRODUCT_KEY"),
    (0x80072F8F, -2147012721, 2147954575, 7, "WIN32", 12175, "WININET_E_DECODING_FAILED"),
    (0xC004C020, -1073430496, 3221536800, 4, "ITF", None, "SL_E_CHPA_DMAK_LIMIT_EXCEEDED"),
    (0xC004F025, -1073418203, 3221549093, 4, "ITF", None, "SL_E_LUA_ACCESSDENIED"),
    (0x80072EE7, -2147012889, 2147954407, 7, "WIN32", 12007, "WININET_E_NAME_NOT_RESOLVED"),
    (0x80072EE2, -2147012894, 2147954402, 7, "WIN32", 12002, "WININET_E_TIMEOUT"),
    (0xC004F04D, -1073418163, 3221549133, 4, "ITF", None, "SL_E_CIDIID_INVALID_CHECK_DIGITS"),
    (0x80070643, -2147023293, 2147944003, 7, "WIN32", 1603, "ERROR_INSTALL_FAILURE"),
    (0x80070645, -2147023291, 2147944005, 7, "WIN32", 1605, "ERROR_UNKNOWN_PRODUCT"),
    (0x80070661, -2147023263, 2147944033, 7, "WIN32", 1633, "ERROR_INSTALL_PLATFORM_UNSUPPORTED"),
]
NAMES = {row[6]: row[0] for row in ARTICLE_CODES}


def _notations(row: tuple) -> list[str]:
    value, signed, unsigned, _, _, win32, name = row
    forms = [f"0x{value:08X}", f"0x{value:08x}", f"0X{value:08X}", f"{value:08X}", f"{value:08x}", str(signed),
             str(unsigned), name, name.lower(), f"  0x{value:08X}  ", f"'0x{value:08X}'"]  # fmt: skip
    if win32 is not None:
        forms += [f"HRESULT_FROM_WIN32({win32})", f"hresult_from_win32( {win32} )", f"HRESULT_FROM_WIN32(0x{win32:X})",
                  str(win32)]  # fmt: skip
    return forms


@pytest.mark.parametrize(
    ("text", "row"),
    [(text, row) for row in ARTICLE_CODES for text in _notations(row)],
)
def test_every_notation_parses_to_the_canonical_value(text: str, row: tuple) -> None:
    value, signed, unsigned, facility, facility_name, win32, _ = row
    code = parse_code(text, NAMES)
    assert code.value == value
    assert (code.signed, code.unsigned, code.facility, code.facility_name, code.win32) == (
        signed, unsigned, facility, facility_name, win32,
    )  # fmt: skip
    assert code.is_failure


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0xC004F050, ("0xC004F050", "C004F050", "0xc004f050", "-1073418160", "3221549136")),
        (
            0x80070661,
            ("0x80070661", "80070661", "-2147023263", "2147944033", "HRESULT_FROM_WIN32(1633)", "1633"),
        ),
        (0x00000000, ("0x00000000", "00000000", "0")),
    ],
)
def test_notations(value: int, expected: tuple[str, ...]) -> None:
    assert Code(value).notations() == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("S_OK", 0),
        ("0", 0),
        ("0x2a", 0x2A),
        ("5", 0x80070005),
        ("65535", 0x8007FFFF),
        ("65536", 65536),
        ("4294967295", 0xFFFFFFFF),
        ("-2147483648", 0x80000000),
        ("HRESULT_FROM_WIN32(0)", 0),
    ],
)
def test_edge_values(text: str, value: int) -> None:
    assert parse_code(text).value == value


@pytest.mark.parametrize(
    "text",
    ["", " ", "0x", "0x123456789", "HRESULT_FROM_WIN32()", "HRESULT_FROM_WIN32(70000)", "-0", "-2147483649",
     "4294967296", "hello", "KB4547184", "UNKNOWN_NAME", "0xC004F05G", "12345678901", "1e5", "x" * 200],
)  # fmt: skip
def test_not_a_code(text: str) -> None:
    with pytest.raises(CodeSyntaxError):
        parse_code(text, NAMES)


@pytest.mark.parametrize(("number", "value"), [(1633, 0x80070661), (5, 0x80070005), (0, 0), (-5, 0xFFFFFFFB)])
def test_hresult_from_win32(number: int, value: int) -> None:
    assert hresult_from_win32(number) == value


@pytest.mark.parametrize(
    ("value", "facility"),
    [(0x80240022, "WINDOWSUPDATE"), (0x00000000, "NULL"), (0x8004FFFF, "ITF"), (0x87FF0000, "UNKNOWN(2047)")],
)
def test_facility_names(value: int, facility: str) -> None:
    assert Code(value).facility_name == facility


EXTRACTION = [
    ("Run 'slui.exe 0x2a 0xC004F050' to display the error text.", ["0xC004F050"]),
    (
        "Error: 0xC004F050 The Software Licensing Service reported that the product key is invalid.",
        ["0xC004F050"],
    ),
    ("Error: 80070643 - prep-check KB installation fails", ["0x80070643"]),
    ("ESU: Pre IMDS checks failed, Not Eligible:HRESULT_FROM_WIN32(1605)", ["0x80070645"]),
    ("1605 = ERROR_UNKNOWN_PRODUCT", ["0x80070645"]),
    ("ESU: Product = 36 (0x00000024).", []),
    ("Create or set a REG_DWORD value of DefaultSecureProtocols, and set it to 0x800.", []),
    (
        "0x80072F8F\n147012721\nWININET_E_DECODING_FAILED\nContent decoding has failed",
        ["0x80072F8F", "0x80072F8F"],
    ),
    ("KB 4528081 for Windows Server 2008 SP2; KB4528069; update 3140245", []),
    ("2020-02-11 10:23:45, Info CBS ESU: not eligible:HRESULT_FROM_WIN32(1633)", ["0x80070661"]),
    ("2020-02-11 10:23:45, Info CBS Exec: Processing complete. [HRESULT = 0x00000000 - S_OK]", []),
    ("Package {C004F050-1234-5678-9ABC-DEF012345678} staged", []),
    ("Installer encountered an error: 0x80096010.", ["0x80096010"]),
    ("MSI (s) (A4:B8) Product: x -- Installation failed. error 1603", ["0x80070643"]),
    ("-2147012721", ["0x80072F8F"]),
    ("signed -1073418160 or unsigned 3221549136", ["0xC004F050", "0xC004F050"]),
    ("version 6.1.7601.24499 at 03:24:40 on 02/11/2020 build 20200211", []),
    ("C:\\Windows\\Logs\\CBS\\CBS.log and C:\\Temp\\C004F050x", []),
    ("a word like deadbeef is not a code, DEADBEEF neither", []),
    ("0x80070005 then 0X8007000E", ["0x80070005", "0x8007000E"]),
    ("Windows Update error 0x80244022 (WU_E_PT_HTTP_STATUS_SERVICE_UNAVAIL)", ["0x80244022"]),
]


@pytest.mark.parametrize(("text", "expected"), EXTRACTION)
def test_extract_codes(text: str, expected: list[str]) -> None:
    assert [m.code.hex for m in extract_codes(text, NAMES)] == expected


def test_extract_reports_positions_and_text() -> None:
    text = "x Error: 80070643 y"
    (match,) = extract_codes(text)
    assert text[match.start : match.end] == match.text == "80070643"


def _hostile(rng: random.Random) -> str:
    pieces = ["0x", "HRESULT_FROM_WIN32(", ")", "-", "'", '"', ":", "NOT", "*", "\x00", "é", "{", "}", "\\", "KB",
              "error ", "0xC004F050", "9" * 12, "-2147012721", " ", "\n", "ERROR_UNKNOWN_PRODUCT"]  # fmt: skip
    alphabet = string.printable + "äß€\u2028\ufeff"
    parts = [
        rng.choice(pieces) if rng.random() < 0.5 else rng.choice(alphabet) for _ in range(rng.randint(0, 40))
    ]
    return "".join(parts)


def test_fuzz_never_raises_anything_else() -> None:
    rng = random.Random(20261125)
    for _ in range(5000):
        text = _hostile(rng)
        try:
            code = parse_code(text, NAMES)
        except CodeSyntaxError:
            pass
        else:
            assert 0 <= code.value <= 0xFFFFFFFF
        for match in extract_codes(text, NAMES):
            assert match.code.is_failure
            assert text[match.start : match.end] == match.text


def test_extraction_is_linear_on_long_input() -> None:
    text = ("0x8007 HRESULT_FROM_WIN32( -214701 error " * 20000)[:500_000]
    assert extract_codes(text) == []
