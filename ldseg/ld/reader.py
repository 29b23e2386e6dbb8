"""Read the live state ldseg plans against, with the fewest requests.

- One ``GET /api/v2/projects/{p}/environments/{e}`` per declared scope (concurrently): it both
  proves the environment exists and gives its settings. Only when one is missing is the project
  read too, to say which of the two is missing.
- One ``GET /api/v2/destinations`` for every destination of the account: LD has no per-scope
  list. Items carry no project or environment field; both come from ``_links.self.href``.
- Flags as ``ld/flags.py`` explains, only for scopes with ``export.flags``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from ldseg.errors import ApiError, ConfigError, Problem
from ldseg.ld.client import LDClient, seg
from ldseg.ld.flags import read_flags
from ldseg.model import (
    RESOURCE_TYPES,
    DesiredState,
    LiveDestination,
    LiveEnvironment,
    LiveState,
    ResourceType,
    Scope,
)

_SELF_HREF = re.compile(r"/api/v2/destinations/([^/]+)/([^/]+)/([^/?#]+)")


@dataclass
class ReadResult:
    live: LiveState
    warnings: list[str] = field(default_factory=list)


def read_live(
    client: LDClient,
    desired: DesiredState,
    scopes: Iterable[Scope],
    types: Collection[ResourceType] = RESOURCE_TYPES,
) -> ReadResult:
    """Read what planning ``scopes`` (a subset of the desired scopes) needs; ``types`` leaves out
    destinations or flags when a scoped plan does not target them."""
    wanted = sorted(set(scopes))
    warnings: list[str] = []
    environments = _read_environments(client, desired, wanted)
    destinations: dict[Scope, list[LiveDestination]] = {s: [] for s in wanted}
    unplaced: set[str] = set()
    if "destination" in types and any(desired.scopes[s].destinations is not None for s in wanted):
        listed, unplaced = _list_destinations(client, warnings)
        for item in listed:
            scope = (item.project, item.environment)
            if scope in destinations:
                destinations[scope].append(item)
    flags = read_flags(client, desired, wanted if "flag" in types else [])
    if flags.problems:
        raise ConfigError(flags.problems)
    warnings.extend(flags.warnings)
    live = LiveState(
        environments=environments,
        destinations={s: tuple(sorted(d, key=lambda x: (x.name, x.id))) for s, d in destinations.items()},
        flags=flags.flags,
        unplaced_destinations=frozenset(unplaced),
    )
    return ReadResult(live, warnings)


def _read_environments(
    client: LDClient, desired: DesiredState, scopes: list[Scope]
) -> dict[Scope, LiveEnvironment]:
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
        )

    results = client.map(one, scopes)
    missing = [s for s, r in zip(scopes, results, strict=True) if r is None]
    if missing:
        _raise_missing(client, desired, missing)
    return {s: r for s, r in zip(scopes, results, strict=True) if r is not None}


def _raise_missing(client: LDClient, desired: DesiredState, missing: list[Scope]) -> None:
    projects = sorted({p for p, _ in missing})

    def project_exists(p: str) -> bool:
        try:
            client.get(f"/api/v2/projects/{seg(p)}")
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    exists = dict(zip(projects, client.map(project_exists, projects), strict=True))
    problems: list[Problem] = []
    reported: set[str] = set()
    for p, e in missing:
        loc = desired.scopes[(p, e)].location
        if not exists[p]:
            if p in reported:
                continue
            reported.add(p)
            problems.append(
                Problem(
                    loc.file,
                    loc.line,
                    f"project {p!r} does not exist in LaunchDarkly (ldseg never creates projects)",
                )
            )
        else:
            problems.append(
                Problem(
                    loc.file,
                    loc.line,
                    f"environment {e!r} does not exist in project {p!r} (ldseg never creates environments)",
                )
            )
    raise ConfigError(problems)


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


def _list_destinations(client: LDClient, warnings: list[str]) -> tuple[list[LiveDestination], set[str]]:
    placed, unplaced = list_destinations(client)
    if unplaced:
        warnings.append(
            f"{len(unplaced)} destination(s) from GET /api/v2/destinations have no usable "
            "_links.self.href, so ldseg cannot tell their project and environment; they were left alone."
        )
    return placed, set(unplaced)


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
