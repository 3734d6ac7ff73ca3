"""Windows error codes in every notation: parse, decode and find them in free text.

Pure functions, no I/O. Knowledge of particular codes (their symbolic names) comes from the content and is
passed in as a mapping; only the generic HRESULT layout and the facility table of winerror.h live here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

FACILITY_NAMES: Mapping[int, str] = MappingProxyType(
    {
        0: "NULL", 1: "RPC", 2: "DISPATCH", 3: "STORAGE", 4: "ITF", 7: "WIN32", 8: "WINDOWS", 9: "SECURITY",
        10: "CONTROL", 11: "CERT", 12: "INTERNET", 13: "MEDIASERVER", 14: "MSMQ", 15: "SETUPAPI", 16: "SCARD",
        17: "COMPLUS", 18: "AAF", 19: "URT", 20: "ACS", 21: "DPLAY", 22: "UMI", 23: "SXS", 24: "WINDOWS_CE",
        25: "HTTP", 26: "USERMODE_COMMONLOG", 31: "USERMODE_FILTER_MANAGER", 32: "BACKGROUNDCOPY",
        33: "CONFIGURATION", 34: "STATE_MANAGEMENT", 35: "METADIRECTORY", 36: "WINDOWSUPDATE",
        37: "DIRECTORYSERVICE", 38: "GRAPHICS", 39: "SHELL", 40: "TPM_SERVICES", 41: "TPM_SOFTWARE", 48: "PLA",
        49: "FVE", 50: "FWP", 51: "WINRM", 52: "NDIS", 53: "USERMODE_HYPERVISOR", 54: "CMI",
        55: "USERMODE_VIRTUALIZATION", 56: "USERMODE_VOLMGR", 57: "BCD", 58: "USERMODE_VHD", 60: "SDIAG",
        61: "WEBSERVICES", 80: "WINDOWS_DEFENDER", 81: "OPC",
    }
)  # fmt: skip
"""Facility numbers of winerror.h."""

FACILITY_WIN32 = 7
_MAX = 0xFFFFFFFF
_FAILURE = 0x80000000


class CodeSyntaxError(ValueError):
    """The text is not an error code in any notation we know."""


def hresult_from_win32(number: int) -> int:
    """The HRESULT for a Win32 error number, as the HRESULT_FROM_WIN32 macro computes it."""
    if number <= 0:
        return number & _MAX
    return 0x80070000 | (number & 0xFFFF)


@dataclass(frozen=True, slots=True, order=True)
class Code:
    """A 32-bit error code, stored as its unsigned value."""

    value: int

    def __post_init__(self) -> None:
        if not 0 <= self.value <= _MAX:
            raise CodeSyntaxError(f"{self.value} is outside the 32-bit range")

    @property
    def hex(self) -> str:
        """`0xC004F050`."""
        return f"0x{self.value:08X}"

    @property
    def bare_hex(self) -> str:
        """`C004F050`."""
        return f"{self.value:08X}"

    @property
    def signed(self) -> int:
        """The value as a signed 32-bit integer, as .NET and PowerShell print it."""
        return self.value - (1 << 32) if self.value & _FAILURE else self.value

    @property
    def unsigned(self) -> int:
        """The value as an unsigned 32-bit integer."""
        return self.value

    @property
    def is_failure(self) -> bool:
        """Bit 31, the severity bit: set for errors, clear for success codes such as S_OK."""
        return bool(self.value & _FAILURE)

    @property
    def facility(self) -> int:
        """Bits 16 to 26."""
        return (self.value >> 16) & 0x7FF

    @property
    def facility_name(self) -> str:
        """The facility's winerror.h name, or UNKNOWN(n)."""
        return FACILITY_NAMES.get(self.facility, f"UNKNOWN({self.facility})")

    @property
    def status(self) -> int:
        """The low 16 bits."""
        return self.value & 0xFFFF

    @property
    def win32(self) -> int | None:
        """The Win32 error number wrapped by HRESULT_FROM_WIN32, for failures of facility 7."""
        return self.status if self.facility == FACILITY_WIN32 and self.is_failure else None

    def notations(self) -> tuple[str, ...]:
        """Every way a user may write this code, each once, in a stable order."""
        forms = [self.hex, self.bare_hex, self.hex.lower(), str(self.signed), str(self.unsigned)]
        if self.win32 is not None:
            forms += [f"HRESULT_FROM_WIN32({self.win32})", str(self.win32)]
        return tuple(dict.fromkeys(forms))


