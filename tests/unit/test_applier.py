"""The applier's policy against a fake writer: phases, splits, stops, read-backs. No HTTP: the
wire format of each write is ``ldseg.ld.writer``'s, tested over HTTP in tests/integration."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ldseg.applier import Applier, Status
from ldseg.errors import AmbiguousWriteError, ApiError, AuthError
from ldseg.ld.writer import FieldWrite
from ldseg.model import (
    Address,
    ApprovalRequest,
    DesiredState,
    DestinationSpec,
    FlagEnv,
    LiveDestination,
    Location,
    Reviewers,
    ScopeSpec,
    Settings,
)
from ldseg.plan import (
    Action,
    Approval,
    ApprovalState,
    DestinationChange,
    DestinationGuard,
    EnvironmentChange,
    FieldDiff,
    FlagChange,
    FlagGuard,
    Plan,
)

LOC = Location("ldseg.yaml", 1)


@dataclass
class FakeWriter:
    """Records every write; ``fail`` maps a call (name, key) to what its successive calls do: raise
    the exception, or succeed (None)."""

    calls: list[tuple[str, Any]] = field(default_factory=list)
    fail: dict[tuple[str, str], list[Exception | None]] = field(default_factory=dict)
    existing: dict[Address, LiveDestination] = field(default_factory=dict)
    approvals: list[ApprovalRequest] = field(default_factory=list)
    stop: threading.Event | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _call(self, name: str, key: str, payload: Any) -> None:
        with self.lock:
            self.calls.append((name, payload))
            errors = self.fail.get((name, key))
            error = errors.pop(0) if errors else None
        if error is not None:
            raise error

    def create_destination(self, spec: DestinationSpec) -> str:
        self._call("create", spec.name, spec.name)
        return f"id-{spec.name}"

    def find_destination(self, address: Address, kind: str) -> LiveDestination | None:
        self.calls.append(("find", address.name))
        return self.existing.get(address)

    def get_destination(self, address: Address, live_id: str) -> LiveDestination | None:
        self.calls.append(("get", live_id))
        return self.existing.get(address)

    def update_destination(
        self, address: Address, live_id: str, writes: Sequence[FieldWrite], *, idempotent: bool
    ) -> None:
        self._call("update", address.name, [(w.field, w.op) for w in writes])

    def delete_destination(self, address: Address, live_id: str) -> bool:
        self._call("delete", address.name, live_id)
        return True

    def set_default_track_events(self, project: str, environment: str, value: bool) -> None:
        self._call("environment", environment, value)

    def set_track_events(self, project: str, key: str, envs: Mapping[str, bool], comment: str) -> None:
        self._call("flag", key, (key, dict(envs), comment))

    def open_flag_approval(
        self, where: FlagEnv, export: bool, *, description: str, comment: str, reviewers: Reviewers
    ) -> ApprovalRequest:
        self._call("open", where[2], (where, export, reviewers))
        request = ApprovalRequest(f"req-{len(self.approvals)}", *where, "pending", "pending", export)
        self.approvals.append(request)
        return request

    def flag_approvals(self, where: FlagEnv) -> list[ApprovalRequest]:
        self.calls.append(("list", where[2]))
        return [r for r in self.approvals if (r.project, r.environment, r.flag) == where]

    def apply_flag_approval(self, where: FlagEnv, request_id: str, comment: str) -> ApprovalRequest:
        self._call("apply", where[2], request_id)
        return ApprovalRequest(request_id, *where, "completed", "approved", True)

    def pause_before_retry(self, attempt: int) -> None:
        self.calls.append(("pause", attempt))


def spec(name: str, kind: str = "segment", config: dict[str, Any] | None = None) -> DestinationSpec:
    return DestinationSpec("web", "production", name, kind, True, config or {"writeKey": "wk-123456"}, LOC)


def desired(*specs: DestinationSpec) -> DesiredState:
    scope = ScopeSpec("web", "production", LOC, {s.name: s for s in specs})
    return DesiredState({scope.key: scope})


def dest(
    name: str, action: Action, *, kind: str = "segment", diffs: tuple[FieldDiff, ...] = ()
) -> DestinationChange:
    guard = (
        DestinationGuard(absent=True) if action is Action.CREATE else DestinationGuard(f"id-{name}", 1, "x")
    )
    live_id = None if action is Action.CREATE else f"old-{name}"
    return DestinationChange(
        address=Address("destination", "web", "production", name),
        action=action,
        diffs=diffs,
        kind=kind,
        old_kind="kinesis" if action is Action.REPLACE else None,
        live_id=live_id,
        guard=guard,
    )


def flag(key: str, env: str = "production", export: bool = True) -> FlagChange:
    return FlagChange.of(Address("flag", "web", env, key), export, FlagGuard(1, 1))


def apply(writer: FakeWriter, plan: Plan, d: DesiredState, parallelism: int = 1) -> Applier:
    applier = Applier(writer, d, "the comment", parallelism=parallelism)
    applier.apply(plan)
    return applier


def test_phases_run_in_order_and_a_flag_is_one_write_for_all_its_environments() -> None:
    writer = FakeWriter()
    plan = Plan(
        (
            dest("gone", Action.DELETE),
            flag("a", "staging"),
            flag("a", "production"),
            EnvironmentChange.of(Address("environment", "web", "production"), False, True),
            dest("upd", Action.UPDATE, diffs=(FieldDiff("on", False, True, op="replace"),)),
            dest("new", Action.CREATE),
        )
    )
    applier = apply(writer, plan, desired(spec("new"), spec("upd")))
    assert [c[0] for c in writer.calls] == ["create", "update", "environment", "flag", "delete"]
    assert ("flag", ("a", {"production": True, "staging": True}, "the comment")) in writer.calls
    assert applier.report.ok and len(applier.report.results) == 6


def test_a_refused_flag_write_is_split_per_environment() -> None:
    refused = ApiError("405", status=405, code="method_not_allowed")
    writer = FakeWriter(fail={("flag", "a"): [refused, None, refused]})  # both; production; qa
    applier = apply(writer, Plan((flag("a", "production"), flag("a", "qa"))), desired())
    flag_writes = [c[1][1] for c in writer.calls if c[0] == "flag"]
    assert flag_writes == [{"production": True, "qa": True}, {"production": True}, {"qa": True}]
    statuses = {str(r.change.address): (r.status, r.code) for r in applier.report.results}
    assert statuses["flag:web/production/a"] == (Status.APPLIED, None)
    assert statuses["flag:web/qa/a"] == (Status.FAILED, "method_not_allowed")


def test_a_rejected_token_stops_every_write_not_yet_started() -> None:
    writer = FakeWriter(fail={("flag", "a"): [AuthError("401", status=401, code="unauthorized")]})
    applier = apply(writer, Plan((flag("a"), flag("b"), flag("c"))), desired())
    assert [c[1][0] for c in writer.calls if c[0] == "flag"] == ["a"]
    results = {r.change.address.name: r for r in applier.report.results}
    assert results["a"].status is Status.FAILED
    assert {results[k].status for k in "bc"} == {Status.SKIPPED}
    assert results["b"].detail == "not started: LaunchDarkly refused the token"


def test_an_ambiguous_create_is_read_back_and_not_sent_twice() -> None:
    created = LiveDestination("id-new", "web", "production", "new", "segment", True, {}, 1)
    writer = FakeWriter(
        fail={("create", "new"): [AmbiguousWriteError("connection dropped")]},
        existing={created.address: created},
    )
    applier = apply(writer, Plan((dest("new", Action.CREATE),)), desired(spec("new")))
    assert [c[0] for c in writer.calls] == ["create", "find"]  # no second create
    (result,) = applier.report.results
    assert result.status is Status.APPLIED and "confirmed by reading it back" in result.detail


def test_an_ambiguous_create_that_did_not_happen_is_sent_again_after_a_backoff() -> None:
    writer = FakeWriter(fail={("create", "new"): [AmbiguousWriteError("connection dropped")]})
    applier = apply(writer, Plan((dest("new", Action.CREATE),)), desired(spec("new")))
    assert [c[0] for c in writer.calls] == ["create", "find", "pause", "create"]
    assert applier.report.ok


def test_a_removal_already_done_is_not_sent_again() -> None:
    diffs = (
        FieldDiff("on", False, True, op="replace"),
        FieldDiff("config.userIDContextKind", "user", None, op="remove"),
    )
    change = dest("upd", Action.UPDATE, diffs=diffs)
    half_done = LiveDestination(
        "old-upd", "web", "production", "upd", "segment", False, {"writeKey": "wk****"}, 2
    )
    writer = FakeWriter(
        fail={("update", "upd"): [AmbiguousWriteError("connection dropped")]},
        existing={change.address: half_done},
    )
    apply(writer, Plan((change,)), desired(spec("upd")))
    updates = [c[1] for c in writer.calls if c[0] == "update"]
    assert updates == [[("on", "replace"), ("userIDContextKind", "remove")], [("on", "replace")]]


def test_a_replacement_keeps_the_old_destination_when_the_new_one_fails() -> None:
    writer = FakeWriter(fail={("create", "s"): [ApiError("400", status=400, code="invalid_request")]})
    applier = apply(writer, Plan((dest("s", Action.REPLACE),)), desired(spec("s")))
    assert not any(c[0] == "delete" for c in writer.calls)
    steps = {r.step: r.status for r in applier.report.results}
    assert steps == {"create": Status.FAILED, "delete": Status.SKIPPED}


def test_a_stop_starts_no_new_writes() -> None:
    writer = FakeWriter()
    applier = Applier(writer, desired(), "c", parallelism=1)
    applier.stop.set()
    applier.apply(Plan((flag("a"), flag("b"))))
    assert writer.calls == []
    assert {r.status for r in applier.report.results} == {Status.SKIPPED}
    assert writer.stop is applier.stop  # waits for retries end at once too


# --- approvals ----------------------------------------------------------------------------------

REFUSED = ApiError("405 method_not_allowed", status=405, code="method_not_allowed")


def gated(key: str, state: ApprovalState, request: str | None = None) -> FlagChange:
    return FlagChange.of(
        Address("flag", "web", "production", key), True, FlagGuard(1, 1), Approval(state, request)
    )


def reviewed_desired() -> DesiredState:
    return DesiredState({}, Settings(reviewers=Reviewers(("member-1",), ("platform",))))


def test_an_approval_request_is_opened_for_a_gated_change_and_others_still_apply() -> None:
    writer = FakeWriter(fail={("flag", "a"): [REFUSED]})
    plan = Plan((gated("a", ApprovalState.NEEDED), flag("b")))
    applier = apply(writer, plan, reviewed_desired())
    opened = [c[1] for c in writer.calls if c[0] == "open"]
    assert opened == [(("web", "production", "a"), True, Reviewers(("member-1",), ("platform",)))]
    results = {r.change.address.name: r for r in applier.report.results}
    assert results["a"].status is Status.REQUESTED and "request req-0" in results["a"].detail
    assert results["b"].status is Status.APPLIED
    assert applier.report.ok  # awaiting approval is not a failure


def test_a_token_that_may_bypass_approvals_simply_writes() -> None:
    writer = FakeWriter()  # the PATCH is accepted
    applier = apply(writer, Plan((gated("a", ApprovalState.NEEDED),)), desired())
    assert [c[0] for c in writer.calls] == ["flag"]
    assert applier.report.results[0].status is Status.APPLIED


def test_awaiting_and_declined_changes_write_nothing_and_approved_ones_are_applied() -> None:
    writer = FakeWriter()
    plan = Plan(
        (
            gated("waiting", ApprovalState.AWAITING, "r1"),
            gated("no", ApprovalState.DECLINED, "r2"),
            gated("yes", ApprovalState.APPROVED, "r3"),
        )
    )
    applier = apply(writer, plan, desired())
    assert writer.calls == [("apply", "r3")]
    results = {r.change.address.name: r for r in applier.report.results}
    assert results["waiting"].status is Status.REQUESTED
    assert (results["no"].status, results["no"].code) == (Status.FAILED, "approval_declined")
    assert results["yes"].status is Status.APPLIED and "applied approval request r3" in results["yes"].detail


def test_an_unforeseen_405_opens_a_request_only_within_the_budget_and_never_twice() -> None:
    writer = FakeWriter(fail={("flag", "a"): [REFUSED], ("flag", "b"): [REFUSED], ("flag", "c"): [REFUSED]})
    applier = Applier(writer, desired(), "c", parallelism=1, unplanned_requests=1)
    writer.approvals.append(ApprovalRequest("old", "web", "production", "c", "pending", "pending", True))
    applier.apply(Plan((flag("a"), flag("b"), flag("c"))))
    results = {r.change.address.name: r for r in applier.report.results}
    assert results["a"].status is Status.REQUESTED  # within the budget: opened
    assert results["b"].status is Status.FAILED and "max_approval_requests" in results["b"].detail
    assert results["c"].status is Status.REQUESTED and "request old, opened before" in results["c"].detail
    assert [c[1][0][2] for c in writer.calls if c[0] == "open"] == ["a"]


def test_an_unforeseen_405_applies_an_approved_request_and_fails_on_a_declined_one() -> None:
    """The plan did not know these flags were gated (so it read no requests): the requests already
    asking for the change decide, as they would have in the plan."""
    writer = FakeWriter(fail={("flag", "yes"): [REFUSED], ("flag", "no"): [REFUSED]})
    writer.approvals += [
        ApprovalRequest("r-yes", "web", "production", "yes", "pending", "approved", True),
        ApprovalRequest("r-no", "web", "production", "no", "pending", "declined", True),
    ]
    applier = Applier(writer, desired(), "c", parallelism=1, unplanned_requests=5)
    applier.apply(Plan((flag("yes"), flag("no"))))
    results = {r.change.address.name: r for r in applier.report.results}
    assert (
        results["yes"].status is Status.APPLIED and "applied approval request r-yes" in results["yes"].detail
    )
    assert (results["no"].status, results["no"].code) == (Status.FAILED, "approval_declined")
    assert "r-no" in results["no"].detail
    assert [c for c in writer.calls if c[0] == "open"] == []  # nobody is asked again
