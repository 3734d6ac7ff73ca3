"""Code normalisation: every notation of every article code, decoding, errors, and extraction from text."""

from __future__ import annotations

import random
import string
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from build_kb.core.codes import (
    FACILITY_NAMES,
    Code,
    CodeMatch,
    CodeSyntaxError,
    extract_codes,
    hresult_from_win32,
    parse_code,
)

# The codes of the ESU article, typed from the reference table (error-codes.md), not computed:
# (canonical value, signed, unsigned, facility, facility name, Win32 number, symbolic name).
Row = tuple[int, int, int, int, str, int | None, str]
ARTICLE_CODES: list[Row] = [
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
# What the content would pass in: names upper-cased, mapped to unsigned values.
NAMES = {row[6]: row[0] for row in ARTICLE_CODES}


def _written_forms(row: Row) -> list[str]:
    value, signed, unsigned, _, _, win32, name = row
    forms = [
        f"0x{value:08X}", f"0X{value:08X}", f"0x{value:08x}", f"{value:08X}", f"{value:08x}",
        str(signed), str(unsigned), name, name.lower(), f" \t0x{value:08X}\n",
    ]  # fmt: skip
    if win32 is not None:
        forms += [
            f"HRESULT_FROM_WIN32({win32})", f"HRESULT_FROM_WIN32( {win32} )", f"hresult_from_win32 ({win32})",
            f"HRESULT_FROM_WIN32(0x{win32:X})", f"HRESULT_FROM_WIN32(0x{win32:x})", str(win32),
        ]  # fmt: skip
    return forms


@pytest.mark.parametrize(
    ("text", "row"),
    [pytest.param(text, row, id=repr(text)) for row in ARTICLE_CODES for text in _written_forms(row)],
)
def test_every_notation_of_every_article_code(text: str, row: Row) -> None:
    """Each way the article, a log or a user writes a code parses to its canonical value and decodes."""
    value, signed, unsigned, facility, facility_name, win32, _ = row
    code = parse_code(text, NAMES)
    assert code == Code(value)
    assert code.hex == f"0x{value:08X}"
    assert (code.signed, code.unsigned, code.facility, code.facility_name, code.win32) == (
        signed, unsigned, facility, facility_name, win32,
    )  # fmt: skip
    assert code.is_failure
    assert code.status == value & 0xFFFF


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0xC004F050, ("0xC004F050", "C004F050", "0xc004f050", "-1073418160", "3221549136")),
        (
            0x80072F8F,
            (
                "0x80072F8F",
                "80072F8F",
                "0x80072f8f",
                "-2147012721",
                "2147954575",
                "HRESULT_FROM_WIN32(12175)",
                "12175",
            ),
        ),
        # All digits: the lowercase hex is the same string and appears once.
        (
            0x80070661,
            ("0x80070661", "80070661", "-2147023263", "2147944033", "HRESULT_FROM_WIN32(1633)", "1633"),
        ),
        (0x00000000, ("0x00000000", "00000000", "0")),
        # Facility 7 with bit 30 set, and facility 7 with status 0, are not HRESULT_FROM_WIN32 of anything.
        (0xC0070005, ("0xC0070005", "C0070005", "0xc0070005", "-1073283067", "3221684229")),
        (0x80070000, ("0x80070000", "80070000", "-2147024896", "2147942400")),
    ],
)
def test_notations_exactly(value: int, expected: tuple[str, ...]) -> None:
    assert Code(value).notations() == expected


@pytest.mark.parametrize(
    ("value", "bare", "failure", "facility", "name", "win32"),
    [
        (0x80240022, "80240022", True, 36, "WINDOWSUPDATE", None),
        (0x00000000, "00000000", False, 0, "NULL", None),
        (0x8004FFFF, "8004FFFF", True, 4, "ITF", None),
        (0x87FF0000, "87FF0000", True, 2047, "UNKNOWN(2047)", None),
        (0x802A0001, "802A0001", True, 42, "UNKNOWN(42)", None),
        (0x80510001, "80510001", True, 81, "OPC", None),
        (0x00070005, "00070005", False, 7, "WIN32", None),
        (0x8007FFFF, "8007FFFF", True, 7, "WIN32", 65535),
        (0xFFFFFFFF, "FFFFFFFF", True, 2047, "UNKNOWN(2047)", None),
    ],
)
def test_decoding(value: int, bare: str, failure: bool, facility: int, name: str, win32: int | None) -> None:
    code = Code(value)
    assert (code.bare_hex, code.is_failure, code.facility, code.facility_name, code.win32) == (
        bare, failure, facility, name, win32,
    )  # fmt: skip


