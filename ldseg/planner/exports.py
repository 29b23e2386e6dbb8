"""Export-toggle changes for one scope: defaultTrackEvents and each flag's trackEvents.

Flag changes are cheap value comparisons (no deepdiff): a plan may hold tens of thousands.
"""

from __future__ import annotations

from ldseg.model import Address, LiveState, ScopeSpec
from ldseg.plan import EnvironmentChange, FlagChange, FlagGuard
from ldseg.planner.context import Context


def plan_exports(scope: ScopeSpec, live: LiveState, ctx: Context) -> None:
    export = scope.export
    assert export is not None
    env = live.environments.get(scope.key)
    wanted_default = export.default_track_events
    if env is not None and wanted_default is not None and env.default_track_events != wanted_default:
        address = Address("environment", scope.project, scope.environment)
        ctx.changes.append(EnvironmentChange.of(address, env.default_track_events, wanted_default))
    selection = export.flags
    if selection is None:
        return
    flags = live.flags.get(scope.project, {})
    for key in sorted(flags):
        flag = flags[key]
        state = flag.envs.get(scope.environment)
        if flag.archived or state is None:
            continue
        if selection.selects(key, flag.tags):
            wanted = True
        elif selection.others == "off":
            wanted = False
        else:
            continue
        if state.track_events != wanted:
            address = Address("flag", scope.project, scope.environment, key)
            ctx.changes.append(FlagChange.of(address, wanted, FlagGuard(flag.version, state.version)))
