"""Export coverage, the model behind ``ldseg report``: which flags export their events in which
environments, through which destinations, and what the config wants there.

It is built from what was read anyway: a plan's reading (with a config; the plan marks pending
changes and drift) or the account as ``ldseg export`` reads it (without one). So a report costs
what a plan costs, and it never claims more than was read: a flag column that was not read says
so (``unread``), and a destination is called idle only where every flag of its environment was
read. Pure: no I/O and no clock (the caller says when the report was made).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from ldseg.model import (
    Address,
    DesiredState,
    FlagSelection,
    LiveDestination,
    LiveFlag,
    LiveState,
    ReadRequest,
    Scope,
    ScopeSpec,
)
from ldseg.plan import Action, DestinationChange, Plan

#: a flag in one environment: exporting, not exporting, archived (never touched), or not read
#: there (the config does not manage that environment's flags, so a plan does not read them)
CellState = Literal["on", "off", "archived", "unread"]
#: which flags of an environment were read: every one, the config's exact keys, or none
FlagsRead = Literal["all", "keys", "none"]
#: a destination and the config: declared, live but not declared in an environment whose
#: destinations the config owns (apply deletes it), matched by ignore_destinations, or in an
#: environment without a ``destinations:`` block (or no config at all)
Ownership = Literal["declared", "undeclared", "ignored", "unmanaged"]
Source = Literal["config", "account"]


@dataclass(frozen=True)
class SmokeCheck:
    """One check of a smoke test, as plain text. A deliberate copy of ``smoke_checks.Check``'s
    fields: the core does no I/O, so it cannot import the smoke tests (which import Segment's
    client); the workflow converts one into the other."""

    name: str
    outcome: str
    detail: str


@dataclass(frozen=True)
class SmokeVerdict:
    """A destination's smoke test (``ldseg.smoke_checks``), as the report shows it."""

    verdict: str
    checks: tuple[SmokeCheck, ...] = ()


@dataclass(frozen=True)
class DestinationRow:
    name: str
    kind: str
    #: ``on`` in LaunchDarkly; None: not there (the config declares it, apply creates it)
    on: bool | None
    ownership: Ownership
    #: ``on`` as declared; None when not declared
    config_on: bool | None = None
    #: what apply would do to it (the plan's action), None: nothing
    change: str | None = None
    #: how it differs from the config, field by field (secrets as ``(sensitive)``)
    differences: tuple[str, ...] = ()
    smoke: SmokeVerdict | None = None


@dataclass(frozen=True)
class EnvCounts:
    flags: int = 0  # flags read here and not archived
    exporting: int = 0
    not_exporting: int = 0
    archived: int = 0
    unread: int = 0
    to_export: int = 0  # apply turns export on
    to_stop: int = 0  # apply turns export off

    @property
    def exporting_after_apply(self) -> int:
        return self.exporting + self.to_export - self.to_stop


@dataclass(frozen=True)
class EnvironmentReport:
    project: str
    key: str
    name: str
    #: defaultTrackEvents ("send detailed events for new flags") in LaunchDarkly, and as the
    #: config wants it (None: not managed)
    new_flags: bool
    new_flags_config: bool | None
    flags_read: FlagsRead
    #: does the config manage this environment's flag exports (``export.flags``)?
    export_managed: bool
    destinations: tuple[DestinationRow, ...]
    counts: EnvCounts

    @property
    def enabled_destinations(self) -> int:
        return sum(1 for d in self.destinations if d.on)

    def idle(self, d: DestinationRow) -> bool:
        """Is ``d`` enabled where no flag exports, every flag having been read (paying for nothing)?"""
        return bool(d.on) and not self.counts.exporting and self.flags_read == "all"


@dataclass(frozen=True)
class FlagRow:
    """A flag across its project's environments (``cells`` and ``wants`` in environment order)."""

    key: str
    tags: tuple[str, ...]
    cells: tuple[CellState, ...]
    #: what the config wants in each environment: export (True), not (False), or not managed (None)
    wants: tuple[bool | None, ...]


