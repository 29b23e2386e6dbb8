from ldseg.yamlsource import MAX_NODES, load_yaml


def test_on_off_yes_no_are_strings_and_keys_are_strings() -> None:
    doc, problems = load_yaml("on: true\noff: yes\nx: no\n123: y\n", "f.yaml")
    assert problems == []
    assert doc is not None
    assert doc.data == {"on": True, "off": "yes", "x": "no", "123": "y"}


def test_only_true_false_are_booleans() -> None:
    doc, _ = load_yaml("a: True\nb: FALSE\nc: On\nd: y\n", "f.yaml")
    assert doc is not None
    assert doc.data == {"a": True, "b": False, "c": "On", "d": "y"}


def test_lines_are_recorded_for_keys_and_items() -> None:
    doc, _ = load_yaml("version: 1\nprojects:\n  web:\n    x: [1,\n      2]\n", "f.yaml")
    assert doc is not None
    assert doc.lines[("projects",)] == 2
    assert doc.lines[("projects", "web", "x")] == 4
    assert doc.lines[("projects", "web", "x", 1)] == 5
    assert doc.line_of(("projects", "web", "x", 1, "missing")) == 5


def test_duplicate_keys_are_reported_with_both_lines() -> None:
    _, problems = load_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert [(p.line, p.message) for p in problems] == [(3, "duplicate key 'a' (first defined on line 1)")]


def test_malformed_yaml_has_a_line() -> None:
    doc, problems = load_yaml("a:\n  b: [1\n", "f.yaml")
    assert doc is None
    assert problems[0].message.startswith("invalid YAML")
    assert problems[0].line >= 2


def test_several_documents_are_refused() -> None:
    doc, problems = load_yaml("a: 1\n---\nb: 2\n", "f.yaml")
    assert doc is None
    assert "several YAML documents" in problems[0].message


def test_alias_bomb_is_refused() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefg", "bcdefgh", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]")
    doc, problems = load_yaml("\n".join(lines) + "\n", "bomb.yaml")
    assert doc is None
    assert f"more than {MAX_NODES:,} values" in problems[0].message


def test_merge_keys_work() -> None:
    doc, problems = load_yaml("base: &b {x: 1}\nd:\n  <<: *b\n  y: 2\n", "m.yaml")
    assert problems == []
    assert doc is not None
    assert doc.data["d"] == {"x": 1, "y": 2}


def test_empty_document() -> None:
    doc, problems = load_yaml("# only a comment\n", "e.yaml")
    assert problems == []
    assert doc is not None and doc.data is None
