"""Export-toggle changes for one scope: defaultTrackEvents and each flag's trackEvents.

Flag changes are cheap value comparisons (no deepdiff): a plan may hold tens of thousands. While
the flags go by, each selector (a key glob, a tag, an except entry) that matches one is crossed
off, so a selector matching no flag is found in the same pass and said as a warning at its line
(only where the project's flags were listed: flags read one by one say nothing of tags or globs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ldseg.model import Address, FlagSelection, LiveState, Location, ScopeSpec, compile_globs, glob_match
from ldseg.plan import Approval, ApprovalState, EnvironmentChange, FlagChange, FlagGuard
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
    # Only a listing shows every flag a tag or glob could match; flags read by key say nothing.
    unmatched = _Unmatched.of(selection) if scope.project in live.flags_listed else None
    flags = live.flags.get(scope.project, {})
    requests = live.approval_requests
    for key in sorted(flags):
        flag = flags[key]
        if flag.archived:
            continue
        candidate = selection.candidate(key, flag.tags)
        if unmatched is not None:
            unmatched.cross_off(key, flag.tags, candidate)
        state = flag.envs.get(scope.environment)
        if state is None:
            continue
        if candidate and not selection.excludes(key):
            wanted = True
        elif selection.others == "off":
            wanted = False
        else:
            continue
        if state.track_events != wanted:
            address = Address("flag", scope.project, scope.environment, key)
            approval = _approval(address, wanted, env.approvals.gates(flag.tags) if env else False, live, ctx)
            ctx.changes.append(
                FlagChange.of(address, wanted, FlagGuard(flag.version, state.version), approval)
            )
        elif requests and (scope.project, scope.environment, key) in requests:
            _contrary_requests(Address("flag", scope.project, scope.environment, key), wanted, live, ctx)
    if unmatched is not None:
        ctx.warnings.extend(unmatched.warnings(f"{scope.project}/{scope.environment}"))


def _contrary_requests(address: Address, wanted: bool, live: LiveState, ctx: Context) -> None:
    """A flag already as the config wants it, with an open request asking for the opposite:
    approved and applied, it would undo the config."""
    for r in live.approval_requests.get((address.project, address.environment, address.name), ()):
        if r.track_events is not None and r.track_events is not wanted:
            ctx.warn(
                address,
                f"{address}: approval request {r.id} asks for trackEvents {str(r.track_events).lower()}, "
                f"the config says {str(wanted).lower()}; approved and applied, it would undo the config "
                "(decline it in LaunchDarkly).",
            )


def _approval(address: Address, wanted: bool, gated: bool, live: LiveState, ctx: Context) -> Approval | None:
    """Where the change stands with approvals: the newest open request that asks for this very
    change (whatever ldseg predicted: LaunchDarkly may gate what its settings did not show), else
    NEEDED where the environment requires approval for this flag, else None. A request asking
    for the opposite is stale (the config changed since): said, and not relied on."""
    requests = live.approval_requests.get((address.project, address.environment, address.name), ())
    for r in requests:
        if r.track_events is not wanted:
            if r.track_events is not None:
                ctx.warn(
                    address,
                    f"{address}: approval request {r.id} asks for trackEvents {str(r.track_events).lower()}, "
                    f"the config now says {str(wanted).lower()}; it is not applied (decline it in "
                    "LaunchDarkly).",
                )
            continue
        state = {"approved": ApprovalState.APPROVED, "declined": ApprovalState.DECLINED}.get(
            r.review_status, ApprovalState.AWAITING
        )
        if state is ApprovalState.DECLINED:
            ctx.warn(
                address,
                f"{address}: a reviewer declined approval request {r.id}; ldseg does not ask again by itself "
                "(change the config, or ask the reviewers in LaunchDarkly).",
            )
        return Approval(state, r.id, r.link or None)
    return Approval(ApprovalState.NEEDED) if gated else None


class _Unmatched:
    """The selectors of one selection that no flag has matched yet. A flag costs a set update for
    its tags and, while some glob is left, one match per block of globs (``_Globs``); an exported
    config (exact keys, no tags, no except) has no selector to check and costs nothing."""

    def __init__(self, selection: FlagSelection) -> None:
        self.selection = selection
        self.tags = set(selection.tags)
        self.globs = _Globs(selection.key_patterns.globs)
        self.except_exact = set(selection.except_patterns.exact)
        self.except_globs = _Globs(selection.except_patterns.globs)

    @classmethod
    def of(cls, selection: FlagSelection) -> _Unmatched | None:
        found = cls(selection)
        return found if found.tags or found.globs or found.except_exact or found.except_globs else None

    def cross_off(self, key: str, tags: Iterable[str], candidate: bool) -> None:
        if self.tags:
            self.tags.difference_update(tags)
        self.globs.cross_off(key)
        if candidate:  # an except entry counts for what it takes out of the selection
            self.except_exact.discard(key)
            self.except_globs.cross_off(key)

    def warnings(self, scope: str) -> list[str]:
        sel = self.selection
        out = [
            f"{_at(sel.tag_locations, t, sel)}: export.flags.tags of {scope}: no flag carries the tag "
            f"{t!r}, so it selects nothing (check the spelling)."
            for t in sel.tags
            if t in self.tags
        ]
        out += [
            f"{_at(sel.key_locations, k, sel)}: export.flags.keys of {scope}: {k!r} matches no flag, "
            "so it selects nothing."
            for k in sel.keys
            if k in self.globs.left
        ]
        out += [
            f"{_at(sel.except_locations, k, sel)}: export.flags.except of {scope}: {k!r} matches no "
            "flag the selection would export, so it takes nothing out."
            for k in sel.except_
            if k in self.except_exact or k in self.except_globs.left
        ]
        return out


class _Globs:
    """Globs no flag has matched yet, in blocks of ``BLOCK`` under one expression each: a key costs
    one match per block that still holds such a glob, and tests of single globs only in a block
    it matches; so many globs (prefixes, say) cost a fraction of testing each on every flag."""

    BLOCK = 16

    def __init__(self, globs: Sequence[str]) -> None:
        self.blocks = [
            (compile_globs(globs[i : i + self.BLOCK]), set(globs[i : i + self.BLOCK]))
            for i in range(0, len(globs), self.BLOCK)
        ]

    def __bool__(self) -> bool:
        return bool(self.blocks)

    @property
    def left(self) -> set[str]:
        return {g for _, block in self.blocks for g in block}

    def cross_off(self, key: str) -> None:
        emptied = False
        for rx, block in self.blocks:
            if rx.match(key) is not None:
                block.difference_update([g for g in block if glob_match(g, key)])
                emptied = emptied or not block
        if emptied:
            self.blocks = [(rx, block) for rx, block in self.blocks if block]


def _at(locations: Mapping[str, Location], item: str, selection: FlagSelection) -> Location:
    return locations.get(item, selection.location)
