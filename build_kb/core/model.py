"""The knowledge base as plain, immutable data: what the loader produces and every renderer consumes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cached_property

DRAFT = "draft"
PUBLISHED = "published"
RETIRED = "retired"
STATUSES = (DRAFT, PUBLISHED, RETIRED)
"""An entry's life: written as a draft, published, and retired when another entry takes its place."""
DEFAULT_REVIEW_DAYS = 365
"""Days between reviews when neither the entry nor the taxonomy says."""


@dataclass(frozen=True, slots=True)
class CodeRef:
    """An error code as an entry lists it."""

    code: str
    """The notation the user sees, as written in the entry (`80070643`, `HRESULT_FROM_WIN32(1633)`)."""
    value: int
    """The canonical unsigned 32-bit value."""
    name: str | None = None
    """Symbolic name from the SDK headers (`SL_E_INVALID_PRODUCT_KEY`)."""
    aliases: tuple[str, ...] = ()
    """Other symbolic names for the same value."""
    shown_as: tuple[str, ...] = ()
    """Literal strings a user may see for this code that are no valid notation (a mangled number)."""
    message: str | None = None
    """The standard system message."""
    note: str | None = None
    """What the code means in this issue where the standard message misleads (Markdown)."""

    @property
    def names(self) -> tuple[str, ...]:
        """The symbolic name followed by its aliases."""
        return ((self.name,) if self.name else ()) + self.aliases


@dataclass(frozen=True, slots=True)
class RelatedCode:
    """A code that is not the entry's own but has the same cause and fix."""

    code: str
    """As written in the entry."""
    value: int
    reason: str
    """Why the entry's fix applies (Markdown, one line)."""
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """Text exactly as the system or a tool prints it."""

    text: str
    where: str
    """Where it appears: an id of the taxonomy's `where` vocabulary."""


@dataclass(frozen=True, slots=True)
class LogPattern:
    """A line seen in a log; a literal substring unless `regex` is set."""

    pattern: str
    regex: bool = False
    log: str | None = None
    """The log it appears in: an id of the taxonomy's `log` vocabulary."""


@dataclass(frozen=True, slots=True)
class Action:
    """One ordered step."""

    step: str
    """What to do (Markdown)."""
    command: str | None = None
    """A command to copy, if the step has one."""
    shell: str | None = None
    """Where the command runs: an id of the taxonomy's `shell` vocabulary."""


@dataclass(frozen=True, slots=True)
class Escalation:
    """What to collect and whom to contact when the actions do not help."""

    contact: str
    collect: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Correction:
    """A place where the source document is wrong."""

    source_says: str
    correct: str
    why: str


@dataclass(frozen=True, slots=True)
class Source:
    """Where an entry's facts come from: any of a document name, a heading in it and an address."""

    document: str | None = None
    """Free text: `KB4547184`, a book title, a wiki page name."""
    section: str | None = None
    """The heading in that document, verbatim."""
    url: str | None = None

    def describe(self) -> str:
        """One line for readers: `KB4547184, section “...”`, or whichever parts are given."""
        parts = [self.document or ""]
        if self.section:
            parts.append(f"section “{self.section}”")
        return ", ".join(part for part in parts if part) or (self.url or "")


