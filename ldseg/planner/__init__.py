"""DesiredState + LiveState -> Plan. Pure: no I/O, no clock.

``reads`` says what to read for a config and what the facts read mean, ``destinations`` plans Data
Export destinations, ``exports`` the environment's defaultTrackEvents and each flag's trackEvents.
Config problems only the live state reveals (an environment or exact flag key that does not exist,
a secret that must be written but whose variable is unset) are collected and raised together as
one ConfigError; everything else worth saying becomes ``Plan.warnings``, so it reaches every
output format and the saved plan.
"""

from __future__ import annotations

from ldseg.errors import ConfigError
from ldseg.model import DesiredState, LiveState
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
    changes = tuple(c for c in ctx.changes if scoping.matches(c.address))
    warnings = ([scoping.warning()] if scoping.active else []) + warnings + ctx.warnings
    issues = tuple(safety.check(changes, live, desired.settings))
    return Plan(changes, tuple(warnings), partial=scoping.active, safety=issues)
