"""Links inside prose fields, checked against the pages the site will have, each at its line and column.

Prose is Markdown, and an entry page lives at `entries/<id>.md`, so a link from one entry to another is
written `../entries/<id>.md` (or `<id>.md`), to a section of it `../entries/<id>.md#what-to-do`, to a section
of the same page `#what-to-do`, to a code's page `../codes/0xC004F050.md`. markdown-it-py finds the links as
the renderers will; this module says which of them lead nowhere:

- an entry, code, phase or page the site does not have, or an anchor the page does not have;
- a draft, from a published or retired entry (the published site leaves drafts out): an error;
- a retired entry: a warning (readers get there, but its replacement is the better link);
- a link in `summary`, which is also shown on phase and code pages, where a relative link breaks;
- an absolute path (`/entries/...`), which breaks under a sub-path and from disk;
- a reference-style link (`[text][label]`) whose label the field does not define: it shows as plain text.

Links with a scheme (`https:`, `mailto:`) are outside addresses and left alone here.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.token import Token

from build_kb.content.load import Document, FieldPath, values_at
from build_kb.content.locate import SourceText
from build_kb.content.markup import ENTRY_PROSE
from build_kb.core.codes import Code
from build_kb.core.errors import Problem
from build_kb.core.model import Entry, Taxonomy

LINK_FIELDS: tuple[FieldPath, ...] = ENTRY_PROSE
"""The fields rendered as Markdown, in the order an entry page shows them (markup checks the same ones)."""
LISTED_FIELDS = frozenset({"summary"})
"""Fields shown on other pages too (phase and code listings), where a relative link would break."""

_markdown = MarkdownIt("commonmark")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_UNDEFINED_REFERENCE = re.compile(r"\[([^\[\]]+)\]\[([^\[\]]*)\]")
_ENTRY_PAGE = re.compile(r"entries/([^/]+)\.md")
_CODE_PAGE = re.compile(r"codes/([^/]+)\.md")
_PHASE_PAGE = re.compile(r"phases/([^/]+)/([^/]+)\.md")
_OTHER_PAGES = frozenset({"index.md", "codes/index.md", "tags.md", "authoring.md"})
_SHOWN_ANCHORS = 8


def slug(text: str) -> str:
    """A heading's id as Python-Markdown's `toc` extension makes it (its default `slugify`)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^\w\s-]", "", ascii_text).strip().lower()
    return re.sub(r"[-\s]+", "-", cleaned)


def _unique(ident: str, used: set[str]) -> str:
    """`toc`'s way of telling equal headings apart: `what-to-do`, then `what-to-do_1`, `what-to-do_2`."""
    while ident in used or not ident:
        match = re.fullmatch(r"(.*)_([0-9]+)", ident)
        ident = f"{match.group(1)}_{int(match.group(2)) + 1}" if match else f"{ident}_1"
    used.add(ident)
    return ident


def _prose_headings(entry: Entry) -> Iterator[str]:
    texts = [entry.summary, *entry.causes, *(action.step for action in entry.actions)]
    for text in texts:
        if "#" not in text:
            continue
        tokens = _markdown.parse(text)
        for index, token in enumerate(tokens[:-1]):
            if token.type == "heading_open":
                yield "".join(child.content for child in tokens[index + 1].children or ())


def page_anchors(entry: Entry, backlinked: bool) -> frozenset[str]:
    """The ids of an entry page's headings, as `build_kb.site.render.render_entry` writes them.

    Arguments:
        entry: The entry.
        backlinked: Whether an entry not in its `related` lists it (the page then has a Related section).
    """
    explicit = {Code(ref.value).hex.lower() for ref in entry.codes}
    used = set(explicit)
    headings = [entry.title]
    headings += ["Error codes"] if entry.codes else []
    headings += ["Codes with the same fix"] if entry.related_codes else []
    headings += ["What you see"] if entry.messages else []
    headings += ["In the logs"] if entry.log_patterns else []
    headings += ["Why it happens", "What to do"]
    headings += ["If that does not help"] if entry.escalation else []
    headings += ["Corrections to the source"] if entry.corrections else []
    headings += ["Related"] if entry.related or backlinked else []
    headings += ["References"] if entry.references else []
    headings += list(_prose_headings(entry))
    return frozenset(explicit | {_unique(slug(text), used) for text in headings})


