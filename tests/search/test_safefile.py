"""`read_limited` and `read_chunks`: every byte of a regular file up to the limit, whatever fstat said and
however reads come."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from search.safefile import FileRefused, read_chunks, read_limited

LIMIT = 200_000


def _chunked(path: Path, limit: int) -> bytes:
    """`read_chunks` with a buffer smaller than most files here, its views joined."""
    return b"".join(bytes(part) for part in read_chunks(path, limit, bytearray(65_536)))


READERS = pytest.mark.parametrize("read", [read_limited, _chunked], ids=["whole", "chunks"])
Read = Callable[[Path, int], bytes]


@pytest.mark.parametrize(
    "size",
    [0, 1, 65_535, 65_536, 65_537, LIMIT - 1, LIMIT],
)
@READERS
def test_a_file_within_the_limit_is_read_whole(tmp_path: Path, size: int, read: Read) -> None:
    path = tmp_path / "data"
    data = os.urandom(size)
    path.write_bytes(data)
    assert read(path, LIMIT) == data


@pytest.mark.parametrize("size", [LIMIT + 1, 2 * LIMIT])
@READERS
def test_a_file_over_the_limit_is_refused(tmp_path: Path, size: int, read: Read) -> None:
    path = tmp_path / "data"
    path.write_bytes(b"x" * size)
    with pytest.raises(FileRefused, match="larger than"):
        read(path, LIMIT)


class _Shrunk:
    """os.fstat as if the file were `by` bytes shorter than it is: it grew after fstat looked."""

    def __init__(self, by: int) -> None:
        self.by = by
        self.real = os.fstat

    def __call__(self, descriptor: int) -> Any:
        found = self.real(descriptor)
        return os.stat_result((*found[:6], max(found.st_size - self.by, 0), *found[7:]))


@pytest.mark.parametrize(
    ("size", "grown_by"),
    [(100, 50), (100_000, 1), (100_000, 99_000), (LIMIT, 150_000)],
)
@READERS
def test_a_file_that_grew_since_fstat_is_read_to_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int, grown_by: int, read: Read
) -> None:
    path = tmp_path / "data"
    data = os.urandom(size)
    path.write_bytes(data)
    monkeypatch.setattr(os, "fstat", _Shrunk(grown_by))
    assert read(path, LIMIT) == data


@READERS
def test_a_file_that_grew_past_the_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read: Read
) -> None:
    path = tmp_path / "data"
    path.write_bytes(b"x" * (LIMIT + 10))
    monkeypatch.setattr(os, "fstat", _Shrunk(100))  # fstat says within the limit
    with pytest.raises(FileRefused, match="larger than"):
        read(path, LIMIT)


def test_short_reads_lose_no_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read may return fewer bytes than asked for; the file is still read to its end."""
    path = tmp_path / "data"
    data = os.urandom(150_000)
    path.write_bytes(data)
    real_read = io.FileIO.read

    class ShortReads(io.FileIO):
        def read(self, size: int | None = -1) -> bytes:
            return real_read(self, 7_000 if size is None or size < 0 else min(size, 7_000))

    monkeypatch.setattr(os, "fdopen", lambda fd, *args, **kwargs: ShortReads(fd, "rb"))
    assert read_limited(path, LIMIT) == data