def pending(cell: CellState, want: bool | None) -> bool:
    """Would apply change this cell? (The plan holds a flag change exactly there.)"""
    return want is not None and cell in ("on", "off") and want != (cell == "on")


@dataclass(frozen=True)
class ProjectReport:
    key: str
    environments: tuple[EnvironmentReport, ...]
    flags: tuple[FlagRow, ...]


@dataclass(frozen=True)
class Totals:
    environments: int
    #: flag-environments read (not archived), and those exporting
    flag_environments: int
    exporting: int
    #: the plan's changes (0 without a config)
    pending_changes: int
    #: "project/env" exporting flags without any enabled destination: the events go nowhere
    going_nowhere: tuple[str, ...]
    #: enabled destinations of environments where no flag exports: paying for nothing
    idle_destinations: tuple[str, ...]
    #: enabled destinations that cannot be judged idle: not every flag of their environment was read
    unjudged_destinations: int
    #: environments without an enabled destination that cannot be judged "going nowhere": none of
    #: the flags read exports, but not every flag was read
    unjudged_environments: int = 0


@dataclass(frozen=True)
class CoverageReport:
    source: Source
    generated_at: str
    projects: tuple[ProjectReport, ...]
    totals: Totals
    #: the plan's summary line ("" without a config)
    summary: str = ""
    #: what a plan would warn about, and what the reading could not cover
    notes: tuple[str, ...] = ()
    #: the scoping options of a partial report ("" for a full one)
    partial: str = ""


# --- what was read ---------------------------------------------------------------------------------


def flags_read(request: ReadRequest) -> dict[Scope, FlagsRead]:
    """Which flags of each scope ``request`` reads (a listing reads all of them)."""
    out: dict[Scope, FlagsRead] = dict.fromkeys(request.scopes, "none")
    for needs in request.flags:
        for env in needs.envs:
            out[(needs.project, env)] = "keys" if needs.by_key else "all"
    return out


def report_request(request: ReadRequest) -> ReadRequest:
    """A plan's reading, as a report does it: flag listings keep every flag they return (the pages
    are read anyway), and the destinations are listed even where the config owns none (one
    request for the whole account), so that every environment shows its destinations."""
    return replace(request, destinations=True, flags=tuple(replace(n, keep_all=True) for n in request.flags))


def as_planned(live: LiveState, request: ReadRequest) -> LiveState:
    """``live``, read as ``report_request(request)`` says, as a plan reading ``request`` would
    have it: only the flags some scope plans, and no destinations unless the plan lists them. So
    the plan made from it, warnings and safety rails included, is exactly ``ldseg plan``'s."""
    kept: dict[str, Mapping[str, LiveFlag]] = dict(live.flags)
    for needs in request.flags:
        if not needs.by_key and needs.project in kept:
            kept[needs.project] = {k: f for k, f in kept[needs.project].items() if needs.wanted(k, f.tags)}
    planned = replace(live, flags=kept)
    if not request.destinations:
        planned = replace(
            planned, destinations={s: () for s in live.destinations}, unplaced_destinations=frozenset()
        )
    return planned


# --- the report ------------------------------------------------------------------------------------


def build_report(
    live: LiveState,
    read: Mapping[Scope, FlagsRead],
    *,
    desired: DesiredState | None = None,
    plan: Plan | None = None,
    smoke: Mapping[Address, SmokeVerdict] | None = None,
    generated_at: str = "",
    notes: Sequence[str] = (),
) -> CoverageReport:
    """The report of every environment in ``live``; ``desired`` and ``plan`` (both or neither)
    say what the config wants and what apply would change."""
    smoke = smoke or {}
    by_project: dict[str, list[str]] = {}
    for p, e in sorted(live.environments):
        by_project.setdefault(p, []).append(e)
    projects = tuple(
        _project(p, envs, live, read, desired, plan, smoke) for p, envs in sorted(by_project.items())
    )
    return CoverageReport(
        source="account" if desired is None else "config",
        generated_at=generated_at,
        projects=projects,
        totals=_totals(projects, read, plan),
        summary="" if plan is None else plan.summary().line(),
        notes=(*notes, *_reading_notes(projects)),
        partial="" if plan is None else plan.partial,
    )


