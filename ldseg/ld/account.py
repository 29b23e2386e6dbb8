"""Read a whole account (or some projects and environments of it) for ``ldseg export``.

Adoption has no config to limit the reading, so it reads: the projects (one paginated list, or
one GET per ``--project``), each project's environments (paginated), the one global destinations
list, and every flag's per-environment export state through ``ld/flags.py`` (which lists flags
with up to 3 environments per request). Page sizes stay at LD's documented defaults where the
maximum is unconfirmed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ldseg.errors import UsageError
from ldseg.ld.client import LDClient, seg
from ldseg.ld.reader import project_exists, read
from ldseg.model import FlagNeeds, LiveDestination, LiveEnvironment, LiveFlag, ReadRequest, Scope

#: LD's documented default page size for projects and environments (their maximum is unconfirmed)
PAGE_SIZE = 20


@dataclass
class Account:
    """Live state of the projects and environments being exported."""

    projects: list[str] = field(default_factory=list)
    environments: dict[Scope, LiveEnvironment] = field(default_factory=dict)
    destinations: dict[Scope, list[LiveDestination]] = field(default_factory=dict)
    flags: dict[str, dict[str, LiveFlag]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def read_account(client: LDClient, projects: Sequence[str] = (), envs: Sequence[str] = ()) -> Account:
    acct = Account(projects=sorted(set(projects)) or _list_projects(client))
    if projects:
        exists = client.map(lambda p: project_exists(client, p), acct.projects)
        missing = [p for p, ok in zip(acct.projects, exists, strict=True) if not ok]
        if missing:
            raise UsageError(
                f"{'Project' if len(missing) == 1 else 'Projects'} {', '.join(map(repr, missing))} "
                f"{'does' if len(missing) == 1 else 'do'} not exist in LaunchDarkly. Check --project."
            )
    for p, found in zip(
        acct.projects, client.map(lambda p: _list_environments(client, p), acct.projects), strict=True
    ):
        for env in found:
            if not envs or env.key in envs:
                acct.environments[(p, env.key)] = env
    missing = sorted(set(envs) - {e for _, e in acct.environments})
    if missing:
        raise UsageError(
            f"No environment {', '.join(map(repr, missing))} in what was exported "
            f"({', '.join(acct.projects)}). Check --env."
        )
    by_project: dict[str, list[str]] = {}
    for p, e in sorted(acct.environments):
        by_project.setdefault(p, []).append(e)
    # the environments were listed above: the reader reads only destinations and every flag
    request = ReadRequest(
        scopes=tuple(sorted(acct.environments)),
        environments=False,
        destinations=True,
        flags=tuple(FlagNeeds.everything(p, es) for p, es in by_project.items()),
    )
    live = read(client, request)
    for scope, dests in live.destinations.items():
        if dests:
            acct.destinations[scope] = list(dests)
    if live.unplaced_destinations:
        n = len(live.unplaced_destinations)
        acct.warnings.append(f"Destinations without a _links.self.href, not exported: {n:,}.")
    acct.flags = {p: dict(fl) for p, fl in live.flags.items()}
    acct.warnings.extend(live.notes)
    return acct


def _list_projects(client: LDClient) -> list[str]:
    keys = [str(p["key"]) for p in client.paginate("/api/v2/projects", [("limit", PAGE_SIZE)])]
    return sorted(set(keys))


def _list_environments(client: LDClient, project: str) -> list[LiveEnvironment]:
    path = f"/api/v2/projects/{seg(project)}/environments"
    return [
        LiveEnvironment(
            project, str(e["key"]), str(e.get("name", e["key"])), bool(e.get("defaultTrackEvents"))
        )
        for e in client.paginate(path, [("limit", PAGE_SIZE)])
    ]
