from __future__ import annotations

from ldseg.model import (
    DesiredState,
    ExportSpec,
    FlagSelection,
    LiveEnvironment,
    LiveFlag,
    LiveFlagEnv,
    LiveState,
    Location,
    ScopeSpec,
)
from ldseg.plan import Action, EnvironmentChange, EnvironmentGuard, FieldDiff, FlagGuard, Plan
from ldseg.planner import make_plan
from ldseg.render.text import render_plan

LOC = Location("ldseg.yaml", 1)


def flag(key: str, te: bool, tags: tuple[str, ...] = (), archived: bool = False) -> LiveFlag:
    return LiveFlag(key, tags, 3, {"production": LiveFlagEnv(te, 7)}, archived)


def plan(export: ExportSpec, *flags: LiveFlag, default: bool = False) -> Plan:
    scope = ScopeSpec("web", "production", LOC, export=export)
    live = LiveState(
        environments={("web", "production"): LiveEnvironment("web", "production", "Production", default)},
        destinations={},
        flags={"web": {f.key: f for f in flags}},
    )
    return make_plan(DesiredState({scope.key: scope}), live)


def test_new_flags_sets_default_track_events() -> None:
    p = plan(ExportSpec(LOC, new_flags=True))
    (change,) = p.changes
    assert str(change.address) == "environment:web/production"
    assert change.diffs[0].path == "defaultTrackEvents"
    assert (change.diffs[0].before, change.diffs[0].after) == (False, True)
    assert isinstance(change, EnvironmentChange) and change.guard == EnvironmentGuard(False)
    assert change.default_track_events is True
    assert p.summary().line() == "Plan: 0 to add, 0 to change, 0 to destroy; environments: 1 to change."
    assert plan(ExportSpec(LOC, new_flags=True), default=True).empty


def test_selected_flags_export_and_others_are_kept() -> None:
    sel = FlagSelection(tags=("analytics",))
    p = plan(
        ExportSpec(LOC, flags=sel),
        flag("a", False, ("analytics",)),
        flag("b", True, ("analytics",)),  # already exporting
        flag("c", True),  # unselected, kept
        flag("d", False, ("analytics",), archived=True),  # never touched
    )
    assert [(str(c.address), c.diffs) for c in p.changes] == [
        ("flag:web/production/a", (FieldDiff("trackEvents", False, True, op="replace"),))
    ]
    (change,) = p.flags
    assert change.guard == FlagGuard(3, 7) and change.export is True and change.planned_from is False
    assert (
        p.summary().line()
        == "Plan: 0 to add, 0 to change, 0 to destroy; flags: 1 to export, 0 to stop exporting."
    )


def test_others_off_turns_unselected_flags_off() -> None:
    sel = FlagSelection(keys=("a",), others="off")
    p = plan(ExportSpec(LOC, flags=sel), flag("a", True), flag("c", True), flag("d", False))
    assert [(c.address.name, c.export) for c in p.flags] == [("c", False)]


def test_all_exports_every_flag_and_new_ones() -> None:
    p = plan(ExportSpec(LOC, flags=FlagSelection(all=True)), flag("a", False), flag("b", True))
    assert [str(c.address) for c in p.changes] == ["environment:web/production", "flag:web/production/a"]
    assert all(c.action is Action.UPDATE for c in p.changes)


def test_flag_changes_render_compactly() -> None:
    sel = FlagSelection(keys=("a", "b"), others="off")
    p = plan(ExportSpec(LOC, flags=sel), flag("a", False), flag("b", False), flag("z", True))
    assert render_plan(p) == (
        "ldseg will perform the following actions:\n"
        "\n"
        "  # flags in web/production: 2 to export, 1 to stop exporting\n"
        "  ~ flag:web/production/* (trackEvents) {\n"
        "      + a\n"
        "      + b\n"
        "      - z\n"
        "    }\n"
        "\n"
        "Plan: 0 to add, 0 to change, 0 to destroy; flags: 2 to export, 1 to stop exporting.\n"
    )
