"""Windows error codes in every notation people write them: parse one, or find them in free text.

An HRESULT is 32 bits (winerror.h): bit 31 is the severity (set for failures), bits 16..26 the facility and
bits 0..15 the status. Win32 error numbers travel inside HRESULTs as `HRESULT_FROM_WIN32(n)`, which is
`0x80070000 | n`. Everything here derives from that layout and the facility table of winerror.h; what a
symbolic name such as `SL_E_INVALID_PRODUCT_KEY` stands for is knowledge of the content, so callers pass
the names in as a mapping. Pure functions, no I/O, no module state besides constants.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple, TypeGuard

__all__ = [
    "FACILITY_NAMES",
    "Code",
    "CodeMatch",
    "CodeSyntaxError",
    "extract_codes",
    "hresult_from_win32",
    "parse_code",
    "unwrap",
]

FACILITY_NAMES: Mapping[int, str] = MappingProxyType(
    {
        0: "NULL", 1: "RPC", 2: "DISPATCH", 3: "STORAGE", 4: "ITF", 7: "WIN32", 8: "WINDOWS", 9: "SECURITY",
        10: "CONTROL", 11: "CERT", 12: "INTERNET", 13: "MEDIASERVER", 14: "MSMQ", 15: "SETUPAPI",
        16: "SCARD", 17: "COMPLUS", 18: "AAF", 19: "URT", 20: "ACS", 21: "DPLAY", 22: "UMI", 23: "SXS",
        24: "WINDOWS_CE", 25: "HTTP", 26: "USERMODE_COMMONLOG", 31: "USERMODE_FILTER_MANAGER",
        32: "BACKGROUNDCOPY", 33: "CONFIGURATION", 34: "STATE_MANAGEMENT", 35: "METADIRECTORY",
        36: "WINDOWSUPDATE", 37: "DIRECTORYSERVICE", 38: "GRAPHICS", 39: "SHELL", 40: "TPM_SERVICES",
        41: "TPM_SOFTWARE", 48: "PLA", 49: "FVE", 50: "FWP", 51: "WINRM", 52: "NDIS",
        53: "USERMODE_HYPERVISOR", 54: "CMI", 55: "USERMODE_VIRTUALIZATION", 56: "USERMODE_VOLMGR",
        57: "BCD", 58: "USERMODE_VHD", 60: "SDIAG", 61: "WEBSERVICES", 80: "WINDOWS_DEFENDER", 81: "OPC",
    }
)  # fmt: skip
"""Facility numbers of winerror.h and their names without the `FACILITY_` prefix."""

MAX_VALUE = 0xFFFFFFFF
"""The largest 32-bit code."""

_FAILURE_BIT = 0x80000000
_WIN32_PREFIX = 0x80070000
# Negative decimals are how .NET and PowerShell print failing HRESULTs, and those all have ten digits
# (-2147483648 .. -1000000000). Shorter negatives such as "-1" are return values, not codes.
_SIGNED_MIN_MAGNITUDE = 1_000_000_000
# Nobody types a code this long; the cap keeps int() conversions and error messages small.
_MAX_INPUT = 200
_EXPECTED = "expected 0x-hex, 8 hex digits, decimal, HRESULT_FROM_WIN32(n) or a known symbolic name"


class CodeSyntaxError(ValueError):
    """The text is no error code in any notation we read, or a number outside the 32-bit range."""


def hresult_from_win32(n: int) -> int:
    """The HRESULT wrapping a Win32 error number, as the winerror.h macro computes it.

    Arguments:
        n: A Win32 error number such as 1633 (ERROR_INSTALL_PLATFORM_UNSUPPORTED).

    Returns:
        `0x80070000 | (n & 0xFFFF)` for `n > 0`; `n` itself otherwise, as the macro passes zero and
        negative values through unchanged (0 is S_OK).
    """
    return n if n <= 0 else _WIN32_PREFIX | (n & 0xFFFF)


def _is_code_value(value: object) -> TypeGuard[int]:
    # bool is an int subclass, but True as a code is always a caller's mistake.
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_VALUE


@dataclass(frozen=True, slots=True)
class Code:
    """One 32-bit error code, kept as its unsigned value; every notation is derived from that."""

    value: int
    """The canonical unsigned value, 0 <= value <= 0xFFFFFFFF."""

    def __post_init__(self) -> None:
        if not _is_code_value(self.value):
            raise ValueError(f"a code is an unsigned 32-bit value, not {self.value!r}")

    @property
    def hex(self) -> str:
        """The canonical notation, `0xC004F050`: 0x and eight uppercase hex digits."""
        return f"0x{self.value:08X}"

    @property
    def bare_hex(self) -> str:
        """Eight uppercase hex digits without 0x, as Windows Update and installers print them."""
        return f"{self.value:08X}"

    @property
    def signed(self) -> int:
        """The value read as a signed 32-bit integer, as .NET exceptions and PowerShell show it."""
        return self.value - (1 << 32) if self.value & _FAILURE_BIT else self.value

    @property
    def unsigned(self) -> int:
        """The value read as an unsigned 32-bit integer."""
        return self.value

    @property
    def is_failure(self) -> bool:
        """Whether the severity bit (31) is set; success codes such as S_OK have it clear."""
        return bool(self.value & _FAILURE_BIT)

    @property
    def facility(self) -> int:
        """The facility number, bits 16..26."""
        return (self.value >> 16) & 0x7FF

    @property
    def facility_name(self) -> str:
        """The facility's winerror.h name, such as `WIN32`, or `UNKNOWN(<n>)`."""
        return FACILITY_NAMES.get(self.facility, f"UNKNOWN({self.facility})")

    @property
    def status(self) -> int:
        """The low 16 bits, the code within its facility."""
        return self.value & 0xFFFF

    @property
    def win32(self) -> int | None:
        """The Win32 error number when this code is `HRESULT_FROM_WIN32` of it, else None.

        Stricter than "failure of facility 7": the macro never sets bits 27..30 nor wraps 0, so 0xC0070005
        and 0x80070000 are not Win32 errors, and calling them so would index them under wrong notations.
        """
        if self.value & 0xFFFF0000 == _WIN32_PREFIX and self.status:
            return self.status
        return None

    def notations(self) -> tuple[str, ...]:
        """Every notation a user may search for, each once, in a stable order.

        Returns:
            The hex, bare hex, lowercase hex, signed and unsigned decimal forms and, for Win32 errors,
            `HRESULT_FROM_WIN32(n)` and the bare number `n`.
        """
        forms = [self.hex, self.bare_hex, self.hex.lower(), str(self.signed), str(self.unsigned)]
        if self.win32 is not None:
            forms += [f"HRESULT_FROM_WIN32({self.win32})", str(self.win32)]
        return tuple(dict.fromkeys(forms))


