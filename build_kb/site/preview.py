"""`kb serve`'s model: the content folder, its validated state, its exported pages and the live site.

An edit is applied in two steps:

1. Quick (`Preview.quick`), when one entry file changed and the content was valid before: that file alone is
   read and checked (YAML, schema, and every check `kb check` makes of one entry: against the taxonomy,
   the other entries, the error dictionary, the governance rules, and its links) and its page rendered
   with the rest of the knowledge base as it was. A mistake shows at once as the problem page; otherwise
   the entry's page is rewritten and shown. Milliseconds, at any size.
2. Whole (`Preview.whole`): the content is validated as `kb check` does and every page rendered again;
   only files whose bytes changed are rewritten and only those pages are rendered again when asked for
   (the navigation is read again when the configuration changed, e.g. a title). This is what makes the
   preview right; the quick step only makes it fast.

The quick step runs `build_kb.content.validate.check_entry`, the per-entry checks of `check_content`, and
the links of the one entry; when a check fails on the file it steps aside and the whole step does the work.
"""

from __future__ import annotations

import html
import json
import threading
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import yaml

from build_kb.content import governance, validate
from build_kb.content.links import link_problems
from build_kb.content.locate import SourceText
from build_kb.content.validate import check_content, shown_path
from build_kb.core.errors import KbError, Problem
from build_kb.core.model import Entry, KnowledgeBase
from build_kb.site.export import CONFIG_FILE, PAGES_DIR, export_files, write_export
from build_kb.site.livesite import LiveSite, Served
from build_kb.site.render import entry_page, render_entry

SEARCH_INDEX = "search/search_index.json"
EVENTS_PATH = "/__kb__/version"
"""Long-poll address of the reload script: answers with the preview's version once it passes `after`."""
RELOAD_SCRIPT = f"""<script>
(function () {{
  var seen = %VERSION%;
  function poll() {{
    fetch("{EVENTS_PATH}?after=" + seen, {{ cache: "no-store" }})
      .then(function (r) {{ return r.text(); }})
      .then(function (text) {{
        if (parseInt(text, 10) > seen) {{ location.reload(); }} else {{ poll(); }}
      }})
      .catch(function () {{ setTimeout(poll, 1000); }});
  }}
  poll();
}})();
</script>"""


def with_reload(page: bytes, version: int) -> bytes:
    """An HTML page with the reload script before `</body>`."""
    script = RELOAD_SCRIPT.replace("%VERSION%", str(version)).encode("utf-8")
    end = page.rfind(b"</body>")
    return page + script if end < 0 else page[:end] + script + page[end:]


def problem_page(problems: list[Problem], content_root: Path) -> bytes:
    """The page the preview shows while the content has errors: every problem, file:line:col first."""
    errors = [p for p in problems if p.severity == "error"] or problems
    items = "\n".join(
        f"<li><code>{html.escape(p.path)}:{p.line}:{p.column}</code> <code>{html.escape(p.field)}</code>: "
        f"{html.escape(p.message)}</li>"
        for p in errors
    )
    count = len(errors)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{count} problem{'s' if count != 1 else ''} in the content</title>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;margin:2rem;max-width:70rem}"
        "li{margin:.4rem 0}code{background:#f3f3f3;padding:0 .2rem}h1{color:#b00020}</style></head>\n"
        f'<body><h1 class="kb-problems">{count} problem{"s" if count != 1 else ""} in '
        f"{html.escape(shown_path(content_root))}</h1>\n"
        "<p>The preview shows the site again as soon as the content is valid.</p>\n"
        f'<ol class="kb-problem-list">\n{items}\n</ol>\n</body></html>\n'
    ).encode()


@dataclass
class Update:
    """What one step changed, for the terminal."""

    step: str
    """`quick`, `whole` or `unchanged`."""
    pages: list[str] = field(default_factory=list)
    """Markdown sources rewritten (docs-relative)."""
    problems: list[Problem] = field(default_factory=list)
    """Every problem found (errors and warnings)."""
    reloaded: bool = False
    """Whether the configuration (navigation, titles) was read again."""
    recovered: bool = False
    """Whether the content was failing before this step and is valid now."""


