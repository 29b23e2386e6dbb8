"""DesiredState + LiveState -> Plan. Pure: no I/O, no clock.

``destinations`` plans Data Export destinations, ``exports`` the environment's defaultTrackEvents
and each flag's trackEvents. Config problems only the live state reveals (a secret that must be
written but whose variable is unset) are collected and raised together as one ConfigError.
"""

from __future__ import annotations

from collections.abc import Iterable

from ldseg.errors import ConfigError
from ldseg.model import DesiredState, LiveState, Scope
from ldseg.plan import Plan
from ldseg.planner.context import Context, PlanOptions
from ldseg.planner.destinations import plan_destinations
from ldseg.planner.exports import plan_exports

__all__ = ["PlanOptions", "make_plan"]


def make_plan(
    desired: DesiredState,
    live: LiveState,
    scopes: Iterable[Scope] | None = None,
    options: PlanOptions | None = None,
) -> Plan:
    """Plan every scope in ``scopes`` (default: all declared scopes)."""
    ctx = Context(options or PlanOptions())
    for key in sorted(desired.scopes if scopes is None else scopes):
        spec = desired.scopes[key]
        if spec.destinations is not None:
            plan_destinations(spec, live.destinations.get(key, ()), ctx)
        if spec.export is not None:
            plan_exports(spec, live, ctx)
    if ctx.problems:
        raise ConfigError(ctx.problems)
    return Plan(tuple(ctx.changes), tuple(ctx.warnings))
