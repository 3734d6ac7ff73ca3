"""Turn a content folder into a `KnowledgeBase`, or into every problem it has, each with its location."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import re2  # type: ignore[import-untyped]

from build_kb.content import governance
from build_kb.content.links import link_problems
from build_kb.content.load import Document, FieldPath, read_yaml
from build_kb.content.locate import SourceText
from build_kb.content.markup import hostile_content_problems
from build_kb.content.schemas import schema_problems
from build_kb.content.tree import ignored_file_problems, walk_content
from build_kb.core import codes, dictionary
from build_kb.core.codeview import message_key
from build_kb.core.errors import Problem, ValidationFailed
from build_kb.core.model import (
    DEFAULT_REVIEW_DAYS,
    Action,
    CodeRef,
    Correction,
    Entry,
    Escalation,
    KnowledgeBase,
    LogPattern,
    Message,
    Method,
    Phase,
    Product,
    Reference,
    RelatedCode,
    Source,
    Taxonomy,
    Term,
    Vocabularies,
)

TAXONOMY_FILE = "taxonomy.yaml"
REFERENCES_FILE = "references.yaml"


@dataclass(frozen=True)
class ContentSet:
    """Where a content set's files are."""

    root: Path
    taxonomy: Path
    references: Path
    entries: tuple[Path, ...]
    problems: tuple[Problem, ...] = ()
    """What finding the files met: links, special files, unreadable folders; stray and misnamed files."""


def shown_path(path: Path) -> str:
    """A path for messages: relative to the working folder when inside it, always with forward slashes."""
    try:
        # The folder is resolved, never the file: a link is shown where it is, not where it points.
        where = path.resolve() if path.name in ("", "..") else path.parent.resolve() / path.name
        return where.relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):
        return path.as_posix()


def find_content(root: Path) -> ContentSet:
    """The taxonomy, references and entry files of the content folder `root`.

    Entries are the `*.yaml` files in its sub-folders; the two shared files sit at the top. No link is
    followed (`tree.walk_content`); what the walk refuses, and files that would be ignored, are `problems`.
    """
    found = walk_content(root, shown_path)
    return ContentSet(
        root,
        root / TAXONOMY_FILE,
        root / REFERENCES_FILE,
        tuple(found.entries),
        (*found.problems, *ignored_file_problems(found, shown_path, (TAXONOMY_FILE, REFERENCES_FILE))),
    )


def _ids(doc: Document, key: str | tuple[str, ...], problems: list[Problem]) -> dict[str, int]:
    """Ids of the items of the list at `key` (a key path for nested lists), reporting repeats; id -> index."""
    path = (key,) if isinstance(key, str) else key
    found: dict[str, int] = {}
    items: Any = doc.data
    for step in path:
        items = items.get(step, []) if isinstance(items, dict) else []
    for index, item in enumerate(items if isinstance(items, list) else []):
        ident = item.get("id") if isinstance(item, dict) else None
        if isinstance(ident, str):
            if ident in found:
                problems.append(
                    doc.problem((*path, index, "id"), f"id '{ident}' is already used by item {found[ident]}")
                )
            found.setdefault(ident, index)
    return found


def _code_refs(doc: Document, names: Mapping[str, int], problems: list[Problem]) -> tuple[CodeRef, ...]:
    refs: list[CodeRef] = []
    seen: dict[int, int] = {}
    for index, item in enumerate(doc.data.get("codes", [])):
        try:
            code = codes.parse_code(item["code"], names)
        except codes.CodeSyntaxError as exc:
            problems.append(doc.problem(("codes", index, "code"), str(exc)))
            continue
        if code.value in seen:
            message = f"{code.hex} is already listed as codes[{seen[code.value]}]; list each code once"
            problems.append(doc.problem(("codes", index, "code"), message))
            continue
        seen[code.value] = index
        refs.append(
            CodeRef(
                code=item["code"],
                value=code.value,
                name=item.get("name"),
                aliases=tuple(item.get("aliases", ())),
                shown_as=tuple(item.get("shown_as", ())),
                message=item.get("message"),
                note=item.get("note"),
            )
        )
    return tuple(refs)


