"""Offline search (`search/`): code lookup in every notation, ranking of pasted messages, the index
lifecycle (atomic swaps, stale content, corrupt and missing indexes) and the `kb lookup/search/index`
commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from build_kb.app.cli.search import index, lookup, search
from build_kb.content.validate import load_knowledge_base
from build_kb.core.codes import CodeSyntaxError
from build_kb.core.codeview import code_view
from build_kb.core.model import KnowledgeBase
from search.codemap import lookup as lookup_code
from search.engine import AndMaybe, DefaultOr, Or, Query
from search.errors import IndexUnavailable
from search.index import build_index
from search.lifecycle import STALE, ensure_index, rebuild, with_index
from search.query import IndexSearcher, _Search
from search.query import search as run_search
from search.store import (
    BUILDS,
    POINTER,
    current_build,
    locate_index,
    prune_builds,
    read_current,
)
from tests.helpers import ACTIVATION, ROOT, make_entry, synthetic_entries, write_content

# (value, signed, Win32 number, symbolic name) of every code of the activation set, typed here, not computed.
SET_CODES = [
    (0x80070005, -2147024891, 5, "ERROR_ACCESS_DENIED"),
    (0x80070643, -2147023293, 1603, "ERROR_INSTALL_FAILURE"),
    (0x8007232B, -2147015893, 9003, "DNS_ERROR_RCODE_NAME_ERROR"),
    (0x80240017, -2145124329, None, "WU_E_NOT_APPLICABLE"),
    (0x8024402C, -2145107924, None, "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED"),
    (0xC004C003, -1073430525, None, "SL_E_CHPA_PRODUCT_KEY_BLOCKED"),
    (0xC004C020, -1073430496, None, "SL_E_CHPA_DMAK_LIMIT_EXCEEDED"),
    (0xC004F038, -1073418184, None, "SL_E_VL_NOT_ENOUGH_COUNT"),
    (0xC004F041, -1073418175, None, "SL_E_VL_KEY_MANAGEMENT_SERVICE_NOT_ACTIVATED"),
    (0xC004F050, -1073418160, None, "SL_E_INVALID_PRODUCT_KEY"),
    (0xC004F069, -1073418135, None, "SL_E_MISMATCHED_PRODUCT_SKU"),
    (0xC004F074, -1073418124, None, "SL_E_VL_BINDING_SERVICE_UNAVAILABLE"),
]
PRIMARY_NAMES = {value: name for value, _, _, name in SET_CODES}


def _notations(value: int, signed: int, win32: int | None) -> list[str]:
    forms = [f"0x{value:08X}", f"{value:08X}", f"0x{value:08x}", f"{value:08x}", str(signed), str(value)]
    if win32 is not None:
        forms += [f"HRESULT_FROM_WIN32({win32})", str(win32)]
    name = PRIMARY_NAMES[value]
    return [*forms, name, name.lower()]


NOTATIONS = [
    (value, text) for value, signed, win32, _ in SET_CODES for text in _notations(value, signed, win32)
]

# Messages pasted from the activation set's tools and logs, and the entry that must come first.
PASTED = [
    (
        "Error: 0xC004F050 The Software Licensing Service reported that the product key is invalid.",
        "ipk-0xc004f050-product-key-invalid",
    ),
    ("Code 80070643 Windows Update encountered an unknown error.", "update-80070643-install-failure"),
    ("The update is not applicable to your computer.", "update-0x80240017-not-applicable"),
    ("WARNING: GetCookie failure, error = 0x8024402C", "update-0x8024402c-server-name-not-resolved"),
    (
        "Error: 0xC004F069 On a computer running Microsoft Windows non-core edition, run 'slui.exe 0x2a "
        "0xC004F069' to display the error text.",
        "ipk-0xc004f069-evaluation-edition",
    ),
    ("No Key Management Service (KMS) could be contacted", "kms-0xc004f074-no-kms-contacted"),
    ("Error: 0x8007232B DNS name does not exist.", "kms-0x8007232b-dns-name-does-not-exist"),
    (
        "The count reported by your Key Management Service (KMS) is insufficient.",
        "kms-0xc004f038-count-insufficient",
    ),
    ("can't find _vlmcs._tcp.contoso.com: Non-existent domain", "kms-host-srv-record-missing"),
    ("System error 5 has occurred.", "kms-host-system-error-5-access-denied"),
    ("The activation server determined the specified product key is blocked.", "mak-0xc004c003-key-blocked"),
    ("the Multiple Activation Key has exceeded its limit", "mak-0xc004c020-limit-exceeded"),
    ("the KMS host is not activated", "kms-host-0xc004f041-host-not-activated"),
    ("Activation failed: HRESULT -1073418184", "kms-0xc004f038-count-insufficient"),
    (
        "Installation Failure: Windows failed to install the following update with error 0x80070643: "
        "Security Update for Microsoft .NET Framework 4.8 (KB5011048).",
        "update-80070643-install-failure",
    ),
    ("SOAP Fault: 0x000127", "update-0x8024402c-server-name-not-resolved"),
    ("evaluation edition", "ipk-0xc004f069-evaluation-edition"),
    ("Sysprep", "kms-0xc004f038-count-insufficient"),
    (
        "Windows Update Standalone Installer\nThe update is not applicable to your computer.\n" * 3,
        "update-0x80240017-not-applicable",
    ),
]


@pytest.fixture(scope="module")
def searcher(activation_index: Path) -> Iterator[IndexSearcher]:
    with IndexSearcher(current_build(activation_index)) as opened:
        yield opened


@pytest.fixture
def no_content(tmp_path: Path) -> Path:
    """A content folder that does not exist: the commands then neither check nor rebuild the index."""
    return tmp_path / "no-content"


# --- lookup and search on the activation set -----------------------------------------------------------


@pytest.mark.parametrize(("value", "text"), NOTATIONS)
def test_lookup_finds_every_notation(
    activation_index: Path, activation_kb: KnowledgeBase, value: int, text: str
) -> None:
    result = lookup_code(current_build(activation_index), text)
    assert result.code is not None and result.code.hex == f"0x{value:08X}"
    assert [hit.id for hit in result.hits] == [e.id for e in activation_kb.entries_by_code[value]]
    assert PRIMARY_NAMES[value] in result.code.names


@pytest.mark.parametrize(("value", "text"), NOTATIONS)
def test_search_puts_the_code_entries_first(
    searcher: IndexSearcher, activation_kb: KnowledgeBase, value: int, text: str
) -> None:
    expected = {e.id for e in activation_kb.entries_by_code[value]}
    result = searcher.search(text)
    assert {hit.id for hit in result.hits[: len(expected)]} == expected
    assert result.code is not None and result.code.hex == f"0x{value:08X}"


@pytest.mark.parametrize(("text", "first"), PASTED, ids=[text[:40] for text, _ in PASTED])
def test_pasted_message_ranks_its_entry_first(searcher: IndexSearcher, text: str, first: str) -> None:
    assert searcher.search(text).hits[0].id == first


def test_words_rerank_only_within_the_code_entries(
    searcher: IndexSearcher, activation_kb: KnowledgeBase
) -> None:
    carriers = {e.id for e in activation_kb.entries_by_code[0xC004F050]}
    assert len(carriers) == 2
    for words, first in (
        ("GVLK", "gvlk-wrong-edition-key-invalid"),
        ("slmgr", "ipk-0xc004f050-product-key-invalid"),
    ):
        hits = searcher.search(f"0xC004F050 {words}").hits
        assert hits[0].id == first
        assert {h.id for h in hits[: len(carriers)]} == carriers  # the code's entries come first


def test_unknown_code_is_decoded_and_the_words_searched(searcher: IndexSearcher) -> None:
    result = searcher.search("0x80070002 The update is not applicable to your computer.")
    assert result.code is not None and result.code.hex == "0x80070002" and not result.known
    assert result.hits[0].id == "update-0x80240017-not-applicable"


def test_literal_shown_as_string_finds_its_code(searcher: IndexSearcher, activation_index: Path) -> None:
    # "0xC004F74" (a digit lost) parses as another code, 0x0C004F74; the entry lists it as a spelling.
    result = searcher.search("0xC004F74")
    assert result.hits[0].id == "kms-0xc004f074-no-kms-contacted"
    assert result.code is not None and result.code.hex == "0xC004F074"
    assert lookup_code(current_build(activation_index), "0xC004F74").code.hex == "0xC004F074"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("NOT applicable", "update-0x80240017-not-applicable"),
        ('"Multiple AND Activation" OR', "mak-0xc004c020-limit-exceeded"),
        ("title:key blocked", "mak-0xc004c003-key-blocked"),
        ("(Key Management Service)*", "kms-0xc004f074-no-kms-contacted"),
    ],
)
def test_query_syntax_is_plain_text(searcher: IndexSearcher, text: str, first: str) -> None:
    assert searcher.search(text).hits[0].id == first


@pytest.mark.parametrize("text", ["*", "?", "", "   ", "zzzqqqxx", "AND OR", '""', "()"])
def test_queries_that_match_nothing_return_nothing(searcher: IndexSearcher, text: str) -> None:
    assert searcher.search(text).hits == ()


def test_result_fields(searcher: IndexSearcher, activation_kb: KnowledgeBase) -> None:
    hit = searcher.search("System error 5 has occurred.", limit=1).hits[0]
    entry = activation_kb.by_id[hit.id]
    assert hit.to_json().keys() == {
        "id",
        "title",
        "phase",
        "codes",
        "source",
        "url",
        "score",
        "match",
        "confidence",
    }
    assert (hit.title, hit.phase, hit.source, hit.url) == (
        entry.title,
        entry.phase,
        entry.source.describe() if entry.source else "",
        f"entries/{entry.id}.html",
    )


def test_limit(searcher: IndexSearcher) -> None:
    assert len(searcher.search("activation key", limit=3).hits) == 3


def test_lookup_and_search_describe_a_code_as_the_site_does(
    searcher: IndexSearcher, activation_index: Path, activation_kb: KnowledgeBase
) -> None:
    """Names, system messages, the notations entries write and the entries: what the code page shows."""
    build = current_build(activation_index)
    for value in activation_kb.entries_by_code:
        expected = code_view(activation_kb, value).to_json()
        hex_code = f"0x{value:08X}"
        assert (found := lookup_code(build, hex_code).code) and found.to_json() == expected, hex_code
        assert (searched := searcher.search(hex_code).code) and searched.to_json() == expected, hex_code
    assert any(code_view(activation_kb, v).messages for v in activation_kb.entries_by_code), "nothing shown"


def test_lookup_of_unknown_and_invalid_codes(activation_index: Path) -> None:
    build = current_build(activation_index)
    unknown = lookup_code(build, "0x80070002")
    assert unknown.hits == () and unknown.code is not None and unknown.code.win32 == 2
    assert lookup_code(build, "S_OK").code.hex == "0x00000000"  # type: ignore[union-attr]
    for text in ["hello world", "NOT_A_KNOWN_NAME", "0xZZ", ""]:
        with pytest.raises(CodeSyntaxError):
            lookup_code(build, text)


# --- ranking on synthetic content ---------------------------------------------------------------------


def _synthetic_index(tmp_path: Path, *entries: dict[str, Any]) -> Path:
    content = write_content(tmp_path / "content", list(entries))
    root = tmp_path / "index"
    build_index(load_knowledge_base(content), root, content_root=content)
    return root


def _plain(entry_id: str, **fields: object) -> dict[str, Any]:
    return make_entry(entry_id, **{"codes": [], "messages": [], "title": f"Plain entry {entry_id}", **fields})


def test_title_outranks_body(tmp_path: Path) -> None:
    root = _synthetic_index(
        tmp_path,
        _plain("in-body", causes=["A zebra crossed the registry."]),
        _plain("in-title", title="The zebra is missing"),
    )
    assert [h.id for h in run_search(current_build(root), "zebra").hits] == ["in-title", "in-body"]


def test_long_paste_is_found_by_its_rare_words(tmp_path: Path) -> None:
    common = " ".join(["the key update package install service restart"] * 40)
    root = _synthetic_index(
        tmp_path,
        *[_plain(f"common-{n}", causes=[common]) for n in range(5)],
        _plain("rare", messages=[{"text": "Quokka telemetry handshake refused", "where": "slmgr"}]),
    )
    hits = run_search(current_build(root), f"{common} quokka telemetry {common}").hits
    assert hits[0].id == "rare"


def test_exact_message_outranks_shared_words(tmp_path: Path) -> None:
    root = _synthetic_index(
        tmp_path,
        _plain("scrambled", messages=[{"text": "limit the key exceeded has its", "where": "slmgr"}]),
        _plain("exact", messages=[{"text": "the key has exceeded its limit", "where": "slmgr"}]),
    )
    assert run_search(current_build(root), "the key has exceeded its limit").hits[0].id == "exact"


@pytest.mark.parametrize(
    "text", ["product key is invalid", "denied proxy", "denied invalid", "firewall product"]
)
def test_short_query_scores_every_entry_as_the_lazy_union_does(tmp_path: Path, text: str) -> None:
    """A short query's words and phrases run as one union (each phrase walks its own entries): the same
    entries, with the same scores, as the terms with the phrases checked lazily on what they find."""
    phrased = [
        _plain("in-message", messages=[{"text": "The product key is invalid.", "where": "slmgr"}]),
        _plain("in-title", title="Denied proxy settings"),
    ]
    build = current_build(_synthetic_index(tmp_path, *synthetic_entries(60), *phrased))
    with IndexSearcher(build) as opened:
        run = _Search(opened.searcher, build)
        words = run._words(run._analyse(text), set())
        assert words is not None and words.every_field and words.phrases

        def scores(query: Query) -> dict[str, float]:
            return {hit["id"]: round(hit.score, 9) for hit in opened.searcher.search(query, limit=None)}

        lazy = scores(AndMaybe(Or(words.terms), DefaultOr(words.phrases)))
        assert scores(words.query()) == lazy
        assert lazy != scores(Or(words.terms)), "no entry holds the phrase: the test shows nothing"
        # The ten best of every entry scored: whoosh's lazy union, asked for ten, misses some phrase boosts.
        assert [hit.id for hit in opened.search(text).hits] == list(lazy)[:10]


# --- index lifecycle ----------------------------------------------------------------------------------


@pytest.fixture
def small_content(tmp_path: Path) -> Path:
    return write_content(
        tmp_path / "content",
        [
            make_entry("first-entry"),
            make_entry("second-entry", title="Error: 0xC004F050 on the second machine"),
        ],
    )


def test_build_layout_and_pruning(tmp_path: Path, small_content: Path) -> None:
    root = tmp_path / "index"
    kb = load_knowledge_base(small_content)
    built = [build_index(kb, root, content_root=small_content) for _ in range(4)]
    assert (root / POINTER).read_text("utf-8").strip() == built[-1].name
    assert sorted(p.name for p in (root / BUILDS).iterdir()) == [built[-2].name, built[-1].name]
    for name in ("manifest.json", "codemap/names.json", "codemap/triage.json", "whoosh"):
        assert (built[-1] / name).exists()


def test_pruning_tolerates_files_held_open(
    tmp_path: Path, small_content: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "index"
    kb = load_knowledge_base(small_content)
    build_index(kb, root)
    build_index(kb, root)
    stale = root / BUILDS / "00000000000000000001-1"  # older than the previous build: to be pruned
    (stale / "whoosh").mkdir(parents=True)
    (stale / "whoosh" / "MAIN_1.seg").write_bytes(b"segment")

    def held_open(path: object, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "The process cannot access the file", str(path))

    monkeypatch.setattr(os, "unlink", held_open)
    monkeypatch.setattr(os, "rmdir", held_open)
    prune_builds(root, current_build(root).name)
    monkeypatch.undo()
    assert (stale / "whoosh" / "MAIN_1.seg").exists()  # left for a later rebuild, and no error raised
    assert run_search(current_build(root), "0xC004F050").hits
    prune_builds(root, current_build(root).name)
    assert not stale.exists()


def test_readers_never_see_an_empty_index_during_rebuilds(tmp_path: Path, small_content: Path) -> None:
    root = tmp_path / "index"
    kb = load_knowledge_base(small_content)
    build_index(kb, root)
    counts: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                counts.append(len(read_current(root, lambda b: run_search(b, "0xC004F050")).hits))
                counts.append(len(read_current(root, lambda b: lookup_code(b, "0xC004F050")).hits))
            except BaseException as error:  # any failure is the test's failure
                errors.append(error)
                return

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    try:
        for _ in range(12):
            build_index(kb, root)
    finally:
        done.set()
        for thread in readers:
            thread.join()
    assert not errors
    assert len(counts) > 12 and min(counts) == 2


def test_stale_content_is_rebuilt(tmp_path: Path, small_content: Path) -> None:
    root = tmp_path / "index"
    build_index(load_knowledge_base(small_content), root, content_root=small_content)
    said: list[str] = []
    entry = small_content / "prepare" / "second-entry.yaml"
    entry.write_text(entry.read_text("utf-8").replace("second machine", "ostrich farm"), "utf-8")
    hits = with_index(root, small_content, lambda b: run_search(b, "ostrich").hits, said.append)
    assert said == [STALE]
    assert [h.id for h in hits] == ["second-entry"]
    said.clear()
    with_index(root, small_content, lambda b: None, said.append)
    assert said == []


def test_touched_but_unchanged_content_is_not_rebuilt(tmp_path: Path, small_content: Path) -> None:
    root = tmp_path / "index"
    build_index(load_knowledge_base(small_content), root, content_root=small_content)
    name = current_build(root).name
    entry = small_content / "prepare" / "first-entry.yaml"
    os.utime(entry, ns=(entry.stat().st_atime_ns, entry.stat().st_mtime_ns + 5_000_000_000))
    said: list[str] = []
    ensure_index(root, small_content, said.append)
    assert said == [] and current_build(root).name == name


def test_ahead_gets_the_build_before_the_content_is_compared(tmp_path: Path, small_content: Path) -> None:
    root = tmp_path / "index"
    build_index(load_knowledge_base(small_content), root, content_root=small_content)
    before = current_build(root)
    entry = small_content / "prepare" / "second-entry.yaml"
    entry.write_text(entry.read_text("utf-8").replace("second machine", "ostrich farm"), "utf-8")
    given: list[str] = []
    read = with_index(root, small_content, lambda b: b.name, ahead=lambda b: given.append(b.name))
    assert given == [before.name]  # the build current when the command began
    assert read != before.name  # the content had changed: the reader got the rebuilt one
    given.clear()
    assert with_index(root, small_content, lambda b: b.name, ahead=lambda b: given.append(b.name)) == read
    assert given == [read]


def test_ahead_is_not_called_when_there_is_no_build_yet(tmp_path: Path, small_content: Path) -> None:
    given: list[str] = []
    with_index(tmp_path / "index", small_content, lambda b: None, ahead=lambda b: given.append(b.name))
    assert given == []


def test_invalid_changed_content_keeps_the_old_index(tmp_path: Path, small_content: Path) -> None:
    root = tmp_path / "index"
    build_index(load_knowledge_base(small_content), root, content_root=small_content)
    (small_content / "prepare" / "first-entry.yaml").write_text("id: [unclosed\n", "utf-8")
    said: list[str] = []
    hits = with_index(root, small_content, lambda b: run_search(b, "0xC004F050").hits, said.append)
    assert said[0] == STALE and "using the index built before" in said[1]
    assert len(hits) == 2


def _garble_whoosh(root: Path) -> None:
    for path in (current_build(root).path / "whoosh").iterdir():
        path.write_bytes(b"\x00garbage" * 3)


def _garble_codemap(root: Path) -> None:
    for path in (current_build(root).path / "codemap").iterdir():
        path.write_text("{not json", "utf-8")


def _garble_pointer(root: Path) -> None:
    (root / POINTER).write_text("../../etc\n", "utf-8")


def _garble_manifest(root: Path) -> None:
    (current_build(root).path / "manifest.json").write_bytes(b"\xff\xfe")


def _truncate_whoosh(root: Path) -> None:
    for path in (current_build(root).path / "whoosh").iterdir():
        with path.open("r+b") as handle:
            handle.truncate(path.stat().st_size // 3)


@pytest.mark.parametrize(
    "damage", [_garble_whoosh, _garble_codemap, _garble_pointer, _garble_manifest, _truncate_whoosh]
)
@pytest.mark.parametrize("reader", ["search", "lookup"])
def test_corrupt_index_is_rebuilt(
    tmp_path: Path, small_content: Path, damage: Callable[[Path], None], reader: str
) -> None:
    root = tmp_path / "index"
    build_index(load_knowledge_base(small_content), root, content_root=small_content)
    damage(root)
    said: list[str] = []
    read = run_search if reader == "search" else lookup_code
    hits = with_index(root, small_content, lambda b: read(b, "0xC004F050").hits, said.append)
    assert len(hits) == 2
    assert len(said) <= 1 and all("rebuilding" in line for line in said)
    if damage is not _truncate_whoosh and (reader == "search" or damage is not _garble_whoosh):
        assert len(said) == 1  # every other damage that the reader touches is noticed


def test_corrupt_index_without_content_is_one_clear_error(tmp_path: Path, small_content: Path) -> None:
    root = tmp_path / "index"
    build_index(load_knowledge_base(small_content), root, content_root=small_content)
    _garble_codemap(root)
    with pytest.raises(IndexUnavailable, match="no content folder to rebuild it from"):
        with_index(root, tmp_path / "absent", lambda b: lookup_code(b, "0xC004F050"))


def test_missing_index_is_built(tmp_path: Path, small_content: Path) -> None:
    said: list[str] = []
    hits = with_index(
        tmp_path / "index", small_content, lambda b: lookup_code(b, "0xC004F050").hits, said.append
    )
    assert len(hits) == 2 and said == [f"no search index at {(tmp_path / 'index').as_posix()}; building it"]


def test_missing_index_without_content(tmp_path: Path) -> None:
    with pytest.raises(IndexUnavailable, match=r"no search index at .*no content folder to build one from"):
        with_index(tmp_path / "index", tmp_path / "absent", lambda b: None)


def test_locate_index_in_a_bundle(tmp_path: Path, small_content: Path) -> None:
    bundle = tmp_path / "unzipped" / "synthetic-kb-offline"
    build_index(load_knowledge_base(small_content), bundle / "index")
    assert locate_index(bundle) == bundle / "index"
    assert locate_index(bundle.parent) == bundle / "index"
    assert locate_index(bundle / "index") == bundle / "index"
    assert locate_index(tmp_path / "elsewhere") == tmp_path / "elsewhere"
    assert len(with_index(bundle, None, lambda b: lookup_code(b, "0xC004F050").hits)) == 2


def test_rebuild_reports_entries(tmp_path: Path, small_content: Path) -> None:
    done = rebuild(tmp_path / "index", small_content)
    assert done.entries == 2 and done.build.manifest.entries == 2


# --- commands -----------------------------------------------------------------------------------------


def _run(runner: CliRunner, command: click.Command, *args: str, **kwargs: Any) -> Result:
    return runner.invoke(command, list(args), catch_exceptions=False, **kwargs)


CODE_VIEW_KEYS = {
    "hex", "signed", "unsigned", "facility", "facility_number", "win32", "hresult_from_win32", "notations",
    "shown_as", "names", "messages", "url", "entries", "known",
}  # fmt: skip


@pytest.mark.parametrize(
    ("args", "exit_code"),
    [
        (["0xC004F050"], 0),
        (["-1073418160"], 0),
        (["HRESULT_FROM_WIN32(9003)"], 0),
        (["HRESULT_FROM_WIN32", "(9003)"], 0),
        (["80070643"], 0),
        (["-1073418184"], 0),
        (["5"], 0),
        (["sl_e_invalid_product_key"], 0),
        (["0x80070002"], 1),
        (["S_OK"], 1),
        (["not a code"], 2),
        (["0xZZZZ"], 2),
    ],
)
def test_lookup_exit_codes(
    runner: CliRunner, activation_index: Path, no_content: Path, args: list[str], exit_code: int
) -> None:
    result = _run(
        runner, lookup, *args, "--index", str(activation_index), "--content", str(no_content), "--json"
    )
    assert result.exit_code == exit_code, result.output
    data = json.loads(result.stdout)
    assert data.keys() == {"query", "covered", "code", "uncovered_codes", "results"}
    assert (data["code"] is None) == (exit_code == 2)
    if data["code"] is not None:
        assert data["code"].keys() == CODE_VIEW_KEYS
    for item in data["results"]:
        assert item.keys() == {
            "id",
            "title",
            "phase",
            "codes",
            "source",
            "url",
            "score",
            "match",
            "confidence",
        }


def test_lookup_json_values(runner: CliRunner, activation_index: Path, no_content: Path) -> None:
    args = ["9003", "--index", str(activation_index), "--content", str(no_content), "--json"]
    data = json.loads(_run(runner, lookup, *args).stdout)
    code = {key: data["code"][key] for key in ("hex", "signed", "unsigned", "facility", "win32", "names")}
    assert code == {
        "hex": "0x8007232B",
        "signed": -2147015893,
        "unsigned": 2147951403,
        "facility": "WIN32",
        "win32": 9003,
        "names": ["DNS_ERROR_RCODE_NAME_ERROR"],
    }
    assert data["code"]["hresult_from_win32"] == "HRESULT_FROM_WIN32(9003)"
    assert data["code"]["url"] == "codes/0x8007232B.html"
    assert [e["id"] for e in data["code"]["entries"]] == [r["id"] for r in data["results"]]
    assert [r["id"] for r in data["results"]] == [
        "kms-0x8007232b-dns-name-does-not-exist",
        "kms-host-srv-record-missing",
    ]
    assert data["results"][0]["url"] == "entries/kms-0x8007232b-dns-name-does-not-exist.html"
    assert data["results"][0]["codes"] == ["0x8007232B"]


def test_lookup_text_output(runner: CliRunner, activation_index: Path, no_content: Path) -> None:
    result = _run(
        runner, lookup, "0x80070643", "--index", str(activation_index), "--content", str(no_content)
    )
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:2] == [
        "0x80070643  ERROR_INSTALL_FAILURE",
        "    signed -2147023293   unsigned 2147944003   facility WIN32 (7)   win32 1603",
    ]
    assert "update-80070643-install-failure" in result.stdout
    assert "\x1b[" not in result.output  # no colour when not on a terminal
    unknown = _run(
        runner, lookup, "0x80070002", "--index", str(activation_index), "--content", str(no_content)
    )
    assert unknown.exit_code == 1
    assert "0x80070002 ERROR_FILE_NOT_FOUND is not in this knowledge base." in unknown.stdout
    assert (
        "Win32 error 2" in unknown.stdout and "The system cannot find the file specified." in unknown.stdout
    )


@pytest.mark.parametrize(
    ("args", "exit_code", "first"),
    [
        (["System", "error", "5", "has", "occurred."], 0, "kms-host-system-error-5-access-denied"),
        (["-", "No", "Key", "Management", "Service", "(KMS)", "could", "be", "contacted"], 0,
         "kms-0xc004f074-no-kms-contacted"),
        (["zzzqqqxx"], 1, None),
        (["*"], 1, None),
    ],
)  # fmt: skip
def test_search_command(
    runner: CliRunner,
    activation_index: Path,
    no_content: Path,
    args: list[str],
    exit_code: int,
    first: str | None,
) -> None:
    result = _run(
        runner, search, *args, "--index", str(activation_index), "--content", str(no_content), "--json"
    )
    assert result.exit_code == exit_code
    data = json.loads(result.stdout)
    assert data.keys() == {"query", "covered", "code", "uncovered_codes", "results"}
    assert (data["results"][0]["id"] if data["results"] else None) == first


def test_search_reads_stdin_and_limits(runner: CliRunner, activation_index: Path, no_content: Path) -> None:
    args = ["-", "--limit", "2", "--index", str(activation_index), "--content", str(no_content), "--json"]
    result = _run(runner, search, *args, input="The Multiple Activation Key has exceeded its limit\n")
    data = json.loads(result.stdout)
    assert len(data["results"]) == 2 and data["results"][0]["id"] == "mak-0xc004c020-limit-exceeded"


def test_index_option_from_the_environment(
    runner: CliRunner, activation_index: Path, no_content: Path
) -> None:
    result = _run(
        runner, lookup, "0xC004F050", "--content", str(no_content), env={"KB_INDEX": str(activation_index)}
    )
    assert result.exit_code == 0 and "ipk-0xc004f050-product-key-invalid" in result.stdout


def test_index_command_then_stale_rebuild(runner: CliRunner, tmp_path: Path, small_content: Path) -> None:
    root = tmp_path / "index"
    built = _run(runner, index, "--index", str(root), "--content", str(small_content), "--json")
    assert built.exit_code == 0
    assert json.loads(built.stdout).keys() == {"index", "build", "entries", "seconds"}
    entry = small_content / "prepare" / "first-entry.yaml"
    entry.write_text(entry.read_text("utf-8").replace("when installing the key", "near the walrus"), "utf-8")
    result = _run(runner, search, "walrus", "--index", str(root), "--content", str(small_content), "--json")
    assert result.exit_code == 0
    assert result.stderr == STALE + "\n"
    assert json.loads(result.stdout)["results"][0]["id"] == "first-entry"


def test_commands_build_a_missing_index(runner: CliRunner, tmp_path: Path, small_content: Path) -> None:
    root = tmp_path / "index"
    result = _run(runner, lookup, "0xC004F050", "--index", str(root), "--content", str(small_content))
    assert result.exit_code == 0
    assert result.stderr == f"no search index at {root.as_posix()}; building it\n"


def test_corrupt_index_from_the_command_line(runner: CliRunner, tmp_path: Path, small_content: Path) -> None:
    root = tmp_path / "index"
    build_index(load_knowledge_base(small_content), root, content_root=small_content)
    _garble_whoosh(root)
    result = _run(runner, search, "0xC004F050", "--index", str(root), "--content", str(small_content))
    assert result.exit_code == 0
    assert len(result.stderr.splitlines()) == 1 and "rebuilding" in result.stderr
    _garble_whoosh(root)
    failed = _run(runner, search, "0xC004F050", "--index", str(root), "--content", str(tmp_path / "absent"))
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    assert len(failed.stderr.splitlines()) == 1 and failed.stderr.startswith("Error: ")


def test_missing_index_and_no_content(runner: CliRunner, tmp_path: Path) -> None:
    result = _run(
        runner, lookup, "0xC004F050", "--index", str(tmp_path / "i"), "--content", str(tmp_path / "c")
    )
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1
    assert "no search index at" in result.stderr


def test_index_command_reports_invalid_content(
    runner: CliRunner, tmp_path: Path, small_content: Path
) -> None:
    (small_content / "prepare" / "first-entry.yaml").write_text("id: 5\n", "utf-8")
    result = _run(runner, index, "--index", str(tmp_path / "index"), "--content", str(small_content))
    assert result.exit_code == 1 and "the index was not rebuilt" in result.stderr


@pytest.mark.parametrize("command", [lookup, search, index], ids=lambda c: c.name)
def test_help_has_an_example(runner: CliRunner, command: click.Command) -> None:
    result = _run(runner, command, "--help")
    assert result.exit_code == 0 and "Example" in result.output and "--index" in result.output


# --- start-up cost ------------------------------------------------------------------------------------


def _modules_after(script: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True, timeout=60
    )
    return completed.stdout.strip().splitlines()[-1]


_REPORT = "print('WHOOSH' if any(m.split('.')[0] == 'whoosh' for m in sys.modules) else 'CLEAN')"


def test_cli_import_does_not_import_whoosh() -> None:
    script = f"import sys\nimport build_kb.app.cli.main\nimport build_kb.app.cli.search\n{_REPORT}"
    assert _modules_after(script) == "CLEAN"


def test_lookup_imports_no_other_command_and_no_heavy_module(activation_index: Path) -> None:
    """`kb lookup` through the command group, with a content folder to check: none of the modules that other
    commands need (yaml, jsonschema, mkdocs, markdown, the other command modules) is imported."""
    args = ["lookup", "0xC004F050", "--index", str(activation_index), "--content", str(ACTIVATION)]
    heavy = ("yaml", "jsonschema", "mkdocs", "markdown", "whoosh", "build_kb.core.model")
    others = [f"build_kb.app.cli.{name}" for name in ("build", "content", "pages", "report", "serve")]
    script = (
        "import sys\nfrom build_kb.app.cli.main import cli\n"
        f"try:\n    cli.main({args!r})\nexcept SystemExit as exit:\n    assert exit.code in (0, 1), exit.code\n"
        f"loaded = [m for m in sys.modules if m.split('.')[0] in {heavy!r} or m in {heavy + tuple(others)!r}]\n"
        "print(','.join(sorted(loaded)) or 'CLEAN')"
    )
    assert _modules_after(script) == "CLEAN"
    checked = script.replace(repr(args), repr(["check", str(ACTIVATION)]))
    assert "yaml" in _modules_after(checked)  # the check itself can fail


def test_whoosh_stand_ins_do_not_outlive_the_import() -> None:
    script = (
        "import sys, functools\nimport search.engine, whoosh.reading\n"
        "assert whoosh.reading.cached_property is functools.cached_property\n"
        "assert 'asyncio' not in sys.modules and 'urllib.request' not in sys.modules\n"
        "assert 'whoosh.lang.morph_en' not in sys.modules\n"
        "import urllib.request, cached_property\n"
        "assert callable(urllib.request.urlopen) and cached_property.cached_property is not functools.cached_property\n"
        "from whoosh.lang.morph_en import variations\n"
        "assert 'keys' in variations('key')\n"
        "print('CLEAN')"
    )
    assert _modules_after(script) == "CLEAN"


def test_lookup_does_not_import_whoosh(activation_index: Path, tmp_path: Path) -> None:
    args = ["0xC004F050", "--index", str(activation_index), "--content", str(tmp_path / "none"), "--json"]
    script = (
        "import sys\nfrom build_kb.app.cli.search import lookup\n"
        f"try:\n    lookup.main({args!r})\nexcept SystemExit as exit:\n    assert exit.code == 0, exit.code\n{_REPORT}"
    )
    assert _modules_after(script) == "CLEAN"
    searched = script.replace("import lookup", "import search as lookup")
    assert _modules_after(searched) == "WHOOSH"  # the check itself can fail


# --- what the index precomputes, against whoosh's own searches ---------------------------------------------


@pytest.fixture(scope="module")
def synthetic_searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexSearcher]:
    """300 synthetic entries over a vocabulary of 35 words: every word is common, runs repeat."""
    from tests.helpers import synthetic_entries

    folder = tmp_path_factory.mktemp("synthetic")
    content = write_content(folder / "content", synthetic_entries(300))
    build_index(load_knowledge_base(content), folder / "index", content_root=content)
    with IndexSearcher(current_build(folder / "index")) as opened:
        yield opened


def test_shared_runs_are_the_runs_a_phrase_search_finds_in_two_entries(
    synthetic_searcher: IndexSearcher,
) -> None:
    from search.engine import Phrase
    from search.query import _Search
    from search.store import DOCUMENTS

    shared = synthetic_searcher.shared_runs()
    assert shared
    search = _Search(synthetic_searcher.searcher, synthetic_searcher.build)
    documents = json.loads((synthetic_searcher.build.path / DOCUMENTS).read_text("utf-8"))["documents"]
    runs = sorted(shared)[:30]
    # Runs of the entries' messages (most held by one entry only) and of their titles, and made-up runs.
    for document in documents[::20]:
        for text in (document["messages"], document["title"]):
            words = search._analyse(text)
            runs += [" ".join(words[at : at + 4]) for at in range(len(words) - 3)]
    runs += ["kei product invalid network", "product product product product"]
    for run in dict.fromkeys(runs):
        phrase = Phrase("messages", run.split())
        held = len(synthetic_searcher.searcher.search(phrase, limit=2))
        counted = search._phrase_entries("messages", run.split(), 2)
        assert (run in shared) == (held >= 2) == (counted >= 2), run
    assert any(run not in shared for run in runs)
