"""What a plan reads, and what the facts read mean: pure, no HTTP."""

from __future__ import annotations

import pytest

from ldseg.errors import ConfigError
from ldseg.model import (
    FETCH_BY_KEY_MAX,
    DesiredState,
    ExportSpec,
    FlagNeeds,
    FlagSelection,
    LiveState,
    Location,
    ScopeSpec,
)
from ldseg.planner import make_plan
from ldseg.planner.reads import read_findings, what_to_read

LOC = Location("ldseg.yaml", 3)


def scope(env: str, selection: FlagSelection | None = None, *, owned: bool = False) -> ScopeSpec:
    export = ExportSpec(LOC, flags=selection) if selection is not None else None
    return ScopeSpec("web", env, Location("ldseg.yaml", 2), {} if owned else None, export=export)


def desired(*scopes: ScopeSpec) -> DesiredState:
    return DesiredState({s.key: s for s in scopes})


def keys(*names: str, others: str = "keep") -> FlagSelection:
    return FlagSelection(
        keys=names,
        others=others,  # type: ignore[arg-type]
        location=LOC,
        key_locations={k: Location("ldseg.yaml", 10 + i) for i, k in enumerate(names)},
    )


def test_a_few_exact_keys_are_read_one_by_one() -> None:
    d = desired(scope("production", keys("a", "b")), scope("staging", keys("b", "c")))
    request = what_to_read(d, d.scopes)
    (needs,) = request.flags
    assert (needs.project, needs.envs, needs.exact_keys, needs.by_key) == (
        "web",
        ("production", "staging"),
        ("a", "b", "c"),
        True,
    )
    assert request.scopes == (("web", "production"), ("web", "staging"))
    assert not request.destinations  # no scope owns destinations


def test_globs_tags_others_off_or_many_keys_list_the_project() -> None:
    many = tuple(f"k{i}" for i in range(FETCH_BY_KEY_MAX + 1))
    for selection in (
        keys("a-*"),
        FlagSelection(tags=("analytics",)),
        keys("a", others="off"),
        keys(*many),
    ):
        (needs,) = what_to_read(desired(scope("production", selection)), [("web", "production")]).flags
        assert not needs.by_key, selection


def test_what_is_not_targeted_is_not_read() -> None:
    d = desired(scope("production", keys("a"), owned=True))
    assert what_to_read(d, d.scopes, ["destination"]).flags == ()
    assert what_to_read(d, d.scopes, ["destination"]).destinations
    assert not what_to_read(d, d.scopes, ["flag"]).destinations


def test_everything_needs_every_flag() -> None:
    needs = FlagNeeds.everything("web", ["staging", "production"])
    assert needs.envs == ("production", "staging") and needs.needs_all and not needs.by_key
    assert needs.wanted("anything", ())


def test_missing_project_environment_and_key_are_config_problems_at_their_lines() -> None:
    d = desired(scope("production", keys("a", "gone")), scope("staging"))
    live = LiveState({}, {}, missing_environments=frozenset({("web", "staging")}))
    problems, _ = read_findings(d, live, d.scopes)
    assert [str(p) for p in problems] == [
        "ldseg.yaml:2: error: environment 'staging' does not exist in project 'web' "
        "(ldseg never creates environments)"
    ]
    live = LiveState({}, {}, missing_keys=frozenset({("web", "gone")}))
    with pytest.raises(ConfigError) as exc:
        make_plan(d, live)
    assert "ldseg.yaml:11: error: export.flags.keys of web/production: flag 'gone' does not exist" in str(
        exc.value
    )
    problems, _ = read_findings(d, LiveState({}, {}, missing_projects=frozenset({"web"})), d.scopes)
    assert [p.message for p in problems] == [
        "project 'web' does not exist in LaunchDarkly (ldseg never creates projects)"
    ]


def test_archived_keys_unplaced_destinations_and_notes_are_plan_warnings() -> None:
    d = desired(scope("production", keys("old")))
    live = LiveState(
        {},
        {},
        archived_keys=frozenset({("web", "old")}),
        unplaced_destinations=frozenset({"x"}),
        notes=("a page was read again",),
    )
    plan = make_plan(d, live)
    assert plan.warnings == (
        "ldseg.yaml:10: export.flags.keys of web/production: flag 'old' is archived; ldseg leaves archived "
        "flags alone (remove it from keys).",
        "Destinations without a usable _links.self.href in GET /api/v2/destinations: 1. ldseg cannot tell "
        "their project and environment and leaves them alone.",
        "a page was read again",
    )


def test_only_the_planned_scopes_are_judged() -> None:
    d = desired(scope("production", keys("old")), scope("staging", keys("old")))
    live = LiveState({}, {}, archived_keys=frozenset({("web", "old")}))
    _, warnings = read_findings(d, live, [("web", "staging")])
    assert len(warnings) == 1 and "web/staging" in warnings[0]