_HRESULT_MACRO = re.compile(r"HRESULT_FROM_WIN32\s*\(\s*(0[xX][0-9A-Fa-f]{1,8}|\d{1,10})\s*\)", re.IGNORECASE)
_HEX = re.compile(r"0[xX]([0-9A-Fa-f]{1,8})")
_BARE_HEX = re.compile(r"[0-9A-Fa-f]{8}")
_DECIMAL = re.compile(r"[+-]?\d{1,10}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _number(text: str) -> int:
    return int(text, 16) if text[:2].lower() == "0x" else int(text)


def parse_code(text: str, names: Mapping[str, int] | None = None) -> Code:
    """Parse one code written in any notation.

    Accepts `0xC004F050` (any case), `C004F050` and `80070643` (eight digits are hex), signed and unsigned
    decimal, `HRESULT_FROM_WIN32(1633)`, a bare Win32 number (`1633`, up to 65535), `S_OK` and the symbolic
    names in `names` (matched case-insensitively).

    Arguments:
        text: The code as the user wrote it.
        names: Symbolic names the content declares, upper-cased, with their values.

    Raises:
        CodeSyntaxError: the text is no code, or out of range.
    """
    value = text.strip().strip("'\"`")
    if len(value) > 80:
        raise CodeSyntaxError("not an error code: the text is too long")
    if match := _HRESULT_MACRO.fullmatch(value):
        number = _number(match.group(1))
        if number > 0xFFFF:
            raise CodeSyntaxError(f"HRESULT_FROM_WIN32 takes a Win32 number up to 65535, not {number}")
        return Code(hresult_from_win32(number))
    if match := _HEX.fullmatch(value):
        return Code(int(match.group(1), 16))
    if _BARE_HEX.fullmatch(value):
        return Code(int(value, 16))
    if _DECIMAL.fullmatch(value):
        number = int(value)
        if value[0] == "-":
            if number < -(1 << 31) or number == 0:
                raise CodeSyntaxError(f"{value} is outside the signed 32-bit range")
            return Code(number & _MAX)
        if number > _MAX:
            raise CodeSyntaxError(f"{value} is larger than any 32-bit code")
        return Code(hresult_from_win32(number) if number <= 0xFFFF else number)
    if _NAME.fullmatch(value):
        upper = value.upper()
        if upper == "S_OK":
            return Code(0)
        if names and upper in names:
            return Code(names[upper])
        raise CodeSyntaxError(f"unknown symbolic name: '{value}' (no entry declares it)")
    raise CodeSyntaxError(
        f"not an error code: '{value[:40]}' (expected 0x-hex, 8 hex digits, decimal, "
        "HRESULT_FROM_WIN32(n) or a known symbolic name)"
    )


@dataclass(frozen=True, slots=True)
class CodeMatch:
    """A code found in free text."""

    code: Code
    start: int
    end: int
    text: str
    """The code as written in the text."""


# Alternatives in order of preference at one position. The look-arounds keep codes out of longer tokens:
# GUID segments, paths, version numbers, KB numbers and words that merely contain hex digits.
_TOKEN = re.compile(
    r"""
    (?P<macro>HRESULT_FROM_WIN32\s*\(\s*(?:0[xX][0-9A-Fa-f]{1,8}|\d{1,10})\s*\))
    | (?<![\w.\-{])(?P<hex>0[xX][0-9A-Fa-f]{1,8})(?![\w\-}])
    | (?<![\w.\-{/\\])(?P<bare>[0-9A-Fa-f]{8})(?![\w\-}]|\.\d)
    | (?<![\w.\-])(?P<signed>-\d{10})(?![\w.])
    | (?<![\w.\-])(?P<unsigned>\d{10})(?![\w.])
    | (?<![\w-])(?:error|err|code)(?:\s+code)?\s*[:#=]?\s*(?P<win32>\d{1,5})(?![\w.:/\-])
    | (?<![\w.])(?P<name>[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?![\w(])
    """,
    re.VERBOSE | re.IGNORECASE,
)
_NAME_CASE = re.compile(r"[A-Z][A-Z0-9_]*")


def _token_value(match: re.Match[str], names: Mapping[str, int]) -> tuple[int, int, int] | None:
    """(value, start, end) of a token, or None when the token is not a code in its context."""
    kind = match.lastgroup
    raw = match.group(kind or 0)
    start, end = match.span(kind or 0)
    if kind == "name":
        # Symbolic names are uppercase identifiers; IGNORECASE must not make "Not_Eligible" one.
        if not _NAME_CASE.fullmatch(raw) or raw.upper() not in names:
            return None
        return names[raw.upper()], start, end
    if kind == "bare" and not any(c.isdigit() for c in raw):
        return None  # a word made only of the letters a-f, such as "deadbeef"
    try:
        code = parse_code(raw, names)
    except CodeSyntaxError:
        return None
    return code.value, start, end


def extract_codes(text: str, names: Mapping[str, int] | None = None) -> list[CodeMatch]:
    """Every error code in free text, in order; success values and numbers that are no codes are skipped.

    Not codes: values without the failure bit (S_OK, `0x00000024`, a `0x800` registry value, the `0x2a`
    argument of slui.exe), KB numbers, dates, times, versions, GUIDs, and bare decimals outside an
    "error 1603" context. Codes: 0x-hex, eight hex digits, HRESULT_FROM_WIN32(n), ten-digit decimals and the
    symbolic names in `names`.
    """
    known = names or {}
    found: list[CodeMatch] = []
    for match in _TOKEN.finditer(text):
        parsed = _token_value(match, known)
        if parsed is None:
            continue
        value, start, end = parsed
        code = Code(value)
        if code.is_failure:
            found.append(CodeMatch(code, start, end, text[start:end]))
    return found