def _related_codes(
    doc: Document, own: tuple[CodeRef, ...], names: Mapping[str, int], problems: list[Problem]
) -> tuple[RelatedCode, ...]:
    related: list[RelatedCode] = []
    seen = {ref.value: f"codes[{index}]" for index, ref in enumerate(own)}
    for index, item in enumerate(doc.data.get("related_codes", [])):
        where = ("related_codes", index, "code")
        try:
            code = codes.parse_code(item["code"], names)
        except codes.CodeSyntaxError as exc:
            problems.append(doc.problem(where, str(exc)))
            continue
        if code.value in seen:
            problems.append(doc.problem(where, f"{code.hex} is already listed as {seen[code.value]}"))
            continue
        seen[code.value] = f"related_codes[{index}]"
        related.append(RelatedCode(item["code"], code.value, item["reason"], item.get("name")))
    return tuple(related)


def declared_names(docs: Iterable[Document], problems: list[Problem]) -> dict[str, int]:
    """Symbolic names the content declares, from codes written as numbers; a name bound twice is an error."""
    names: dict[str, tuple[int, Document, FieldPath]] = {}
    for doc in docs:
        for index, item in enumerate(doc.data.get("codes", [])):
            try:
                value = codes.parse_code(item["code"]).value
            except codes.CodeSyntaxError:
                continue
            for offset, name in enumerate([item.get("name"), *item.get("aliases", [])]):
                if not name:
                    continue
                where: FieldPath = (
                    ("codes", index, "name") if offset == 0 else ("codes", index, "aliases", offset - 1)
                )
                known = names.get(name.upper())
                if known and known[0] != value:
                    message = (
                        f"{name} is 0x{known[0]:08X} in {known[1].path}; it cannot also be 0x{value:08X}"
                    )
                    problems.append(doc.problem(where, message))
                names.setdefault(name.upper(), (value, doc, where))
    return {name: value for name, (value, _, _) in names.items()}


# --- against the error-code dictionary (warnings) ------------------------------------------------------------
SUGGESTION_LIMIT = 100
"""Unknown codes per run that get "did you mean" suggestions; each costs a few milliseconds (a scan of the
dictionary), which only a generated content set with thousands of made-up codes would notice."""
_PRINTED_TEXT = frozenset({"win32", "hresult", "wua"})
"""Namespaces whose dictionary messages are the headers' message texts, which Windows prints (FormatMessage).
The WinINet and WinHTTP pages describe their errors in other words than the message tables do
("The request has timed out." for what Windows prints as "The operation timed out"), so an entry quoting
the printed text differs from them without being wrong."""
_PLACEHOLDER = re.compile(r"%(?:\d+(?:![^!]*!)?|[-+ #0]*\d*(?:\.\d+)?(?:hs|ls|[hlLI]*[a-zA-Z]))")
"""FormatMessage inserts (%1, %2!d!) and printf conversions (%s, %hs, 0x%08lx) in a message text."""
_PRINTED_PREFIX = re.compile(
    r"^(?:error\s*:?\s*)?(?:0x[0-9a-f]{1,8}|[0-9a-f]{8}|-?[0-9]+)\b\s*[:\-\u2013]?\s*"
)
"""What a tool may print before a message: the code, perhaps after "Error:"."""


@dataclass
class _Suggestions:
    """Nearest known codes for a mistyped one, for the first `SUGGESTION_LIMIT` unknown codes of a run."""

    left: int = field(default_factory=lambda: SUGGESTION_LIMIT)

    def text(self, value: int) -> str:
        """The end of the warning for the unknown `value`: "; did you mean ...?", or why there is none."""
        if self.left <= 0:
            return f" (suggestions are given for the first {SUGGESTION_LIMIT} unknown codes only)"
        self.left -= 1
        nearest = [f"0x{code:08X} {dictionary.describe(code)[0].name}" for code in dictionary.nearest(value)]
        if not nearest:
            return ""
        listed = nearest[0] if len(nearest) == 1 else f"{', '.join(nearest[:-1])} or {nearest[-1]}"
        return f"; did you mean {listed}?"


