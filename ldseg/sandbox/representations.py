"""LD's JSON representations of stored records (what the API sends), built directly as dicts.

Built fresh per response (no shared sub-objects), so the app may encode them after releasing the
store lock and patches may edit them freely.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

from . import approval_rules
from .masking import mask_config

JSON = "application/json"


def link(href: str, type_: str = JSON) -> dict[str, str]:
    return {"href": href, "type": type_}


# --- destinations ---------------------------------------------------------------------------------


def destination_href(rec: dict[str, Any]) -> str:
    return f"/api/v2/destinations/{rec['project']}/{rec['environment']}/{rec['_id']}"


def destination(rec: dict[str, Any], settings: dict[str, Any], *, masked: bool = True) -> dict[str, Any]:
    """The Destination object. No project/environment fields: LD only has them in ``_links.self``."""
    config = copy.deepcopy(rec["config"])
    if masked:
        config = mask_config(config, settings["mask_style"])
        if settings["config_as_string"]:
            return _destination(rec, json.dumps(config, separators=(",", ":")))
    return _destination(rec, config)


def _destination(rec: dict[str, Any], config: Any) -> dict[str, Any]:
    return {
        "_id": rec["_id"],
        "_links": {"parent": link("/api/v2/destinations"), "self": link(destination_href(rec))},
        "name": rec["name"],
        "kind": rec["kind"],
        "version": rec["version"],
        "config": config,
        "on": rec["on"],
        "_access": {"denied": [], "allowed": []},
    }


# --- flags ------------------------------------------------------------------------------------------


def _variation_summary(fallthrough: bool) -> dict[str, Any]:
    s: dict[str, Any] = {"rules": 0, "nullRules": 0, "targets": 0, "contextTargets": 0}
    s["isFallthrough" if fallthrough else "isOff"] = True
    return s


def flag_env(
    project: str, flag: dict[str, Any], env_key: str, env_name: str, *, summary: bool
) -> dict[str, Any]:
    """A FeatureFlagConfig; ``summary`` leaves out rules, targets, prerequisites and fallthrough."""
    cfg = flag["environments"][env_key]
    out: dict[str, Any] = {
        "on": cfg["on"],
        "archived": flag["archived"],
        "salt": cfg["salt"],
        "sel": cfg["sel"],
        "lastModified": cfg["lastModified"],
        "version": cfg["version"],
        "_site": link(f"/{project}/{env_key}/features/{flag['key']}", "text/html"),
        "_environmentName": env_name,
        "trackEvents": cfg["trackEvents"],
        "trackEventsFallthrough": cfg["trackEventsFallthrough"],
    }
    if summary:
        out["_summary"] = {
            "prerequisites": 0,
            "variations": {"0": _variation_summary(True), "1": _variation_summary(False)},
        }
    else:
        out.update(
            {
                "targets": [],
                "contextTargets": [],
                "rules": [],
                "fallthrough": {"variation": 0},
                "offVariation": 1,
                "prerequisites": [],
            }
        )
    return out


def flag(
    project: str, rec: dict[str, Any], envs: dict[str, Any], env_keys: Iterable[str] | None, *, summary: bool
) -> dict[str, Any]:
    """A FeatureFlag; ``environments`` only when ``env_keys`` is given, and only those environments."""
    key = rec["key"]
    out: dict[str, Any] = {
        "name": rec["name"],
        "kind": rec["kind"],
        "description": rec["description"],
        "key": key,
        "_version": rec["_version"],
        "creationDate": rec["creationDate"],
        "includeInSnippet": False,
        "clientSideAvailability": {"usingMobileKey": False, "usingEnvironmentId": False},
        "variations": [dict(v) for v in rec["variations"]],
        "temporary": rec["temporary"],
        "tags": list(rec["tags"]),
        "_links": {
            "parent": link(f"/api/v2/flags/{project}"),
            "self": link(f"/api/v2/flags/{project}/{key}"),
        },
        "goalIds": [],
        "experiments": {"baselineIdx": 0, "items": []},
        "customProperties": {},
        "archived": rec["archived"],
        "deprecated": rec["deprecated"],
        "defaults": {"onVariation": 0, "offVariation": 1},
    }
    for opt in ("archivedDate", "deprecatedDate"):
        if opt in rec:
            out[opt] = rec[opt]
    if env_keys is not None:
        out["environments"] = {
            e: flag_env(project, rec, e, envs[e]["name"], summary=summary)
            for e in env_keys
            if e in rec["environments"]
        }
    return out


def expanded_flag(project: str, rec: dict[str, Any]) -> dict[str, Any]:
    """LD's ExpandedFlagRep (an approval request's ``expand=flag``): the flag's top-level fields."""
    full = flag(project, rec, {}, None, summary=True)
    return {k: v for k, v in full.items() if k in EXPANDED_FLAG_FIELDS}