def test_facility_table_is_read_only_and_complete() -> None:
    assert len(FACILITY_NAMES) == 51
    assert (FACILITY_NAMES[7], FACILITY_NAMES[36], FACILITY_NAMES[80]) == (
        "WIN32",
        "WINDOWSUPDATE",
        "WINDOWS_DEFENDER",
    )
    with pytest.raises(TypeError):
        FACILITY_NAMES[99] = "X"  # type: ignore[index]


@pytest.mark.parametrize("value", [-1, 0x100000000, True])
def test_code_rejects_values_outside_32_bits(value: int) -> None:
    with pytest.raises(ValueError, match="unsigned 32-bit"):
        Code(value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("S_OK", 0),
        ("s_ok", 0),
        ("0", 0),
        ("0x0", 0),
        ("0x2a", 0x2A),
        ("0x800", 0x800),
        ("5", 0x80070005),
        ("65535", 0x8007FFFF),
        ("65536", 65536),
        ("123456789", 123456789),
        ("00001633", 0x1633),  # eight digits are hex even when all are decimal
        ("DEADBEEF", 0xDEADBEEF),
        ("2147483648", 0x80000000),
        ("4294967295", 0xFFFFFFFF),
        ("-2147483648", 0x80000000),
        ("-1000000000", 0xC4653600),
        ("HRESULT_FROM_WIN32(0)", 0),
        ("HRESULT_FROM_WIN32(5)", 0x80070005),
        ("HRESULT_FROM_WIN32(\n1633\t)", 0x80070661),
    ],
)
def test_edge_values(text: str, value: int) -> None:
    assert parse_code(text).value == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("C004F050.", 0xC004F050), ("0x80070005,", 0x80070005), ("'0xC004F050'", 0xC004F050),
        ('"0xC004F050".', 0xC004F050), ("`1633`", 0x80070661), ("HRESULT_FROM_WIN32(1633);", 0x80070661),
        ("-1073418160!", 0xC004F050), ("'0xC004F050", 0xC004F050), ("  80070643 :", 0x80070643), ("S_OK?", 0),
    ],
)  # fmt: skip
def test_copied_quotes_and_trailing_punctuation_are_dropped(text: str, value: int) -> None:
    assert parse_code(text, NAMES).value == value


def test_names_are_case_insensitive_in_parse_code() -> None:
    names = {"Mixed_Case_Name": 0x80070005}
    assert parse_code("MIXED_CASE_NAME", names).value == 0x80070005
    assert parse_code("mixed_case_name", names).value == 0x80070005
    assert parse_code("sl_e_invalid_product_key", NAMES).value == 0xC004F050


