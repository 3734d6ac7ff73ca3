"""Entries to Markdown pages: pure functions, independent of MkDocs, so another generator can reuse them."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from build_kb.core.codes import Code
from build_kb.core.codeview import CodeView, code_url, code_views, known_label, message_key
from build_kb.core.dictionary import ATTRIBUTION, KnownCode
from build_kb.core.errors import RenderError
from build_kb.core.model import CodeRef, Entry, KnowledgeBase, Phase, Source
from build_kb.site import markdown_text as md


def entry_page(entry_id: str) -> str:
    """Source path of an entry page."""
    return f"entries/{entry_id}.md"


def phase_page(phase_id: str, method_id: str | None = None) -> str:
    """Source path of a phase page, or of one of its methods."""
    return f"phases/{phase_id}/{method_id or 'index'}.md"


def code_page(hex_code: str) -> str:
    """Source path of a code's own page (canonical hex); `codeview.code_url` is its address."""
    return code_url(hex_code).removesuffix(".html") + ".md"


def link(source: str, target: str, label: str) -> str:
    """A Markdown link from page `source` to page `target`, both site-relative source paths."""
    up = source.count("/")
    return f"[{md.text(label)}]({'../' * up}{target})"


def front_matter(title: str, *, boost: float | None = None, exclude: bool = False, extra: str = "") -> str:
    """YAML front matter; titles are escaped here because themes print them into HTML unescaped."""
    safe_title = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    lines = ["---", f"title: {_yaml_quote(safe_title)}"]
    if exclude:
        lines.append("search:\n  exclude: true")
    elif boost is not None:
        lines.append(f"search:\n  boost: {boost}")
    if extra:
        lines.append(extra)
    return "\n".join([*lines, "---", ""])


def _yaml_quote(value: str) -> str:
    """A YAML double-quoted string on one line: a line break in a title must not end the front matter."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _YAML_BREAKS.sub(lambda found: f"\\u{ord(found.group()):04x}", escaped) + '"'


_YAML_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
"""Control characters and line breaks (YAML counts NEL, LS and PS as line breaks), written as escapes."""


def code_notation_table(ref: CodeRef, source: str) -> str:
    """Every notation of one code as an entry lists it, as a small table the browser's search finds."""
    return notation_table(CodeView.of(Code(ref.value), [ref]), source, ref.code, ref.note)


def notation_table(view: CodeView, source: str, written: str, note: str | None = None) -> str:
    """A code's notations, names and messages as a table under a heading linking the code's page."""
    rows = [
        ("As shown", md.code_span(written)),
        ("Hex", f"{md.code_span(view.hex)} {md.code_span(view.bare_hex)}"),
        (
            "Decimal",
            f"{md.code_span(str(view.signed))} (signed) {md.code_span(str(view.unsigned))} (unsigned)",
        ),
    ]
    if view.from_win32 is not None:
        rows.append(("Win32", f"{md.code_span(view.from_win32)} {md.code_span(str(view.win32))}"))
    rows.append(("Facility", f"{view.facility_number} {md.text(view.facility)}"))
    if view.names:
        rows.append(("Name", " ".join(md.code_span(n) for n in view.names)))
    if also := [s for s in view.shown_as if s != written]:
        rows.append(("Also printed as", " ".join(md.code_span(s) for s in also)))
    documented = view.known_messages
    said = {message_key(k.message or "") for k in documented}
    # An entry's message that the dictionary gives too is shown once, in the dictionary's row with its name.
    for message in view.messages:
        if message_key(message) not in said:
            rows.append(("System message", _message_text(message)))
    for known in documented:
        rows.append(("Documented as", _documented(view, known)))
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    heading = f"### {link(source, code_page(view.hex), view.hex)} {{ #{view.hex.lower()} }}"
    body = f"\n\n{md.prose(note)}" if note else ""
    return f"{heading}\n\n| Notation | Value |\n|---|---|\n{table}{body}"