# --- parsing one code -----------------------------------------------------------------------------------
# Digit classes are spelled out: \d would accept Arabic-Indic and other digits that int() converts.
_HEX_0X = re.compile(r"0[xX]([0-9A-Fa-f]+)")
_HEX_8 = re.compile(r"[0-9A-Fa-f]{8}")
_DECIMAL = re.compile(r"(-?)([0-9]+)")
_MACRO = re.compile(r"(?ai:HRESULT_FROM_WIN32)\s*\(\s*(0[xX][0-9A-Fa-f]+|[0-9]+)\s*\)")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KB_NUMBER = re.compile(r"(?ai:KB)\s*[0-9]+")
# What people copy around a code: quotes on either side, a sentence's punctuation after it ("C004F050.").
_WRAPPED = re.compile(r"[\s\"'`]*(.*?)[\s\"'`.,;:!?]*", re.DOTALL)


def unwrap(text: str) -> str:
    """The code inside what was copied: without surrounding whitespace, quotes and trailing punctuation."""
    match = _WRAPPED.fullmatch(text)
    return match.group(1) if match else text.strip()


def _quoted(text: str) -> str:
    return f"'{text}'" if len(text) <= 40 else f"'{text[:40]}…'"


def _not_a_code(text: str, why: str = "") -> CodeSyntaxError:
    return CodeSyntaxError(f"not an error code: {_quoted(text)}{why} ({_EXPECTED})")


