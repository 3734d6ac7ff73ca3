"""The offline bundle: one reproducible zip holding the site, the PDF, the search index and a README."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=UTC)
"""The earliest time a zip member can carry."""
COMPRESS_LEVEL = 6
"""zlib's default: a third of level 9's time for 1% more bytes on the site's HTML."""

README_TEMPLATE = """\
{title} - offline bundle
{underline}

Built {date} from content version {version}.

What is inside
  site/index.html      The knowledge base as a website. Open it in a browser straight from this
                       folder: browsing and search work with no network at all.
  {pdf_name:<20} The printable runbook (table of contents, one page per entry, code index).
  index/               The search index for the `kb` command-line tool.

Looking up a code from the command line
  With the kb tool installed (pip install of this project), point it at this folder:

{examples}

Nothing in this bundle fetches anything from the internet.
"""


def bundle_readme(
    *,
    title: str,
    version: str,
    build_date: datetime,
    pdf_name: str,
    root: str,
    lookup_example: str | None = None,
    search_example: str = "the message you see",
) -> str:
    """The README.txt placed at the top of the bundle (CRLF line ends: it is read on Windows).

    The examples are the content set's own: a code it covers and words from one of its entries.
    """
    commands = [f"kb lookup {_quoted(lookup_example)} --index {root}"] if lookup_example else []
    commands += [f"kb search {_quoted(search_example)} --index {root}", f"kb triage LOGFILE --index {root}"]
    text = README_TEMPLATE.format(
        examples="\n".join(f"    {command}" for command in commands),
        title=title,
        underline="=" * (len(title) + 17),
        date=build_date.strftime("%Y-%m-%d"),
        version=version,
        pdf_name=pdf_name,
        root=root,
    )
    return text.replace("\n", "\r\n")


def _quoted(argument: str) -> str:
    """An argument as typed in either shell: double quotes when it holds a space or a parenthesis."""
    plain = argument.replace('"', "'")
    return f'"{plain}"' if any(c in plain for c in " ()&|<>;") else plain


def _members(sources: Iterable[tuple[str, Path]]) -> list[tuple[str, Path]]:
    """(name in the zip, file on disk) for every file under each source, sorted by name."""
    members = []
    for prefix, source in sources:
        if source.is_file():
            members.append((prefix, source))
            continue
        for path in source.rglob("*"):
            if path.is_file():
                members.append((f"{prefix}/{path.relative_to(source).as_posix()}", path))
    return sorted(members)


def write_zip(
    target: Path, sources: Iterable[tuple[str, Path]], extra: dict[str, str], stamp: datetime
) -> int:
    """Write a byte-reproducible zip: sorted members, one fixed timestamp, fixed permissions.

    Arguments:
        target: The zip to write; written beside it first, then moved into place.
        sources: (name prefix in the zip, file or folder on disk) pairs.
        extra: Text members written from memory, by name.
        stamp: The timestamp every member carries.

    Returns:
        The number of members.
    """
    when = max(stamp, ZIP_EPOCH).astimezone(UTC).timetuple()[:6]
    members = _members(sources)
    partial = target.with_name(target.name + ".partial")
    names = sorted([*(name for name, _ in members), *extra])
    files = dict(members)
    with zipfile.ZipFile(
        partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
    ) as archive:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the permission bits below are honoured everywhere
            info.external_attr = (0o100644 & 0xFFFF) << 16
            data = extra[name].encode("utf-8") if name in extra else files[name].read_bytes()
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL)
    partial.replace(target)
    return len(names)
