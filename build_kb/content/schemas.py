"""The JSON Schemas shipped with the package, and their errors turned into located problems."""

from __future__ import annotations

import difflib
import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from build_kb.content.load import Document
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
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name))


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
            (path, f"'{value}' is not a valid id: use lowercase letters, digits and single hyphens", False)
        ]
    if validator == "pattern":
        return [(path, f"'{value}' does not have the expected form (pattern {expected})", False)]
    if validator == "enum":
        choices = ", ".join(str(c) for c in expected)
        return [(path, f"Expected one of: {choices} but received: '{value}'", False)]
    if validator == "uniqueItems":
        return [(path, "list has the same item twice", False)]
    return [(path, error.message, False)]


def schema_problems(doc: Document, name: str) -> list[Problem]:
    """Every way `doc` breaks the schema `name`, each at its position in the file."""
    problems: dict[Problem, None] = {}
    for error in _validator(name).iter_errors(doc.data):
        for path, message, key in _messages(error):
            problems[doc.problem(path, message, key=key)] = None
    return list(problems)