def _written(text: str, value: int) -> str:
    """The code as the entry writes it, with its canonical hex when that is not obvious from the writing."""
    shown = codes.unwrap(text)
    if re.fullmatch(r"0[xX][0-9A-Fa-f]+|[0-9A-Fa-f]{8}", shown):
        return shown
    return f"{shown} (0x{value:08X})"


def _message_pattern(message: str) -> re.Pattern[str]:
    """A documented message with its placeholders as wildcards, to match the text as printed."""
    parts = _PLACEHOLDER.split(message_key(message))
    return re.compile(".+?".join(re.escape(part) for part in parts), re.DOTALL)


def message_agrees(message: str, known: Iterable[dictionary.KnownCode]) -> bool | None:
    """Whether an entry's message is one the dictionary gives the code, as a tool may print it.

    Differences that are no mistake are ignored: case, whitespace and the punctuation ending it, curly
    quotes, placeholders filled in (`%1` printed as a file name), only the first paragraph of a documented
    text quoted, and the code printed before the message ("Error: 0x80070005 Access is denied."). Messages of
    WinINet and WinHTTP are not compared (see `_PRINTED_TEXT`).

    Returns:
        None when the dictionary has no message to compare with, else whether one of them agrees.
    """
    texts = [k.message for k in known if k.message and k.namespace in _PRINTED_TEXT]
    if not texts:
        return None
    given = message_key(message)
    candidates = {given, message_key(_PRINTED_PREFIX.sub("", given))}
    for text in texts:
        first_paragraph = text.split("\n", 1)[0]
        for documented in (text, first_paragraph):
            pattern = _message_pattern(documented)
            if any(pattern.fullmatch(candidate) for candidate in candidates):
                return True
    return False


def _against_dictionary(
    doc: Document, where: FieldPath, value: int, item: dict[str, Any], suggestions: _Suggestions
) -> list[Problem]:
    """Warnings for a code no namespace knows, and for a name or message the dictionary contradicts."""
    known = dictionary.describe(value)
    hex_code = f"0x{value:08X}"
    if not known:
        message = f"{_written(item['code'], value)}: no such code{suggestions.text(value)}"
        return [doc.problem((*where, "code"), message, severity="warning")]
    problems = []
    listed = list(dict.fromkeys(k.name for k in known))
    upper = {name.upper() for name in listed}
    for offset, name in enumerate([item.get("name"), *item.get("aliases", ())]):
        if not name or name.upper() in upper:
            continue
        at: FieldPath = (*where, "name") if offset == 0 else (*where, "aliases", offset - 1)
        elsewhere = dictionary.names().get(name.upper())
        said = (
            f"is 0x{elsewhere:08X} in the error dictionary"
            if elsewhere is not None
            else "is not in the error dictionary"
        )
        message = f"{name} {said}, which names {hex_code} {', '.join(listed)}"
        problems.append(doc.problem(at, message, severity="warning"))
    text = item.get("message")
    if isinstance(text, str) and message_agrees(text, known) is False:
        documented = [k for k in known if k.message and k.namespace in _PRINTED_TEXT]
        quoted = "; ".join(f'{k.name} "{k.message}"' for k in documented[:2])
        message = f"differs from the message the error dictionary gives {hex_code}: {quoted}"
        problems.append(doc.problem((*where, "message"), message, severity="warning"))
    return problems


def _dictionary_problems(doc: Document, names: Mapping[str, int], suggestions: _Suggestions) -> list[Problem]:
    """The dictionary checks of an entry's `codes` and `related_codes` (those that parse, each once)."""
    problems: list[Problem] = []
    seen: set[int] = set()
    for key in ("codes", "related_codes"):
        for index, item in enumerate(doc.data.get(key, [])):
            try:
                value = codes.parse_code(item["code"], names).value
            except codes.CodeSyntaxError:
                continue  # reported as an error already
            if value not in seen:
                seen.add(value)
                problems += _against_dictionary(doc, (key, index), value, item, suggestions)
    return problems


