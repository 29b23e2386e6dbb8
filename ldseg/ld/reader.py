"""Read what a ``ReadRequest`` describes, with the fewest requests, and report the facts found.

- One ``GET /api/v2/projects/{p}/environments/{e}`` per requested scope: it both proves the
  environment exists and gives its settings. Only when one is missing is the project read too, to
  tell which of the two is missing. Flags are still read where they can be (the environments
  that exist; the exact keys of a missing environment's selection, in a project that exists), so
  that one run reports every missing project, environment and flag key at once.
- One ``GET /api/v2/destinations`` for every destination of the account (LD has no per-scope list),
  read while the environments are: items carry no project or environment field; both come from
  ``_links.self.href``.
- Flags as ``ld/flags.py`` explains.

The reader never decides what a fact means: a missing environment or flag key, an archived flag
named in the config, a destination without a scope are recorded on the LiveState, and the planner
turns them into problems or warnings.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from ldseg.errors import ApiError
from ldseg.ld.approvals import parse_settings, read_open_requests
from ldseg.ld.client import LDClient, seg
from ldseg.ld.flags import check_keys, read_flags
from ldseg.model import FlagNeeds, LiveDestination, LiveEnvironment, LiveState, ReadRequest, Scope

_SELF_HREF = re.compile(r"/api/v2/destinations/([^/]+)/([^/]+)/([^/?#]+)")


def read(client: LDClient, request: ReadRequest) -> LiveState:
    """Read what ``request`` describes; everything found, facts included, is on the LiveState."""
    scopes = sorted(set(request.scopes))
    with ThreadPoolExecutor(max_workers=2) as background, client.interruptible():
        # The destinations and, assuming every environment exists (the usual case), the flags are
        # read while the environments are: a plan waits for one round of reads, not three.
        listing = background.submit(list_destinations, client) if request.destinations else None
        flags = background.submit(read_flags, client, request.flags) if request.flags else None
        environments = _read_environments(client, scopes) if request.environments else {}
        placed, unplaced = listing.result() if listing is not None else ([], [])
        if flags is not None:
            flags.exception()  # wait for it here; a real error is raised below
    destinations: dict[Scope, list[LiveDestination]] = {s: [] for s in scopes}
    for d in placed:
        if (d.project, d.environment) in destinations:
            destinations[(d.project, d.environment)].append(d)
    present = {s: e for s, e in environments.items() if e is not None}
    live = LiveState(
        environments=present,
        destinations={s: tuple(sorted(ds, key=lambda x: (x.name, x.id))) for s, ds in destinations.items()},
        unplaced_destinations=frozenset(unplaced),
    )
    missing = [s for s, e in environments.items() if e is None]
    if missing:  # say which of project and environment is missing
        projects = sorted({p for p, _ in missing})
        exists = dict(zip(projects, client.map(lambda p: project_exists(client, p), projects), strict=True))
        live = replace(
            live,
            missing_projects=frozenset(p for p in projects if not exists[p]),
            missing_environments=frozenset(s for s in missing if exists[s[0]]),
        )
    if flags is not None and not missing:
        facts, keys = flags.result(), check_keys(client, [])
    else:  # the reading made while the environments were read asked for some that do not exist
        needs, unchecked = _readable(request.flags, set(missing), live.missing_projects)
        facts, keys = read_flags(client, needs), check_keys(client, unchecked)
    live = replace(
        live,
        flags=facts.flags,
        missing_keys=frozenset(facts.missing | keys.missing),
        archived_keys=frozenset(facts.archived | keys.archived),
        notes=tuple(facts.notes),
        flags_listed=frozenset(facts.listed),
    )
    if request.approvals:  # only projects with flags to plan and an environment that is gated
        gated_projects = {p for (p, _), e in present.items() if e.approvals.any}
        gated = [n.project for n in request.flags if n.project in gated_projects]
        if gated:
            live = replace(live, approval_requests=read_open_requests(client, gated))
    return live


def _readable(
    needs: tuple[FlagNeeds, ...], missing: set[Scope], gone: frozenset[str]
) -> tuple[list[FlagNeeds], list[tuple[str, str]]]:
    """The flag reading that can be done with some scopes missing: each existing project's
    environments that exist, and the exact keys only a missing environment selects, to check
    that they exist (a missing project's flags cannot be read at all)."""
    readable: list[FlagNeeds] = []
    unchecked: list[tuple[str, str]] = []
    for n in needs:
        if n.project in gone:
            continue
        kept = tuple((e, sel) for e, sel in n.selections if (n.project, e) not in missing)
        if len(kept) == len(n.selections):
            readable.append(n)
            continue
        read = FlagNeeds(n.project, kept)
        if kept:
            readable.append(read)
        covered = set(read.exact_keys) if kept else set()
        unchecked += [(n.project, k) for k in n.exact_keys if k not in covered]
    return readable, unchecked


def _read_environments(client: LDClient, scopes: list[Scope]) -> dict[Scope, LiveEnvironment | None]:
    def one(scope: Scope) -> LiveEnvironment | None:
        p, e = scope
        try:
            body = client.get(f"/api/v2/projects/{seg(p)}/environments/{seg(e)}")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return LiveEnvironment(
            project=p,
            key=e,
            name=str(body.get("name", e)),
            default_track_events=bool(body.get("defaultTrackEvents", False)),
            approvals=parse_settings(body.get("approvalSettings")),
        )

    return dict(zip(scopes, client.map(one, scopes), strict=True))


def project_exists(client: LDClient, project: str) -> bool:
    """Does LaunchDarkly have ``project``? (404: no; any other error is raised.)"""
    try:
        client.get(f"/api/v2/projects/{seg(project)}")
    except ApiError as exc:
        if exc.status == 404:
            return False
        raise
    return True


def read_ids(client: LDClient, project: str, environment: str) -> tuple[str, str]:
    """LaunchDarkly's ids of a project and an environment (events carry them), keys as fallback."""
    env = client.get(f"/api/v2/projects/{seg(project)}/environments/{seg(environment)}")
    proj = client.get(f"/api/v2/projects/{seg(project)}")
    return str(proj.get("_id") or project), str(env.get("_id") or environment)


def list_destinations(client: LDClient) -> tuple[list[LiveDestination], list[str]]:
    """Every destination of the account (one call: LD has no per-scope list), and the names of
    those whose scope cannot be told because they have no usable ``_links.self.href``."""
    items = client.get("/api/v2/destinations").get("items") or []
    placed: list[LiveDestination] = []
    unplaced: list[str] = []
    for item in items:
        d = parse_destination(item)
        if d is None:
            unplaced.append(str(item.get("name") or ""))
        else:
            placed.append(d)
    return placed, unplaced


def parse_destination(item: dict[str, Any]) -> LiveDestination | None:
    """Parse one Destination item; None when its scope cannot be determined."""
    href = ((item.get("_links") or {}).get("self") or {}).get("href") or ""
    m = _SELF_HREF.search(href)
    if m is None:
        return None
    project, environment, href_id = m.groups()
    version = item.get("version")
    return LiveDestination(
        id=str(item.get("_id") or href_id),
        project=project,
        environment=environment,
        name=str(item.get("name") or ""),
        kind=str(item.get("kind") or ""),
        on=bool(item.get("on", False)),
        config=parse_config(item.get("config")),
        version=version if isinstance(version, (int, float)) and not isinstance(version, bool) else None,
    )


def parse_config(raw: Any) -> dict[str, Any]:
    """``config`` is documented as untyped; accept an object or a JSON string holding one."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str) and raw.strip():
        try:
            parsed = json.loads(raw)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}