def _scope_spec(desired: DesiredState | None, scope: Scope) -> ScopeSpec | None:
    return None if desired is None else desired.scopes.get(scope)


def _selection(spec: ScopeSpec | None) -> FlagSelection | None:
    return None if spec is None or spec.export is None else spec.export.flags


def _project(
    project: str,
    envs: list[str],
    live: LiveState,
    read: Mapping[Scope, FlagsRead],
    desired: DesiredState | None,
    plan: Plan | None,
    smoke: Mapping[Address, SmokeVerdict],
) -> ProjectReport:
    specs = [_scope_spec(desired, (project, e)) for e in envs]
    selections = [_selection(s) for s in specs]
    reads = [read.get((project, e), "none") for e in envs]
    flags = live.flags.get(project, {})
    archived = {k for p, k in live.archived_keys if p == project}
    rows = [_flag_row(key, flags.get(key), envs, reads, selections) for key in sorted({*flags, *archived})]
    environments = tuple(
        _environment(project, e, i, live, reads[i], specs[i], rows, plan, smoke) for i, e in enumerate(envs)
    )
    return ProjectReport(project, environments, tuple(rows))


def _flag_row(
    key: str,
    flag: LiveFlag | None,
    envs: Sequence[str],
    reads: Sequence[FlagsRead],
    selections: Sequence[FlagSelection | None],
) -> FlagRow:
    if flag is None or flag.archived:  # an archived key the config names
        tags = () if flag is None else flag.tags
        return FlagRow(key, tags, tuple("archived" for _ in envs), tuple(None for _ in envs))
    cells: list[CellState] = []
    wants: list[bool | None] = []
    for e, how, sel in zip(envs, reads, selections, strict=True):
        state = flag.envs.get(e)
        cells.append("unread" if how == "none" or state is None else "on" if state.track_events else "off")
        if sel is None or how == "none":
            wants.append(None)
        elif sel.selects(key, flag.tags):
            wants.append(True)
        else:
            wants.append(False if sel.others == "off" else None)
    return FlagRow(key, flag.tags, tuple(cells), tuple(wants))


def _counts(rows: Iterable[FlagRow], i: int) -> EnvCounts:
    tally = dict.fromkeys(("on", "off", "archived", "unread", "to_export", "to_stop"), 0)
    for row in rows:
        cell, want = row.cells[i], row.wants[i]
        tally[cell] += 1
        if pending(cell, want):
            tally["to_export" if want else "to_stop"] += 1
    return EnvCounts(
        flags=tally["on"] + tally["off"],
        exporting=tally["on"],
        not_exporting=tally["off"],
        archived=tally["archived"],
        unread=tally["unread"],
        to_export=tally["to_export"],
        to_stop=tally["to_stop"],
    )


def _environment(
    project: str,
    env: str,
    i: int,
    live: LiveState,
    how: FlagsRead,
    spec: ScopeSpec | None,
    rows: Sequence[FlagRow],
    plan: Plan | None,
    smoke: Mapping[Address, SmokeVerdict],
) -> EnvironmentReport:
    found = live.environments[(project, env)]
    changes = [] if plan is None else [c for c in plan.destinations if c.address.scope == (project, env)]
    return EnvironmentReport(
        project=project,
        key=env,
        name=found.name,
        new_flags=found.default_track_events,
        new_flags_config=None if spec is None or spec.export is None else spec.export.default_track_events,
        flags_read=how,
        export_managed=_selection(spec) is not None,
        destinations=_destinations(live.destinations.get((project, env), ()), spec, changes, smoke),
        counts=_counts(rows, i),
    )


