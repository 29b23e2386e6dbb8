"""Execute a plan: ordered phases, bounded concurrency inside each, a result for every change.

Order: destination creates (and replacements' creates), destination updates, environment settings,
flag exports, then destination deletes (and replacements' deletes) last, so an export is never
interrupted. A failed change does not stop the others; a replacement's delete is skipped when its
create failed; a token LaunchDarkly rejects stops further writes. Each flag gets one write for all
its environments; refused for one of them (405, 409), it is written one environment at a time.
A write that fails ambiguously is read back before it is tried again (no duplicate destination,
no field removed twice). How each write looks on the wire is the ``Writer``'s business.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

from ldseg.errors import (
    AmbiguousWriteError,
    ApiError,
    AuthError,
    LdsegError,
    RequestAbandoned,
    StalePlanError,
)
from ldseg.ld.client import DEFAULT_PARALLELISM
from ldseg.ld.writer import FieldWrite, Writer
from ldseg.model import Address, DesiredState, DestinationSpec, FlagEnv
from ldseg.plan import Action, ApprovalState, Change, DestinationChange, EnvironmentChange, FlagChange, Plan
from ldseg.planner.destinations import destination_diffs


class Status(str, Enum):
    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"
    #: an approval request for the change is open (opened now, or before): it awaits review
    REQUESTED = "requested"


@dataclass(frozen=True)
class ChangeResult:
    change: Change
    status: Status
    detail: str = ""
    #: LaunchDarkly's error code when the change failed
    code: str | None = None
    #: for a replacement: which half this result is about ("create" or "delete")
    step: str | None = None


@dataclass
class ApplyReport:
    results: list[ChangeResult] = field(default_factory=list)
    #: the signal number that interrupted the apply (SIGINT, SIGTERM), if one did
    interrupted_by: int | None = None

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status is status)

    @property
    def ok(self) -> bool:
        """Nothing failed and nothing was left undone (awaiting approval is not a failure)."""
        return all(r.status in (Status.APPLIED, Status.REQUESTED) for r in self.results)


@dataclass(frozen=True)
class Requested:
    """What a write returns when it opened (or found) an approval request instead of writing."""

    detail: str


OnResult = Callable[[ChangeResult], None]

#: attempts at a write that failed ambiguously (each after reading back what happened)
AMBIGUOUS_RETRIES = 3
#: a refused multi-environment flag PATCH is retried one environment at a time: 405 (approval
#: required) and 409 may concern only one of its environments
SPLIT_STATUSES = (405, 409)
#: a type of change; a unit is the changes one request writes
C = TypeVar("C", bound=Change)
APPROVAL_REQUIRED = 405
#: the code of a change a reviewer declined
APPROVAL_DECLINED = "approval_declined"


@dataclass
class Applier:
    writer: Writer
    desired: DesiredState
    comment: str
    parallelism: int = DEFAULT_PARALLELISM
    on_result: OnResult | None = None
    #: set to stop starting new writes (in-flight ones finish)
    stop: threading.Event = field(default_factory=threading.Event)
    stop_reason: str = "not started: apply was interrupted"
    #: approval requests this apply may open for changes the plan did not know were gated (a 405);
    #: None: no limit (--force)
    unplanned_requests: int | None = 0
    report: ApplyReport = field(default_factory=ApplyReport)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def apply(self, plan: Plan) -> ApplyReport:
        self.writer.stop = self.stop  # waits for retries and pacing end when apply is interrupted
        dests = plan.destinations
        creates = [c for c in dests if c.action in (Action.CREATE, Action.REPLACE)]
        deletes = [c for c in dests if c.action in (Action.DELETE, Action.REPLACE)]
        created = self._run([[c] for c in creates], self._create, "create")
        self._run([[c] for c in dests if c.action is Action.UPDATE], self._update)
        self._run([[c] for c in plan.environments], self._environment)
        self._flags(plan.flags)
        ready = [c for c in deletes if c.action is Action.DELETE or c.address in created]
        for c in deletes:
            if c not in ready:
                reason = "the new destination was not created, so the old one is kept"
                self._record(ChangeResult(c, Status.SKIPPED, reason, step="delete"))
        self._run([[c] for c in ready], self._delete, "delete")
        return self.report

    # --- phases ----------------------------------------------------------------------------

    def _run(
        self,
        units: Sequence[Sequence[C]],
        fn: Callable[[Sequence[C]], str | Requested],
        step: str | None = None,
    ) -> set[Address]:
        """Apply ``units`` concurrently; return the addresses that succeeded."""
        done: set[Address] = set()

        def step_of(change: Change) -> str | None:
            return step if change.action is Action.REPLACE else None

        def one(unit: Sequence[C]) -> None:
            if self.stop.is_set():
                for c in unit:
                    self._record(ChangeResult(c, Status.SKIPPED, self.stop_reason, step=step_of(c)))
                return
            try:
                detail = fn(unit)
            except LdsegError as exc:
                if len(unit) > 1 and isinstance(exc, ApiError) and exc.status in SPLIT_STATUSES:
                    for c in unit:  # one environment may need approval: the others need not wait for it
                        one([c])
                    return
                code = exc.code if isinstance(exc, ApiError) else None
                status = Status.SKIPPED if isinstance(exc, RequestAbandoned) else Status.FAILED
                for c in unit:
                    self._record(ChangeResult(c, status, str(exc), code=code, step=step_of(c)))
                if isinstance(exc, AuthError) and exc.status == 401:  # every other write would be refused
                    self.stop_reason = "not started: LaunchDarkly refused the token"
                    self.stop.set()
                return
            if isinstance(detail, Requested):
                for c in unit:
                    self._record(ChangeResult(c, Status.REQUESTED, detail.detail))
                return
            with self._lock:
                done.update(c.address for c in unit)
            for c in unit:
                self._record(ChangeResult(c, Status.APPLIED, detail, step=step_of(c)))

        if units:
            with ThreadPoolExecutor(max_workers=max(1, min(self.parallelism, len(units)))) as pool:
                list(pool.map(one, units))
        return done

    def _record(self, result: ChangeResult) -> None:
        with self._lock:
            self.report.results.append(result)
        if self.on_result is not None:
            self.on_result(result)

    # --- writes ----------------------------------------------------------------------------

    def _spec(self, change: DestinationChange) -> DestinationSpec:
        spec = self.desired.destination(change.address)
        if spec is None:  # a saved plan whose config no longer declares it (checked earlier)
            raise StalePlanError(f"{change.address} is no longer in the configuration")
        return spec

    def _create(self, unit: Sequence[DestinationChange]) -> str:
        """After an ambiguous failure, read back and only create again if the destination really
        is not there (no duplicates)."""
        spec = self._spec(unit[0])

        def send() -> str:
            return f"created (id {self.writer.create_destination(spec)})"

        def recover() -> str | None:
            found = self.writer.find_destination(spec.address, spec.kind)
            if found is None:
                return None
            return f"created (id {found.id}; confirmed by reading it back after the connection failed)"

        return self._read_back_on_doubt(send, recover)

    def _update(self, unit: Sequence[DestinationChange]) -> str:
        """Setting a field is idempotent; removing one is not (the field is gone the second time),
        so after an ambiguous failure the destination is read back and only what is still missing
        is sent again."""
        change = unit[0]
        spec = self._spec(change)
        assert change.live_id is not None
        live_id = change.live_id
        writes = destination_writes(change, spec)

        def send() -> str:
            idempotent = not any(w.op == "remove" for w in writes)
            self.writer.update_destination(change.address, live_id, writes, idempotent=idempotent)
            return f"updated ({', '.join(d.path for d in change.diffs)})"

        def recover() -> str | None:
            current = self.writer.get_destination(change.address, live_id)
            if (
                current is not None
                and not change.has_secret_writes
                and not destination_diffs(spec, current)[0]
            ):
                return f"updated ({', '.join(d.path for d in change.diffs)}; confirmed by reading it back)"
            config = current.config if current is not None else {}
            writes[:] = [w for w in writes if w.op != "remove" or w.field in config]
            return None  # send what is still missing again

        return self._read_back_on_doubt(send, recover)

    def _read_back_on_doubt(self, send: Callable[[], str], recover: Callable[[], str | None]) -> str:
        """``send`` a non-idempotent write; when it fails ambiguously, ``recover`` reads back and
        either says it happened after all, or prepares ``send`` to try again (after a backoff)."""
        for attempt in range(1, AMBIGUOUS_RETRIES + 1):
            try:
                return send()
            except AmbiguousWriteError:
                done = recover()
                if done is not None:
                    return done
                if attempt == AMBIGUOUS_RETRIES:
                    raise
                self.writer.pause_before_retry(attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _delete(self, unit: Sequence[DestinationChange]) -> str:
        change = unit[0]
        assert change.live_id is not None
        if not self.writer.delete_destination(change.address, change.live_id):
            return f"already deleted (id {change.live_id})"
        return f"deleted (id {change.live_id})"

    def _environment(self, unit: Sequence[EnvironmentChange]) -> str:
        c = unit[0]
        self.writer.set_default_track_events(c.address.project, c.address.environment, c.default_track_events)
        return f"defaultTrackEvents = {str(c.default_track_events).lower()}"

    # --- flags and approvals ----------------------------------------------------------------

    def _flags(self, changes: Sequence[FlagChange]) -> None:
        """A flag's changes are one write, except where approvals stand in the way: an approved
        request is applied, one awaiting review or declined writes nothing, and a change in an
        environment that requires approval is tried on its own (a token allowed to bypass
        approvals simply writes it; otherwise LaunchDarkly answers 405 and a request is opened)."""
        plain, needed, approved = [], [], []
        for c in changes:
            state = c.approval.state if c.approval is not None else None
            if state is ApprovalState.AWAITING:
                self._record(ChangeResult(c, Status.REQUESTED, c.approval.describe() if c.approval else ""))
            elif state is ApprovalState.DECLINED:
                detail = f"{c.approval.describe() if c.approval else ''}: ldseg does not ask again by itself"
                self._record(ChangeResult(c, Status.FAILED, detail, code=APPROVAL_DECLINED))
            elif state is ApprovalState.APPROVED:
                approved.append([c])
            elif state is ApprovalState.NEEDED:
                needed.append([c])
            else:
                plain.append(c)
        self._run(approved, self._apply_approved)
        self._run([*_by_flag(plain), *needed], self._flag)

    def _flag(self, unit: Sequence[FlagChange]) -> str | Requested:
        a = unit[0].address
        envs = {c.address.environment: c.export for c in unit}
        try:
            self.writer.set_track_events(a.project, a.name, envs, self.comment)
        except ApiError as exc:
            if exc.status != APPROVAL_REQUIRED or len(unit) > 1:
                raise  # several environments: the caller writes them one at a time
            return self._request_approval(unit[0], exc)
        return "export on" if unit[0].export else "export off"

    def _request_approval(self, change: FlagChange, refusal: ApiError) -> str | Requested:
        """LaunchDarkly requires an approval for ``change``. One the plan foresaw: open a request.
        One it did not (the environment's settings did not show it, or its requests were not read):
        a request already asking for the same change decides (approved: apply it; declined: fail;
        else it awaits review); without one, open a request, against the budget of unplanned ones."""
        where = (change.address.project, change.address.environment, change.address.name)
        if change.approval is None:
            found = next((r for r in self.writer.flag_approvals(where) if r.open_for(change.export)), None)
            if found is not None and found.review_status == "approved":
                return self._apply_request(where, found.id)
            if found is not None and found.review_status == "declined":
                raise ApiError(
                    f"declined by a reviewer (request {found.id}): ldseg does not ask again by itself",
                    code=APPROVAL_DECLINED,
                )
            if found is not None:
                return Requested(f"awaiting approval (request {found.id}, opened before)")
            self._reserve_unplanned_request(refusal)
        a = change.address
        verb = "start" if change.export else "stop"
        description = (
            f"ldseg: {verb} exporting {a.name}'s events in {a.environment} "
            f"(trackEvents {str(change.export).lower()})"
        )
        reviewers = self.desired.reviewers(change.address.scope)

        def send() -> str:
            opened = self.writer.open_flag_approval(
                where, change.export, description=description, comment=self.comment, reviewers=reviewers
            )
            return f"approval requested (request {opened.id}); it awaits review in LaunchDarkly"

        def recover() -> str | None:
            for r in self.writer.flag_approvals(where):
                if r.open_for(change.export):
                    return f"approval requested (request {r.id}; confirmed by reading it back)"
            return None

        return Requested(self._read_back_on_doubt(send, recover))

    def _reserve_unplanned_request(self, refusal: ApiError) -> None:
        """Count a request the plan did not foresee; refuse past the budget (--force: none)."""
        with self._lock:
            if self.unplanned_requests is None:
                return
            if self.unplanned_requests <= 0:
                raise ApiError(
                    f"{refusal} LaunchDarkly requires an approval for it, which the plan did not foresee "
                    "(the environment's approval settings changed since, or did not show it), and this "
                    "apply has opened as many such requests as settings.safety.max_approval_requests "
                    "allows. Run `ldseg plan` again, or apply with --force to open them all.",
                    status=refusal.status,
                    code=refusal.code,
                ) from None
            self.unplanned_requests -= 1

    def _apply_approved(self, unit: Sequence[FlagChange]) -> str:
        """Apply the approved request the plan found."""
        change = unit[0]
        assert change.approval is not None and change.approval.request_id is not None
        where = (change.address.project, change.address.environment, change.address.name)
        return self._apply_request(where, change.approval.request_id)

    def _apply_request(self, where: FlagEnv, request_id: str) -> str:
        """Apply an approved request; one LaunchDarkly already applied counts as done."""

        def send() -> str:
            result = self.writer.apply_flag_approval(where, request_id, self.comment)
            if result.status == "failed":
                raise ApiError(
                    f"LaunchDarkly could not apply approval request {request_id}: it conflicts with a change "
                    "made since. Run `ldseg plan` to see where the flag stands.",
                    code="approval_apply_failed",
                )
            return f"applied approval request {request_id}"

        def recover() -> str | None:
            done = any(
                r.id == request_id and r.status == "completed" for r in self.writer.flag_approvals(where)
            )
            return f"applied approval request {request_id} (confirmed by reading it back)" if done else None

        return self._read_back_on_doubt(send, recover)


def _by_flag(changes: Iterable[FlagChange]) -> list[list[FlagChange]]:
    """Group flag changes by (project, flag key): one write covers all of a flag's environments."""
    groups: dict[tuple[str, str], list[FlagChange]] = {}
    for c in changes:
        groups.setdefault((c.address.project, c.address.name), []).append(c)
    return list(groups.values())


def destination_writes(change: DestinationChange, spec: DestinationSpec) -> list[FieldWrite]:
    """The fields a destination update writes: ``on`` and config fields only (never the whole
    masked config), with the values from the config, not from the plan (secrets are not in it)."""
    writes: list[FieldWrite] = []
    for d in change.diffs:
        if d.path == "on":
            writes.append(FieldWrite("on", "replace", spec.on))
        elif d.path.startswith("config."):
            name = d.path.removeprefix("config.")
            if d.op == "remove" or name not in spec.config:
                writes.append(FieldWrite(name, "remove"))
            else:
                writes.append(FieldWrite(name, "add" if d.op == "add" else "replace", spec.config[name]))
        else:  # pragma: no cover - the planner never emits other paths for an update
            raise ValueError(f"unexpected update path {d.path}")
    return writes
