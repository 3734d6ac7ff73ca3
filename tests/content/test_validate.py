"""Validation: every kind of broken entry yields an exact file:line:col message, all in one run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from build_kb.content.validate import check_content, load_knowledge_base
from build_kb.core.errors import ValidationFailed
from tests.helpers import ACTIVATION, DATA, PRINTING, ROOT, SETS, make_entry

INVALID = DATA / "invalid"
EXPECTED = DATA / "invalid-expected.txt"


@pytest.fixture
def invalid_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tests/data/invalid copied, plus the cases too big or too binary to keep in the repo."""
    root = tmp_path / "invalid"
    shutil.copytree(INVALID, root)
    (root / "prepare" / "huge.yaml").write_text("id: huge\ntitle: " + "x" * 300_000 + "\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    return root


def test_broken_entries_give_exact_located_messages(invalid_copy: Path, update_goldens: bool) -> None:
    kb, problems = check_content(Path("invalid"))
    assert kb is None
    report = "\n".join(str(p) for p in problems) + "\n"
    if update_goldens:
        EXPECTED.write_text(report, "utf-8")
    assert report == EXPECTED.read_text("utf-8")


def test_every_broken_file_is_reported(invalid_copy: Path) -> None:
    _, problems = check_content(Path("invalid"))
    reported = {Path(p.path).name for p in problems}
    broken = {p.name for p in invalid_copy.rglob("*.yaml") if p.parent != invalid_copy}
    assert broken <= reported


def test_problems_are_sorted_by_file_line_and_column(invalid_copy: Path) -> None:
    _, problems = check_content(Path("invalid"))
    keys = [(p.path, p.line, p.column) for p in problems]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"title": 12}, "title", "Expected a string but received: number 12"),
        ({"phase": "nowhere"}, "phase", "unknown phase 'nowhere'"),
        ({"applies_to": ["product-z"]}, "applies_to[0]", "unknown product 'product-z'"),
        ({"related": ["sample-entry"]}, "related[0]", "cannot be related to itself"),
        ({"references": ["nope"]}, "references[0]", "unknown reference 'nope'"),
        ({"codes": [{"code": "banana"}]}, "codes[0].code", "unknown symbolic name"),
        ({"codes": [{"code": "0x"}]}, "codes[0].code", "not an error code"),
        ({"codes": [{"code": "0x80070643"}, {"code": "80070643"}]}, "codes[1].code", "already listed"),
        (
            {"log_patterns": [{"pattern": "ESU: (", "regex": True}]},
            "log_patterns[0].pattern",
            "invalid regular",
        ),
        ({"causes": ["<b>bold</b>"]}, "causes[0]", "raw HTML is not allowed"),
        (
            {"actions": [{"step": "x", "shell": "bash"}]},
            "actions[0].shell",
            "is not in the taxonomy's vocabularies.shell (declared: cmd, text)",
        ),
        ({"extra": 1}, "extra", "unknown key 'extra'"),
        ({"id": "Sample_Entry"}, "id", "is not a valid id"),
    ],
)
def test_single_problem_table(content_factory, overrides, field, fragment) -> None:
    root = content_factory(make_entry(**overrides))
    _, problems = check_content(root)
    matching = [p for p in problems if p.field == field and fragment in p.message]
    assert matching, [str(p) for p in problems]


def test_name_declared_for_two_values_is_an_error(content_factory) -> None:
    first = make_entry("first", codes=[{"code": "0x80070643", "name": "SAME_NAME"}])
    second = make_entry("second", codes=[{"code": "0x80070645", "name": "SAME_NAME"}])
    _, problems = check_content(content_factory(first, second))
    assert any("SAME_NAME is 0x80070643" in p.message for p in problems)


def test_symbolic_name_as_code_resolves_through_other_entries(content_factory) -> None:
    first = make_entry("first", codes=[{"code": "0x80070643", "name": "ERROR_INSTALL_FAILURE"}])
    second = make_entry("second", codes=[{"code": "ERROR_INSTALL_FAILURE"}])
    kb = load_knowledge_base(content_factory(first, second))
    assert kb.by_id["second"].codes[0].value == 0x80070643


def test_warnings_pass_unless_strict(content_factory, tmp_path: Path) -> None:
    root = content_factory(make_entry())
    (root / "prepare" / "sample-entry.yaml").rename(root / "prepare" / "misplaced.yml")
    kb, problems = check_content(root)
    assert kb is not None and [p.severity for p in problems] == ["warning"]
    with pytest.raises(ValidationFailed):
        load_knowledge_base(root, strict=True)


def test_entry_in_wrong_folder_is_a_warning(content_factory) -> None:
    root = content_factory(make_entry())
    target = root / "activate" / "sample-entry.yaml"
    target.parent.mkdir(exist_ok=True)
    (root / "prepare" / "sample-entry.yaml").rename(target)
    kb, problems = check_content(root)
    assert kb is not None
    assert [(p.field, p.severity) for p in problems] == [("phase", "warning")]
    assert "prepare/" in problems[0].message