def _destinations(
    found: Sequence[LiveDestination],
    spec: ScopeSpec | None,
    changes: Sequence[DestinationChange],
    smoke: Mapping[Address, SmokeVerdict],
) -> tuple[DestinationRow, ...]:
    declared = {} if spec is None or spec.destinations is None else spec.destinations
    owned = spec is not None and spec.destinations is not None
    rows: list[DestinationRow] = []
    for d in found:
        ownership: Ownership
        if not owned:
            ownership = "unmanaged"
        elif spec is not None and spec.ignores(d.name):
            ownership = "ignored"
        else:
            ownership = "declared" if d.name in declared else "undeclared"
        wanted = declared.get(d.name) if ownership == "declared" else None
        change = next((c for c in changes if c.live_id == d.id), None)
        rows.append(
            DestinationRow(
                d.name,
                d.kind,
                d.on,
                ownership,
                None if wanted is None else wanted.on,
                None if change is None else change.action.value,
                _differences(change),
                smoke.get(d.address) if wanted is not None else None,
            )
        )
    there = {d.name for d in found}
    for name in sorted(set(declared) - there):
        want = declared[name]
        create = next((c for c in changes if c.action is Action.CREATE and c.address.name == name), None)
        rows.append(
            DestinationRow(
                name,
                want.kind,
                None,
                "declared",
                want.on,
                None if create is None else create.action.value,
                (),
                smoke.get(want.address),
            )
        )
    return tuple(sorted(rows, key=lambda r: (r.name, r.kind)))


def _differences(change: DestinationChange | None) -> tuple[str, ...]:
    """Field by field for an update, the kind for a replacement; a create or delete says it all."""
    if change is None:
        return ()
    if change.action is Action.UPDATE:
        return tuple(d.describe() for d in change.diffs)
    if change.action is Action.REPLACE:
        return tuple(d.describe() for d in change.diffs if d.path == "kind")
    return ()


def _totals(projects: Sequence[ProjectReport], read: Mapping[Scope, FlagsRead], plan: Plan | None) -> Totals:
    envs = [e for p in projects for e in p.environments]
    nowhere = [f"{e.project}/{e.key}" for e in envs if e.counts.exporting and not e.enabled_destinations]
    idle: list[str] = []
    unjudged = 0
    for e in envs:
        if e.counts.exporting:
            continue
        if e.flags_read == "all":
            idle += [
                str(Address("destination", e.project, e.key, d.name)) for d in e.destinations if e.idle(d)
            ]
        else:
            unjudged += e.enabled_destinations
    return Totals(
        environments=len(envs),
        flag_environments=sum(e.counts.flags for e in envs),
        exporting=sum(e.counts.exporting for e in envs),
        pending_changes=0 if plan is None else len(plan.changes),
        going_nowhere=tuple(nowhere),
        idle_destinations=tuple(idle),
        unjudged_destinations=unjudged,
        unjudged_environments=sum(
            1 for e in envs if e.flags_read != "all" and not e.counts.exporting and not e.enabled_destinations
        ),
    )


def _reading_notes(projects: Sequence[ProjectReport]) -> list[str]:
    """Say which flag columns are partial, and why: a report reads what a plan reads."""
    notes: list[str] = []
    unread = [f"{e.project}/{e.key}" for p in projects for e in p.environments if e.flags_read == "none"]
    keys = [f"{e.project}/{e.key}" for p in projects for e in p.environments if e.flags_read == "keys"]
    if unread:
        notes.append(
            f"Flags were not read in {', '.join(unread)}: the config does not manage flag exports there, "
            "so a plan does not read them (`ldseg report --account` reads every flag of the account)."
        )
    if keys:
        notes.append(
            f"Only the flags the config names were read in {', '.join(keys)}, as a plan reads them "
            "(`ldseg report --account` reads every flag of the account)."
        )
    return notes