EXPANDED_FLAG_FIELDS = frozenset(
    ("name", "kind", "description", "key", "_version", "creationDate", "includeInSnippet",
     "clientSideAvailability", "variations", "temporary", "tags", "_links", "customProperties",
     "archived", "archivedDate", "defaults")
)  # fmt: skip


# --- approval requests ----------------------------------------------------------------------------


def approval_request_href(rec: dict[str, Any], *, account: bool) -> str:
    if account:
        return f"/api/v2/approval-requests/{rec['_id']}"
    return (
        f"/api/v2/projects/{rec['project']}/flags/{rec['flag']}/environments/{rec['environment']}"
        f"/approval-requests/{rec['_id']}"
    )


def resource_id(rec: dict[str, Any]) -> str:
    """LD's resource specifier of the flag in the request's environment (the ``resourceId`` filter)."""
    return f"proj/{rec['project']}:env/{rec['environment']}:flag/{rec['flag']}"


def approval_request(
    rec: dict[str, Any], conflicts: list[dict[str, Any]], *, account: bool
) -> dict[str, Any]:
    """A FlagConfigApprovalRequestResponse, or (``account``) an ApprovalRequestResponse, which also
    has ``resourceId`` and ``approvalSettings``."""
    out: dict[str, Any] = {
        "_id": rec["_id"],
        "_version": rec["_version"],
        "creationDate": rec["creationDate"],
        "serviceKind": rec["approvalSettings"]["serviceKind"],
        "requestorId": rec["requestorId"],
        "description": rec["description"],
        "reviewStatus": rec["reviewStatus"],
        "allReviews": copy.deepcopy(rec["allReviews"]),
        "notifyMemberIds": list(rec["notifyMemberIds"]),
    }
    for opt in ("appliedDate", "appliedByMemberId"):
        if rec.get(opt) is not None:
            out[opt] = rec[opt]
    out["status"] = rec["status"]
    out["instructions"] = copy.deepcopy(rec["instructions"])
    out["conflicts"] = copy.deepcopy(conflicts)
    out["_links"] = {"self": link(approval_request_href(rec, account=account))}
    if account:
        out["resourceId"] = resource_id(rec)
        out["approvalSettings"] = copy.deepcopy(rec["approvalSettings"])
    return out


# --- projects and environments --------------------------------------------------------------------


def approval_settings(env: dict[str, Any]) -> dict[str, Any]:
    """LD's ApprovalSettings of an environment (optional fields only when set)."""
    settings = approval_rules.settings_of(env)
    out = {k: copy.deepcopy(settings.get(k, v)) for k, v in approval_rules.DEFAULT_SETTINGS.items()}
    out.update({k: settings[k] for k in approval_rules.OPTIONAL_SETTINGS if k in settings})
    return out


def environment(project: str, env: dict[str, Any]) -> dict[str, Any]:
    return {
        "_links": {"self": link(f"/api/v2/projects/{project}/environments/{env['key']}")},
        "_id": env["_id"],
        "key": env["key"],
        "name": env["name"],
        "apiKey": env["apiKey"],
        "mobileKey": env["mobileKey"],
        "color": env["color"],
        "defaultTtl": env["defaultTtl"],
        "secureMode": env["secureMode"],
        "defaultTrackEvents": env["defaultTrackEvents"],
        "requireComments": env["requireComments"],
        "confirmChanges": env["confirmChanges"],
        "tags": list(env["tags"]),
        "critical": env["critical"],
        "approvalSettings": approval_settings(env),
    }


def project(rec: dict[str, Any], environments: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Project; ``environments`` (an already built Environments page) when expanded."""
    key = rec["key"]
    out: dict[str, Any] = {
        "_links": {
            "environments": link(f"/api/v2/projects/{key}/environments"),
            "self": link(f"/api/v2/projects/{key}"),
        },
        "_id": rec["_id"],
        "key": key,
        "includeInSnippetByDefault": rec["includeInSnippetByDefault"],
        "defaultClientSideAvailability": {"usingMobileKey": False, "usingEnvironmentId": False},
        "name": rec["name"],
        "tags": list(rec["tags"]),
    }
    if environments is not None:
        out["environments"] = environments
    return out