@dataclass(frozen=True, slots=True)
class Entry:
    """One troubleshooting issue."""

    id: str
    title: str
    """The symptom as the user meets it."""
    summary: str
    """One sentence saying what goes wrong."""
    phase: str
    method: str | None
    applies_to: tuple[str, ...]
    codes: tuple[CodeRef, ...]
    messages: tuple[Message, ...]
    log_patterns: tuple[LogPattern, ...]
    causes: tuple[str, ...]
    actions: tuple[Action, ...]
    escalation: Escalation | None
    related: tuple[str, ...]
    references: tuple[str, ...]
    corrections: tuple[Correction, ...]
    tags: tuple[str, ...]
    source: Source | None
    """Absent when the entry is the team's own knowledge."""
    path: str
    """The YAML file, relative to the project root, with forward slashes."""
    related_codes: tuple[RelatedCode, ...] = ()
    """Other codes this entry's fix answers; lookups list the entry for them as related."""
    status: str = PUBLISHED
    """`draft` (left out of every output unless drafts are asked for), `published` or `retired` (kept at its
    address, pointing at `replaced_by`)."""
    owner: str | None = None
    """The team or person who keeps the entry true (free text)."""
    reviewed: date | None = None
    """When the entry was last checked against reality."""
    review_every: int | None = None
    """Days between reviews; the taxonomy's `review_every_days` when absent."""
    replaced_by: str | None = None
    """For a retired entry: the id of the entry that takes its place."""

    @property
    def is_draft(self) -> bool:
        """Whether the entry is a draft, left out of the site, PDF, index and bundle by default."""
        return self.status == DRAFT

    @property
    def is_retired(self) -> bool:
        """Whether the entry is retired: its page stays, saying so and pointing at its replacement."""
        return self.status == RETIRED

    def review_due(self, default_days: int) -> date | None:
        """The day the entry is due for review: `reviewed` plus its interval; None when never reviewed."""
        if self.reviewed is None:
            return None
        return self.reviewed + timedelta(days=self.review_every or default_days)


@dataclass(frozen=True, slots=True)
class Method:
    """A sub-section of a phase (an activation method, a device family)."""

    id: str
    title: str
    summary: str


@dataclass(frozen=True, slots=True)
class Phase:
    """A deployment phase; phases are kept in deployment order."""

    id: str
    title: str
    short_title: str
    summary: str
    methods: tuple[Method, ...] = ()

    def method(self, method_id: str) -> Method | None:
        """The method with this id, if the phase has it."""
        return next((m for m in self.methods if m.id == method_id), None)


@dataclass(frozen=True, slots=True)
class Product:
    """A product entries apply to."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Reference:
    """An outside article, defined once and cited by id."""

    id: str
    title: str
    url: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Term:
    """One value of a vocabulary the taxonomy declares (where a message shows, a log, a shell)."""

    id: str
    label: str
    """What readers see."""
    highlight: str | None = None
    """For shells: the Pygments lexer for its commands (`bat`, `powershell`, `bash`); plain text when absent."""


@dataclass(frozen=True, slots=True)
class Vocabularies:
    """The values entries may use in `messages[].where`, `log_patterns[].log` and `actions[].shell`."""

    where: tuple[Term, ...] = ()
    log: tuple[Term, ...] = ()
    shell: tuple[Term, ...] = ()

    def term(self, kind: str, ident: str) -> Term | None:
        """The term `ident` of vocabulary `kind` (`where`, `log` or `shell`)."""
        terms: tuple[Term, ...] = getattr(self, kind)
        return next((term for term in terms if term.id == ident), None)

    def label(self, kind: str, ident: str) -> str:
        """The label of a term, or the id itself for a value validation would have refused."""
        term = self.term(kind, ident)
        return term.label if term else ident


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """The content set's identity, its phases in order, products and vocabularies."""

    title: str
    short_name: str
    description: str
    phases: tuple[Phase, ...]
    products: tuple[Product, ...]
    vocabularies: Vocabularies = Vocabularies()
    phases_heading: str = "Phases"
    """Heading of the home page's list of phases (`Deployment flow`, `Stages`)."""
    lookup_examples: tuple[str, ...] = ()
    """Codes shown as examples beside the lookup box, as written; the knowledge base's first codes if empty."""
    review_every_days: int = DEFAULT_REVIEW_DAYS
    """Days between reviews of an entry that gives no `review_every` of its own."""


