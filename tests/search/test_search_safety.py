"""Index folders from elsewhere (`kb lookup/search/triage --index BUNDLE`): no code run from whoosh's pickles,
no hang or memory blow-up from the files of an index, no terminal escapes passed through.

Commands run as a user runs them, `python -m build_kb` in a child process with a timeout (a regression
fails instead of hanging the suite), with the per-user cache in tmp_path (`KB_CACHE_DIR`).
"""

from __future__ import annotations

import builtins
import io
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from build_kb.content.validate import load_knowledge_base
from search import cache as search_cache
from search import seal
from search.codemap import lookup as lookup_code
from search.index import build_index
from search.query import search as run_search
from search.seal import check_ahead, existing_key, key_id, sealed_here
from search.store import (
    BUILDS,
    DOCUMENTS,
    MANIFEST,
    POINTER,
    SEAL,
    WHOOSH,
    IndexCorrupt,
    current_build,
    export_build,
)
from tests.helpers import ROOT, make_entry, write_content

STAMP = 1735689600
ESCAPES = ("\x1b", "\x07", "\x9b", "\x9d")


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("KB_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return write_content(
        tmp_path / "content",
        [
            make_entry("first-entry"),
            make_entry("second-entry", title="Error: 0xC004F050 on the second machine", codes=[]),
        ],
    )


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working folder without a content folder, as on the machine a bundle is copied to."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


@pytest.fixture
def local(tmp_path: Path, content: Path) -> Path:
    """An index built here (as `kb build` writes dist/index)."""
    root = tmp_path / "dist" / "index"
    build_index(load_knowledge_base(content), root, content_root=content)
    return root


@pytest.fixture
def bundle(tmp_path: Path, local: Path) -> Path:
    """An unpacked offline bundle: the exported index under the zip's top folder."""
    top = tmp_path / "unpacked" / "synthetic-kb-offline"
    export_build(local, top / "index", STAMP)
    return top.parent


def kb(*arguments: str, cwd: Path, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "-m", "build_kb", *arguments],
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="surrogateescape",
        timeout=timeout,
        check=False,
    )


