"""Entries to Markdown pages: pure functions, independent of MkDocs, so another generator can reuse them."""

from __future__ import annotations

from collections.abc import Iterable

from build_kb.site import markdown_text as md
from build_kb.core.codes import Code
from build_kb.core.codeview import code_rows
from build_kb.core.model import CodeRef, Entry, KnowledgeBase, Phase

WHERE_LABELS = {
    "slmgr": "slmgr.vbs (Windows Script Host)",
    "slui": "slui.exe",
    "vamt": "Volume Activation Management Tool (VAMT)",
    "wusa": "Windows Update Standalone Installer (wusa.exe)",
    "windows-update": "Windows Update",
    "cbs-log": "CBS.log",
    "installer": "Installer",
    "wsus": "WSUS / compliance tools",
    "other": "Shown",
}
SHELL_LANGUAGES = {"cmd": "bat", "powershell": "powershell", "regedit": "text", "text": "text"}


def entry_page(entry_id: str) -> str:
    """Source path of an entry page."""
    return f"entries/{entry_id}.md"


def phase_page(phase_id: str, method_id: str | None = None) -> str:
    """Source path of a phase page, or of one of its methods."""
    return f"phases/{phase_id}/{method_id or 'index'}.md"


def code_page(code: Code) -> str:
    """Source path of a code's own page (stable URL for tickets: `codes/0xC004F050.html`)."""
    return f"codes/{code.hex}.md"


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
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def code_notation_table(ref: CodeRef, source: str) -> str:
    """Every notation of one code as a small table, searchable by the browser's search."""
    code = Code(ref.value)
    rows = [
        ("As shown", md.code_span(ref.code)),
        ("Hex", f"{md.code_span(code.hex)} {md.code_span(code.bare_hex)}"),
        (
            "Decimal",
            f"{md.code_span(str(code.signed))} (signed) {md.code_span(str(code.unsigned))} (unsigned)",
        ),
    ]
    if code.win32 is not None:
        rows.append(
            ("Win32", f"{md.code_span(f'HRESULT_FROM_WIN32({code.win32})')} {md.code_span(str(code.win32))}")
        )
    rows.append(("Facility", f"{code.facility} {md.text(code.facility_name)}"))
    if ref.names:
        rows.append(("Name", " ".join(md.code_span(n) for n in ref.names)))
    if ref.shown_as:
        rows.append(("Also printed as", " ".join(md.code_span(s) for s in ref.shown_as)))
    if ref.message:
        rows.append(("System message", md.text(ref.message)))
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    heading = f"### {link(source, code_page(code), code.hex)} {{ #{code.hex.lower()} }}"
    note = f"\n\n{md.prose(ref.note)}" if ref.note else ""
    return f"{heading}\n\n| Notation | Value |\n|---|---|\n{table}{note}"


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
        front_matter(entry.title, boost=2),
        f"# {md.text(entry.title)}",
        md.prose(entry.summary),
        f"**Phase:** {where} · **Applies to:** {products}",
    ]
    if entry.codes:
        parts += ["## Error codes", *(code_notation_table(ref, source) for ref in entry.codes)]
    if entry.messages:
        parts.append("## What you see")
        for message in entry.messages:
            label = WHERE_LABELS.get(message.where, message.where)
            parts.append(f'!!! quote "{md.text(label)}"\n\n{md.code_block(message.text, indent="    ")}')
    if entry.log_patterns:
        parts.append("## In the logs")
        for pattern in entry.log_patterns:
            kind = "a line matching the regular expression" if pattern.regex else "a line containing"
            log = WHERE_LABELS.get(pattern.log, pattern.log) if pattern.log else "Any log"
            parts.append(f"- {log}: {kind} {md.code_span(pattern.pattern)}")
    parts += ["## Why it happens", _bullets(md.prose(c) for c in entry.causes), "## What to do"]
    steps = []
    for number, action in enumerate(entry.actions, start=1):
        step = f"{number}. {md.prose(action.step)}"
        if action.command:
            language = SHELL_LANGUAGES.get(action.shell or "text", "text")
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
    source_line = f"**Source:** {md.text(entry.source.document)}, section “{md.text(entry.source.section)}”"
    parts.append("---\n\n" + source_line + (f"\n\n**Tags:** {tags}" if tags else ""))
    return "\n\n".join(p for p in parts if p) + "\n"