@dataclass
class EntryContext:
    """What one entry is checked against: the rest of its content set, and the run's state."""

    taxonomy: Taxonomy | None
    """None when taxonomy.yaml is unusable: the checks against it are skipped (its own problems say why)."""
    products: AbstractSet[str]
    """Ids of the taxonomy's products."""
    references: AbstractSet[str]
    """Ids of references.yaml."""
    entry_ids: AbstractSet[str]
    """Ids of every entry, for `related`."""
    names: Mapping[str, int]
    """Symbolic code names the content declares, upper-cased (`declared_names`)."""
    roster: governance.Roster
    """Every entry's status and replacement."""
    today: date
    """The date a `reviewed` date may not be after."""
    suggestions: _Suggestions = field(default_factory=_Suggestions)
    """The run's "did you mean" budget, shared by its entries."""
    phases: Mapping[str, Phase] = field(init=False)

    def __post_init__(self) -> None:
        self.phases = {p.id: p for p in self.taxonomy.phases} if self.taxonomy else {}


def check_entry(source: SourceText, context: EntryContext) -> tuple[Entry, list[Problem]]:
    """Every check of one entry on its own and against `context`, and the entry it builds.

    What needs every entry built is left to the caller: the links (`links.link_problems`), a name
    declared twice and an id used twice.

    Arguments:
        source: The entry's document (valid against the schema, `read_entry`) and its file.
        context: The rest of the content set.

    Returns:
        The entry, and its problems (errors and warnings) unsorted.
    """
    doc, path = source.doc, source.path
    problems = hostile_content_problems(None, None, [doc])
    if context.taxonomy is not None:
        problems += _placement_problems(doc, path, context.taxonomy, context)
    problems += _dictionary_problems(doc, context.names, context.suggestions)
    problems += governance.governance_problems(doc, context.roster, context.today, source)
    own = _code_refs(doc, context.names, problems)
    related = _related_codes(doc, own, context.names, problems)
    return _build_entry(doc, path, own, related), problems


def _placement_problems(
    doc: Document, path: Path, taxonomy: Taxonomy, context: EntryContext
) -> list[Problem]:
    """The entry against the taxonomy and the other files: phase, method, folder, ids, vocabularies."""
    phases = context.phases
    data = doc.data
    problems: list[Problem] = []
    if data["id"] != path.stem:
        problems.append(doc.problem(("id",), f"id '{data['id']}' must equal the file name '{path.stem}'"))
    phase = phases.get(data["phase"])
    if phase is None:
        problems.append(
            doc.problem(("phase",), f"unknown phase '{data['phase']}'; known: {', '.join(phases)}")
        )
    else:
        method = data.get("method")
        method_ids = [m.id for m in phase.methods]
        if method is None and method_ids:
            problems.append(
                doc.problem(("phase",), f"phase '{phase.id}' needs a method: {', '.join(method_ids)}")
            )
        elif method is not None and method not in method_ids:
            known = ", ".join(method_ids) or "none"
            problems.append(
                doc.problem(("method",), f"phase '{phase.id}' has no method '{method}'; known: {known}")
            )
        expected_folder = [phase.id, *([method] if method else [])]
        placed = list(path.parent.parts[-len(expected_folder) :]) == expected_folder
        if not placed and not problems:
            folder = "/".join(expected_folder)
            problems.append(
                doc.problem(("phase",), f"entry belongs in the folder {folder}/", severity="warning")
            )
    for key, known_ids, what in (
        ("applies_to", context.products, "product"),
        ("references", context.references, "reference"),
    ):
        for index, ident in enumerate(data.get(key, [])):
            if ident not in known_ids:
                problems.append(doc.problem((key, index), f"unknown {what} '{ident}'"))
    for index, ident in enumerate(data.get("related", [])):
        if ident not in context.entry_ids:
            problems.append(doc.problem(("related", index), f"no entry has the id '{ident}'"))
        elif ident == data["id"]:
            problems.append(doc.problem(("related", index), "an entry cannot be related to itself"))
    problems += _vocabulary_problems(doc, taxonomy.vocabularies)
    for index, item in enumerate(data.get("log_patterns", [])):
        if item.get("regex"):
            # The options of search.triage.compile_pattern: RE2 runs in linear time, and prints nothing.
            options = re2.Options()
            options.log_errors = False
            try:
                re2.compile(item["pattern"], options)
            except re2.error as exc:
                reason = exc.args[0] if exc.args else "unsupported"
                reason = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
                message = f"invalid regular expression for RE2 (no backreferences, no look-around): {reason}"
                problems.append(doc.problem(("log_patterns", index, "pattern"), message))
    return problems


