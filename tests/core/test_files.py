"""`build_kb.core.files`: replacing a file that another process holds open (Windows refuses the rename)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.parametrize(("refusals", "moved"), [(0, True), (3, True), (5, False)])
def test_replace_retrying_waits_out_a_file_held_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refusals: int, moved: bool
) -> None:
    from build_kb.core import files

    source, target = tmp_path / "new", tmp_path / "old"
    source.write_text("new", "utf-8")
    target.write_text("old", "utf-8")
    real_replace = Path.replace
    calls = []

    def held_open(self: Path, other: Path) -> Path:
        calls.append(self)
        if len(calls) <= refusals:
            raise PermissionError(13, "The process cannot access the file", str(other))
        return real_replace(self, other)

    monkeypatch.setattr(Path, "replace", held_open)
    monkeypatch.setattr("build_kb.core.files.time.sleep", lambda seconds: None)
    if moved:
        files.replace_retrying(source, target, attempts=5)
        assert target.read_text("utf-8") == "new" and not source.exists()
    else:
        with pytest.raises(PermissionError):
            files.replace_retrying(source, target, attempts=5)
        assert target.read_text("utf-8") == "old"
    assert len(calls) == min(refusals + 1, 5)
