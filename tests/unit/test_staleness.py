"""Typed changes survive the saved-plan format, and staleness compares their typed guards."""

from __future__ import annotations

from ldseg.model import Address, LiveEnvironment, LiveFlag, LiveFlagEnv, LiveState
from ldseg.plan import (
    Action,
    Approval,
    ApprovalState,
    Change,
    DestinationChange,
    DestinationGuard,
    EnvironmentChange,
    FieldDiff,
    FlagChange,
    FlagGuard,
    Plan,
)
from ldseg.planner.destinations import content_fingerprint
from ldseg.staleness import stale_reasons
from tests.helpers import live_dest

FLAG = Address("flag", "web", "production", "checkout")
ENV = Address("environment", "web", "production")
DEST = Address("destination", "web", "production", "seg")


def flag_change(env_version: int = 4) -> FlagChange:
    return FlagChange.of(FLAG, True, FlagGuard(flag_version=9, env_version=env_version))


def live_with(*, track: bool = False, env_version: int = 4, default: bool = False) -> LiveState:
    flag = LiveFlag("checkout", (), 10, {"production": LiveFlagEnv(track, env_version)})
    return LiveState(
        environments={("web", "production"): LiveEnvironment("web", "production", "Production", default)},
        destinations={("web", "production"): (live_dest("seg", id="d1"),)},
        flags={"web": {"checkout": flag}},
    )


def test_every_change_type_round_trips_through_the_plan_format() -> None:
    current = live_dest("seg", id="d1")
    changes: list[Change] = [
        flag_change(),
        EnvironmentChange.of(ENV, False, True),
        DestinationChange(
            address=DEST,
            action=Action.UPDATE,
            diffs=(FieldDiff("on", False, True, op="replace"),),
            kind="segment",
            live_id="d1",
            guard=DestinationGuard("d1", current.version, content_fingerprint(current)),
        ),
        DestinationChange(
            address=DEST,
            action=Action.CREATE,
            diffs=(FieldDiff("kind", None, "segment"),),
            kind="segment",
            guard=DestinationGuard(absent=True),
        ),
    ]
    for c in changes:
        assert Change.from_dict(c.to_dict()) == c
    assert flag_change().to_dict()["guard"] == {"_version": 9, "version": 4}
    assert EnvironmentChange.of(ENV, False, True).to_dict()["guard"] == {"defaultTrackEvents": False}


def test_a_flag_change_is_stale_when_its_environment_version_moved() -> None:
    saved = Plan((flag_change(env_version=4),))
    assert stale_reasons(saved, saved, live_with(env_version=4)) == []
    reasons = stale_reasons(saved, Plan(()), live_with(env_version=5))
    assert reasons == ["flag:web/production/checkout changed in LaunchDarkly (version 4 -> 5)"]


def test_a_flag_change_is_stale_when_trackevents_is_no_longer_what_it_was_planned_from() -> None:
    saved = Plan((flag_change(),))
    (reason,) = stale_reasons(saved, Plan(()), live_with(track=True))
    assert reason.startswith("flag:web/production/checkout changed in LaunchDarkly")


def test_an_environment_change_is_stale_when_default_track_events_moved() -> None:
    saved = Plan((EnvironmentChange.of(ENV, False, True),))
    assert stale_reasons(saved, saved, live_with(default=False)) == []
    assert stale_reasons(saved, Plan(()), live_with(default=True)) == [
        "environment:web/production defaultTrackEvents is now true (planned from false)"
    ]


def test_destination_guards() -> None:
    current = live_dest("seg", id="d1")
    guard = DestinationGuard("d1", current.version, content_fingerprint(current))
    update = DestinationChange(address=DEST, action=Action.UPDATE, kind="segment", live_id="d1", guard=guard)
    assert stale_reasons(Plan((update,)), Plan((update,)), live_with()) == []
    moved = DestinationChange(
        address=DEST,
        action=Action.UPDATE,
        kind="segment",
        live_id="d1",
        guard=DestinationGuard("d1", current.version, "sha256:other"),
    )
    assert stale_reasons(Plan((moved,)), Plan((moved,)), live_with()) == [
        f"destination:web/production/seg changed in LaunchDarkly (its content, at the same version "
        f"{current.version})"
    ]
    gone = DestinationChange(
        address=DEST, action=Action.DELETE, kind="segment", live_id="zz", guard=DestinationGuard("zz", 1, "x")
    )
    assert stale_reasons(Plan((gone,)), Plan(()), live_with()) == [
        "destination:web/production/seg (id zz) no longer exists in LaunchDarkly"
    ]
    create = DestinationChange(
        address=DEST, action=Action.CREATE, kind="segment", guard=DestinationGuard(absent=True)
    )
    assert stale_reasons(Plan((create,)), Plan(()), live_with()) == [
        "destination:web/production/seg (segment) now exists in LaunchDarkly (created after the plan)"
    ]


def test_a_change_the_fresh_plan_does_not_have_is_stale() -> None:
    saved = Plan((flag_change(),))
    other = FlagChange.of(Address("flag", "web", "production", "other"), False, FlagGuard(1, 1))
    reasons = stale_reasons(saved, Plan((other,)), LiveState({}, {}, {}))
    assert reasons == [
        "flag:web/production/checkout: the saved plan changes it, a plan made now does not "
        "(changed in LaunchDarkly, gone, or not what the config says)",
        "flag:web/production/other: a plan made now changes it (update), the saved plan does not",
    ]


def approved_change(state: ApprovalState, link: str) -> FlagChange:
    approval = Approval(state, "r1", link)
    return FlagChange.of(Address("flag", "web", "production", "checkout"), True, FlagGuard(1, 4), approval)


def test_an_approval_requests_link_is_not_part_of_the_change() -> None:
    """The link holds the API's address: the embedded sandbox gets another port every run."""
    saved = Plan(
        (approved_change(ApprovalState.AWAITING, "http://127.0.0.1:1111/api/v2/approval-requests/r1"),)
    )
    fresh = Plan(
        (approved_change(ApprovalState.AWAITING, "http://127.0.0.1:2222/api/v2/approval-requests/r1"),)
    )
    assert stale_reasons(saved, fresh, live_with()) == []


def test_an_approval_that_moved_on_says_so() -> None:
    saved = Plan((approved_change(ApprovalState.AWAITING, ""),))
    fresh = Plan((approved_change(ApprovalState.APPROVED, ""),))
    assert stale_reasons(saved, fresh, live_with()) == [
        "flag:web/production/checkout: its approval request moved on since the plan was saved "
        "(now: approved: apply applies request r1); run `ldseg plan` again"
    ]