class Preview:
    """The state `kb serve` shows: valid pages, or the problem page; `version` grows with every change."""

    def __init__(
        self, content_root: Path, work_dir: Path, *, strict: bool = False, drafts: bool = False
    ) -> None:
        self.content_root = content_root
        self.export_dir = work_dir / "pages"
        self.site_dir = work_dir / "site"
        self.strict = strict
        self.drafts = drafts
        """Show draft entries (marked as drafts); left out by default, as in the published site."""
        self.kb: KnowledgeBase | None = None
        self.problems: list[Problem] = []
        self.site: LiveSite | None = None
        self.version = 1
        self._changed = threading.Condition()
        self._files: dict[str, bytes] = {}
        self._lock = threading.RLock()
        """Held while the state changes; a whole step's validation and rendering run outside it."""
        self._search: tuple[int, bytes] | None = None
        self._search_docs: dict[str, tuple[bytes, dict[str, object] | None]] = {}
        """Each page's search document, kept while its Markdown is unchanged."""
        self._generation = 0
        """Counts saves: a whole step that started before the latest one is stale."""

    # --- what the server asks ------------------------------------------------------------------------------
    @property
    def failing(self) -> bool:
        """Whether the content has errors (or warnings, when strict) and the problem page is shown."""
        return any(p.severity == "error" or self.strict for p in self.problems) or self.site is None

    def respond(self, uri: str) -> Served | None:
        """The file at site address `uri`, HTML pages with the reload script; the problem page while failing."""
        if self.failing and (uri.endswith(".html") or self.site is None):
            return Served(
                with_reload(problem_page(self.problems, self.content_root), self.version),
                "text/html; charset=utf-8",
            )
        assert self.site is not None
        if uri == SEARCH_INDEX:
            return Served(self.search_index(), "application/json")
        served = self.site.respond(uri)
        if served is not None and uri.endswith(".html"):
            return Served(with_reload(served.body, self.version), served.media_type)
        return served

    def search_index(self) -> bytes:
        """The search index of the preview, from the pages' Markdown (Material's is made from the built HTML
        of every page, which the preview never builds): titles and text match, snippets show Markdown."""
        with self._lock:
            if self._search is not None and self._search[0] == self.version:
                return self._search[1]
            assert self.site is not None
            docs = []
            for path, data in sorted(self._files.items()):
                cached = self._search_docs.get(path)
                if cached is None or cached[0] != data:
                    cached = (data, _search_doc(path, data))
                    self._search_docs[path] = cached
                if cached[1] is not None:
                    docs.append(cached[1])
            index = {"config": self.site.search_config(), "docs": docs}
            data = json.dumps(index, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            self._search = (self.version, data)
            return data

    def not_found(self) -> Served | None:
        """The theme's 404 page, with the reload script."""
        if self.site is None or self.failing:
            return None
        served = self.site.not_found()
        return None if served is None else Served(with_reload(served.body, self.version), served.media_type)

    def wait(self, after: int, timeout: float) -> int:
        """The version once it is greater than `after`, or the current one after `timeout` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self.version > after, timeout=timeout)
            return self.version

    def _publish(self) -> None:
        with self._changed:
            self.version += 1
            self._changed.notify_all()

    # --- the two steps -------------------------------------------------------------------------------------
    def whole(self) -> Update:
        """Validate the whole content, rewrite the pages that changed and show the result.

        The slow part (validation, rendering every page) runs outside the lock, so a quick step is never kept
        waiting for it; when a quick step has shown a newer save meanwhile, this result is dropped (`stale`)
        and the next whole step, which that save asked for, does the work.
        """
        generation = self._generation
        kb, problems = check_content(self.content_root)
        files = None
        if kb is not None and not (self.strict and problems):
            kb = kb if self.drafts else kb.without_drafts()
            files = export_files(kb)
        with self._lock:
            if generation != self._generation:
                return Update("stale", problems=problems)
            was_failing = self.failing and self.site is not None
            self.problems = problems
            if kb is None or files is None:
                self._publish()
                return Update("whole", problems=problems)
            result = write_export(files, self.export_dir)
            self._files = files
            self.kb = kb
            changed = {path.removeprefix(f"{PAGES_DIR}/") for path in (*result.written, *result.removed)}
            pages = sorted(path for path in changed if path.endswith(".md"))
            reloaded = False
            if self.site is None:
                self.site = LiveSite(self.export_dir / CONFIG_FILE, self.site_dir)
                reloaded = True
            elif CONFIG_FILE in changed or result.removed or not self.site.has(set(pages)):
                self.site.reload()
                reloaded = True
            else:
                self.site.invalidate(set(pages))
            if changed or was_failing or reloaded:
                self._publish()
            step = "whole" if changed or was_failing else "unchanged"
            return Update(step, pages, problems, reloaded, was_failing)

    def saved(self) -> None:
        """Note a save the quick step does not handle: any whole step already under way is older than it."""
        with self._lock:
            self._generation += 1

    def quick(self, path: Path) -> Update | None:
        """The quick step for one changed entry file; None when it does not apply (the whole step will do)."""
        with self._lock:
            self._generation += 1  # any whole step already under way is older than this save
            return self._quick(path)

    def _quick(self, path: Path) -> Update | None:
        kb = self.kb
        shown = shown_path(path)
        # Errors elsewhere need the whole step; errors in this very file may be what the edit fixes.
        elsewhere = any(p.path != shown for p in self.problems if p.severity == "error" or self.strict)
        if kb is None or self.site is None or elsewhere or not path.is_file():
            return None
        old = next((e for e in kb.entries if e.path == shown), None)
        if old is None:
            return None
        try:
            entry, problems = _check_one(path, kb)
        except (KbError, TypeError, AttributeError, KeyError, ValueError):  # a check this file trips up
            return None
        if any(p.severity == "error" or self.strict for p in problems):
            self.problems = problems
            self._publish()
            return Update("quick", problems=problems)
        if entry is None or entry.id != old.id or (entry.is_draft and not self.drafts):
            return None
        entries = tuple(entry if e.id == old.id else e for e in kb.entries)
        new_kb = replace(kb, entries=entries)
        source = entry_page(entry.id)
        markdown = render_entry(entry, new_kb).encode("utf-8")
        key = f"{PAGES_DIR}/{source}"
        recovered = self.failing
        self.problems = problems
        if self._files.get(key) == markdown:
            if recovered:
                self._publish()
            return Update("quick" if recovered else "unchanged", problems=problems, recovered=recovered)
        (self.export_dir / key).write_bytes(markdown)
        self._files[key] = markdown
        self.kb = new_kb
        self.site.invalidate({source})
        self._publish()
        return Update("quick", [source], problems, recovered=recovered)


def _check_one(path: Path, kb: KnowledgeBase) -> tuple[Entry | None, list[Problem]]:
    """One entry file read and checked as `check_content` checks it, against the rest of `kb`.

    Cross-entry checks that need every file (a name declared twice, an id used twice, links to this entry
    from the others) are the whole step's.
    """
    doc, problems = validate.read_entry(path)
    if doc is None:
        return None, problems
    context = validate.EntryContext(
        kb.taxonomy,
        set(kb.products_by_id),
        set(kb.references_by_id),
        set(kb.by_id),
        {**kb.code_names, **validate.declared_names([doc], [])},
        governance.Roster.edited(kb, doc.data),
        date.today(),
    )
    source = SourceText(doc, path)
    entry, found = validate.check_entry(source, context)
    links = link_problems([(doc, entry, source)], kb.taxonomy, kb.references_by_id, others=kb.entries)
    return entry, problems + found + links


def _search_doc(path: str, data: bytes) -> dict[str, object] | None:
    """A search index document for an exported page (`docs/x.md`); None for other files and excluded pages."""
    if not path.startswith(f"{PAGES_DIR}/") or not path.endswith(".md"):
        return None
    text = data.decode("utf-8")
    meta: dict[str, object] = {}
    if text.startswith("---\n") and "\n---\n" in text[4:]:
        head, text = text[4:].split("\n---\n", 1)
        loaded = yaml.safe_load(head)
        meta = loaded if isinstance(loaded, dict) else {}
    search = meta.get("search") if isinstance(meta.get("search"), dict) else {}
    assert isinstance(search, dict)
    if search.get("exclude"):
        return None
    location = path.removeprefix(f"{PAGES_DIR}/").removesuffix(".md") + ".html"
    doc: dict[str, object] = {
        "location": location,
        "title": html.unescape(str(meta.get("title", location))),
        "text": text,
    }
    if "boost" in search:
        doc["boost"] = search["boost"]
    return doc
