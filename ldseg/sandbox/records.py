"""Record constructors and constants shared by the seed loader, the store and the routes.

Records (projects, environments, flags, destinations, approval requests, and the whole state
document: ``empty_state``, with the Segment workspace of ``empty_workspace``) are plain JSON-able
dicts (so the state file is just ``json.dumps`` of the state). IDs and keys are derived from stable
hashes, so one seed always yields byte-identical state and API-created objects get reproducible ids
(``hex_id`` over a state counter).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from . import approval_rules

DESTINATION_KINDS: tuple[str, ...] = (
    "google-pubsub",
    "kinesis",
    "mparticle",
    "segment",
    "azure-event-hubs",
    "snowflake-v2",
    "databricks",
    "bigquery",
    "redshift",
)

# Config fields LD documents as needed per kind (postDestination description). Enforced only while
# the ``validate_config`` setting is on; undocumented kinds are not checked.
REQUIRED_CONFIG: dict[str, tuple[str, ...]] = {
    "segment": ("writeKey",),
    "kinesis": ("region", "roleArn", "streamName"),
    "google-pubsub": ("project", "topic"),
    "mparticle": ("apiKey", "secret", "environment"),
    "azure-event-hubs": ("namespace", "name", "policyName", "policyKey"),
    "snowflake-v2": ("publicKey", "snowflakeHostAddress"),
}
# Fields of which a kind needs at least one. mParticle follows the rules of LaunchDarkly's
# Terraform provider, whose acceptance tests run against the live API, rather than the reference
# (which lists userIdentity and anonymousUserIdentity as required): apiKey, secret, environment,
# and userIdentity or userIdentities, either one alone.
REQUIRED_ANY_CONFIG: dict[str, tuple[str, ...]] = {"mparticle": ("userIdentity", "userIdentities")}

#: ``bypass``: a writer whose role also has LD's ``bypassRequiredApproval`` action, so its flag changes
#: in approval-gated environments apply directly (LD grants that action through custom roles)
TOKEN_ROLES: tuple[str, ...] = ("admin", "writer", "bypass", "reader", "none")

DEFAULT_SETTINGS: dict[str, Any] = {
    "mask_style": "edges",  # edges | stars | last4 (LD's real format is UNCONFIRMED)
    "config_as_string": False,  # destination config returned as a JSON string (spec example; UNCONFIRMED)
    "validate_config": True,  # 400 when a destination lacks the config fields LD documents as needed
    "max_flag_limit": 100,  # flags list: limit above this -> 400 (reported cap under 20240415)
    "max_flag_envs": 3,  # flags list: more env= values -> 400 (reported, UNCONFIRMED)
    "max_environment_limit": 100,  # environments list: limit above this -> 400
    "max_project_limit": 1000,  # projects list: limit above this -> 400 (UNCONFIRMED)
    "segment_volume_delay_s": 0.0,  # Segment: tracked messages count in /events/volume after this lag
    "segment_volume_rate_per_minute": 60,  # Segment: /events/volume requests per minute per token
}

STATE_FORMAT = "ldseg-sandbox-state/1"  # the ``format`` of a state document (and state file)

# 2024-01-01T00:00:00Z: seeded objects get creation dates from here so seeds are reproducible.
BASE_TIME_MS = 1_704_067_200_000


def now_ms() -> int:
    return int(time.time() * 1000)


def hex_id(*parts: object) -> str:
    """A 24-hex id (the shape of LD's Mongo ids) derived from ``parts``."""
    return hashlib.sha1("/".join(str(p) for p in parts).encode()).hexdigest()[:24]


def member_id(token: str) -> str:
    """The member an access token acts as: each sandbox token is one member's personal token."""
    return hex_id("member", token)


def _uuid_like(*parts: object) -> str:
    h = hashlib.sha1("/".join(str(p) for p in parts).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


def new_project(
    key: str,
    *,
    name: str | None = None,
    tags: list[str] | None = None,
    include_in_snippet: bool = False,
    creation_ms: int = BASE_TIME_MS,
) -> dict[str, Any]:
    return {
        "_id": hex_id("project", key),
        "key": key,
        "name": name if name is not None else key,
        "tags": list(tags or []),
        "includeInSnippetByDefault": include_in_snippet,
        "creationDate": creation_ms,
        "environments": {},
        "flags": {},
    }


ENV_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "color": str,
    "defaultTtl": int,
    "secureMode": bool,
    "defaultTrackEvents": bool,
    "requireComments": bool,
    "confirmChanges": bool,
    "tags": list,
    "critical": bool,
    "approvalRequired": bool,  # shorthand for approvalSettings.required
    "approvalSettings": dict,
    "apiKey": str,
    "mobileKey": str,
}


def new_environment(project: str, key: str, creation_ms: int = BASE_TIME_MS, **fields: Any) -> dict[str, Any]:
    """An environment; ``approvalSettings`` overlays LD's defaults, ``approvalRequired`` sets ``required``."""
    settings = dict(fields.pop("approvalSettings", None) or {})
    if "approvalRequired" in fields:
        settings.setdefault("required", fields.pop("approvalRequired"))
    env: dict[str, Any] = {
        "_id": hex_id("environment", project, key),
        "key": key,
        "name": key,
        "apiKey": "sdk-" + _uuid_like("sdk", project, key),
        "mobileKey": "mob-" + _uuid_like("mob", project, key),
        "color": "417505" if "prod" in key else "F5A623",
        "defaultTtl": 0,
        "secureMode": False,
        "defaultTrackEvents": False,
        "requireComments": False,
        "confirmChanges": False,
        "tags": [],
        "critical": "prod" in key,
        "approvalSettings": approval_rules.new_settings(settings),
        "creationDate": creation_ms,
    }
    env.update(fields)
    env["tags"] = list(env["tags"])
    return env


def new_flag_env(
    project: str,
    flag: str,
    env: str,
    *,
    track_events: bool = False,
    track_fallthrough: bool = False,
    on: bool = False,
    modified_ms: int = BASE_TIME_MS,
) -> dict[str, Any]:
    return {
        "on": on,
        "trackEvents": track_events,
        "trackEventsFallthrough": track_fallthrough,
        "version": 1,
        "lastModified": modified_ms,
        "salt": hashlib.sha1(f"salt/{project}/{flag}/{env}".encode()).hexdigest()[:32],
        "sel": hashlib.sha1(f"sel/{project}/{flag}/{env}".encode()).hexdigest()[:32],
    }


def new_flag(
    project: str,
    key: str,
    *,
    name: str | None = None,
    description: str = "",
    tags: list[str] | None = None,
    temporary: bool = True,
    archived: bool = False,
    deprecated: bool = False,
    creation_ms: int = BASE_TIME_MS,
) -> dict[str, Any]:
    flag: dict[str, Any] = {
        "key": key,
        "name": name if name is not None else key,
        "description": description,
        "kind": "boolean",
        "_version": 1,
        "creationDate": creation_ms,
        "tags": list(tags or []),
        "temporary": temporary,
        "archived": archived,
        "deprecated": deprecated,
        "variations": [
            {"_id": _uuid_like("var", project, key, 0), "value": True},
            {"_id": _uuid_like("var", project, key, 1), "value": False},
        ],
        "environments": {},
    }
    if archived:
        flag["archivedDate"] = creation_ms
    if deprecated:
        flag["deprecatedDate"] = creation_ms
    return flag


def new_destination(
    dest_id: str,
    project: str,
    env: str,
    *,
    name: str,
    kind: str,
    config: dict[str, Any],
    on: bool = False,
    version: int = 1,
    creation_ms: int = BASE_TIME_MS,
) -> dict[str, Any]:
    return {
        "_id": dest_id,
        "project": project,
        "environment": env,
        "name": name,
        "kind": kind,
        "config": config,
        "on": on,
        "version": version,
        "creationDate": creation_ms,
    }


def empty_workspace(region: str = "us", workspace: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``segment`` part of the state: a Segment workspace with no tokens, sources or messages."""
    ws = {"id": hex_id("segment-workspace")[:22], "slug": "sandbox", "name": "Sandbox"}
    ws.update(workspace or {})
    return {"region": region, "workspace": ws, "tokens": {}, "sources": {}, "messages": []}


def empty_state(settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """A whole state document for an empty account (default settings unless given)."""
    return {
        "format": STATE_FORMAT,
        "settings": settings or dict(DEFAULT_SETTINGS),
        "tokens": {},
        "counter": 0,
        "projects": {},
        "destinations": {},
        "audit_log": [],
        "violations": [],
        "approval_requests": {},  # by _id, in creation order
        "segment": empty_workspace(),
        "seed_digest": None,  # seed.seed_digest of the seed the account was built from
    }
