"""Join the typeset parts of a runbook into one PDF: pages in order, then what Typst would have made of one document.

Typst gives each part its own outline and destinations, and writes a link to a target in another part as an
address (`SCHEME` + label). The joined file gets, in their place, the runbook's outline (phases, methods,
entries, the code index), a named destination per target at the place its heading stands, and those links as
links to the named destinations: the same structure a runbook typeset as one document has. The document
information and language come from the first part. The output depends only on the parts' bytes.

qpdf (through pikepdf) does the joining: it copies ten thousand pages in seconds, where a pure-Python PDF
library takes minutes.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import pikepdf

from build_kb.core.errors import BuildError
from build_kb.pdf.parts import Target, contents_lines

SCHEME = "kb-runbook-target:"
"""The address prefix a part's template gives links to targets (`kb-numbers.scheme`)."""


def join_parts(parts: Sequence[bytes], data: Mapping[str, Any], targets: Mapping[str, Target]) -> bytes:
    """The parts' pages as one PDF, with the runbook's outline, destinations and internal links.

    Arguments:
        parts: Each part's PDF, in order.
        data: `runbook_data`, for the outline.
        targets: Where every label landed in the joined runbook (`PageMap.targets`).

    Raises:
        BuildError: a link points at a label no part holds (the template and the page map disagree).
    """
    joined = pikepdf.new()
    sources = [pikepdf.open(io.BytesIO(part)) for part in parts]
    with warnings.catch_warnings():
        # qpdf warns that a part's own named destinations are not carried over: they are rebuilt below.
        warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
        for source in sources:
            joined.pages.extend(source.pages)
    _copy_document_facts(sources[0], joined)
    destinations = {name: _destination(joined, at) for name, at in targets.items()}
    _name_destinations(joined, destinations)
    _point_links(joined, destinations)
    _outline(joined, data, destinations)
    out = io.BytesIO()
    # A deterministic /ID (a digest of the content) keeps two builds of the same parts byte-identical.
    joined.save(out, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def _copy_document_facts(first: pikepdf.Pdf, joined: pikepdf.Pdf) -> None:
    for key, value in first.docinfo.items():
        joined.docinfo[key] = pikepdf.String(str(value))
    if "/Lang" in first.Root:
        joined.Root.Lang = pikepdf.String(str(first.Root.Lang))
    if "/ViewerPreferences" in first.Root:
        joined.Root.ViewerPreferences = pikepdf.Dictionary(dict(first.Root.ViewerPreferences.items()))


def _destination(joined: pikepdf.Pdf, at: Target) -> pikepdf.Array:
    """An explicit destination: the target's page, scrolled so its heading is at the top, zoom unchanged."""
    page = joined.pages[at.page - 1]
    top = float(page.mediabox[3]) - at.y
    return joined.make_indirect(pikepdf.Array([page.obj, pikepdf.Name.XYZ, at.x, top, 0]))


def _name_destinations(joined: pikepdf.Pdf, destinations: Mapping[str, pikepdf.Array]) -> None:
    tree = pikepdf.NameTree.new(joined)
    for name in sorted(destinations):
        tree[name] = destinations[name]
    joined.Root.Names = pikepdf.Dictionary(Dests=tree.obj)


def _point_links(joined: pikepdf.Pdf, destinations: Mapping[str, pikepdf.Array]) -> None:
    for page in joined.pages:
        for link in page.obj.get("/Annots", ()):
            action = link.get("/A")
            if action is None or action.get("/S") != pikepdf.Name.URI:
                continue
            address = str(action.get("/URI", ""))
            if not address.startswith(SCHEME):
                continue
            name = address[len(SCHEME) :]
            if name not in destinations:
                raise BuildError(f"pdf: a link points at {name!r}, which no part of the runbook holds")
            del link["/A"]
            link.Dest = pikepdf.String(name)


def _outline(joined: pikepdf.Pdf, data: Mapping[str, Any], destinations: Mapping[str, pikepdf.Array]) -> None:
    """The outline holds what the contents list, at the same levels."""
    with joined.open_outline() as outline:
        parents: list[list[pikepdf.OutlineItem]] = [outline.root]
        for line in contents_lines(data):
            item = pikepdf.OutlineItem(line["title"], destinations[line["label"]])
            # Closed, as Typst leaves its own: a long runbook's outline opens on its chapters.
            item.is_closed = True
            del parents[line["level"] :]
            parents[-1].append(item)
            parents.append(item.children)
