"""The JSON Schemas shipped with the package, and their errors turned into located problems."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from build_kb.content.load import Document, FieldPath
from build_kb.core.errors import Problem

SLUG_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"

_TYPE_NAMES = {
    "string": "a string",
    "array": "a list",
    "object": "a mapping",
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
}


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A schema by name: `entry`, `taxonomy` or `references`."""
    text = resources.files("build_kb.content").joinpath("schema", f"{name}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """A schema `pattern` compiled with ECMA-262's meaning of `$`: the end of the text, nothing else.

    Python's `$` also matches before a final newline, so `^[a-z]+$` would let `"id\\n"` through; JSON Schema
    patterns are ECMA-262 regular expressions (editors check them so), where it does not. Every `$` outside a
    character class and not escaped becomes `\\Z`.
    """
    out: list[str] = []
    in_class = escaped = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            out.append(r"\Z")
            continue
        out.append(char)
    return re.compile("".join(out))


def _pattern(validator: Validator, pattern: str, instance: Any, schema: object) -> Iterator[ValidationError]:
    """The `pattern` keyword with ECMA-262 anchors (see `ecma_regex`)."""
    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(str(instance)):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_Draft202012 = validators.extend(Draft202012Validator, {"pattern": _pattern})  # type: ignore[no-untyped-call]


@cache
def _validator(name: str) -> Validator:
    validator: Validator = _Draft202012(load_schema(name))
    return validator


def _quoted(value: object) -> str:
    """A value for a message, quoted: with escapes when it holds a line break or another control character."""
    text = str(value)
    return f"'{text}'" if text.isprintable() else repr(text)


def _kind(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value} (quote it to keep it as text)"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{type(value).__name__} {value} (quote it to keep it as text)"


def _messages(error: ValidationError) -> list[tuple[tuple[str | int, ...], str, bool]]:
    """(field path, message, points at a key) for one schema error."""
    path = tuple(error.absolute_path)
    validator, value = error.validator, error.instance
    expected: Any = error.validator_value
    schema = error.schema if isinstance(error.schema, dict) else {}
    if validator == "additionalProperties" and isinstance(value, dict):
        known = list(schema.get("properties", {}))
        found = []
        for key in sorted(set(value) - set(known), key=str):
            hint = difflib.get_close_matches(str(key), known, n=1)
            extra = f"; did you mean '{hint[0]}'?" if hint else f"; known keys: {', '.join(known)}"
            found.append(((*path, str(key)), f"unknown key '{key}'{extra}", True))
        return found
    if validator == "required":
        # jsonschema reports each missing key as its own error, quoting it first in the message.
        missing = error.message.split("'")[1] if error.message.count("'") >= 2 else "?"
        return [(path, f"missing required key '{missing}'", False)]
    if validator == "type":
        wanted = " or ".join(
            _TYPE_NAMES.get(t, t) for t in ([expected] if isinstance(expected, str) else expected)
        )
        return [(path, f"Expected {wanted} but received: {_kind(value)}", False)]
    if validator == "pattern" and expected == SLUG_PATTERN:
        return [
            (
                path,
                f"{_quoted(value)} is not a valid id: use lowercase letters, digits and single hyphens",
                False,
            )
        ]
    if validator == "pattern":
        return [(path, f"{_quoted(value)} does not have the expected form (pattern {expected})", False)]
    if validator == "enum":
        choices = ", ".join(str(c) for c in expected)
        return [(path, f"Expected one of: {choices} but received: '{value}'", False)]
    if validator == "maxItems" and isinstance(value, list):  # jsonschema's message quotes the whole list
        return [(path, f"the list has {len(value):,} items; at most {expected} are allowed", False)]
    if validator == "maxLength" and isinstance(value, str):
        return [(path, f"the text has {len(value):,} characters; at most {expected} are allowed", False)]
    if validator == "uniqueItems":
        return [(path, "list has the same item twice", False)]
    return [(path, error.message, False)]


def _resolved(node: Any, schema: dict[str, Any]) -> Any:
    """`node` with a local `$ref` (`#/$defs/name`) followed."""
    while isinstance(node, dict) and str(node.get("$ref", "")).startswith("#/"):
        target: Any = schema
        for part in str(node["$ref"])[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node = target
    return node


def _long_lists(
    data: Any, node: Any, schema: dict[str, Any], path: FieldPath = ()
) -> Iterator[tuple[FieldPath, int, int]]:
    """(path, length, limit) of every list longer than the schema's `maxItems` for it."""
    node = _resolved(node, schema)
    if not isinstance(node, dict):
        return
    if isinstance(data, list):
        limit = node.get("maxItems")
        if isinstance(limit, int) and len(data) > limit:
            yield path, len(data), limit
            return
        for index, item in enumerate(data):
            yield from _long_lists(item, node.get("items", {}), schema, (*path, index))
    elif isinstance(data, dict):
        properties = node.get("properties", {})
        for key, value in data.items():
            if key in properties:
                yield from _long_lists(value, properties[key], schema, (*path, key))


def schema_problems(doc: Document, name: str) -> list[Problem]:
    """Every way `doc` breaks the schema `name`, each at its position in the file.

    Lists over their `maxItems` are refused first, alone: jsonschema would check each of their items before
    saying the list is too long (20 seconds for a list of 100,000, which fits in a file of the size allowed).
    """
    schema = load_schema(name)
    too_long = [
        doc.problem(path, f"the list has {length:,} items; at most {limit} are allowed")
        for path, length, limit in _long_lists(doc.data, schema, schema)
    ]
    if too_long:
        return too_long
    problems: dict[Problem, None] = {}
    for error in _validator(name).iter_errors(doc.data):
        for path, message, key in _messages(error):
            problems[doc.problem(path, message, key=key)] = None
    return list(problems)
