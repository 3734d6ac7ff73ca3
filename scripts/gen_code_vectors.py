"""Write tests/data/code-vectors.json: inputs for the code parser and what build_kb.core.codes reads them as.

The Python parser is the reference. The vectors drive two tests: one checks that the file still matches
`parse_code`, the other runs every input through the site's JavaScript parser in Chromium. Run again after
changing the parser: `python scripts/gen_code_vectors.py`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from build_kb.core.codes import CodeSyntaxError, parse_code  # noqa: E402

TARGET = ROOT / "tests" / "data" / "code-vectors.json"

NAMES = {
    "SL_E_INVALID_PRODUCT_KEY": 0xC004F050,
    "ERROR_INSTALL_PLATFORM_UNSUPPORTED": 0x80070661,
    "E_ACCESSDENIED": 0x80070005,
    "WININET_E_DECODING_FAILED": 0x80072F8F,
}
"""Symbolic names passed to both parsers, upper-cased as the site's code map holds them."""

CODES = ["0xC004F050", "0x80070643", "0x80072F8F", "0x00000000", "0xFFFFFFFF", "0x8007007E", "0x0000002A"]
WIN32 = [0, 1, 5, 1603, 1633, 12002, 65535]
DECIMALS = ["-1073418160", "3221549136", "-2147012721", "2147944003", "-2147483648", "4294967295"]
EDGES = [
    "",
    " ",
    "\t\n",
    "0x",
    "0X",
    "0x0",
    "0x2a",
    "0xC004F74",
    "0x123456789",
    "0x000000001",
    "0xZZZZ",
    "0x-5",
    "C004F05",
    "C004F050A",
    "c004f050",
    "00001633",
    "0001633",
    "00000000001",
    "-5",
    "-1",
    "-0",
    "-999999999",
    "-1000000000",
    "-2147483649",
    "-00001073418160",
    "4294967296",
    "12345678901",
    "99999999999999999999",
    "147012721",
    "65536",
    "1e5",
    "+5",
    "1,603",
    "1 633",
    "\u0661\u0666\u0660\u0663",
    "\uff11\uff16\uff13\uff13",
    "HRESULT_FROM_WIN32()",
    "HRESULT_FROM_WIN32(70000)",
    "HRESULT_FROM_WIN32(-5)",
    "HRESULT_FROM_WIN32(0x10000)",
    "HRESULT_FROM_WIN32(0xFFFF)",
    "HRESULT_FROM_WIN32(0)",
    "HRESULT_FROM_WIN32(1633",
    "HRESULT_FROM_WIN32 ( 1633 )",
    "hresult_from_win32(0x661)",
    "HRESULT_FROM_WIN32(\u00a01633\u00a0)",
    "HRE\u017fULT_FROM_WIN32(1633)",
    "S_OK",
    "s_ok",
    "S_OK;",
    "sl_e_invalid_product_key",
    "Sl_E_Invalid_Product_Key",
    "\u017fl_e_invalid_product_key",
    "NOT_A_KNOWN_NAME",
    "E_ACCESSDENIED,",
    "_",
    "hello",
    "hello world",
    "KB4547184",
    "kb 4547184",
    "KB\t4528069",
    "\u212aB4547184",
    "(0xC004F050)",
    ".0xC004F050",
    "0xC004F050 0x80070005",
    "Error: 0xC004F050",
    "'0xC004F050",
    "0xC004F050'",
    '"0xC004F050".',
    "`80070643`",
    "C004F050.",
    "0x80070005,",
    "1633:",
    "-5.",
    "0xC004F050!?",
    "0xC004F050..",
    "\u00a00xC004F050\u3000",
    "\u20280x80070005\u2029",
    "\x1c1633\x1f",
    "\ufeff0xC004F050",
    "\u200b1633",
    "x" * 201,
    "0x" + "8" * 300,
    " " * 199 + "1",
    "1" + " " * 900,
]


def inputs() -> list[str]:
    """Every input, each once: each code in several notations and wrappings, then the edge cases."""
    found: list[str] = []
    notations = [notation for code in CODES for notation in parse_code(code).notations()]
    for written in (
        CODES + notations + DECIMALS + [str(n) for n in WIN32] + [f"HRESULT_FROM_WIN32({n})" for n in WIN32]
    ):
        for variant in (
            written,
            written.lower(),
            f"  {written}\t",
            f"'{written}'",
            f'"{written}".',
            f"{written},",
        ):
            found.append(variant)
        if written.startswith("0x"):
            found += [written[2:], written[2:].lower(), "0X" + written[2:]]
    found += list(NAMES) + [name.lower() for name in NAMES] + EDGES
    return list(dict.fromkeys(found))


def expected(text: str) -> str | None:
    try:
        return parse_code(text, NAMES).hex
    except CodeSyntaxError:
        return None


def vectors() -> dict[str, object]:
    return {
        "names": {name: f"0x{value:08X}" for name, value in NAMES.items()},
        "vectors": [{"input": text, "hex": expected(text)} for text in inputs()],
    }


def render() -> str:
    return json.dumps(vectors(), indent=1, ensure_ascii=True) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render(), "utf-8", newline="\n")
    print(f"{TARGET.relative_to(ROOT).as_posix()}: {len(vectors()['vectors'])} vectors")  # noqa: T201
