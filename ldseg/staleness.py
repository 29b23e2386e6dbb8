"""Is a saved plan still true? Re-read only the objects its changes guard, and compare.

- destinations: the one list call; a planned create is stale if the name now exists, anything else
  if its ``_id`` is gone or its ``version`` or content fingerprint moved;
- environments: one GET each; stale if ``defaultTrackEvents`` is no longer what was planned from;
- flags: the changed keys only (by key, or a filtered listing for many); stale if the flag's
  configuration in that environment moved (its per-environment ``version``, or ``trackEvents``).
  The flag-wide ``_version`` is recorded but not compared: it moves with edits to *other*
  environments, which do not touch what the plan changes.

A plan that was applied is stale by these rules: every object it changed has moved.
"""

from __future__ import annotations

from collections.abc import Iterable

from ldseg.errors import ApiError
from ldseg.ld.client import LDClient, seg
from ldseg.ld.flags import read_flags
from ldseg.ld.reader import parse_destination
from ldseg.model import DesiredState, ExportSpec, FlagSelection, LiveDestination, Location, ScopeSpec
from ldseg.plan import Action, Change, Plan
from ldseg.planner.destinations import content_fingerprint
from ldseg.render.common import fmt


def stale_objects(client: LDClient, plan: Plan) -> list[str]:
    """One line per guarded object that changed since the plan was made."""
    changes = list(plan.changes)
    out: list[str] = []
    dests = [c for c in changes if c.address.type == "destination"]
    if dests:
        items = client.get("/api/v2/destinations").get("items") or []
        out += _stale_destinations(dests, [d for d in map(parse_destination, items) if d is not None])
    envs = [c for c in changes if c.address.type == "environment"]
    out += [line for line in client.map(lambda c: _stale_environment(client, c), envs) if line]
    flags = [c for c in changes if c.address.type == "flag"]
    if flags:
        out += _stale_flags(client, flags)
    return out


def _stale_destinations(changes: Iterable[Change], live: list[LiveDestination]) -> list[str]:
    by_id = {d.id: d for d in live}
    out = []
    for c in changes:
        guard = c.guard or {}
        if c.action is Action.CREATE:
            if any(d.address == c.address for d in live):
                out.append(f"{c.address} now exists in LaunchDarkly (created after the plan)")
            continue
        current = by_id.get(str(guard.get("id", c.live_id)))
        if current is None:
            out.append(f"{c.address} (id {c.live_id}) no longer exists in LaunchDarkly")
        elif current.version != guard.get("version") or content_fingerprint(current) != guard.get(
            "fingerprint"
        ):
            out.append(
                f"{c.address} changed in LaunchDarkly (version {guard.get('version')} -> {current.version})"
            )
    return out


def _stale_environment(client: LDClient, c: Change) -> str | None:
    a = c.address
    try:
        body = client.get(f"/api/v2/projects/{seg(a.project)}/environments/{seg(a.environment)}")
    except ApiError as exc:
        if exc.status == 404:
            return f"{a} no longer exists in LaunchDarkly"
        raise
    planned = (c.guard or {}).get("defaultTrackEvents")
    now = body.get("defaultTrackEvents")
    if now != planned:
        return f"{a} defaultTrackEvents is now {fmt(now)} (planned from {fmt(planned)})"
    return None


def _stale_flags(client: LDClient, changes: list[Change]) -> list[str]:
    keys: dict[tuple[str, str], list[str]] = {}
    for c in changes:
        keys.setdefault(c.address.scope, []).append(c.address.name)
    nowhere = Location("<plan>", 0)
    scopes = {
        scope: ScopeSpec(
            scope[0],
            scope[1],
            nowhere,
            export=ExportSpec(nowhere, flags=FlagSelection(keys=tuple(sorted(ks)), location=nowhere)),
        )
        for scope, ks in keys.items()
    }
    read = read_flags(client, DesiredState(scopes), scopes)
    out = []
    for c in changes:
        a = c.address
        flag = read.flags.get(a.project, {}).get(a.name)
        state = flag.envs.get(a.environment) if flag else None
        if flag is None or state is None:
            why = "no longer exists" if (a.project, a.name) in read.missing else "is archived"
            out.append(f"{a} {why} in LaunchDarkly")
            continue
        guard = c.guard or {}
        planned_from = c.diffs[0].before if c.diffs else None
        if state.version != guard.get("version") or state.track_events != planned_from:
            out.append(f"{a} changed in LaunchDarkly (version {guard.get('version')} -> {state.version})")
    return out
