"""Finding a content folder's files without trusting it: no link is followed, nothing but files is read.

A content folder comes from pull requests. A symbolic link in it (to /etc/passwd, to a folder above, to
itself) or a file that is not a regular file (a pipe would block the reader) is refused with a located
problem instead of being followed, read or published.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from build_kb.core.errors import Problem

_REPARSE_POINT = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0)
"""Windows: symbolic links and junctions (directory mount points) alike."""


@dataclass
class ContentFiles:
    """What a walk of a content folder found."""

    entries: list[Path] = field(default_factory=list)
    """`*.yaml` files in the sub-folders (links and pipes too, for the reader to refuse)."""
    top: list[Path] = field(default_factory=list)
    """`*.yaml` files at the top (taxonomy.yaml, references.yaml and any stray entry)."""
    misnamed: list[Path] = field(default_factory=list)
    """`*.yml` regular files anywhere."""
    problems: list[Problem] = field(default_factory=list)
    """Links (but to `*.yaml` files, which are listed for the reader to refuse), special files and unreadable
    folders, each an error."""


def is_link(item: os.DirEntry[str]) -> bool:
    """Whether a directory entry is a symbolic link, or on Windows any reparse point (a junction too)."""
    if item.is_symlink():
        return True
    if os.name != "nt" or not _REPARSE_POINT:
        return False
    attributes = getattr(item.stat(follow_symlinks=False), "st_file_attributes", 0)
    return bool(attributes & _REPARSE_POINT)


def _kind(item: os.DirEntry[str]) -> str:
    """`link`, `folder`, `file` or `other`, without following a link."""
    if is_link(item):
        return "link"
    if item.is_dir(follow_symlinks=False):
        return "folder"
    return "file" if item.is_file(follow_symlinks=False) else "other"


def walk_content(root: Path, show: Callable[[Path], str]) -> ContentFiles:
    """Every file of the content folder `root`, never following a link; `show` formats paths for messages.

    `root` itself may be a link (a checkout elsewhere); nothing inside it may.
    """
    from build_kb.content.load import LINK_REFUSED  # yaml: kept off the start-up of `kb lookup`

    found = ContentFiles()
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                items = sorted(listing, key=lambda item: item.name)
        except OSError as error:
            message = f"cannot read the folder: {error.strerror or error}"
            found.problems.append(Problem(show(folder), 1, 1, "(file)", message))
            continue
        for item in items:
            path = Path(item.path)
            try:
                kind = _kind(item)
            except OSError as error:
                message = f"cannot read: {error.strerror or error}"
                found.problems.append(Problem(show(path), 1, 1, "(file)", message))
                continue
            if kind == "folder":
                pending.append(path)
            elif item.name.endswith(".yaml"):
                # Listed whatever it is: reading it (load.read_regular) refuses a link or a pipe, once.
                (found.top if folder == root else found.entries).append(path)
            elif kind == "link":
                found.problems.append(Problem(show(path), 1, 1, "(file)", LINK_REFUSED))
            elif kind == "file":
                if item.name.endswith(".yml"):
                    found.misnamed.append(path)
            else:
                message = "not a regular file or folder (a pipe, socket or device): remove it"
                found.problems.append(Problem(show(path), 1, 1, "(file)", message))
    found.entries.sort()
    found.top.sort()
    found.misnamed.sort()
    return found


def ignored_file_problems(
    found: ContentFiles, show: Callable[[Path], str], shared: Iterable[str]
) -> list[Problem]:
    """Warnings for files validation would skip without a word: `*.yml` files, and entries at the top."""
    names = set(shared)
    problems = [
        Problem(show(path), 1, 1, "(file)", "ignored: entry files end in .yaml", "warning")
        for path in found.misnamed
    ]
    message = "ignored: an entry belongs in its phase folder, <phase>/[<method>/]<id>.yaml"
    problems += [
        Problem(show(path), 1, 1, "(file)", message, "warning")
        for path in found.top
        if path.name not in names
    ]
    return problems