@pytest.mark.parametrize(
    "text",
    [
        "", " ", "\n", "0x", "0X", "0x123456789", "0x000000001", "HRESULT_FROM_WIN32()", "HRESULT_FROM_WIN32(70000)",
        "HRESULT_FROM_WIN32(-5)", "HRESULT_FROM_WIN32(0x10000)", "HRESULT_FROM_WIN32(1633", "-1", "-0", "-999999999",
        "-2147483649", "4294967296", "12345678901", "99999999999999999999", "hello", "hello world", "KB4547184",
        "KB 4547184", "NOT_A_KNOWN_NAME", "0xZZZZ", "0xC004F05G", "C004F05", "C004F050A", "1e5", "+5", "0x-5",
        "1,603", "(0xC004F050)", "0xC004F050 0x80070005", ".0xC004F050", "\u0661\u0666\u0660\u0663", "x" * 500, "0x" + "8" * 300,
    ],
)  # fmt: skip
def test_not_a_code(text: str) -> None:
    """Also a bracketed code: only quotes and a sentence's trailing punctuation are dropped."""
    with pytest.raises(CodeSyntaxError):
        parse_code(text, NAMES)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "0xZZZZ",
            "not an error code: '0xZZZZ' (expected 0x-hex, 8 hex digits, decimal, HRESULT_FROM_WIN32(n) or a known "
            "symbolic name)",
        ),
        ("HRESULT_FROM_WIN32(70000)", "HRESULT_FROM_WIN32 takes a Win32 number up to 65535, not 70000"),
        (
            "banana",
            "not an error code: 'banana' is an unknown symbolic name (expected 0x-hex, 8 hex digits, decimal, "
            "HRESULT_FROM_WIN32(n) or a known symbolic name)",
        ),
        ("4294967296", "'4294967296' is larger than 4294967295 (0xFFFFFFFF), the largest code"),
        (
            "-1",
            "'-1' is no signed 32-bit code: negative codes have ten digits, from -2147483648 to -1000000000",
        ),
        ("0x123456789", "'0x123456789' has 9 hex digits; a 32-bit code has 8 at most"),
    ],
)
def test_error_messages(text: str, message: str) -> None:
    with pytest.raises(CodeSyntaxError) as caught:
        parse_code(text)
    assert str(caught.value) == message


def test_names_mapping_to_bad_values_raise_code_syntax_error() -> None:
    with pytest.raises(CodeSyntaxError, match="no 32-bit code"):
        parse_code("BROKEN_NAME", {"BROKEN_NAME": -5})
    assert extract_codes("BROKEN_NAME", {"BROKEN_NAME": -5}) == []


@pytest.mark.parametrize(
    ("number", "value"),
    [(1633, 0x80070661), (5, 0x80070005), (65535, 0x8007FFFF), (0x10005, 0x80070005), (0, 0), (-5, -5)],
)
def test_hresult_from_win32(number: int, value: int) -> None:
    assert hresult_from_win32(number) == value


# Texts from the ESU article (and log lines shaped like its CBS.log excerpts) -> canonical hex of each code.
EXTRACTION = [
    ("Run 'slui.exe 0x2a 0xC004F050' to display the error text.", ["0xC004F050"]),
    (
        "On a computer running Microsoft Windows non-core edition, run 'slui.exe 0x2a 0x80072EE7'",
        ["0x80072EE7"],
    ),
    (
        "Error: 0xC004F050 The Software Licensing Service reported that the product key is invalid.",
        ["0xC004F050"],
    ),
    ("Error: 80070643 - prep-check KB installation fails", ["0x80070643"]),
    ("ESU: Pre IMDS checks failed, Not Eligible:HRESULT_FROM_WIN32(1605)", ["0x80070645"]),
    ("1605 = ERROR_UNKNOWN_PRODUCT", ["0x80070645"]),
    ("ESU: Product = 36 (0x00000024).", []),
    ("Create or set a REG_DWORD value of DefaultSecureProtocols, and set it to 0x800.", []),
    ("set it to 0x800", []),
    (
        "0x80072F8F\n147012721\nWININET_E_DECODING_FAILED\nContent decoding has failed",
        ["0x80072F8F", "0x80072F8F"],
    ),
    ("KB 4528081 for Windows Server 2008 SP2", []),
    ("KB 4528069 for Windows 7 / Windows Server 2008R2; KB4547184; update 3140245", []),
    ("2020-02-11 10:23:45, Info CBS ESU: not eligible:HRESULT_FROM_WIN32(1633)", ["0x80070661"]),
    ("2020-02-11 10:23:45, Info CBS Exec: Processing complete. [HRESULT = 0x00000000 - S_OK]", []),
    ("Package {C004F050-1234-5678-9ABC-DEF012345678} staged", []),
    ("guid c004f050-80070643-9abc-def0-123456789abc and 80070643-80070645", []),
    ("Installer encountered an error: 0x80096010.", ["0x80096010"]),
    (
        "0xC004C020 the activation server reported that the Multiple Activation Key has exceeded its limit",
        ["0xC004C020"],
    ),
    ("0xC004F025 access denied: the requested action requires elevated privileges.", ["0xC004F025"]),
    ("0x80072EE2 The operation timed out", ["0x80072EE2"]),
    ("Error: 0xC004F04D", ["0xC004F04D"]),
    ("error 1603", ["0x80070643"]),
    ("MSI (s) (A4:B8) [03:24:40:123]: Product: x -- Installation failed. Error: 1603.", ["0x80070643"]),
    ("error code 1603, Error Code = 1605, ERROR #1633", ["0x80070643", "0x80070645", "0x80070661"]),
    ("error 1605 = ERROR_UNKNOWN_PRODUCT", ["0x80070645", "0x80070645"]),
    ("-2147012721", ["0x80072F8F"]),
    ("HResult -2147012721.", ["0x80072F8F"]),
    ("signed -1073418160 or unsigned 3221549136", ["0xC004F050", "0xC004F050"]),
    ("Windows Update error 0x80244022 (WU_E_PT_HTTP_STATUS_SERVICE_UNAVAIL)", ["0x80244022"]),
    ("0x80070005 then 0X8007000E then 0x800f081f", ["0x80070005", "0x8007000E", "0x800F081F"]),
    # Dates, times, versions, counts, epoch seconds and short decimals are no codes.
    ("version 6.1.7601.24499 at 03:24:40.123 on 02/11/2020, build 20200211, epoch 1581416625", []),
    ("Step 36: copy 2048 files, then 1605 more", []),
    ("error 6.1.7601 and error 2020-02-11 and error 03:24:40", []),
    # Hex inside longer words, paths and numbers is part of that token.
    ("C:\\Windows\\Logs\\CBS\\80070643.log and C:\\Temp\\C004F050x and /var/0x80070005", []),
    ("amd64_microsoft-windows-s..e-client_31bf3856ad364e35_6.1.7601.24499_none, x80070643, 0x800700051", []),
    (
        "a word like deadbeef is not a code, DEADBEEF neither; 8007064 and 800706431 are too short and long",
        [],
    ),
    ("InstallError 1603, error1603, errors 1603, 42949672950, -21470127210", []),
    ("HRESULT_FROM_WIN32(70000) and HRESULT_FROM_WIN32(0)", []),
]