@dataclass(frozen=True)
class KnowledgeBase:
    """A validated content set: every cross-reference in it resolves."""

    taxonomy: Taxonomy
    references: tuple[Reference, ...]
    entries: tuple[Entry, ...]
    """In reading order: by phase, then method, then title."""

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def without_drafts(self) -> KnowledgeBase:
        """The knowledge base readers see: drafts left out (the same object when there are none)."""
        if not any(entry.is_draft for entry in self.entries):
            return self
        return replace(self, entries=tuple(entry for entry in self.entries if not entry.is_draft))

    @cached_property
    def by_id(self) -> Mapping[str, Entry]:
        """Entries by id."""
        return {e.id: e for e in self.entries}

    @cached_property
    def phases_by_id(self) -> Mapping[str, Phase]:
        """Phases by id."""
        return {p.id: p for p in self.taxonomy.phases}

    @cached_property
    def products_by_id(self) -> Mapping[str, Product]:
        """Products by id."""
        return {p.id: p for p in self.taxonomy.products}

    @cached_property
    def references_by_id(self) -> Mapping[str, Reference]:
        """References by id."""
        return {r.id: r for r in self.references}

    @cached_property
    def code_names(self) -> Mapping[str, int]:
        """Every symbolic name the content declares, upper-cased, with its value."""
        return {name.upper(): ref.value for e in self.entries for ref in e.codes for name in ref.names}

    @cached_property
    def entries_by_code(self) -> Mapping[int, tuple[Entry, ...]]:
        """Entries carrying each code value, in reading order, codes sorted by value."""
        found: dict[int, list[Entry]] = {}
        for entry in self.entries:
            for value in dict.fromkeys(ref.value for ref in entry.codes):
                found.setdefault(value, []).append(entry)
        return {value: tuple(found[value]) for value in sorted(found)}

    @cached_property
    def entries_by_related_code(self) -> Mapping[int, tuple[Entry, ...]]:
        """Entries listing each code value among their `related_codes`, in reading order."""
        found: dict[int, list[Entry]] = {}
        for entry in self.entries:
            for related in entry.related_codes:
                found.setdefault(related.value, []).append(entry)
        return {value: tuple(found[value]) for value in sorted(found)}

    @cached_property
    def backlinks(self) -> Mapping[str, tuple[Entry, ...]]:
        """For each entry id, the entries whose `related` lists it."""
        found: dict[str, list[Entry]] = {}
        for entry in self.entries:
            for target in entry.related:
                found.setdefault(target, []).append(entry)
        return {k: tuple(v) for k, v in found.items()}

    @cached_property
    def code_spellings(self) -> Mapping[str, int]:
        """Every way entries write a code (`shown_as` included), stripped and case-folded, with its value.

        Lookups fall back on these, so a string the content says is printed for a code (a mangled number)
        finds it even where it parses as another value.
        """
        found: dict[str, int] = {}
        for value, refs in self.refs_by_code.items():
            for ref in refs:
                for text in (ref.code, *ref.shown_as):
                    found.setdefault(text.strip().casefold(), value)
        return found

    @cached_property
    def lookup_examples(self) -> tuple[str, ...]:
        """Codes to show as lookup examples: the taxonomy's, else the first three codes as entries write them."""
        if self.taxonomy.lookup_examples:
            return self.taxonomy.lookup_examples
        written = dict.fromkeys(ref.code for entry in self.entries for ref in entry.codes)
        return tuple(written)[:3]

    @cached_property
    def refs_by_code(self) -> Mapping[int, tuple[CodeRef, ...]]:
        """Every way the content lists each code value, built once (callers ask per code)."""
        found: dict[int, list[CodeRef]] = {}
        for entry in self.entries:
            for ref in entry.codes:
                found.setdefault(ref.value, []).append(ref)
        return {value: tuple(refs) for value, refs in found.items()}

    def replacement(self, entry: Entry) -> Entry | None:
        """The entry that replaces a retired one, if it names one this knowledge base holds."""
        return self.by_id.get(entry.replaced_by) if entry.replaced_by else None

    def code_refs(self, value: int) -> tuple[CodeRef, ...]:
        """Every way the content lists this code value."""
        return self.refs_by_code.get(value, ())

    def phase_entries(self, phase_id: str, method_id: str | None = None) -> tuple[Entry, ...]:
        """Entries of a phase, or of one method of it."""
        return tuple(
            e for e in self.entries if e.phase == phase_id and (method_id is None or e.method == method_id)
        )
