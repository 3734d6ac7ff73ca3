"""Seals: whoosh opens a build's whoosh index only when this user's own kb wrote it.

whoosh stores pickles (its table of contents, stored fields, term and posting data), and unpickling runs
whatever code the bytes ask for. An index folder from elsewhere, an unpacked bundle or a copied
`dist/index`, must therefore never reach whoosh. A build written here gets a seal beside its whoosh folder:
the names and sizes of its files and an HMAC-SHA256 of their bytes under a key that only this user can read
(created once, in the per-user cache folder). Before `kb search` opens a build's whoosh index it checks the
seal; a build without one, or sealed under another key, is searched through an index built from its JSON
data instead (`search.cache`). No whoosh import here.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import time
from pathlib import Path
from typing import NamedTuple

from search import ahead
from search.safefile import KIB, open_regular, read_json, read_limited
from search.store import SEAL, WHOOSH, IndexBuild, IndexCorrupt, describe

APP_NAME = "troubleshooting-kb"
CACHE_ENV = "KB_CACHE_DIR"
"""Environment variable naming the per-user cache folder (tests point it at a temporary folder)."""
KEY_FILE = "seal.key"
KEY_BYTES = 32
MAX_SEAL = 256 * KIB
_CHUNK = 1 << 20
_AHEAD = "seal-check"


def cache_folder() -> Path:
    """The per-user cache folder: `KB_CACHE_DIR` if set, else the platform's (`~/.cache/troubleshooting-kb`,
    `%LOCALAPPDATA%\\troubleshooting-kb\\Cache`, `~/Library/Caches/troubleshooting-kb`)."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    if configured:
        return Path(configured)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME, appauthor=False))


def private_folder(path: Path) -> Path:
    """`path`, created if missing, readable by this user only where the platform has such permissions."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _key_path() -> Path:
    return cache_folder() / KEY_FILE


def existing_key() -> bytes | None:
    """This user's sealing key, or None when none was ever created (or it cannot be read)."""
    for _ in range(50):
        try:
            key = read_limited(_key_path(), KEY_BYTES)
        except OSError:
            return None
        if len(key) == KEY_BYTES:
            return key
        time.sleep(0.01)  # another process is writing it this instant
    return None


def user_key() -> bytes:
    """This user's sealing key, created on first use.

    Raises:
        OSError: the key cannot be created.
    """
    path = _key_path()
    for _ in range(3):
        key = existing_key()
        if key is not None:
            return key
        private_folder(path.parent)
        with contextlib.suppress(FileExistsError):  # another process created it first: read that one
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            with os.fdopen(os.open(path, flags, 0o600), "wb") as stream:
                stream.write(os.urandom(KEY_BYTES))
    raise OSError(f"cannot create the sealing key {path.as_posix()}")


def key_id(key: bytes) -> str:
    """A public name of the key: which key sealed a build, without revealing it."""
    return hashlib.sha256(b"kb-seal-key-id\0" + key).hexdigest()[:32]


class Seal(NamedTuple):
    """What a seal file records."""

    key: str
    files: dict[str, int]
    """File name -> size, for every file of the whoosh folder."""
    mac: str


def _mac(key: bytes, folder: Path, files: dict[str, int]) -> str:
    """HMAC-SHA256 over the names, sizes and bytes of `files` in `folder`.

    Raises:
        IndexCorrupt: a file is not a regular file or not of the recorded size.
        FileNotFoundError: a file is missing.
    """
    digest = hmac.new(key, digestmod="sha256")
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    for name in sorted(files):
        encoded = name.encode("utf-8", "surrogateescape")
        digest.update(len(encoded).to_bytes(8, "big") + encoded + files[name].to_bytes(8, "big"))
        try:
            descriptor = open_regular(folder / name)
        except FileNotFoundError:
            raise
        except OSError as error:
            raise IndexCorrupt(f"unreadable {(folder / name).as_posix()}: {describe(error)}") from None
        read = 0
        with os.fdopen(descriptor, "rb", buffering=0) as stream:
            while read <= files[name] and (count := stream.readinto(buffer)):
                digest.update(view[:count])
                read += count
        if read != files[name]:
            raise IndexCorrupt(f"{(folder / name).as_posix()} is not the file its seal records")
    return digest.hexdigest()


def _listing(folder: Path) -> dict[str, int]:
    """Name -> size of every entry of `folder` (a folder or symlink counts with size -1: never sealed)."""
    found: dict[str, int] = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            regular = entry.is_file(follow_symlinks=False)
            found[entry.name] = entry.stat(follow_symlinks=False).st_size if regular else -1
    return found


def seal_build(build_path: Path) -> None:
    """Seal the whoosh folder of the build at `build_path` with this user's key.

    Raises:
        OSError: the key or the seal cannot be written.
    """
    key = user_key()
    folder = build_path / WHOOSH
    files = _listing(folder)
    if any(size < 0 for size in files.values()):
        raise OSError(f"{folder.as_posix()} holds something other than files")
    seal = {"key": key_id(key), "files": files, "mac": _mac(key, folder, files)}
    (build_path / SEAL).write_text(json.dumps(seal, indent=2, sort_keys=True) + "\n", "utf-8")


def _read_seal(path: Path) -> Seal | None:
    """The seal at `path`, or None when there is none or it is no seal at all."""
    try:
        data = read_json(path, MAX_SEAL)
        files = data["files"]
        seal = Seal(str(data["key"]), {str(k): int(v) for k, v in files.items()}, str(data["mac"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return seal


def sealed_here(build: IndexBuild) -> bool:
    """Whether whoosh may open the build's whoosh index: True when this user sealed it and it is intact.

    False when the build has no seal or one under another key (then its whoosh folder, if any, is never
    opened). Reads no key when there is no seal, and writes nothing. When `check_ahead(build)` began the
    check, its answer is taken (waiting for it if need be), once.

    Raises:
        IndexCorrupt: this user sealed it, but its files have changed since (damaged, or tampered with).
        FileNotFoundError: the build was swapped away meanwhile.
    """
    return ahead.take(_AHEAD, build.path, lambda: _check_seal(build))


def check_ahead(build: IndexBuild) -> None:
    """Begin `sealed_here(build)` in a background thread, for the next `sealed_here(build)` to take.

    Nearly all of the check is reading and hashing the whoosh files (about 20 ms at 10,000 entries), which
    release the GIL (`search.ahead`). A command that reads another build in the end (its content had
    changed, and it was rebuilt) leaves the answer unused.
    """
    ahead.begin(_AHEAD, build.path, lambda: _check_seal(build))


def _check_seal(build: IndexBuild) -> bool:
    """`sealed_here`, done here and now."""
    seal = _read_seal(build.path / SEAL)
    if seal is None:
        return False
    key = existing_key()
    if key is None or not hmac.compare_digest(seal.key, key_id(key)):  # nothing here sealed it
        return False
    folder = build.path / WHOOSH
    where = f"the search index {folder.as_posix()}"
    try:
        listing = _listing(folder)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise IndexCorrupt(f"unreadable {where}: {describe(error)}") from None
    if listing != seal.files:
        raise IndexCorrupt(f"{where} is not the one its seal records (files differ)")
    if not hmac.compare_digest(_mac(key, folder, seal.files), seal.mac):
        raise IndexCorrupt(f"{where} is not the one its seal records (contents differ)")
    return True