@pytest.mark.parametrize(("text", "expected"), EXTRACTION)
def test_extract_codes(text: str, expected: list[str]) -> None:
    assert [match.code.hex for match in extract_codes(text, NAMES)] == expected


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        ("1605 = ERROR_UNKNOWN_PRODUCT", None, []),
        ("1605 = ERROR_UNKNOWN_PRODUCT", {}, []),
        ("0x80072F8F\n147012721\nWININET_E_DECODING_FAILED", None, ["0x80072F8F"]),
        ("Not Eligible:HRESULT_FROM_WIN32(1605)", None, ["0x80070645"]),
        ("error_unknown_product is lowercase, ERROR_UNKNOWN_PRODUCTS longer", NAMES, []),
        ("S_OK and MY_SUCCESS are no failures", {"S_OK": 0, "MY_SUCCESS": 1}, []),
    ],
)
def test_names_come_only_from_the_mapping(
    text: str, names: dict[str, int] | None, expected: list[str]
) -> None:
    """Without names only numbers count; with names, whole words match as written."""
    assert [match.code.hex for match in extract_codes(text, names)] == expected


def test_matches_carry_offsets_and_the_text_as_written() -> None:
    text = "Run 'slui.exe 0x2a 0xC004F050'. error 1603; HRESULT_FROM_WIN32( 1633 ) ERROR_UNKNOWN_PRODUCT c004f050"
    assert extract_codes(text, NAMES) == [
        CodeMatch(Code(0xC004F050), 19, 29, "0xC004F050"),
        CodeMatch(Code(0x80070643), 38, 42, "1603"),
        CodeMatch(Code(0x80070661), 44, 70, "HRESULT_FROM_WIN32( 1633 )"),
        CodeMatch(Code(0x80070645), 71, 92, "ERROR_UNKNOWN_PRODUCT"),
        CodeMatch(Code(0xC004F050), 93, 101, "c004f050"),
    ]


