"""Reading, seen from the plan: what to read for a config, and what the facts read mean.

``what_to_read`` describes the reading a plan needs (the reader does exactly that and reports
facts); ``read_findings`` turns those facts into config problems located at file:line (a project,
environment or exact flag key that does not exist) and warnings (archived flags named in ``keys``,
destinations whose scope LaunchDarkly did not reveal, notes about the reading). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from ldseg.errors import Problem
from ldseg.model import (
    RESOURCE_TYPES,
    DesiredState,
    FlagNeeds,
    FlagSelection,
    LiveState,
    Location,
    ReadRequest,
    ResourceType,
    Scope,
)


def what_to_read(
    desired: DesiredState, scopes: Iterable[Scope], types: Collection[ResourceType] = RESOURCE_TYPES
) -> ReadRequest:
    """The reading a plan of ``scopes`` (declared scopes) needs; ``types`` leaves out destinations
    or flags when a scoped plan does not target them."""
    wanted = sorted(set(scopes))
    selections: dict[str, list[tuple[str, FlagSelection]]] = {}
    if "flag" in types:
        for p, e in wanted:
            export = desired.scopes[(p, e)].export
            if export is not None and export.flags is not None:
                selections.setdefault(p, []).append((e, export.flags))
    return ReadRequest(
        scopes=tuple(wanted),
        destinations="destination" in types
        and any(desired.scopes[s].destinations is not None for s in wanted),
        flags=tuple(FlagNeeds(p, tuple(sel)) for p, sel in sorted(selections.items())),
        approvals=True,  # where an environment requires approvals: whether a request is open already
    )


def read_findings(
    desired: DesiredState, live: LiveState, scopes: Iterable[Scope]
) -> tuple[list[Problem], list[str]]:
    """Problems (config errors) and warnings in what was read for ``scopes``, located in the config."""
    planned = set(scopes)
    problems: list[Problem] = []
    for project in sorted(live.missing_projects):
        loc = _first_scope(desired, project)
        problems.append(
            Problem(
                loc.file,
                loc.line,
                f"project {project!r} does not exist in LaunchDarkly (ldseg never creates projects)",
            )
        )
    for p, e in sorted(live.missing_environments):
        loc = desired.scopes[(p, e)].location
        problems.append(
            Problem(
                loc.file,
                loc.line,
                f"environment {e!r} does not exist in project {p!r} (ldseg never creates environments)",
            )
        )
    warnings: list[str] = []
    for (p, e), sel in _selections(desired, planned):
        for key in sorted(k for k in sel.exact_keys if (p, k) in live.missing_keys):
            loc = sel.key_locations.get(key, sel.location)
            problems.append(
                Problem(
                    loc.file,
                    loc.line,
                    f"export.flags.keys of {p}/{e}: flag {key!r} does not exist in project {p!r} "
                    "(check the key, or use a glob if it may not exist yet)",
                )
            )
        for key in sorted(k for k in sel.exact_keys if (p, k) in live.archived_keys):
            loc = sel.key_locations.get(key, sel.location)
            warnings.append(
                f"{loc}: export.flags.keys of {p}/{e}: flag {key!r} is archived; ldseg leaves archived "
                "flags alone (remove it from keys)."
            )
    if live.unplaced_destinations:
        warnings.append(
            f"Destinations without a usable _links.self.href in GET /api/v2/destinations: "
            f"{len(live.unplaced_destinations):,}. ldseg cannot tell their project and environment and "
            "leaves them alone."
        )
    warnings.extend(live.notes)
    return problems, warnings


def _selections(desired: DesiredState, scopes: Collection[Scope]) -> list[tuple[Scope, FlagSelection]]:
    return [
        (key, scope.export.flags)
        for key, scope in sorted(desired.scopes.items())
        if key in scopes and scope.export is not None and scope.export.flags is not None
    ]


def _first_scope(desired: DesiredState, project: str) -> Location:
    return next(s.location for (p, _), s in sorted(desired.scopes.items()) if p == project)