def one_clear_line(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("Error: ")
    for fragment in fragments:
        assert fragment in result.stderr


# --- no pickle from a foreign index --------------------------------------------------------------------


class _Payload:
    """Unpickling this creates the marker file: what a crafted index would do, with any command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (builtins.exec, (f"open({str(self.marker)!r}, 'w').close()",))


def _crafted_toc(payload: bytes) -> bytes:
    """A whoosh table of contents whose schema and segment list are the payload."""
    import whoosh.index as whoosh_index
    from whoosh.filedb.structfile import StructFile

    buffer = io.BytesIO()
    stream = StructFile(buffer)
    for size in (whoosh_index._INT_SIZE, whoosh_index._LONG_SIZE, whoosh_index._FLOAT_SIZE):
        stream.write_varint(size)
    stream.write_int(-12345)
    stream.write_int(whoosh_index._CURRENT_TOC_VERSION)
    for number in whoosh_index.__version__[:3]:
        stream.write_varint(number)
    stream.write_string(payload)
    stream.write_int(1)  # generation
    stream.write_int(0)
    buffer.write(payload)
    return buffer.getvalue()


def _plant(build: Path, template: Path, marker: Path) -> None:
    """Replace every pickle-bearing file of a whoosh index in `build` with the payload.

    A bundle that ships a whoosh folder has its files overwritten; one that ships none gets one, copied
    from `template` (a real whoosh folder), so that whoosh would find a complete index to open.
    """
    payload = pickle.dumps(_Payload(marker))
    folder = build / WHOOSH
    if not folder.is_dir():
        shutil.copytree(template, folder)
    for path in folder.iterdir():
        if path.name.endswith(".toc"):
            path.write_bytes(_crafted_toc(payload))
        elif path.stat().st_size:  # term and posting tables, stored fields, columns: all unpickled
            path.write_bytes(payload)


def _whoosh_template(local: Path) -> Path:
    return current_build(local).path / WHOOSH


@pytest.mark.parametrize("seal", ["none", "another-key", "this-key-forged"])
def test_a_bundle_never_unpickles_its_files(
    tmp_path: Path, local: Path, bundle: Path, cache: Path, seal: str
) -> None:
    marker = tmp_path / "code-ran"
    build = current_build(bundle / "synthetic-kb-offline" / "index").path
    _plant(build, _whoosh_template(local), marker)
    key = existing_key()
    assert key is not None  # the local build was sealed with this user's key
    forged = {"files": {p.name: p.stat().st_size for p in (build / WHOOSH).iterdir()}, "mac": "0" * 64}
    if seal == "another-key":
        (build / SEAL).write_text(json.dumps({**forged, "key": "f" * 32}), "utf-8")
    elif seal == "this-key-forged":
        (build / SEAL).write_text(json.dumps({**forged, "key": key_id(key)}), "utf-8")
    # From a project folder: a content folder is there, and a bundle must not be rebuilt from it either.
    shutil.copytree(tmp_path / "content", tmp_path / "project" / "content")
    result = kb("search", "second machine", "--index", str(bundle), "--json", cwd=tmp_path / "project")
    assert not marker.exists(), "unpickling a file of the bundle ran code"
    assert "Traceback" not in result.stderr
    if seal == "this-key-forged":  # claims to be sealed here, but is not what was sealed: refused
        one_clear_line(result, "not the one its seal records", "never rebuilt")
    else:  # searched through an index built here from the bundle's JSON
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["results"][0]["id"] == "second-entry"
        assert (cache / "indexes" / BUILDS).is_dir()


def test_a_bundle_carries_no_whoosh_index(bundle: Path) -> None:
    build = current_build(bundle / "synthetic-kb-offline" / "index").path
    assert sorted(p.name for p in build.iterdir()) == ["codemap", DOCUMENTS, MANIFEST]


def test_the_cache_is_built_once_per_content(elsewhere: Path, bundle: Path, cache: Path) -> None:
    first = kb("search", "second machine", "--index", str(bundle), "--json", cwd=elsewhere)
    assert first.returncode == 0 and "indexing" in first.stderr
    again = kb("search", "second machine", "--index", str(bundle), "--json", cwd=elsewhere)
    assert again.returncode == 0 and again.stderr == ""
    assert json.loads(again.stdout) == json.loads(first.stdout)
    assert len(list((cache / "indexes" / BUILDS).iterdir())) == 1
    # Another bundle of the same content shares the entry.
    copy = elsewhere / "copy"
    shutil.copytree(bundle, copy)
    third = kb("search", "second machine", "--index", str(copy), "--json", cwd=elsewhere)
    assert third.returncode == 0 and third.stderr == ""


def test_a_damaged_cache_entry_is_built_again(elsewhere: Path, bundle: Path, cache: Path) -> None:
    assert kb("search", "second machine", "--index", str(bundle), cwd=elsewhere).returncode == 0
    (entry,) = (cache / "indexes" / BUILDS).iterdir()
    for path in (entry / WHOOSH).iterdir():
        path.write_bytes(b"\x00garbage")
    result = kb("search", "second machine", "--index", str(bundle), "--json", cwd=elsewhere)
    assert result.returncode == 0 and json.loads(result.stdout)["results"][0]["id"] == "second-entry"


def test_an_unwritable_cache_falls_back_to_a_temporary_index(elsewhere: Path, bundle: Path) -> None:
    blocked = elsewhere / "not-a-folder"
    blocked.write_text("a file where the cache folder would be", "utf-8")
    result = kb("search", "second machine", "--index", str(bundle), "--json", cwd=elsewhere,
                KB_CACHE_DIR=str(blocked))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"][0]["id"] == "second-entry"
    assert "temporary folder" in result.stderr


def test_a_local_index_with_a_planted_payload_is_rebuilt(tmp_path: Path, local: Path, content: Path) -> None:
    marker = tmp_path / "code-ran"
    build = current_build(local).path
    _plant(build, build / WHOOSH, marker)  # the seal (this user's) no longer matches the files
    result = kb("search", "second machine", "--index", str(local), "--content", str(content), cwd=tmp_path)
    assert not marker.exists()
    assert result.returncode == 0 and "rebuilding" in result.stderr
    assert current_build(local).path != build


def _count_checks(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every seal check done (in whichever thread), by build folder."""
    checked: list[Path] = []
    real = seal._check_seal

    def counting(build: Any) -> bool:
        checked.append(build.path)
        return real(build)

    monkeypatch.setattr(seal, "_check_seal", counting)
    return checked


def test_a_seal_checked_ahead_gives_its_answer_once(local: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checked = _count_checks(monkeypatch)
    build = current_build(local)
    check_ahead(build)
    check_ahead(build)  # begun already: not begun twice
    assert sealed_here(build) is True
    assert checked == [build.path]
    assert sealed_here(build) is True  # the answer was taken: a later call checks again
    assert checked == [build.path, build.path]


def test_a_tampered_index_checked_ahead_is_refused(local: Path) -> None:
    build = current_build(local)
    target = max((build.path / WHOOSH).iterdir(), key=lambda path: path.stat().st_size)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte changed
    target.write_bytes(bytes(data))
    check_ahead(build)
    with pytest.raises(IndexCorrupt, match="contents differ"):
        sealed_here(build)


def test_a_check_ahead_of_another_build_is_not_taken(
    tmp_path: Path, local: Path, content: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = _count_checks(monkeypatch)
    first = current_build(local)
    check_ahead(first)
    other = tmp_path / "other"
    build_index(load_knowledge_base(content), other, content_root=content)
    second = current_build(other)
    assert sealed_here(second) is True
    assert checked.count(second.path) == 1
    assert sealed_here(first) is True and checked.count(first.path) == 1


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[Path]:
    """Record the builds that `search.cache.<name>` is called for."""
    calls: list[Path] = []
    real = getattr(search_cache, name)

    def counting(build: Any) -> Any:
        calls.append(build.path)
        return real(build)

    monkeypatch.setattr(search_cache, name, counting)
    return calls


def test_a_bundles_data_is_hashed_ahead_and_read_whole_only_to_build(
    bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed, read = _counting(monkeypatch, "_data_digest"), _counting(monkeypatch, "_read_data")
    checked = _count_checks(monkeypatch)
    build = current_build(bundle / "synthetic-kb-offline" / "index")
    search_cache.read_ahead(build)  # no seal: its data is hashed ahead, and no seal is checked
    hits = search_cache.read_searchable(build, lambda usable: run_search(usable, "second machine").hits)
    assert hashed == [build.path] and read == [build.path]  # not in the cache yet: read whole to build
    assert checked == [build.path]  # read_searchable asks, and finds no seal
    assert hits[0].id == "second-entry"
    search_cache.read_ahead(build)
    again = search_cache.read_searchable(build, lambda usable: run_search(usable, "second machine").hits)
    assert hashed == [build.path] * 2 and read == [build.path] and again == hits  # the same cache entry


def test_the_streamed_digest_is_the_digest_of_the_bytes_read(bundle: Path) -> None:
    build = current_build(bundle / "synthetic-kb-offline" / "index")
    before = search_cache._data_digest(build)
    assert before == search_cache._read_data(build).digest
    shard = sorted((build.path / "codemap").glob("*.json"))[0]
    shard.write_bytes(shard.read_bytes() + b" ")
    assert search_cache._data_digest(build) == search_cache._read_data(build).digest != before


def test_data_changed_after_hashing_finds_the_entry_of_the_bytes_read(
    bundle: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = current_build(bundle / "synthetic-kb-offline" / "index")
    said: list[str] = []
    search_cache.read_searchable(build, lambda usable: None, said.append)
    assert len(said) == 1 and "indexing" in said[0]
    monkeypatch.setattr(search_cache, "_data_digest", lambda build: "0" * 64)  # as if changed since
    found = search_cache.read_searchable(build, lambda usable: usable.path, said.append)
    assert len(said) == 1  # no second indexing: the entry of the bytes read was found
    assert found.parent == cache / "indexes" / BUILDS


def test_a_sealed_builds_seal_is_checked_ahead_not_its_data(
    local: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[Path] = []
    monkeypatch.setattr(search_cache, "_read_data", lambda build: read.append(build.path))
    checked = _count_checks(monkeypatch)
    build = current_build(local)
    search_cache.read_ahead(build)
    assert search_cache.read_searchable(build, lambda usable: usable.path) == build.path
    assert checked == [build.path] and read == []


def test_a_search_that_rebuilds_checks_the_new_build(tmp_path: Path, local: Path, content: Path) -> None:
    """The check begun for the old build is left unused; the rebuilt one is checked and searched."""
    entry = content / "prepare" / "second-entry.yaml"
    entry.write_text(entry.read_text("utf-8").replace("second machine", "ostrich farm"), "utf-8")
    old = current_build(local).path
    result = kb("search", "ostrich farm", "--index", str(local), "--content", str(content), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "second-entry" in result.stdout and "content changed" in result.stderr
    assert current_build(local).path != old


def test_documents_of_the_wrong_shape_are_one_clear_error(elsewhere: Path, bundle: Path) -> None:
    build = current_build(bundle / "synthetic-kb-offline" / "index").path
    (build / DOCUMENTS).write_text(json.dumps({"format": 3, "documents": [{"id": 5}]}), "utf-8")
    one_clear_line(kb("search", "key", "--index", str(bundle), cwd=elsewhere), DOCUMENTS)


# --- files of an index: regular files, size limits, nesting -------------------------------------------


def _index_commands(index: Path) -> list[list[str]]:
    return [
        ["lookup", "0xC004F050", "--index", str(index)],
        ["search", "second machine", "--index", str(index)],
        ["triage", "-", "--index", str(index)],
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_as_pointer_is_refused_at_once(elsewhere: Path, bundle: Path) -> None:
    index = bundle / "synthetic-kb-offline" / "index"
    (index / POINTER).unlink()
    os.mkfifo(index / POINTER)
    for command in _index_commands(index):
        one_clear_line(kb(*command, cwd=elsewhere, timeout=30), POINTER, "not a regular file")


def test_a_pointer_to_dev_zero_is_refused(elsewhere: Path, bundle: Path) -> None:
    index = bundle / "synthetic-kb-offline" / "index"
    (index / POINTER).unlink()
    try:
        (index / POINTER).symlink_to("/dev/zero")
    except OSError:
        pytest.skip("no symlinks here")
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    for command in _index_commands(index):
        one_clear_line(kb(*command, cwd=elsewhere, timeout=30), POINTER, "not a regular file")


def test_an_oversized_pointer_is_refused(elsewhere: Path, bundle: Path) -> None:
    index = bundle / "synthetic-kb-offline" / "index"
    name = (index / POINTER).read_text("utf-8").strip()
    (index / POINTER).write_text(name + " " * 10_000_000 + "\n", "utf-8")
    one_clear_line(kb("lookup", "0xC004F050", "--index", str(index), cwd=elsewhere), POINTER, "larger than")


def test_an_oversized_manifest_is_refused(elsewhere: Path, bundle: Path) -> None:
    index = bundle / "synthetic-kb-offline" / "index"
    manifest = current_build(index).path / MANIFEST
    data = json.loads(manifest.read_text("utf-8"))
    manifest.write_text(json.dumps(data) + " " * 1_000_000, "utf-8")  # valid JSON, a megabyte of it
    one_clear_line(kb("lookup", "0xC004F050", "--index", str(index), cwd=elsewhere), MANIFEST, "larger than")


def test_oversized_and_special_code_map_files_are_refused(
    bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import search.codemap

    build = current_build(bundle / "synthetic-kb-offline" / "index")
    shard = build.path / "codemap" / f"{0xC004F050 % 64:02d}.json"
    shard.write_text(shard.read_text("utf-8") + " " * 5000, "utf-8")
    monkeypatch.setattr(search.codemap, "MAX_FILE", 4096)
    with pytest.raises(IndexCorrupt, match="larger than 4 KiB"):
        lookup_code(build, "0xC004F050")
    monkeypatch.undo()
    shard.unlink()
    try:
        shard.symlink_to("/dev/zero" if Path("/dev/zero").exists() else build.path)
    except OSError:
        pytest.skip("no symlinks here")
    with pytest.raises(IndexCorrupt, match="not a regular file"):
        lookup_code(build, "0xC004F050")


@pytest.mark.parametrize("ahead", [False, True], ids=["hashed-here", "hashed-ahead"])
def test_oversized_and_special_search_data_is_refused(
    bundle: Path, monkeypatch: pytest.MonkeyPatch, ahead: bool
) -> None:
    build = current_build(bundle / "synthetic-kb-offline" / "index")
    documents = build.path / DOCUMENTS
    monkeypatch.setattr(search_cache, "MAX_DOCUMENTS", 2 * 1024 * 1024)
    documents.write_text(documents.read_text("utf-8") + " " * (2 * 1024 * 1024), "utf-8")
    if ahead:
        search_cache.read_ahead(build)
    with pytest.raises(IndexCorrupt, match=r"documents\.json: larger than 2 MiB"):
        search_cache.read_searchable(build, lambda usable: None)
    documents.unlink()
    try:
        documents.symlink_to("/dev/zero" if Path("/dev/zero").exists() else build.path)
    except OSError:
        pytest.skip("no symlinks here")
    if ahead:
        search_cache.read_ahead(build)
    with pytest.raises(IndexCorrupt, match="not a regular file"):
        search_cache.read_searchable(build, lambda usable: None)


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("file", "command"),
    [
        ("codemap/triage.json", ["triage", "-"]),
        ("codemap/names.json", ["lookup", "SL_E_NOT_IN_THE_SHARD"]),
        (f"codemap/{0xC004F050 % 64:02d}.json", ["lookup", "0xC004F050"]),
        (DOCUMENTS, ["search", "second machine"]),
        (MANIFEST, ["lookup", "0xC004F050"]),
    ],
)
def test_deeply_nested_json_is_one_clear_error(
    elsewhere: Path, bundle: Path, file: str, command: list[str]
) -> None:
    index = bundle / "synthetic-kb-offline" / "index"
    path = current_build(index).path / file
    path.write_text(DEEP if file != MANIFEST else "[" * 30_000 + "]" * 30_000, "utf-8")
    one_clear_line(kb(*command, "--index", str(index), cwd=elsewhere), Path(file).name)


# --- terminal escapes ---------------------------------------------------------------------------------

HOSTILE_TITLE = "Key refused\x1b]0;pwned\x07\x1b[2J\x9b2J\x9d0;pwned\x07 here"


HOSTILE_NAME = "SL_E_\x1b[2JKEY\x1b]0;pwned\x07"


def _hostile(value: Any) -> Any:
    """`value` with the first entry's title and the code's name replaced, JSON held in strings included."""
    if isinstance(value, list):
        return [_hostile(item) for item in value]
    if isinstance(value, dict):
        return {key: _hostile(item) for key, item in value.items()}
    if isinstance(value, str) and value.startswith("{"):
        return json.dumps(_hostile(json.loads(value)))
    if value == "Error: 0xC004F050 when installing the key":
        return HOSTILE_TITLE
    return HOSTILE_NAME if value == "SL_E_INVALID_PRODUCT_KEY" else value


def _hostile_bundle(bundle: Path) -> Path:
    """The bundle with escape sequences in an entry's title and a code's name, as a crafted one would have."""
    build = current_build(bundle / "synthetic-kb-offline" / "index").path
    for path in [*(build / "codemap").glob("*.json"), build / DOCUMENTS]:
        path.write_text(json.dumps(_hostile(json.loads(path.read_text("utf-8")))), "utf-8")
    return bundle


@pytest.mark.parametrize("command", ["lookup", "search"])
def test_escapes_in_a_bundle_never_reach_the_terminal(elsewhere: Path, bundle: Path, command: str) -> None:
    hostile = _hostile_bundle(bundle)
    text = kb(command, "0xC004F050", "--index", str(hostile), cwd=elsewhere)
    assert text.returncode == 0, text.stderr
    assert "first-entry" in text.stdout and "Key refused" in text.stdout and "SL_E_" in text.stdout
    assert not any(char in text.stdout + text.stderr for char in ESCAPES), repr(text.stdout)
    as_json = kb(command, "0xC004F050", "--index", str(hostile), "--json", cwd=elsewhere)
    assert not any(char in as_json.stdout for char in ESCAPES), repr(as_json.stdout)
    titles = [hit["title"] for hit in json.loads(as_json.stdout)["results"]]
    assert HOSTILE_TITLE in titles  # the data itself is kept, escaped


def test_escapes_in_a_query_are_not_echoed(elsewhere: Path, bundle: Path) -> None:
    result = kb("lookup", "\x1b]0;pwned\x07\x1b[2Jnot-a-code", "--index", str(bundle), cwd=elsewhere)
    assert result.returncode == 2 and "not-a-code" in result.stderr
    assert not any(char in result.stdout + result.stderr for char in ESCAPES), repr(result.stderr)