def prose_texts(entry: Entry) -> Iterator[str]:
    """The entry's Markdown texts, those of `LINK_FIELDS`, in page order."""
    yield entry.summary
    yield from entry.causes
    yield from (action.step for action in entry.actions)
    yield from (ref.note for ref in entry.codes if ref.note)
    if entry.escalation:
        yield from (text for text in (entry.escalation.note, *entry.escalation.collect) if text)
    yield from (correction.why for correction in entry.corrections)
    yield from (related.reason for related in entry.related_codes)


def linked_entry(href: str) -> str | None:
    """The id of the entry whose page a link from an entry page leads to, if it leads to one."""
    if not href or _SCHEME.match(href) or href.startswith(("/", "#")):
        return None
    path = unquote(href.partition("#")[0].partition("?")[0])
    found = _ENTRY_PAGE.fullmatch(posixpath.normpath(posixpath.join("entries", path)))
    return found.group(1) if found else None


@dataclass(frozen=True, slots=True)
class ProseLink:
    """A link as markdown-it reads it out of a prose field."""

    href: str
    """The destination, as the renderers receive it."""
    needles: tuple[str, ...]
    """What to look for in the YAML text to place it."""


def prose_links(text: str) -> tuple[list[ProseLink], list[str]]:
    """(links, labels of reference-style links without a definition) of a Markdown text, in text order."""
    if "[" not in text and "<" not in text:
        return [], []
    links: list[ProseLink] = []
    undefined: list[str] = []
    for token in _markdown.parse(text):
        for child in _inline_tokens(token):
            if child.type == "link_open":
                href = str(child.attrs.get("href", ""))
                links.append(ProseLink(href, (f"]({unquote(href)}", unquote(href), href)))
            elif child.type == "text":
                for match in _UNDEFINED_REFERENCE.finditer(child.content):
                    undefined.append(match.group(2) or match.group(1))
    return links, undefined


def _inline_tokens(token: Token) -> Iterable[Token]:
    return token.children or () if token.type == "inline" else ()


