"""The authors' page: how to add an entry, with a field reference generated from the JSON Schema."""

from __future__ import annotations

from typing import Any

from build_kb.content.schemas import load_schema
from build_kb.core.model import KnowledgeBase
from build_kb.site import markdown_text as md


def _type_of(spec: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in spec:
        name = str(spec["$ref"]).rsplit("/", 1)[-1]
        return "Markdown text" if name == "prose" else f"{name} (see below)"
    if "enum" in spec:
        return "one of " + ", ".join(md.code_span(str(v)) for v in spec["enum"])
    kind = spec.get("type", "any")
    if kind == "array":
        return f"list of {_type_of(spec.get('items', {}), defs)}"
    names = {"string": "text", "boolean": "true/false", "object": "mapping", "integer": "number"}
    return names.get(str(kind), str(kind))


def _field_table(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    rows = ["| Field | Required | Type | Meaning |", "|---|---|---|---|"]
    for name, spec in schema.get("properties", {}).items():
        target = defs.get(spec.get("$ref", "").rsplit("/", 1)[-1], {}) if "$ref" in spec else spec
        description = spec.get("description") or target.get("description", "")
        rows.append(
            f"| {md.code_span(name)} | {'yes' if name in required else ''} | {_type_of(spec, defs)} | {md.text(description)} |"
        )
    return "\n".join(rows)


def render_authoring(kb: KnowledgeBase) -> str:
    """Markdown for the authors' page."""
    schema = load_schema("entry")
    defs: dict[str, Any] = schema["$defs"]
    phases = "\n".join(
        f"- {md.code_span(p.id)}"
        + (f" with methods {', '.join(md.code_span(m.id) for m in p.methods)}" if p.methods else "")
        for p in kb.taxonomy.phases
    )
    products = ", ".join(md.code_span(p.id) for p in kb.taxonomy.products)
    parts = [
        '---\ntitle: "Adding an entry"\nsearch:\n  exclude: true\n---',
        "# Adding an entry",
        "Each troubleshooting issue is one YAML file in `content/<phase>/[<method>/]<id>.yaml`. "
        "The JSON Schema `build_kb/content/schema/entry.schema.json` is the contract: `kb check` validates against it, "
        "and the first line of every entry points editors at it, so VS Code with the YAML extension completes "
        "and checks fields as you type.",
        "## Steps",
        "1. Scaffold a draft: `kb new --id <slug> --phase <phase> [--method <method>] [--code <code>]` writes an "
        "entry with `status: draft`, left out of the published outputs (`kb build --drafts` and the plugin option "
        "`drafts: true` show it).\n"
        "2. Fill it in. Copy error messages, commands, registry paths, file names and KB numbers exactly; "
        "write explanations in your own words. Where the source is wrong, say so in `corrections`. "
        "A code's `name` and `message` may be left out where the offline error-code dictionary knows the code: "
        "the pages show its names and messages then.\n"
        "3. Check it: `kb check --strict` lists every problem as `file:line:column: field: message`, including "
        "a code no namespace of the dictionary knows (with the nearest known codes) and a name or message the "
        "dictionary contradicts.\n"
        "4. Preview it: `mkdocs serve` rebuilds the site on every save.\n"
        "5. Set `status: published`, your team as `owner` and today as `reviewed`, then open a pull request: "
        "`kb check --strict` fails on any TODO left in a published entry. When an entry is superseded, set "
        "`status: retired` and `replaced_by: <id>`: its page stays, pointing at the replacement.",
        "## Phases, methods and products",
        phases,
        f"Products: {products}.",
        "## Entry fields",
        _field_table(schema, defs),
    ]
    for name, spec in defs.items():
        if spec.get("type") == "object":
            parts += [
                f"### {md.code_span(name)}",
                md.text(spec.get("description", "")),
                _field_table(spec, defs),
            ]
    return "\n\n".join(p for p in parts if p) + "\n"