def test_article_excerpt() -> None:
    """A whole section of the article: two codes, and neither the registry value nor the KB number."""
    section = (
        "Error: 0x80072F8F: Content decoding has failed\n"
        "When you try to activate a Windows 7, Windows Server 2008, or Windows Server 2008 R2 ESU key, you receive "
        "the following error message:\n0x80072F8F\n147012721\nWININET_E_DECODING_FAILED\n"
        "This issue may occur if TLS 1.0 is disabled and the HKEY_LOCAL_MACHINE\\System\\CurrenteControlSet\\"
        "Control\\SecurityProviders\\Schannel\\Protocols\\TLS 1.0\\Client\nsubkey is set as follows:\n"
        "- DisabledByDefault: 1\n- Enabled: 0\nIf update 3140245 isn't installed on the computer, use Windows "
        "Update to install it.\nCreate or set a REG_DWORD value of DefaultSecureProtocols, and set it to 0x800.\n"
    )
    found = extract_codes(section, NAMES)
    assert [(match.code.hex, match.text) for match in found] == [
        ("0x80072F8F", "0x80072F8F"),
        ("0x80072F8F", "0x80072F8F"),
        ("0x80072F8F", "WININET_E_DECODING_FAILED"),
    ]


_PIECES = [
    "0x", "0X", "HRESULT_FROM_WIN32(", "hresult_from_win32 (", ")", "(", "-", "'", '"', ":", "=", "#", "{", "}",
    "\\", "/", ".", ",", "KB", "error ", "Error: ", "error code ", "0xC004F050", "80070643", "C004F050", "9" * 12,
    "-2147012721", "3221549136", "1633", "65536", "S_OK", "ERROR_UNKNOWN_PRODUCT", " ", "\t", "\n", "\x00", "é",
    "\u0663", "\ufeff", "\u2028", "€", "\U0001f600", "ff" * 30,
]  # fmt: skip
_ALPHABET = string.printable + "äß€\u0663\u2028\ufeff"


def _hostile(rng: random.Random) -> str:
    size = rng.choice((0, 1, 3, 10, 40, 200))
    return "".join(rng.choice(_PIECES) if rng.random() < 0.5 else rng.choice(_ALPHABET) for _ in range(size))


def _check_matches(text: str, names: dict[str, int] | None) -> None:
    previous_end = 0
    for match in extract_codes(text, names):
        assert text[match.start : match.end] == match.text
        assert match.start >= previous_end  # in order, never overlapping
        previous_end = match.end
        assert match.code.is_failure
        assert parse_code(match.text, names) == match.code  # what was found reads back as the same code


def test_five_thousand_hostile_strings() -> None:
    """parse_code raises only CodeSyntaxError; extract_codes never raises and its matches read back."""
    rng = random.Random(4547184)
    parsed = 0
    for _ in range(5000):
        text = _hostile(rng)
        try:
            code = parse_code(text, NAMES)
        except CodeSyntaxError:
            pass
        else:
            parsed += 1
            assert 0 <= code.value <= 0xFFFFFFFF
        _check_matches(text, NAMES)
        _check_matches(text, None)
    assert parsed > 0  # the generator does produce valid codes, so both paths are exercised


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_parse_code_raises_only_code_syntax_error(text: str) -> None:
    try:
        code = parse_code(text, NAMES)
    except CodeSyntaxError:
        return
    assert code.hex == f"0x{code.value:08X}" and len(code.hex) == 10


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES) | st.characters(), max_size=40).map("".join))
def test_extract_codes_never_raises(text: str) -> None:
    _check_matches(text, NAMES)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0x80000000, max_value=0xC4653600))
def test_every_notation_of_a_failure_reads_back(value: int) -> None:
    """Failures with a ten-digit signed form round-trip through every notation `notations()` lists."""
    code = Code(value)
    assert {parse_code(notation) for notation in code.notations()} == {code}


def test_extraction_is_linear_on_long_hostile_input() -> None:
    near_misses = "0x8007 HRESULT_FROM_WIN32( -214701 error   0x2a deadbeef 8007064 {C004F050- 1605 "
    texts = [near_misses * 20000, "error" + " " * 500_000, "9" * 500_000, "0x" * 250_000, "a" * 500_000]
    started = time.perf_counter()
    for text in texts:
        assert extract_codes(text, NAMES) == []
    # Each text takes well under a second when the scan is linear; backtracking would take minutes.
    assert time.perf_counter() - started < 10