@dataclass
class SitePages:
    """The pages the published site will have, to resolve links against."""

    entries: Mapping[str, Entry]
    """Every entry by id, drafts included (a draft may link to a draft)."""
    taxonomy: Taxonomy
    references: frozenset[str] = frozenset()
    """Ids of references.yaml, named in a hint when a reference-style link uses one."""
    _anchors: dict[str, frozenset[str]] = field(default_factory=dict)
    _backlinked: set[str] = field(default_factory=set)
    _codes: frozenset[str] = frozenset()
    _tags: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        published = [e for e in self.entries.values() if not e.is_draft]
        for source in self.entries.values():
            for target_id in source.related:
                target = self.entries.get(target_id)
                # A published page lists no draft among the entries linking to it.
                if target is None or (source.is_draft and not target.is_draft):
                    continue
                if source.id not in target.related:
                    self._backlinked.add(target_id)
        self._codes = frozenset(Code(ref.value).hex for e in published for ref in e.codes)
        self._tags = frozenset(tag for e in published for tag in e.tags)

    def anchors(self, entry_id: str) -> frozenset[str]:
        """The heading ids of an entry's page."""
        if entry_id not in self._anchors:
            self._anchors[entry_id] = page_anchors(self.entries[entry_id], entry_id in self._backlinked)
        return self._anchors[entry_id]

    def check(self, entry: Entry, where: FieldPath, href: str) -> tuple[str, str] | None:
        """(severity, message) for a link from `entry`'s field `where` that leads nowhere; None when it works."""
        if not href.strip():
            return "error", "empty link target"
        if _SCHEME.match(href) or href.startswith("//"):
            return None
        if where[0] in LISTED_FIELDS:
            return "error", (
                f"a link in {where[0]} breaks where it is listed (phase and code pages): "
                "put it in causes or actions"
            )
        if href.startswith("/"):
            return "error", (
                f"'{href}' is an absolute path, which breaks under a sub-path and from disk; "
                "write it relative to the entry page (../entries/<id>.md)"
            )
        path, _, fragment = href.partition("#")
        path = unquote(path.partition("?")[0])
        if not path:
            return self._anchor(entry.id, fragment, "on this page")
        target = posixpath.normpath(posixpath.join("entries", path))
        if (found := _ENTRY_PAGE.fullmatch(target)) is not None:
            return self._entry_link(entry, found.group(1), fragment)
        if (found := _CODE_PAGE.fullmatch(target)) is not None and target != "codes/index.md":
            return self._code_link(found.group(1))
        if (found := _PHASE_PAGE.fullmatch(target)) is not None:
            return self._phase_link(found.group(1), found.group(2))
        if target == "tags.md" and fragment:
            return None if fragment in self._tags else ("error", f"no tag '{fragment}' on the tags page")
        if target in _OTHER_PAGES:
            return None
        hint = " (link the page's source: .md, not .html)" if target.endswith(".html") else ""
        return "error", f"'{href}' leads to {target}, which is no page of the site{hint}"

    def _entry_link(self, entry: Entry, target_id: str, fragment: str) -> tuple[str, str] | None:
        target = self.entries.get(target_id)
        if target is None:
            return "error", f"no entry has the id '{target_id}'"
        if target.is_draft and not entry.is_draft:
            return (
                "error",
                f"'{target_id}' is a draft, left out of the published outputs: publish it or drop the link",
            )
        if fragment:
            problem = self._anchor(target_id, fragment, f"on the page of '{target_id}'")
            if problem is not None:
                return problem
        if target.is_retired and target.replaced_by != entry.id and target_id != entry.id:
            better = f": link to '{target.replaced_by}' instead" if target.replaced_by else ""
            return "warning", f"'{target_id}' is retired{better}"
        return None

    def _anchor(self, entry_id: str, fragment: str, where: str) -> tuple[str, str] | None:
        anchors = self.anchors(entry_id)
        if unquote(fragment) in anchors:
            return None
        listed = sorted(anchors)
        shown = ", ".join(listed[:_SHOWN_ANCHORS]) + (", ..." if len(listed) > _SHOWN_ANCHORS else "")
        return "error", f"no anchor #{fragment} {where} (its anchors: {shown})"

    def _code_link(self, written: str) -> tuple[str, str] | None:
        if written in self._codes:
            return None
        for known in self._codes:
            if known.lower() == written.lower():
                return "error", f"the code's page is codes/{known}.md (canonical hex: 0x, then capitals)"
        return "error", f"no code page codes/{written}.md: no published entry carries that code"

    def _phase_link(self, phase_id: str, page: str) -> tuple[str, str] | None:
        phase = next((p for p in self.taxonomy.phases if p.id == phase_id), None)
        if phase is None:
            return "error", f"no phase '{phase_id}' in the taxonomy"
        if page != "index" and phase.method(page) is None:
            return "error", f"phase '{phase_id}' has no method '{page}'"
        return None

    def problems(self, doc: Document, entry: Entry, source: SourceText) -> list[Problem]:
        """Every link of the entry's prose fields that leads nowhere, at its line and column."""
        problems: list[Problem] = []
        for pattern in LINK_FIELDS:
            for where, text in values_at(doc.data, pattern):
                if not isinstance(text, str):
                    continue
                links, undefined = prose_links(text)
                after = 0
                for link in links:
                    found = self.check(entry, where, link.href)
                    if found is None:
                        _, after = source.find(where, link.needles, after)
                        continue
                    severity, message = found
                    problem, after = source.problem(
                        where, message, link.needles, severity=severity, after=after
                    )
                    problems.append(problem)
                for label in undefined:
                    message = f"[{label}] is a reference link without a definition in this field, so it shows as text"
                    if label.lower() in self.references:
                        message += f"; to cite the reference '{label.lower()}', list it under references"
                    problems.append(source.problem(where, message, (f"[{label}]",))[0])
        return problems


def link_problems(
    checked: Sequence[tuple[Document, Entry, SourceText]],
    taxonomy: Taxonomy,
    references: Iterable[str] = (),
    others: Iterable[Entry] = (),
) -> list[Problem]:
    """Every broken link in the prose of the entries (docs valid against the schema, entries built from them).

    Arguments:
        checked: The entries whose links are checked, with their documents and texts.
        taxonomy: The phases and methods links may lead to.
        references: Ids of references.yaml, for the hint of a reference-style link.
        others: Entries the site has besides `checked` (an entry of `checked` replaces one with its id).
    """
    pages = SitePages(
        {entry.id: entry for entry in (*others, *(entry for _, entry, _ in checked))},
        taxonomy,
        frozenset(references),
    )
    problems: list[Problem] = []
    for doc, entry, source in checked:
        problems += pages.problems(doc, entry, source)
    return problems
