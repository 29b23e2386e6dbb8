"""Execute a plan: ordered phases, bounded concurrency inside each, a result for every change.

Order (DESIGN §5): creates (and replacements' creates), updates, then deletes (and replacements'
deletes) last, so an export is never interrupted. A failed change does not stop the others;
a replacement's delete is skipped when its create failed. Destination updates are JSON Patch
ops on ``/on`` and ``/config/<field>`` only: the masked ``config`` LD returns is never written back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ldseg.errors import ApiError, LdsegError
from ldseg.ld.client import LDClient, seg
from ldseg.model import DesiredState, DestinationSpec
from ldseg.plan import Action, Change, Plan


class Status(str, Enum):
    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"


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

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status is status)

    @property
    def ok(self) -> bool:
        return all(r.status is Status.APPLIED for r in self.results)


OnResult = Callable[[ChangeResult], None]


@dataclass
class Applier:
    client: LDClient
    desired: DesiredState
    parallelism: int = 8
    on_result: OnResult | None = None
    #: set to stop starting new writes (in-flight ones finish)
    stop: threading.Event = field(default_factory=threading.Event)
    _report: ApplyReport = field(default_factory=ApplyReport)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def apply(self, plan: Plan) -> ApplyReport:
        creates = [c for c in plan.changes if c.action in (Action.CREATE, Action.REPLACE)]
        updates = [c for c in plan.changes if c.action is Action.UPDATE]
        deletes = [c for c in plan.changes if c.action in (Action.DELETE, Action.REPLACE)]
        created = self._run(
            creates, self._create, step=lambda c: "create" if c.action is Action.REPLACE else None
        )
        self._run(updates, self._update)
        ready = [c for c in deletes if c.action is Action.DELETE or c.address in created]
        for c in deletes:
            if c not in ready:
                self._record(
                    ChangeResult(
                        c,
                        Status.SKIPPED,
                        "the new destination was not created, so the old one is kept",
                        step="delete",
                    )
                )
        self._run(ready, self._delete, step=lambda c: "delete" if c.action is Action.REPLACE else None)
        return self._report

    # --- phases ----------------------------------------------------------------------------

    def _run(
        self,
        changes: Iterable[Change],
        fn: Callable[[Change], str],
        step: Callable[[Change], str | None] = lambda c: None,
    ) -> set[Any]:
        """Apply ``changes`` concurrently; return the addresses that succeeded."""
        done: set[Any] = set()

        def one(change: Change) -> None:
            if self.stop.is_set():
                self._record(
                    ChangeResult(
                        change, Status.SKIPPED, "not started: apply was interrupted", step=step(change)
                    )
                )
                return
            try:
                detail = fn(change)
            except LdsegError as exc:
                code = exc.code if isinstance(exc, ApiError) else None
                self._record(ChangeResult(change, Status.FAILED, str(exc), code=code, step=step(change)))
                return
            with self._lock:
                done.add(change.address)
            self._record(ChangeResult(change, Status.APPLIED, detail, step=step(change)))

        items = list(changes)
        if not items:
            return done
        with ThreadPoolExecutor(max_workers=max(1, min(self.parallelism, len(items)))) as pool:
            list(pool.map(one, items))
        return done

    def _record(self, result: ChangeResult) -> None:
        with self._lock:
            self._report.results.append(result)
        if self.on_result is not None:
            self.on_result(result)

    # --- destination writes ----------------------------------------------------------------

    def _spec(self, change: Change) -> DestinationSpec:
        spec = self.desired.destination(change.address)
        if spec is None:  # a saved plan whose config no longer declares it (checked earlier)
            raise LdsegError(f"{change.address} is no longer in the configuration")
        return spec

    def _create(self, change: Change) -> str:
        spec = self._spec(change)
        body = {"name": spec.name, "kind": spec.kind, "on": spec.on, "config": dict(spec.config)}
        created = self.client.post(f"/api/v2/destinations/{seg(spec.project)}/{seg(spec.environment)}", body)
        new_id = (created or {}).get("_id", "?")
        return f"created (id {new_id})"

    def _update(self, change: Change) -> str:
        spec = self._spec(change)
        ops = destination_patch(change, spec)
        assert change.live_id is not None
        self.client.patch(
            f"/api/v2/destinations/{seg(spec.project)}/{seg(spec.environment)}/{seg(change.live_id)}", ops
        )
        fields = ", ".join(d.path for d in change.diffs)
        return f"updated ({fields})"

    def _delete(self, change: Change) -> str:
        assert change.live_id is not None
        a = change.address
        try:
            self.client.delete(
                f"/api/v2/destinations/{seg(a.project)}/{seg(a.environment)}/{seg(change.live_id)}"
            )
        except ApiError as exc:
            if exc.status == 404:
                return f"already deleted (id {change.live_id})"
            raise
        return f"deleted (id {change.live_id})"


def destination_patch(change: Change, spec: DestinationSpec) -> list[dict[str, Any]]:
    """JSON Patch ops for a destination update: ``/on`` and ``/config/<field>`` paths only."""
    ops: list[dict[str, Any]] = []
    for d in change.diffs:
        if d.path == "on":
            ops.append({"op": "replace", "path": "/on", "value": spec.on})
        elif d.path.startswith("config."):
            name = d.path.removeprefix("config.")
            pointer = "/config/" + name.replace("~", "~0").replace("/", "~1")
            if d.op == "remove" or name not in spec.config:
                ops.append({"op": "remove", "path": pointer})
            else:
                ops.append({"op": d.op or "replace", "path": pointer, "value": spec.config[name]})
        else:  # pragma: no cover - the planner never emits other paths for an update
            raise ValueError(f"unexpected update path {d.path}")
    return ops