def test_valid_content_builds_the_model(content_factory) -> None:
    entry = make_entry(related=[], tags=["keys"])
    kb = load_knowledge_base(content_factory(entry))
    loaded = kb.by_id["sample-entry"]
    assert loaded.codes[0].value == 0xC004F050
    assert loaded.codes[0].name == "SL_E_INVALID_PRODUCT_KEY"
    assert loaded.actions[0].command == "slmgr /ipk <key>"
    assert kb.code_names == {"SL_E_INVALID_PRODUCT_KEY": 0xC004F050}


def test_missing_content_folder(tmp_path: Path) -> None:
    kb, problems = check_content(tmp_path / "nowhere")
    assert kb is None and problems[0].message == "content folder not found"


@pytest.mark.skipif(os.name == "nt", reason="chmod does not remove read access on Windows")
def test_unreadable_file_is_a_problem_not_a_crash(content_factory) -> None:
    root = content_factory(make_entry())
    target = root / "prepare" / "sample-entry.yaml"
    target.chmod(0)
    try:
        if os.access(target, os.R_OK):  # root reads anything
            pytest.skip("running as root")
        _, problems = check_content(root)
        assert any("cannot read" in p.message for p in problems)
    finally:
        target.chmod(0o644)


@pytest.mark.parametrize(("root", "count"), [(ACTIVATION, 14), (PRINTING, 6)], ids=["activation", "printing"])
def test_fixture_sets_are_valid_without_warnings(root: Path, count: int) -> None:
    kb, problems = check_content(root)
    assert kb is not None and problems == []
    assert len(kb) == count
    # Entries come in reading order: by phase, then method, then source heading (or title).
    phases = [p.id for p in kb.taxonomy.phases]
    assert [phases.index(e.phase) for e in kb] == sorted(phases.index(e.phase) for e in kb)


def test_the_fixture_sets_differ_where_content_sets_may_differ(activation_kb, printing_kb) -> None:
    """What the code must not assume: methods, codes, sources, lookup examples and vocabularies vary."""
    assert all(not p.methods for p in printing_kb.taxonomy.phases[1:])
    assert any(not e.codes for e in printing_kb) and all(e.codes for e in activation_kb)
    assert any(e.source is None for e in printing_kb) and any(e.source and e.source.url for e in printing_kb)
    assert printing_kb.taxonomy.lookup_examples == () and activation_kb.taxonomy.lookup_examples
    assert {t.id for t in printing_kb.taxonomy.vocabularies.shell} == {"bash", "powershell"}
    assert printing_kb.taxonomy.short_name != activation_kb.taxonomy.short_name


SET_FILES = sorted(SETS.rglob("*.yaml"))
SET_ENTRIES = [p for p in SET_FILES if p.name not in ("taxonomy.yaml", "references.yaml")]


@pytest.mark.parametrize("path", SET_ENTRIES, ids=lambda p: p.stem)
def test_fixture_entries_validate_against_the_json_schema(path: Path) -> None:
    import json

    import jsonschema

    schema = json.loads((ROOT / "build_kb/content/schema/entry.schema.json").read_text("utf-8"))
    text = path.read_text("utf-8")
    jsonschema.validate(yaml.safe_load(text), schema)
    # The first line points editors at the schema, relative to the file.
    first = text.splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    assert (path.parent / first.split("=", 1)[1]).resolve() == (
        ROOT / "build_kb/content/schema/entry.schema.json"
    )


FAST_PATH_TEXTS = {
    "nested": "a: 1\nb:\n  - x\n  - {c: d, e: [1, 2]}\nf: |\n  block\n  text\n",
    "unicode before values": "título: «ünïcødé» ✓\nnext: 0xC004F050\nlist:\n  - é\n  - 𝄞 after a wide char: value\n",
    "flow and quotes": "codes: ['0x80070643', \"HRESULT_FROM_WIN32(1633)\"]\nempty: \nnull_value: ~\n",
    "comments and document marker": "# comment\n---\nkey: value  # trailing\n",
    "windows line ends": 'a: 1\r\nb:\r\n  - x\r\n  - "tab\\there"\r\nc: >-\r\n  folded\r\n  text\r\n',
}


@pytest.mark.parametrize(
    "text",
    [*FAST_PATH_TEXTS.values(), *(p.read_text("utf-8") for p in SET_FILES)],
    ids=[*FAST_PATH_TEXTS, *(p.relative_to(SETS).with_suffix("").as_posix() for p in SET_FILES)],
)
def test_libyaml_and_python_parsers_give_the_same_document(text: str) -> None:
    from build_kb.content import load

    fast_doc = load._parse_fast(text, "f.yaml")
    exact_doc, _ = load._parse_exact(text, "f.yaml")
    assert fast_doc is not None, "libyaml should take this document"
    assert exact_doc is not None
    assert fast_doc.data == exact_doc.data
    assert fast_doc.positions == exact_doc.positions
    assert fast_doc.key_positions == exact_doc.key_positions


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # alias
        "a: 1\na: 2\n",  # duplicate key
        "a: [1, 2\n",  # syntax error
        "a: b: c\n",
        "lol: &a [x, x]\nl2: &b [*a, *a]\nl3: [*b, *b]\n",  # alias bomb, never expanded
    ],
)
def test_documents_libyaml_cannot_take_cleanly_go_to_the_exact_parser(text: str) -> None:
    from build_kb.content import load

    assert load._parse_fast(text, "f.yaml") is None
    doc, problems = load.parse_yaml(text, "f.yaml")
    assert doc is None and problems
