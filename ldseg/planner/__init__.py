"""DesiredState + LiveState -> Plan. Pure: no I/O, no clock.

``reads`` says what to read for a config and what the facts read mean, ``destinations`` plans Data
Export destinations, ``exports`` the environment's defaultTrackEvents and each flag's trackEvents.
Config problems only the live state reveals (an environment or exact flag key that does not exist,
a secret that must be written but whose variable is unset) are collected and raised together as
one ConfigError; everything else worth saying becomes ``Plan.warnings``, so it reaches every
output format and the saved plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from ldseg.errors import ConfigError, UsageError
from ldseg.model import Address, DesiredState, LiveState, Scope
from ldseg.plan import Plan
from ldseg.planner import safety
from ldseg.planner.context import Context, PlanOptions
from ldseg.planner.destinations import plan_destinations
from ldseg.planner.exports import plan_exports
from ldseg.planner.reads import read_findings, what_to_read
from ldseg.scoping import Scoping

__all__ = ["PlanOptions", "make_plan", "what_to_read"]


def make_plan(
    desired: DesiredState,
    live: LiveState,
    scoping: Scoping | None = None,
    options: PlanOptions | None = None,
) -> Plan:
    """Plan every declared scope, or only what ``scoping`` selects (a partial plan)."""
    scoping = scoping or Scoping()
    scopes = scoping.scopes(desired)
    problems, warnings = read_findings(desired, live, scopes)
    if problems:
        raise ConfigError(problems)
    ctx = Context(options or PlanOptions(), live.unplaced_destinations)
    for key in scopes:
        spec = desired.scopes[key]
        if spec.destinations is not None and scoping.reads("destination"):
            plan_destinations(spec, live.destinations.get(key, ()), ctx)
        if spec.export is not None:
            plan_exports(spec, live, ctx)
    if ctx.problems:
        raise ConfigError(ctx.problems)
    unmatched = scoping.unmatched_targets(_addresses(desired, live, scopes))
    if unmatched:
        raise UsageError(
            f"--target {', '.join(unmatched)} {'matches' if len(unmatched) == 1 else 'match'} nothing the "
            "configuration declares or LaunchDarkly has in the scopes it names. Check the spelling "
            "(`ldseg plan` without --target lists what would change)."
        )
    changes = tuple(c for c in ctx.changes if scoping.matches(c.address))
    plan = Plan(changes, partial=scoping.description())
    warnings = [plan.partial_note, *desired.warnings, *warnings, *ctx.all_warnings(scoping.matches)]
    issues = tuple(safety.check(changes, live, desired.settings))
    return replace(plan, warnings=tuple(w for w in warnings if w), safety=issues)


def _addresses(desired: DesiredState, live: LiveState, scopes: Iterable[Scope]) -> Iterator[Address]:
    """Every address the plan of ``scopes`` knows: declared, or read from LaunchDarkly."""
    for p, e in scopes:
        yield Address("environment", p, e)
        spec = desired.scopes[(p, e)]
        for name in spec.destinations or {}:
            yield Address("destination", p, e, name)
        for d in live.destinations.get((p, e), ()):
            yield d.address
        if spec.export is not None and spec.export.flags is not None:
            for key in spec.export.flags.exact_keys:
                yield Address("flag", p, e, key)
            for key, flag in live.flags.get(p, {}).items():
                if e in flag.envs:
                    yield Address("flag", p, e, key)