def _entry_listing(entries: Iterable[Entry], source: str) -> str:
    lines = []
    for entry in entries:
        codes = " ".join(md.code_span(Code(ref.value).hex) for ref in entry.codes)
        lines.append(
            f"- **{link(source, entry_page(entry.id), entry.title)}** {codes}\n\n    {md.prose(entry.summary)}"
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
    """The home page: what is covered, the deployment flow linking each phase, and a code lookup box."""
    source = "index.md"
    steps = []
    for number, phase in enumerate(kb.taxonomy.phases, start=1):
        count = len(kb.phase_entries(phase.id))
        steps.append(
            f"-   **{number}. {link(source, phase_page(phase.id), phase.short_title)}**\n\n"
            f"    ---\n\n    {md.prose(phase.summary)}\n\n    *{count} entr{'y' if count == 1 else 'ies'}*"
        )
    products = ", ".join(md.text(p.name) for p in kb.taxonomy.products)
    lookup = (
        '<form class="kb-lookup" data-kb-lookup role="search">\n'
        '<label for="kb-lookup-input">Look up an error code</label>\n'
        '<input id="kb-lookup-input" name="code" autocomplete="off" spellcheck="false" '
        'placeholder="0xC004F050, 80070643, -1073418160, HRESULT_FROM_WIN32(1633), a symbolic name">\n'
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
                "## Deployment flow",
                '<div class="grid cards kb-flow" markdown>\n\n' + "\n\n".join(steps) + "\n\n</div>",
            ]
        )
        + "\n"
    )


def render_code_index(kb: KnowledgeBase) -> str:
    """Every code, sorted, with its notations and links to its entries."""
    source = "codes/index.md"
    lines = [
        "| Code | Decimal (signed, unsigned) | Win32 | Name | Facility | Entries |",
        "|---|---|---|---|---|---|",
    ]
    for row in code_rows(kb):
        code = Code(row["unsigned"])
        win32 = md.code_span(f"HRESULT_FROM_WIN32({row['win32']})") if row["win32"] is not None else ""
        names = "<br>".join(md.code_span(n) for n in row["names"])
        entries = "<br>".join(link(source, entry_page(e["id"]), e["title"]) for e in row["entries"])
        decimal = f"`{row['signed']}`<br>`{row['unsigned']}`"
        facility = f"{row['facility_number']} {row['facility']}"
        cells = [link(source, code_page(code), code.hex), decimal, win32, names, facility, entries]
        lines.append("| " + " | ".join(cells) + " |")
    intro = (
        "Every error code in the knowledge base. Each code has its own page at a stable address, "
        "`codes/0x........html`, to link from tickets."
    )
    hide = "hide:\n  - navigation\n  - toc"
    return (
        "\n\n".join(
            [
                front_matter("Error-code index", exclude=True, extra=hide),
                "# Error-code index",
                intro,
                "\n".join(lines),
            ]
        )
        + "\n"
    )


def render_code(row: dict[str, object], kb: KnowledgeBase) -> str:
    """The stable page of one code: its notations and every entry carrying it."""
    code = Code(int(str(row["unsigned"])))
    source = code_page(code)
    refs = kb.code_refs(code.value)
    entries = kb.entries_by_code[code.value]
    tables = code_notation_table(refs[0], source).split("\n\n", 1)[1]
    return (
        "\n\n".join(
            [
                front_matter(f"{code.hex}", exclude=True),
                f"# {code.hex}",
                tables,
                "## Entries",
                _entry_listing(entries, source),
                f"Back to the {link(source, 'codes/index.md', 'error-code index')}.",
            ]
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
        pages[entry_page(entry.id)] = render_entry(entry, kb)
    pages["codes/index.md"] = render_code_index(kb)
    for row in code_rows(kb):
        pages[code_page(Code(row["unsigned"]))] = render_code(row, kb)
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
