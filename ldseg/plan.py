"""The plan: one value object, rendered as text, Markdown or JSON and executed by the applier.

A Change carries its address, action, field-level diff and a guard describing the remote object as
planned. Secret values never enter a Change: a secret diff has ``sensitive=True`` and no values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ldseg.model import Address
from ldseg.secrets import SENSITIVE


class Action(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"  # kind changed: create the new destination, then delete the old one

    def __str__(self) -> str:
        return self.value


def fmt(value: Any) -> str:
    """A value as it appears in a plan: JSON literals (strings quoted, booleans lower-case)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


#: Display order and symbols (Terraform's vocabulary).
SYMBOLS = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-", Action.REPLACE: "-/+"}
_TYPE_ORDER = {"destination": 0, "environment": 1, "flag": 2}


@dataclass(frozen=True)
class FieldDiff:
    """One field that differs. ``path`` is ``on``, ``kind`` or ``config.<field>``."""

    path: str
    before: Any = None
    after: Any = None
    sensitive: bool = False
    #: why a sensitive field is planned (a secret's value cannot be shown)
    reason: str | None = None
    #: the JSON Patch op that realises an update: "add", "replace" or "remove"
    op: str | None = None

    def describe(self) -> str:
        """The field as what LaunchDarkly has against what the config says (drift, smoke tests)."""
        if self.sensitive:
            return f"{self.path}: {SENSITIVE} ({self.reason})" if self.reason else f"{self.path}: {SENSITIVE}"
        live = "nothing" if self.before is None else fmt(self.before)
        wanted = "nothing" if self.after is None else fmt(self.after)
        return f"{self.path}: LaunchDarkly has {live}, the config says {wanted}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "before": self.before, "after": self.after}
        if self.sensitive:
            out.update(before=None, after=None, sensitive=True)
        if self.reason:
            out["reason"] = self.reason
        if self.op:
            out["op"] = self.op
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FieldDiff:
        return cls(
            path=str(data["path"]),
            before=data.get("before"),
            after=data.get("after"),
            sensitive=bool(data.get("sensitive", False)),
            reason=data.get("reason"),
            op=data.get("op"),
        )


# --- guards: what the remote object looked like when planned -------------------------------------


@dataclass(frozen=True)
class DestinationGuard:
    """A destination as planned from: ``absent`` for a create, else its id, version and a
    fingerprint of its content (a saved plan is stale once any of them moved)."""

    id: str | None = None
    version: float | int | None = None
    fingerprint: str | None = None
    absent: bool = False

    def to_dict(self) -> dict[str, Any]:
        if self.absent:
            return {"absent": True}
        return {"id": self.id, "version": self.version, "fingerprint": self.fingerprint}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DestinationGuard:
        if data.get("absent"):
            return cls(absent=True)
        id_ = data.get("id")
        return cls(None if id_ is None else str(id_), data.get("version"), data.get("fingerprint"))


@dataclass(frozen=True)
class EnvironmentGuard:
    """The environment's defaultTrackEvents as planned from (environments carry no version)."""

    default_track_events: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {"defaultTrackEvents": self.default_track_events}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EnvironmentGuard:
        return cls(data.get("defaultTrackEvents"))


@dataclass(frozen=True)
class FlagGuard:
    """The flag's ``_version`` (recorded only: it moves with edits to other environments) and the
    version of its configuration in the planned environment (compared)."""

    flag_version: int | None
    env_version: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"_version": self.flag_version, "version": self.env_version}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FlagGuard:
        return cls(data.get("_version"), data.get("version"))


Guard = DestinationGuard | EnvironmentGuard | FlagGuard


# --- changes --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Change:
    """One planned change: its address, action and field-level diff (what every output shows).
    The subclasses carry what each resource type needs to be applied and guarded."""

    address: Address
    action: Action
    diffs: tuple[FieldDiff, ...] = ()

    @property
    def sort_key(self) -> tuple[int, Address]:
        return (_TYPE_ORDER[self.address.type], self.address)

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": str(self.address),
            "type": self.address.type,
            "action": self.action.value,
            "diff": [d.to_dict() for d in self.diffs],
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Change:
        """Inverse of ``to_dict``; raises KeyError/ValueError/TypeError on malformed input."""
        address = Address.parse(str(data["address"]))
        if address.type != data.get("type", address.type):
            raise ValueError(f"type {data.get('type')!r} does not match address {address}")
        action = Action(data["action"])
        diffs = tuple(FieldDiff.from_dict(d) for d in data.get("diff", []))
        guard = data.get("guard") or {}
        if address.type == "destination":
            return DestinationChange(
                address=address,
                action=action,
                diffs=diffs,
                kind=str(data["kind"]),
                old_kind=data.get("old_kind"),
                live_id=data.get("live_id"),
                guard=DestinationGuard.from_dict(guard),
            )
        if len(diffs) != 1 or action is not Action.UPDATE:
            raise ValueError(f"{address}: an {address.type} change is one update of one field")
        if address.type == "environment":
            return EnvironmentChange(
                address=address, action=action, diffs=diffs, guard=EnvironmentGuard.from_dict(guard)
            )
        approval = Approval.from_dict(data["approval"]) if data.get("approval") else None
        return FlagChange(
            address=address, action=action, diffs=diffs, guard=FlagGuard.from_dict(guard), approval=approval
        )