def _decimal_value(text: str, negative: bool, magnitude: int) -> int:
    if negative:
        if not _SIGNED_MIN_MAGNITUDE <= magnitude <= 1 << 31:
            raise CodeSyntaxError(
                f"{_quoted(text)} is no signed 32-bit code: negative codes have ten digits, "
                "from -2147483648 to -1000000000"
            )
        return (1 << 32) - magnitude
    if magnitude <= 0xFFFF:
        # Short numbers are Win32 errors ("1603"), the way installers and msiexec report them.
        return hresult_from_win32(magnitude)
    if magnitude > MAX_VALUE:
        raise CodeSyntaxError(f"{_quoted(text)} is larger than 4294967295 (0xFFFFFFFF), the largest code")
    return magnitude


def _macro_value(argument: str) -> int:
    number = int(argument, 16) if argument[:2] in ("0x", "0X") else int(argument)
    if number > 0xFFFF:
        raise CodeSyntaxError(f"HRESULT_FROM_WIN32 takes a Win32 number up to 65535, not {number}")
    return hresult_from_win32(number)


def _lookup_name(name: str, names: Mapping[str, int] | None) -> int | None:
    if name.upper() == "S_OK":
        return 0
    if not names:
        return None
    for key in (name, name.upper()):
        if key in names:
            return names[key]
    # Content normally upper-cases its names; a scan covers mappings that do not, at parse time only.
    folded = name.casefold()
    return next((value for key, value in names.items() if key.casefold() == folded), None)


def parse_code(text: str, names: Mapping[str, int] | None = None) -> Code:
    """Parse one error code written in any notation.

    Reads `0xC004F050` (any case, also short forms such as `0x2a`), exactly eight hex digits without 0x
    (`80070643` is hex, not decimal), ten-digit negative decimals (`-1073418160`), unsigned decimals up to
    4294967295, `HRESULT_FROM_WIN32(1633)` (decimal or 0x argument, spaces allowed), a bare Win32 number
    (`1633` means `HRESULT_FROM_WIN32(1633)`, `0` is S_OK), `S_OK`, and the symbolic names in `names`,
    matched case-insensitively. Surrounding whitespace and quotes are ignored, and so is punctuation that
    ends a sentence or list (`C004F050.`, `0x80070005,`).

    The site's lookup box (`kb-lookup.js`) implements the same rules; a browser test runs the vectors of
    `tests/data/code-vectors.json` through both.

    Arguments:
        text: The code as a user wrote it.
        names: Symbolic names the content declares, mapped to their unsigned values.

    Returns:
        The code.

    Raises:
        CodeSyntaxError: The text is no code in any of these notations, or a number out of range. No other
            exception escapes for any string.
    """
    if len(text) > 4 * _MAX_INPUT:
        raise _not_a_code(text.strip())
    value = unwrap(text)
    if len(value) > _MAX_INPUT:
        raise _not_a_code(value)
    if match := _HEX_0X.fullmatch(value):
        digits = match.group(1)
        if len(digits) > 8:
            raise CodeSyntaxError(
                f"{_quoted(value)} has {len(digits)} hex digits; a 32-bit code has 8 at most"
            )
        return Code(int(digits, 16))
    if _HEX_8.fullmatch(value):
        return Code(int(value, 16))
    if match := _DECIMAL.fullmatch(value):
        return Code(_decimal_value(value, bool(match.group(1)), int(match.group(2))))
    if match := _MACRO.fullmatch(value):
        return Code(_macro_value(match.group(1)))
    if _KB_NUMBER.fullmatch(value):
        raise _not_a_code(value, " is a KB article number")
    if _IDENTIFIER.fullmatch(value):
        found = _lookup_name(value, names)
        if found is None:
            raise _not_a_code(value, " is an unknown symbolic name")
        if not _is_code_value(found):
            raise CodeSyntaxError(f"the symbolic name {value} stands for {found!r}, which is no 32-bit code")
        return Code(found)
    raise _not_a_code(value)


# --- finding codes in free text ---------------------------------------------------------------------------
class CodeMatch(NamedTuple):
    """An error code found in free text."""

    code: Code
    """The code the text denotes."""
    start: int
    """Offset of the first character of the code in the text."""
    end: int
    """Offset just past the code."""
    text: str
    """The code as written, `text[start:end]`; `parse_code` reads it back to `code`."""