_VOCABULARY_FIELDS = (("messages", "where"), ("log_patterns", "log"), ("actions", "shell"))


def _vocabulary_problems(doc: Document, vocabularies: Vocabularies) -> list[Problem]:
    """A `where`, `log` or `shell` value the taxonomy does not declare, located at the value."""
    problems = []
    for list_key, kind in _VOCABULARY_FIELDS:
        for index, item in enumerate(doc.data.get(list_key, [])):
            value = item.get(kind)
            if value is None or vocabularies.term(kind, value) is not None:
                continue
            declared = ", ".join(term.id for term in getattr(vocabularies, kind)) or "none"
            problems.append(
                doc.problem(
                    (list_key, index, kind),
                    f"'{value}' is not in the taxonomy's vocabularies.{kind} (declared: {declared})",
                )
            )
    return problems


def _build_entry(
    doc: Document, path: Path, code_refs: tuple[CodeRef, ...], related_codes: tuple[RelatedCode, ...]
) -> Entry:
    data = doc.data
    escalation = data.get("escalation")
    return Entry(
        id=data["id"],
        title=data["title"],
        summary=data["summary"],
        phase=data["phase"],
        method=data.get("method"),
        applies_to=tuple(data["applies_to"]),
        codes=code_refs,
        messages=tuple(Message(**m) for m in data.get("messages", [])),
        log_patterns=tuple(LogPattern(**p) for p in data.get("log_patterns", [])),
        causes=tuple(data["causes"]),
        actions=tuple(Action(**a) for a in data["actions"]),
        escalation=Escalation(
            contact=escalation["contact"],
            collect=tuple(escalation.get("collect", ())),
            note=escalation.get("note"),
        )
        if escalation
        else None,
        related=tuple(data.get("related", [])),
        references=tuple(data.get("references", [])),
        corrections=tuple(Correction(**c) for c in data.get("corrections", [])),
        tags=tuple(data.get("tags", [])),
        source=Source(**data["source"]) if "source" in data else None,
        path=shown_path(path),
        related_codes=related_codes,
        **_governance_fields(data),
    )


def _governance_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The status, owner, review and replacement fields of an entry's data, for `Entry`."""
    return {
        "status": governance.status_of(data),
        "owner": data.get("owner"),
        "reviewed": governance.parse_date(data.get("reviewed")),
        "review_every": data.get("review_every"),
        "replaced_by": data.get("replaced_by"),
    }


def _taxonomy(data: dict[str, Any]) -> Taxonomy:
    phases = tuple(
        Phase(
            id=p["id"],
            title=p["title"],
            short_title=p.get("short_title", p["title"]),
            summary=p["summary"],
            methods=tuple(Method(**m) for m in p.get("methods", [])),
        )
        for p in data["phases"]
    )
    declared = data.get("vocabularies", {})
    vocabularies = Vocabularies(
        **{kind: tuple(Term(**term) for term in declared.get(kind, [])) for kind in ("where", "log", "shell")}
    )
    return Taxonomy(
        title=data["title"],
        short_name=data.get("short_name", "kb"),
        description=data["description"],
        phases=phases,
        products=tuple(Product(**p) for p in data["products"]),
        vocabularies=vocabularies,
        phases_heading=data.get("phases_heading", "Phases"),
        lookup_examples=tuple(data.get("lookup_examples", [])),
        review_every_days=data.get("review_every_days", DEFAULT_REVIEW_DAYS),
    )


def read_entry(path: Path) -> tuple[Document | None, list[Problem]]:
    """An entry file read and checked against the entry schema.

    Returns:
        The document when it is valid against the schema (else None), and the problems found.
    """
    doc, problems = read_yaml(path, shown_path(path))
    if doc is None:
        return None, problems
    schema_found = schema_problems(doc, "entry")
    return (None if schema_found else doc), problems + schema_found