@dataclass(frozen=True, kw_only=True)
class DestinationChange(Change):
    #: the destination's kind after the change (before it, for a delete)
    kind: str
    #: the old kind of a replaced destination
    old_kind: str | None = None
    #: LaunchDarkly ``_id`` of the existing destination (update, delete, replace)
    live_id: str | None = None
    guard: DestinationGuard

    @property
    def has_secret_writes(self) -> bool:
        """Does realising this change send a secret (which a read-back cannot confirm: masked)?"""
        return any(d.sensitive and d.op != "remove" for d in self.diffs)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        for key in ("kind", "old_kind", "live_id"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out["guard"] = self.guard.to_dict()
        return out


@dataclass(frozen=True, kw_only=True)
class EnvironmentChange(Change):
    """The environment's defaultTrackEvents ("send detailed events for new flags")."""

    guard: EnvironmentGuard

    @property
    def default_track_events(self) -> bool:
        return bool(self.diffs[0].after)

    @classmethod
    def of(cls, address: Address, before: bool, after: bool) -> EnvironmentChange:
        diff = FieldDiff(
            "defaultTrackEvents",
            before,
            after,
            op="replace",
            reason="for flags created from now on; existing flags keep their own setting",
        )
        return cls(address=address, action=Action.UPDATE, diffs=(diff,), guard=EnvironmentGuard(before))

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"guard": self.guard.to_dict()}


class ApprovalState(str, Enum):
    """Where a flag change in an environment that requires approvals stands."""

    NEEDED = "needed"  # no request yet: apply opens one (unless the token may bypass approvals)
    AWAITING = "awaiting"  # a request is open, not yet reviewed
    APPROVED = "approved"  # reviewed and approved: apply applies the request
    DECLINED = "declined"  # a reviewer declined it: ldseg does not ask again by itself


@dataclass(frozen=True)
class Approval:
    """A flag change's approval state, and the request it rests on (not for NEEDED)."""

    state: ApprovalState
    request_id: str | None = None
    link: str | None = None

    def describe(self) -> str:
        """How the plan shows it, e.g. ``awaiting approval (request 64a..., <its link>)``."""
        request = ", ".join(
            x for x in (f"request {self.request_id}" if self.request_id else "", self.link) if x
        )
        return {
            ApprovalState.NEEDED: "needs approval: apply opens a request",
            ApprovalState.AWAITING: f"awaiting approval ({request})",
            ApprovalState.APPROVED: f"approved: apply applies {request}",
            ApprovalState.DECLINED: f"declined by a reviewer ({request})",
        }[self.state]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"state": self.state.value}
        if self.request_id:
            out["request"] = self.request_id
        if self.link:
            out["link"] = self.link
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Approval:
        return cls(ApprovalState(data["state"]), data.get("request"), data.get("link"))


@dataclass(frozen=True, kw_only=True)
class FlagChange(Change):
    """A flag's trackEvents in one environment: export on or off."""

    guard: FlagGuard
    #: None: the environment requires no approval for this flag
    approval: Approval | None = None

    @property
    def export(self) -> bool:
        """What the change wants: True turns export on, False off."""
        return bool(self.diffs[0].after)

    @property
    def planned_from(self) -> bool:
        """The trackEvents LaunchDarkly had when the change was planned."""
        return bool(self.diffs[0].before)

    @classmethod
    def of(
        cls, address: Address, export: bool, guard: FlagGuard, approval: Approval | None = None
    ) -> FlagChange:
        diff = FieldDiff("trackEvents", not export, export, op="replace")
        return cls(address=address, action=Action.UPDATE, diffs=(diff,), guard=guard, approval=approval)

    @property
    def awaits_review(self) -> bool:
        """A request is open for it and nobody has approved it yet: apply writes nothing."""
        return self.approval is not None and self.approval.state is ApprovalState.AWAITING

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict() | {"guard": self.guard.to_dict()}
        if self.approval is not None:
            out["approval"] = self.approval.to_dict()
        return out


