"""Is a saved plan still true? Compare it with a fresh plan made from the same config and scoping.

A saved plan is applied only if a plan made now, from the (digest-checked) config and the live
state read now, holds exactly the same changes. The file is therefore never trusted for what to
write: an edited file whose checksum was recomputed still cannot add, change or drop a change, or
hide a safety rail. The guards in the file then say *why* a plan went stale, object by object:

- destinations: a planned create (or a replacement's new kind) is stale if that destination now
  exists; anything else if its ``_id`` is gone or its ``version`` or content fingerprint moved;
- environments: stale if ``defaultTrackEvents`` is no longer what was planned from;
- flags: stale if the flag's configuration in that environment moved (its per-environment
  ``version``, or ``trackEvents``). The flag-wide ``_version`` is recorded but not compared: it
  moves with edits to *other* environments, which do not touch what the plan changes.

A plan that was applied is stale by these rules: every object it changed has moved. When that is
so for every change, and a plan made now changes none of those objects (LaunchDarkly already has
what the plan wanted), ``already_applied`` says so, for one sentence instead of a list of every
object. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from ldseg.model import LiveState
from ldseg.plan import Action, Approval, Change, DestinationChange, EnvironmentChange, FlagChange, Plan, fmt
from ldseg.planner.destinations import content_fingerprint


def stale_reasons(saved: Plan, fresh: Plan, live: LiveState) -> list[str]:
    """One line per object whose saved change no longer matches what a fresh plan says."""
    out: dict[str, str] = {}
    index = _LiveIndex(live)
    for c in saved.changes:
        reason = _guard_moved(c, index)
        if reason:
            out[str(c.address)] = reason
    then = {str(c.address): _content(c) for c in saved.changes}
    now = {str(c.address): _content(c) for c in fresh.changes}
    for address in sorted(set(then) | set(now)):
        if address in out or then.get(address) == now.get(address):
            continue
        if address not in now:
            out[address] = (
                f"{address}: the saved plan changes it, a plan made now does not "
                "(changed in LaunchDarkly, gone, or not what the config says)"
            )
        elif address not in then:
            out[address] = (
                f"{address}: a plan made now changes it ({now[address]['action']}), the saved plan does not"
            )
        elif _without_approval(then[address]) == _without_approval(now[address]):
            out[address] = (
                f"{address}: its approval request moved on since the plan was saved (now: "
                f"{_approval_state(now[address])}); run `ldseg plan` again"
            )
        else:
            out[address] = f"{address}: a plan made now changes it differently from the saved plan"
    return [out[a] for a in sorted(out)]


def already_applied(saved: Plan, fresh: Plan, live: LiveState) -> bool:
    """Does LaunchDarkly already have what ``saved`` wanted? Every saved change's guard moved, and
    a plan made now (same config, same scoping) changes none of the objects the saved plan did."""
    if not saved.changes:
        return False
    index = _LiveIndex(live)
    now = {str(c.address) for c in fresh.changes}
    return all(str(c.address) not in now and _guard_moved(c, index) is not None for c in saved.changes)


def _content(c: Change) -> dict[str, Any]:
    """What a change does, for comparing plans: not its guard, nor an approval request's link
    (it holds the API's address, which differs between two runs of the embedded sandbox)."""
    data = c.to_dict()
    data.pop("guard", None)
    approval = data.get("approval")
    if isinstance(approval, dict) and "link" in approval:
        data["approval"] = {k: v for k, v in approval.items() if k != "link"}
    return data


def _without_approval(content: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in content.items() if k != "approval"}


def _approval_state(content: dict[str, Any]) -> str:
    approval = content.get("approval")
    return Approval.from_dict(approval).describe() if isinstance(approval, dict) else "no approval needed"


class _LiveIndex:
    """The live state indexed once, so checking every saved change costs O(changes)."""

    def __init__(self, live: LiveState) -> None:
        self.live = live
        every = [d for ds in live.destinations.values() for d in ds]
        self.by_id = {d.id: d for d in every}
        self.kinds = {(d.address, d.kind) for d in every}


def _guard_moved(c: Change, index: _LiveIndex) -> str | None:
    if isinstance(c, DestinationChange):
        return _destination(c, index)
    if isinstance(c, EnvironmentChange):
        env = index.live.environments.get(c.address.scope)
        planned = c.guard.default_track_events
        if env is not None and env.default_track_events != planned:
            now = fmt(env.default_track_events)
            return f"{c.address} defaultTrackEvents is now {now} (planned from {fmt(planned)})"
        return None
    assert isinstance(c, FlagChange)
    flag = index.live.flags.get(c.address.project, {}).get(c.address.name)
    state = flag.envs.get(c.address.environment) if flag else None
    if flag is None or state is None:
        return None  # not read now (gone, archived, or no longer selected): the change comparison says so
    if state.version != c.guard.env_version or state.track_events != c.planned_from:
        return f"{c.address} changed in LaunchDarkly (version {c.guard.env_version} -> {state.version})"
    return None


def _destination(c: DestinationChange, index: _LiveIndex) -> str | None:
    guard = c.guard
    if c.action in (Action.CREATE, Action.REPLACE) and (c.address, c.kind) in index.kinds:
        return f"{c.address} ({c.kind}) now exists in LaunchDarkly (created after the plan)"
    if c.action is Action.CREATE:
        return None
    current = index.by_id.get(str(guard.id if guard.id is not None else c.live_id))
    if current is None:
        return f"{c.address} (id {c.live_id}) no longer exists in LaunchDarkly"
    if current.version != guard.version:
        return f"{c.address} changed in LaunchDarkly (version {guard.version} -> {current.version})"
    if content_fingerprint(current) != guard.fingerprint:
        return f"{c.address} changed in LaunchDarkly (its content, at the same version {current.version})"
    return None