def _read_shared(path: Path, schema: str, problems: list[Problem]) -> Document | None:
    if not path.is_file() and not path.is_symlink():  # a link is refused by read_yaml
        problems.append(
            Problem(shown_path(path), 1, 1, "(file)", f"missing: every content folder needs {path.name}")
        )
        return None
    doc, found = read_yaml(path, shown_path(path))
    problems += found
    if doc is None:
        return None
    schema_found = schema_problems(doc, schema)
    problems += schema_found
    return None if schema_found else doc


def check_content(root: Path, *, today: date | None = None) -> tuple[KnowledgeBase | None, list[Problem]]:
    """Validate a content folder completely.

    Arguments:
        root: The folder holding taxonomy.yaml, references.yaml and the entry folders.
        today: The date a `reviewed` date may not be after; the system's date when not given.

    Returns:
        The knowledge base when there is no error (warnings allowed), and every problem found, sorted.
    """
    problems: list[Problem] = []
    if not root.is_dir():
        return None, [Problem(shown_path(root), 1, 1, "(file)", "content folder not found")]
    content = find_content(root)
    taxonomy_doc = _read_shared(content.taxonomy, "taxonomy", problems)
    references_doc = _read_shared(content.references, "references", problems)
    if taxonomy_doc:
        _ids(taxonomy_doc, "phases", problems)
        for kind in ("where", "log", "shell"):
            _ids(taxonomy_doc, ("vocabularies", kind), problems)
    product_ids = _ids(taxonomy_doc, "products", problems) if taxonomy_doc else {}
    reference_ids = _ids(references_doc, "references", problems) if references_doc else {}
    taxonomy = _taxonomy(taxonomy_doc.data) if taxonomy_doc else None

    docs: dict[Path, Document] = {}
    owners: dict[str, Document] = {}
    for path in content.entries:
        doc, found = read_entry(path)
        problems += found
        if doc is None:
            continue
        first = owners.setdefault(doc.data["id"], doc)
        if first is not doc:
            problems.append(doc.problem(("id",), f"id '{doc.data['id']}' is already used by {first.path}"))
            continue
        docs[path] = doc
    problems += content.problems
    problems += hostile_content_problems(taxonomy_doc, references_doc, ())

    # Built once: per entry they made validation quadratic (46.7 s at 10,000 entries).
    context = EntryContext(
        taxonomy,
        set(product_ids),
        set(reference_ids),
        set(owners),
        declared_names(docs.values(), problems),
        governance.Roster.of(doc.data for doc in docs.values()),
        today or date.today(),
    )
    checked = []
    for path, doc in docs.items():
        source = SourceText(doc, path)
        entry, found = check_entry(source, context)
        problems += found
        checked.append((doc, entry, source))
    entries = [entry for _, entry, _ in checked]
    if taxonomy is not None:
        problems += link_problems(checked, taxonomy, reference_ids)
    problems.sort()
    if taxonomy is None or references_doc is None or any(p.severity == "error" for p in problems):
        return None, problems
    order = {p.id: (i, [m.id for m in p.methods]) for i, p in enumerate(taxonomy.phases)}

    def reading_order(entry: Entry) -> tuple[int, int, str]:
        phase_index, methods = order[entry.phase]
        method_index = methods.index(entry.method) if entry.method in methods else -1
        heading = entry.source.section if entry.source and entry.source.section else entry.title
        return (phase_index, method_index, heading.casefold())

    references = tuple(Reference(**r) for r in references_doc.data["references"])
    return KnowledgeBase(taxonomy, references, tuple(sorted(entries, key=reading_order))), problems


def load_knowledge_base(root: Path, *, strict: bool = False, drafts: bool = False) -> KnowledgeBase:
    """The validated knowledge base, or `ValidationFailed` with every problem (warnings too when strict).

    Drafts are validated like every entry, then left out unless `drafts` is set: what the site, PDF,
    index and bundle show.
    """
    kb, problems = check_content(root)
    if kb is None or (strict and problems):
        raise ValidationFailed(problems)
    return kb if drafts else kb.without_drafts()
