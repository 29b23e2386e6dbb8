"""Flag selection semantics (export.flags), table-driven."""

from __future__ import annotations

import pytest

from ldseg.model import ExportSpec, FlagNeeds, FlagSelection, Location, glob_problem

LOC = Location("ldseg.yaml", 1)


@pytest.mark.parametrize(
    ("selection", "key", "tags", "selected"),
    [
        (FlagSelection(all=True), "anything", (), True),
        (FlagSelection(all=True, except_=("noisy-*",)), "noisy-flag", (), False),
        (FlagSelection(keys=("checkout-v2",)), "checkout-v2", (), True),
        (FlagSelection(keys=("checkout-v2",)), "checkout-v3", (), False),
        (FlagSelection(keys=("pricing-*",)), "pricing-banner", (), True),
        (FlagSelection(keys=("pricing-?",)), "pricing-1", (), True),
        (FlagSelection(keys=("pricing-[ab]",)), "pricing-c", (), False),
        (FlagSelection(tags=("analytics", "growth")), "x", ("growth",), True),
        (FlagSelection(tags=("analytics",)), "x", ("Analytics",), False),  # tags are case-sensitive
        (FlagSelection(tags=("analytics",)), "x", (), False),
        (FlagSelection(keys=("a",), tags=("t",)), "b", ("t",), True),  # keys OR tags
        (FlagSelection(tags=("t",), except_=("b",)), "b", ("t",), False),  # except wins
        (FlagSelection(keys=("B",)), "b", (), False),  # keys are case-sensitive
        (FlagSelection(), "x", ("t",), False),
    ],
)
def test_selects(selection: FlagSelection, key: str, tags: tuple[str, ...], selected: bool) -> None:
    assert selection.selects(key, tags) is selected


@pytest.mark.parametrize(
    ("selection", "only_exact"),
    [
        (FlagSelection(keys=("a", "b")), True),
        (FlagSelection(keys=("a", "b-*")), False),
        (FlagSelection(keys=("a",), others="off"), False),
        (FlagSelection(keys=("a",), tags=("t",)), False),
        (FlagSelection(all=True), False),
    ],
)
def test_only_exact_keys(selection: FlagSelection, only_exact: bool) -> None:
    assert selection.only_exact_keys is only_exact


@pytest.mark.parametrize(
    ("new_flags", "selection", "default"),
    [
        (None, None, None),
        (True, None, True),
        (False, None, False),
        (None, FlagSelection(all=True), True),  # "every flag" covers future flags too
        (False, FlagSelection(all=True), False),  # unless set explicitly
        (None, FlagSelection(tags=("t",)), None),
    ],
)
def test_default_track_events(
    new_flags: bool | None, selection: FlagSelection | None, default: bool | None
) -> None:
    assert ExportSpec(LOC, new_flags, selection).default_track_events is default


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("checkout-*", None),
        ("pricing-[ab]", None),
        ("pricing-[!a-c]?", None),
        ("odd[*]name[?]", None),  # what `ldseg export` writes for a name with glob characters
        ("[]]x", None),  # a "]" first in a class is literal
        ("[[]", None),
        ("[abc", "a '[' is never closed by a ']' (write [[] for a literal '[')"),
        ("x-[", "a '[' is never closed by a ']' (write [[] for a literal '[')"),
        ("[!]", "a '[' is never closed by a ']' (write [[] for a literal '[')"),
        ("[a]-[b", "a '[' is never closed by a ']' (write [[] for a literal '[')"),
        ("v[9-0]", "the range 9-0 in [9-0] is reversed (did you mean 0-9?)"),
        ("v[!z-a]", "the range z-a in [!z-a] is reversed (did you mean a-z?)"),
    ],
)
def test_glob_problem(pattern: str, problem: str | None) -> None:
    assert glob_problem(pattern) == problem


def test_flags_excepted_from_a_selection_are_still_read() -> None:
    """The planner counts what each except entry takes out: the reader keeps those flags."""
    needs = FlagNeeds("web", (("production", FlagSelection(tags=("t",), except_=("b",))),))
    assert needs.wanted("b", ("t",)) and not needs.wanted("c", ())