@dataclass(frozen=True)
class Summary:
    """Counts for the summary line: destinations (Terraform's add/change/destroy; a replacement
    counts as one add and one destroy), flags and environments counted separately."""

    add: int = 0
    change: int = 0
    destroy: int = 0
    flags_on: int = 0
    flags_off: int = 0
    environments: int = 0
    #: of the flag changes: how many need an approval request opened, and how many await review
    approvals_needed: int = 0
    approvals_awaiting: int = 0

    @property
    def total(self) -> int:
        return self.add + self.change + self.destroy + self.flags_on + self.flags_off + self.environments

    def line(self) -> str:
        if self.total == 0:
            return "No changes. LaunchDarkly matches the configuration."
        parts = [f"{self.add} to add, {self.change} to change, {self.destroy} to destroy"]
        if self.flags_on or self.flags_off:
            flags = f"flags: {self.flags_on} to export, {self.flags_off} to stop exporting"
            gated = [f"{self.approvals_needed} need approval"] if self.approvals_needed else []
            gated += [f"{self.approvals_awaiting} awaiting approval"] if self.approvals_awaiting else []
            parts.append(flags + (f" ({', '.join(gated)})" if gated else ""))
        if self.environments:
            parts.append(f"environments: {self.environments} to change")
        return "Plan: " + "; ".join(parts) + "."

    def to_dict(self) -> dict[str, int]:
        return {
            "add": self.add,
            "change": self.change,
            "destroy": self.destroy,
            "flags_on": self.flags_on,
            "flags_off": self.flags_off,
            "environments": self.environments,
            "approvals_needed": self.approvals_needed,
            "approvals_awaiting": self.approvals_awaiting,
        }


@dataclass(frozen=True)
class SafetyIssue:
    """A change big enough that apply wants --force (see planner/safety.py)."""

    rule: str  # "max_destination_deletes" | "max_export_off_percent" | "max_approval_requests"
    scope: str  # "<project>/<env>" or "all" for plan-wide counts
    count: int
    total: int
    threshold: float
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "scope": self.scope,
            "count": self.count,
            "total": self.total,
            "threshold": self.threshold,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SafetyIssue:
        return cls(
            str(data["rule"]),
            str(data["scope"]),
            int(data["count"]),
            int(data["total"]),
            float(data["threshold"]),
            str(data["message"]),
        )


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    warnings: tuple[str, ...] = field(default=())
    #: planned with --target/--project/--env: which ones (e.g. "--env staging"); the rest of the
    #: config was not compared. Empty for a full plan.
    partial: str = ""
    #: safety rails the plan exceeds; apply refuses it without --force
    safety: tuple[SafetyIssue, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "changes", tuple(sorted(self.changes, key=lambda c: c.sort_key)))

    @property
    def empty(self) -> bool:
        return not self.changes

    @property
    def partial_note(self) -> str:
        """What every format says of a partial plan (empty for a full one)."""
        if not self.partial:
            return ""
        return (
            f"This plan is partial ({self.partial}): only matching resources were read and planned; the rest "
            "of the configuration was not compared with LaunchDarkly."
        )

    @property
    def destinations(self) -> list[DestinationChange]:
        return [c for c in self.changes if isinstance(c, DestinationChange)]

    @property
    def environments(self) -> list[EnvironmentChange]:
        return [c for c in self.changes if isinstance(c, EnvironmentChange)]

    @property
    def flags(self) -> list[FlagChange]:
        return [c for c in self.changes if isinstance(c, FlagChange)]

    def summary(self) -> Summary:
        names = ("add", "change", "destroy", "flags_on", "flags_off", "environments")
        counts = dict.fromkeys((*names, "approvals_needed", "approvals_awaiting"), 0)
        for c in self.changes:
            if isinstance(c, FlagChange):
                counts["flags_on" if c.export else "flags_off"] += 1
                if c.approval is not None and c.approval.state is ApprovalState.NEEDED:
                    counts["approvals_needed"] += 1
                elif c.awaits_review:
                    counts["approvals_awaiting"] += 1
            elif isinstance(c, EnvironmentChange):
                counts["environments"] += 1
            elif c.action is Action.CREATE:
                counts["add"] += 1
            elif c.action is Action.UPDATE:
                counts["change"] += 1
            elif c.action is Action.DELETE:
                counts["destroy"] += 1
            else:  # replace: Terraform counts it as one add and one destroy
                counts["add"] += 1
                counts["destroy"] += 1
        return Summary(**counts)
