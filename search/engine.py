"""whoosh, imported in one place and about twice as fast; the rest of `search/` takes whoosh names from here.

whoosh 2.7 drags in heavy modules it does not need for searching: `urllib.request` (whoosh.compat
imports `urlretrieve` for a download helper), the `cached_property` backport, which imports asyncio, and
`whoosh.lang.morph_en`, whose English word variations (compiled into hundreds of regular expressions at
import) only the `Variations` query uses. Together they are more than half of whoosh's import time, and every
`kb search` pays it. While whoosh imports, light stand-ins take their place: `functools.cached_property`
(the same semantics for whoosh's one use, on `SegmentReader`), and a `urlretrieve` and a `variations` that
refuse to run. The stand-ins leave `sys.modules` right after, so any later import anywhere gets the real
modules. If whoosh was imported before, nothing changes.
"""

from __future__ import annotations

import functools
import sys
import types


def _no_downloads(*args: object, **kwargs: object) -> None:
    raise RuntimeError("whoosh's download helper is not available in kb")


def _no_variations(*args: object, **kwargs: object) -> None:
    raise RuntimeError("whoosh's Variations query is not available in kb")


def _import_whoosh() -> None:
    if "whoosh.index" in sys.modules:
        return
    stand_ins: dict[str, types.ModuleType] = {}
    for name, attributes in (
        ("cached_property", {"cached_property": functools.cached_property}),
        ("urllib.request", {"urlretrieve": _no_downloads}),
        ("whoosh.lang.morph_en", {"variations": _no_variations}),
    ):
        if name not in sys.modules:
            stand_ins[name] = types.ModuleType(name)
            stand_ins[name].__dict__.update(attributes)
    sys.modules.update(stand_ins)
    try:
        import whoosh.index
        import whoosh.searching  # noqa: F401
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


_import_whoosh()

from whoosh import analysis, fields, formats, index  # noqa: E402
from whoosh.codec import whoosh3  # noqa: E402
from whoosh.query import AndMaybe, DefaultOr, Or, Phrase, Query, Term  # noqa: E402
from whoosh.scoring import BM25F, BM25FScorer  # noqa: E402
from whoosh.util.numeric import byte_to_length  # noqa: E402

__all__ = [
    "BM25F",
    "AndMaybe",
    "BM25FScorer",
    "DefaultOr",
    "Or",
    "Phrase",
    "Query",
    "Term",
    "analysis",
    "byte_to_length",
    "fields",
    "formats",
    "index",
    "whoosh3",
]
