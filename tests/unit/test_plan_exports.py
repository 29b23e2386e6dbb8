from __future__ import annotations

from ldseg.model import (
    ApprovalRequest,
    ApprovalSettings,
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
from ldseg.plan import (
    Action,
    Approval,
    ApprovalState,
    EnvironmentChange,
    EnvironmentGuard,
    FieldDiff,
    FlagGuard,
    Plan,
)
from ldseg.planner import make_plan
from ldseg.render.text import render_plan
from ldseg.scoping import Scoping

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


def at(line: int) -> Location:
    return Location("ldseg.yaml", line)


def listed_plan(selections: dict[str, FlagSelection], *flags: LiveFlag, listed: bool = True) -> Plan:
    """A plan of one scope per environment, over flags that were listed (or read by key)."""
    scopes = [ScopeSpec("web", e, LOC, export=ExportSpec(LOC, flags=s)) for e, s in selections.items()]
    live = LiveState(
        environments={("web", e): LiveEnvironment("web", e, e, False) for e in selections},
        destinations={},
        flags={"web": {f.key: f for f in flags}},
        flags_listed=frozenset({"web"} if listed else ()),
    )
    return make_plan(DesiredState({s.key: s for s in scopes}), live)


SELECTORS = FlagSelection(
    keys=("checkout-*", "zzz-*", "exact"),
    tags=("analytics", "nosuchtag"),
    except_=("checkout-old", "noisy", "search", "none-*"),
    location=at(5),
    key_locations={"checkout-*": at(6), "zzz-*": at(7), "exact": at(8)},
    tag_locations={"analytics": at(9), "nosuchtag": at(10)},
    except_locations={"checkout-old": at(11), "noisy": at(12), "search": at(13), "none-*": at(14)},
)
FLAGS = (
    flag("checkout-v2", False),
    flag("checkout-old", True),  # taken out by except: counted for it
    flag("exact", False),
    flag("search", True, ("analytics",)),  # tagged: taken out by except
    flag("noisy", False),  # not in the selection: "noisy" in except takes nothing out
    flag("zzz-archived", False, archived=True),  # archived flags match nothing
)


def test_selectors_matching_no_flag_are_warnings_at_their_line() -> None:
    p = listed_plan({"production": SELECTORS}, *FLAGS)
    assert list(p.warnings) == [
        "ldseg.yaml:10: export.flags.tags of web/production: no flag carries the tag 'nosuchtag', so it "
        "selects nothing (check the spelling).",
        "ldseg.yaml:7: export.flags.keys of web/production: 'zzz-*' matches no flag, so it selects nothing.",
        "ldseg.yaml:12: export.flags.except of web/production: 'noisy' matches no flag the selection would "
        "export, so it takes nothing out.",
        "ldseg.yaml:14: export.flags.except of web/production: 'none-*' matches no flag the selection "
        "would export, so it takes nothing out.",
    ]
    assert [c.address.name for c in p.flags] == ["checkout-v2", "exact"]  # selection unchanged


def test_warnings_are_per_environment() -> None:
    staging = FlagSelection(keys=("noisy*",), location=at(20), key_locations={"noisy*": at(21)})
    p = listed_plan({"production": SELECTORS, "staging": staging}, *FLAGS[:3])
    assert [w.split(": ", 2)[1] for w in p.warnings] == [
        "export.flags.tags of web/production",  # no flag tagged analytics this time
        "export.flags.tags of web/production",
        "export.flags.keys of web/production",
        "export.flags.except of web/production",
        "export.flags.except of web/production",
        "export.flags.except of web/production",  # search is not there this time
        "export.flags.keys of web/staging",
    ]


def test_nothing_is_said_where_the_flags_were_read_by_key() -> None:
    """A few exact keys (others: keep) are read one by one: tags and globs cannot be judged."""
    sel = FlagSelection(keys=("a",), except_=("b",), location=at(5))
    assert listed_plan({"production": sel}, flag("a", False), listed=False).warnings == ()
    assert listed_plan({"production": sel}, flag("a", False)).warnings != ()


def test_many_overlapping_globs_are_each_credited() -> None:
    """Globs are checked in blocks: a flag matched by several globs crosses off every one of them."""
    globs = (*(f"f-{i:02d}*" for i in range(40)), "f-*", "f-0?", "*-39", "g-*")
    sel = FlagSelection(keys=globs, location=at(5))
    p = listed_plan({"production": sel}, *(flag(f"f-{i:02d}", True) for i in range(0, 40)))
    assert [w.split(": ", 3)[2] for w in p.warnings] == ["'g-*' matches no flag, so it selects nothing."]


# --- approvals ------------------------------------------------------------------------------------


def gated_plan(
    settings: ApprovalSettings,
    *requests: ApprovalRequest,
    tags: tuple[str, ...] = (),
    exporting: bool = False,
    scoping: Scoping | None = None,
    others: tuple[str, ...] = (),
) -> Plan:
    scope = ScopeSpec("web", "production", LOC, export=ExportSpec(LOC, flags=FlagSelection(all=True)))
    env = LiveEnvironment("web", "production", "Production", True, settings)
    live = LiveState(
        environments={scope.key: env},
        destinations={},
        flags={"web": {"a": flag("a", exporting, tags), **{k: flag(k, False) for k in others}}},
        approval_requests={("web", "production", "a"): requests} if requests else {},
    )
    return make_plan(DesiredState({scope.key: scope}), live, scoping)


def request(review: str, track_events: bool = True, id: str = "r1") -> ApprovalRequest:
    return ApprovalRequest(id, "web", "production", "a", "pending", review, track_events)


def test_a_change_where_approvals_are_required_needs_one() -> None:
    (change,) = gated_plan(ApprovalSettings(required=True)).flags
    assert change.approval == Approval(ApprovalState.NEEDED)
    assert gated_plan(ApprovalSettings()).flags[0].approval is None
    tagged = ApprovalSettings(required_tags=("pii",))
    assert gated_plan(tagged).flags[0].approval is None
    assert gated_plan(tagged, tags=("pii",)).flags[0].approval == Approval(ApprovalState.NEEDED)
    summary = gated_plan(ApprovalSettings(required=True)).summary()
    assert summary.line().endswith("flags: 1 to export, 0 to stop exporting (1 need approval).")


def test_an_open_request_for_the_same_change_is_relied_on_whatever_its_review() -> None:
    required = ApprovalSettings(required=True)
    assert gated_plan(required, request("pending")).flags[0].approval == Approval(
        ApprovalState.AWAITING, "r1"
    )
    assert gated_plan(required, request("approved")).flags[0].approval == Approval(
        ApprovalState.APPROVED, "r1"
    )
    declined = gated_plan(required, request("declined"))
    assert declined.flags[0].approval == Approval(ApprovalState.DECLINED, "r1")
    assert any("declined approval request r1" in w for w in declined.warnings)
    # LaunchDarkly may gate what the settings did not show: an open request still counts
    assert gated_plan(ApprovalSettings(), request("pending")).flags[0].approval == Approval(
        ApprovalState.AWAITING, "r1"
    )


def test_a_request_for_the_opposite_change_is_stale_and_said() -> None:
    plan = gated_plan(ApprovalSettings(required=True), request("pending", track_events=False, id="old"))
    assert plan.flags[0].approval == Approval(ApprovalState.NEEDED)
    assert any("approval request old asks for trackEvents false" in w for w in plan.warnings)


def test_a_request_that_would_undo_the_config_is_said_though_nothing_changes() -> None:
    plan = gated_plan(
        ApprovalSettings(), request("pending", track_events=False, id="undo"), exporting=True, others=("b",)
    )
    assert [c.address.name for c in plan.flags] == ["b"]
    assert any(
        "approval request undo asks for trackEvents false" in w and "undo the config" in w
        for w in plan.warnings
    )


def test_a_partial_plan_says_only_what_concerns_its_targets() -> None:
    declined = request("declined")
    whole = gated_plan(ApprovalSettings(required=True), declined, others=("b",))
    assert any("declined approval request r1" in w for w in whole.warnings)
    other = gated_plan(
        ApprovalSettings(required=True),
        declined,
        scoping=Scoping(targets=("flag:web/production/b",)),
        others=("b",),
    )
    assert [c.address.name for c in other.flags] == ["b"]
    assert not any("r1" in w for w in other.warnings)