def _message_text(message: str) -> str:
    """A message as table-cell Markdown: shown as written (placeholders such as %1 kept), lines kept apart."""
    return "<br>".join(md.text(line) for line in message.splitlines())


def _documented(view: CodeView, known: KnownCode, *, first_paragraph: bool = False) -> str:
    """The dictionary's name and message of a code: `` `ERROR_ACCESS_DENIED` (Win32 error 5) → Access is denied.``"""
    message = known.message or ""
    if first_paragraph:
        message = message.split("\n", 1)[0]
    label = known_label(known, view.value)
    return f"{md.code_span(known.name)} ({md.text(label)}) → {_message_text(message)}"


def attribution() -> str:
    """The dictionary's attribution notice in small print, left out of the site's search."""
    return f"{md.text(ATTRIBUTION)}\n{{ .kb-attribution data-search-exclude }}"


def _bullets(items: Iterable[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def render_entry(entry: Entry, kb: KnowledgeBase) -> str:
    """The Markdown page of one entry."""
    source = entry_page(entry.id)
    phase = kb.phases_by_id[entry.phase]
    method = phase.method(entry.method) if entry.method else None
    where = link(source, phase_page(phase.id), phase.title)
    if method:
        where += " › " + link(source, phase_page(phase.id, method.id), method.title)
    products = ", ".join(md.text(kb.products_by_id[p].name) for p in entry.applies_to)
    parts = [
        front_matter(entry.title, boost=0.5 if entry.is_retired else 2),
        f"# {md.text(entry.title)}",
        status_notice(entry, kb, source),
        md.prose(entry.summary),
        f"**Phase:** {where} · **Applies to:** {products}",
    ]
    views = [CodeView.of(Code(ref.value), [ref]) for ref in entry.codes]
    if entry.codes:
        parts.append("## Error codes")
        parts += [
            notation_table(v, source, ref.code, ref.note) for v, ref in zip(views, entry.codes, strict=True)
        ]
    if entry.related_codes:
        related_views = [
            CodeView.of(Code(r.value), names=[r.name] if r.name else []) for r in entry.related_codes
        ]
        views += related_views
        parts.append("## Codes with the same fix")
        parts.append(
            _bullets(
                f"{md.code_span(view.hex)}"
                + (f" {md.code_span(view.name)}" if view.name else "")
                + (f" (shown as {md.code_span(r.code)})" if r.code != view.hex else "")
                + f": {md.prose(r.reason)}"
                for r, view in zip(entry.related_codes, related_views, strict=True)
            )
        )
    if entry.messages:
        parts.append("## What you see")
        for message in entry.messages:
            label = kb.taxonomy.vocabularies.label("where", message.where)
            parts.append(f'!!! quote "{md.text(label)}"\n\n{md.code_block(message.text, indent="    ")}')
    if entry.log_patterns:
        parts.append("## In the logs")
        for pattern in entry.log_patterns:
            kind = "a line matching the regular expression" if pattern.regex else "a line containing"
            log = kb.taxonomy.vocabularies.label("log", pattern.log) if pattern.log else "Any log"
            parts.append(f"- {md.text(log)}: {kind} {md.code_span(pattern.pattern)}")
    parts += ["## Why it happens", _bullets(md.prose(c) for c in entry.causes), "## What to do"]
    steps = []
    for number, action in enumerate(entry.actions, start=1):
        step = f"{number}. {md.prose(action.step)}"
        if action.command:
            shell = kb.taxonomy.vocabularies.term("shell", action.shell) if action.shell else None
            language = (shell.highlight if shell else None) or "text"
            step += "\n\n" + md.code_block(action.command, language, indent="    ")
        steps.append(step)
    parts.append("\n\n".join(steps))
    if entry.escalation:
        parts.append("## If that does not help")
        if entry.escalation.collect:
            parts.append("Collect:\n\n" + _bullets(md.prose(c) for c in entry.escalation.collect))
        parts.append(f"Then contact **{md.text(entry.escalation.contact)}**.")
        if entry.escalation.note:
            parts.append(md.prose(entry.escalation.note))
    if entry.corrections:
        parts.append("## Corrections to the source")
        for fix in entry.corrections:
            body = (
                f"The source says: {md.code_span(fix.source_says)}\n\nCorrect: {md.code_span(fix.correct)}\n\n"
                f"{md.prose(fix.why)}"
            )
            parts.append(f'!!! warning "Corrected"\n\n{md.indent(body)}')
    related = [kb.by_id[r] for r in entry.related]
    backlinks = [e for e in kb.backlinks.get(entry.id, ()) if e.id not in entry.related]
    if related or backlinks:
        parts.append("## Related")
        parts += [
            _bullets(f"{link(source, entry_page(e.id), e.title)}: {md.prose(e.summary)}" for e in related)
        ]
        if backlinks:
            parts += ["Linked from:", _bullets(link(source, entry_page(e.id), e.title) for e in backlinks)]
    if entry.references:
        parts.append("## References")
        refs = [kb.references_by_id[r] for r in entry.references]
        parts.append(
            _bullets(f"[{md.text(r.title)}]({r.url})" if r.url else f"*{md.text(r.title)}*" for r in refs)
        )
    tags = " ".join(f"[{md.text(t)}](../tags.md#{md.anchor(t)})" for t in entry.tags)
    footer = [f"**Source:** {_source_line(entry.source)}"] if entry.source else []
    footer += [f"**Tags:** {tags}"] if tags else []
    if footer:
        parts.append("---\n\n" + "\n\n".join(footer))
    if any(view.known for view in views):
        parts.append(attribution())
    return "\n\n".join(p for p in parts if p) + "\n"


def status_notice(entry: Entry, kb: KnowledgeBase, source: str) -> str:
    """The admonition atop a retired entry's page (pointing at its replacement) or a draft's; else nothing.

    A retired entry keeps its address, so links in old tickets and bookmarks still lead somewhere useful.
    """
    if entry.is_retired:
        replacement = kb.replacement(entry)
        where = (
            f"See {link(source, entry_page(replacement.id), replacement.title)} instead."
            if replacement
            else "Nothing replaces it."
        )
        return f'!!! warning "Retired"\n\n    This entry is retired and kept for old links. {where}'
    if entry.is_draft:
        return '!!! note "Draft"\n\n    This entry is a draft: the published site does not show it yet.'
    return ""


def _source_line(source: Source) -> str:
    described = md.text(source.describe())
    if source.url and source.describe() != source.url:
        return f"[{described}]({source.url})"
    return f"<{source.url}>" if source.url else described


def _listing_note(entry: Entry) -> str:
    """What a listing says after a retired entry's or a draft's title."""
    return " *(retired)*" if entry.is_retired else " *(draft)*" if entry.is_draft else ""


def _entry_listing(entries: Iterable[Entry], source: str) -> str:
    lines = []
    # Retired entries come last: they are kept for old links, not offered first.
    for entry in sorted(entries, key=lambda e: e.is_retired):
        codes = " ".join(md.code_span(Code(ref.value).hex) for ref in entry.codes)
        lines.append(
            f"- **{link(source, entry_page(entry.id), entry.title)}**{_listing_note(entry)} {codes}"
            f"\n\n    {md.prose(entry.summary)}"
        )
    return "\n\n".join(lines) or "*No entries yet.*"


def render_phase(phase: Phase, kb: KnowledgeBase, method_id: str | None = None) -> str:
    """A phase page (its methods and entries), or the page of one method."""
    source = phase_page(phase.id, method_id)
    if method_id:
        method = phase.method(method_id)
        assert method is not None
        title, summary = method.title, method.summary
        body = [
            f"Part of {link(source, phase_page(phase.id), phase.title)}.",
            _entry_listing(kb.phase_entries(phase.id, method_id), source),
        ]
    else:
        title, summary = phase.title, phase.summary
        body = []
        for method in phase.methods:
            body += [
                f"## {link(source, phase_page(phase.id, method.id), method.title)}",
                md.prose(method.summary),
            ]
            body.append(_entry_listing(kb.phase_entries(phase.id, method.id), source))
        if not phase.methods:
            body.append(_entry_listing(kb.phase_entries(phase.id), source))
    return "\n\n".join([front_matter(title), f"# {md.text(title)}", md.prose(summary), *body]) + "\n"


def render_home(kb: KnowledgeBase) -> str:
    """The home page: what is covered, the phases in order with links, and a code lookup box."""
    source = "index.md"
    steps = []
    for number, phase in enumerate(kb.taxonomy.phases, start=1):
        count = len(kb.phase_entries(phase.id))
        steps.append(
            f"-   **{number}. {link(source, phase_page(phase.id), phase.short_title)}**\n\n"
            f"    ---\n\n    {md.prose(phase.summary)}\n\n    *{count} entr{'y' if count == 1 else 'ies'}*"
        )
    products = ", ".join(md.text(p.name) for p in kb.taxonomy.products)
    # The examples come from the content set's YAML: escaped for an attribute value.
    placeholder = html.escape(", ".join([*kb.lookup_examples, "a symbolic name"]), quote=True)
    lookup = (
        '<form class="kb-lookup" data-kb-lookup role="search">\n'
        '<label for="kb-lookup-input">Look up an error code</label>\n'
        '<input id="kb-lookup-input" name="code" autocomplete="off" spellcheck="false" '
        f'placeholder="{placeholder}">\n'
        '<button type="submit">Look up</button>\n<output class="kb-lookup-result" aria-live="polite"></output>\n'
        "</form>"
    )
    return (
        "\n\n".join(
            [
                front_matter(kb.taxonomy.title, boost=0.5),
                f"# {md.text(kb.taxonomy.title)}",
                md.prose(kb.taxonomy.description),
                lookup,
                f"Or browse the {link(source, 'codes/index.md', 'error-code index')} — every code with its hex, decimal "
                f"and symbolic forms — or search from the bar at the top. Covers: {products}.",
                f"## {md.text(kb.taxonomy.phases_heading)}",
                '<div class="grid cards kb-flow" markdown>\n\n' + "\n\n".join(steps) + "\n\n</div>",
            ]
        )
        + "\n"
    )


def render_code_index(kb: KnowledgeBase) -> str:
    """Every code, sorted, with its notations and links to its entries."""
    source = "codes/index.md"
    lines = [
        "| Code | Decimal (signed, unsigned) | Win32 | Name | Facility | Message | Entries |",
        "|---|---|---|---|---|---|---|",
    ]
    views = code_views(kb)
    for view in views:
        win32 = md.code_span(view.from_win32) if view.from_win32 else ""
        names = "<br>".join(md.code_span(n) for n in view.names)
        entries = "<br>".join(link(source, entry_page(e.id), e.title) for e in view.entries)
        decimal = f"`{view.signed}`<br>`{view.unsigned}`"
        facility = f"{view.facility_number} {md.text(view.facility)}"
        # The first paragraph of each message: the code's page has the whole text.
        documented = "<br>".join(_documented(view, k, first_paragraph=True) for k in view.known_messages)
        if not documented and view.messages:
            documented = _message_text(view.messages[0])
        cells = [
            link(source, code_page(view.hex), view.hex),
            decimal,
            win32,
            names,
            facility,
            documented,
            entries,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    intro = (
        "Every error code in the knowledge base. Each code has its own page at a stable address, "
        "`codes/0x........html`, to link from tickets. Names and messages come from the entries and from the "
        "offline error-code dictionary."
    )
    hide = "hide:\n  - navigation\n  - toc"
    return (
        "\n\n".join(
            part
            for part in [
                front_matter("Error-code index", exclude=True, extra=hide),
                "# Error-code index",
                intro,
                "\n".join(lines),
                attribution() if any(view.known for view in views) else "",
            ]
            if part
        )
        + "\n"
    )


def render_code(view: CodeView, kb: KnowledgeBase) -> str:
    """The stable page of one code: its notations and every entry carrying it."""
    source = code_page(view.hex)
    entries = [kb.by_id[e.id] for e in view.entries]
    table = notation_table(view, source, view.shown_as[0] if view.shown_as else view.hex)
    return (
        "\n\n".join(
            part
            for part in [
                front_matter(view.hex, exclude=True),
                f"# {view.hex}",
                table.split("\n\n", 1)[1],
                "## Entries",
                _entry_listing(entries, source),
                f"Back to the {link(source, 'codes/index.md', 'error-code index')}.",
                attribution() if view.known else "",
            ]
            if part
        )
        + "\n"
    )


def render_tags(kb: KnowledgeBase) -> str:
    """Every tag with its entries."""
    source = "tags.md"
    tags: dict[str, list[Entry]] = {}
    for entry in kb.entries:
        for tag in entry.tags:
            tags.setdefault(tag, []).append(entry)
    parts = [front_matter("Tags", exclude=True), "# Tags"]
    for tag in sorted(tags):
        parts += [
            f"## {md.text(tag)} {{ #{md.anchor(tag)} }}",
            _bullets(link(source, entry_page(e.id), e.title) for e in tags[tag]),
        ]
    return "\n\n".join(parts) + "\n"


def render_pages(kb: KnowledgeBase) -> dict[str, str]:
    """Every generated page, by source path, in a stable order (home, phases, entries, codes, tags)."""
    pages = {"index.md": render_home(kb)}
    for phase in kb.taxonomy.phases:
        pages[phase_page(phase.id)] = render_phase(phase, kb)
        for method in phase.methods:
            pages[phase_page(phase.id, method.id)] = render_phase(phase, kb, method.id)
    for entry in kb.entries:
        try:
            pages[entry_page(entry.id)] = render_entry(entry, kb)
        except Exception as error:  # any failure is reported against the entry's YAML file
            raise RenderError(entry.path, f"{type(error).__name__}: {error}") from error
    pages["codes/index.md"] = render_code_index(kb)
    for view in code_views(kb):
        pages[code_page(view.hex)] = render_code(view, kb)
    pages["tags.md"] = render_tags(kb)
    return pages


NAV_ENTRY_LIMIT = 60
"""A phase or method with more entries than this lists only its own page in the navigation.

mkdocs-material writes the open section's whole navigation into every page of it: with thousands of
entries in one section, each page would carry thousands of links (10,000 entries gave 1.2 MB pages and a
13 GB site). The phase or method page lists its entries in any case.
"""


def _nav_group(entries: Iterable[Entry]) -> list[str]:
    listed = list(entries)
    return [entry_page(e.id) for e in listed] if len(listed) <= NAV_ENTRY_LIMIT else []


def navigation(kb: KnowledgeBase) -> list[object]:
    """The MkDocs `nav`: home, one section per phase (methods nested, entries inside), then the indexes."""
    nav: list[object] = [{"Home": "index.md"}]
    for phase in kb.taxonomy.phases:
        section: list[object] = [phase_page(phase.id)]
        if phase.methods:
            for method in phase.methods:
                items = [phase_page(phase.id, method.id), *_nav_group(kb.phase_entries(phase.id, method.id))]
                section.append({method.title: items})
        else:
            section += _nav_group(kb.phase_entries(phase.id))
        nav.append({phase.short_title: section})
    nav += [{"Error codes": "codes/index.md"}, {"Tags": "tags.md"}, {"Authoring": "authoring.md"}]
    return nav


def nav_paths(nav: list[object]) -> set[str]:
    """Every page path a `nav` as returned by `navigation` names."""
    found: set[str] = set()
    pending: list[object] = list(nav)
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            found.add(item)
        elif isinstance(item, dict):
            pending += item.values()
        elif isinstance(item, list):
            pending += item
    return found