# A number glued to a word, path, version, GUID or range is part of that longer token, not a code.
_LEFT = r"(?<![\w.\\/{-])"
_RIGHT = r"(?![\w{}]|[.\\/-]\w|[:,][0-9])"
_HTTP_STATUS = r"[45][0-9][0-9]"
# Quantifiers are possessive (++, *+) and bounded: a failed token never backtracks, so a scan stays linear.
_TOKEN_PATTERNS = (
    r"(?<!\w)(?P<macro>(?i:HRESULT_FROM_WIN32)\s*+\(\s*+(?:0[xX][0-9A-Fa-f]{1,8}+|[0-9]{1,10}+)\s*+\))",
    # A short decimal is a Win32 error only right after the word "error"; alone it is a count or a step.
    # "HTTP error 500" and a bare "error 404" or "error 503" are HTTP statuses: those stay words.
    rf"(?<!\w)(?<!(?i:http) )(?i:error)(?:[ \t]++(?i:code))?(?:[ \t]*+[:#=][ \t]*+|[ \t]++)"
    rf"(?!{_HTTP_STATUS}(?![0-9]))(?P<win32>[0-9]{{1,5}}+){_RIGHT}",
    rf"{_LEFT}(?P<hex>0[xX][0-9A-Fa-f]{{1,8}}+){_RIGHT}",
    # Without 0x, only a failure (first digit 8..F) that holds a digit: "deadbeef" is a word.
    rf"{_LEFT}(?P<bare>(?=[A-Fa-f]{{0,7}}[0-9])[89A-Fa-f][0-9A-Fa-f]{{7}}){_RIGHT}",
    rf"{_LEFT}(?P<signed>-[0-9]{{10}}){_RIGHT}",
    rf"{_LEFT}(?P<unsigned>[0-9]{{10}}){_RIGHT}",
)
_NAME_PATTERN = r"(?<!\w)(?P<name>[A-Za-z_][A-Za-z0-9_]*+)(?!\w)"


@functools.cache
def _scanner(with_names: bool) -> re.Pattern[str]:
    """The scanner of `extract_codes`, compiled on first use (about 0.6 ms each, which `kb lookup` of a
    plain notation never needs). Without names, words need not be matched at all, which keeps logs cheap."""
    return re.compile("|".join((*_TOKEN_PATTERNS, _NAME_PATTERN) if with_names else _TOKEN_PATTERNS))


def _token_code(kind: str, written: str, names: Mapping[str, int] | None) -> Code | None:
    if kind == "name":
        # Names in text are whole uppercase identifiers, so an exact lookup is enough and stays O(1).
        value = names.get(written) if names else None
        return Code(value) if _is_code_value(value) else None
    try:
        return parse_code(written)
    except CodeSyntaxError:
        return None  # shaped like a code but out of range, such as HRESULT_FROM_WIN32(70000)


def extract_codes(text: str, names: Mapping[str, int] | None = None) -> list[CodeMatch]:
    """Find the failure codes in free text such as a pasted message or a log line.

    Found: `0x` hex, eight bare hex digits (`80070643`), `HRESULT_FROM_WIN32(n)`, ten-digit signed and
    unsigned decimals, a 1..5 digit number right after the word "error" ("Error: 1603", "error code 1603";
    not an HTTP status: "error 404", "HTTP error 500"),
    and the names of `names` as whole words (case-sensitive). Skipped: success values (`0x00000000`,
    `Product = 36 (0x00000024)`, a registry value `0x800`, the `0x2a` argument of slui.exe), KB numbers,
    dates, times, versions, GUIDs, hex inside longer words or paths, and other plain decimals.

    Arguments:
        text: Any text; it is scanned once, in linear time.
        names: Symbolic names the content declares, mapped to their unsigned values.

    Returns:
        The matches in text order. A name and a number for the same code both appear; spans never repeat.
        Never raises.
    """
    scanner = _scanner(bool(names))
    found: list[CodeMatch] = []
    # finditer never yields overlapping matches, so no span can appear twice.
    for match in scanner.finditer(text):
        kind = match.lastgroup
        if kind is None:
            continue
        code = _token_code(kind, match.group(kind), names)
        if code is not None and code.is_failure:
            start, end = match.span(kind)
            found.append(CodeMatch(code, start, end, match.group(kind)))
    return found
