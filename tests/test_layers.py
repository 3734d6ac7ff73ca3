"""The packages import one way only: core <- content <- outputs (site, pdf, bundle) and search <- app.

Every import is read from the source with `ast`, at module level and inside functions alike, so a lazy
import cannot hide an upward dependency or a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import ROOT

ALLOWED: dict[str, set[str]] = {
    "root": set(),
    "core": {"root"},
    "content": {"root", "core"},
    "site": {"root", "core", "content"},
    "pdf": {"root", "core", "content"},
    "bundle": {"root", "core", "content"},
    "search": {"root", "core", "content"},
    "app": {"root", "core", "content", "site", "pdf", "bundle", "search"},
}
"""For each layer, the layers it may import besides itself."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "search":
        return "search"
    if len(parts) == 1 or parts[1] in ("__main__",):
        return "root" if len(parts) == 1 else "app"
    return parts[1]


def our_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import of build_kb or search in the file, wherever it stands."""
    tree = ast.parse(path.read_text("utf-8"))
    package = module_name(path).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            # `from build_kb.site import render` imports the module build_kb.site.render.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] in ("build_kb", "search")]


SOURCES = sorted([*(ROOT / "build_kb").rglob("*.py"), *(ROOT / "search").rglob("*.py")])
MODULES = {module_name(path) for path in SOURCES}


def resolve(name: str) -> str | None:
    """The module of ours an imported name stands for (a name imported from a module gives the module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in SOURCES:
        source = module_name(path)
        targets = {resolve(name) for _, name in our_imports(path)}
        graph[source] = {t for t in targets if t and t != source and not source.startswith(t + ".")}
    return graph


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_imports_point_down_the_layers(path: Path) -> None:
    source_layer = layer_of(module_name(path))
    wrong = [
        f"{path.relative_to(ROOT).as_posix()}:{line}: {source_layer} imports {name} ({layer_of(name)})"
        for line, name in our_imports(path)
        if (target := resolve(name))
        and layer_of(target) != source_layer
        and layer_of(target) not in ALLOWED[source_layer]
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles() -> None:
    graph = import_graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append([*trail[trail.index(target) :], target] if target in trail else [node, target])
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_every_layer_is_a_known_package() -> None:
    assert {layer_of(module) for module in MODULES} <= set(ALLOWED)


@pytest.mark.parametrize(
    ("importer", "imported", "allowed"),
    [
        ("build_kb.core.codes", "build_kb.content.load", False),
        ("build_kb.content.load", "build_kb.core.errors", True),
        ("build_kb.pdf.runbook", "build_kb.site.render", False),
        ("search.store", "build_kb.app.build", False),
        ("search.store", "build_kb.content.fingerprint", True),
        ("build_kb.app.build", "search.index", True),
    ],
)
def test_the_rule_itself(importer: str, imported: str, allowed: bool) -> None:
    """The table says what it means: the check above would catch these imports."""
    assert (layer_of(imported) in ALLOWED[layer_of(importer)] | {layer_of(importer)}) is allowed
