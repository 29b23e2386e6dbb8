"""The saved plan document (``plan --out``, ``--format json``), format_version 1.

It carries, besides the changes and their guards: the config digest (a hash of the desired state
without its secrets), a salted HMAC fingerprint of each secret (never the secret), the summary,
and a checksum over everything else, so that ``apply PLANFILE`` can refuse a plan whose file was
edited or whose config or secrets changed. ``schemas/plan.schema.json`` describes it.
"""

from __future__ import annotations

import hashlib
import json
import secrets as pysecrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ldseg import __version__, kinds
from ldseg.errors import PlanFileError, StalePlanError
from ldseg.model import DesiredState, Reviewers, ScopeSpec
from ldseg.plan import Change, Plan, SafetyIssue
from ldseg.resources import load_schema
from ldseg.scoping import Scoping
from ldseg.secrets import fingerprint

FORMAT_VERSION = 1
SECRET_UNSET = "unset"


def config_digest(desired: DesiredState) -> str:
    """A hash of what the config asks for: no secrets, no file names, no line numbers, so moving
    or commenting the config does not invalidate a plan, but changing its meaning does."""
    text = json.dumps(_canonical(desired), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _canonical(desired: DesiredState) -> dict[str, Any]:
    return {
        "settings": {
            "comment": desired.settings.comment,
            "max_destination_deletes": desired.settings.max_destination_deletes,
            "max_export_off_percent": desired.settings.max_export_off_percent,
            "max_approval_requests": desired.settings.max_approval_requests,
            "reviewers": _canonical_reviewers(desired.settings.reviewers),
        },
        "scopes": {f"{p}/{e}": _canonical_scope(s) for (p, e), s in sorted(desired.scopes.items())},
    }


def _canonical_scope(scope: ScopeSpec) -> dict[str, Any]:
    dests = None
    if scope.destinations is not None:
        dests = {
            name: {
                "kind": d.kind,
                "on": d.on,
                "config": {
                    f: "(secret)" if kinds.kind(d.kind).is_secret(f) else v
                    for f, v in sorted(d.config.items())
                },
            }
            for name, d in sorted(scope.destinations.items())
        }
    export = None
    if scope.export is not None:
        sel = scope.export.flags
        export = {
            "new_flags": scope.export.new_flags,
            "flags": None
            if sel is None
            else {
                "all": sel.all,
                "keys": sel.keys,
                "tags": sel.tags,
                "except": sel.except_,
                "others": sel.others,
            },
        }
    out: dict[str, Any] = {
        "destinations": dests,
        "ignore": sorted(scope.ignore_destinations),
        "export": export,
    }
    if scope.reviewers is not None:
        out["reviewers"] = _canonical_reviewers(scope.reviewers)
    return out


def _canonical_reviewers(reviewers: Reviewers) -> dict[str, list[str]]:
    return {"members": list(reviewers.members), "teams": list(reviewers.teams)}


def secret_fingerprints(desired: DesiredState, salt: str) -> dict[str, str]:
    """``<address>#<field>`` -> salted fingerprint of each declared secret (``unset`` if its
    variable was not set)."""
    out: dict[str, str] = {}
    for scope in desired.scopes.values():
        for d in (scope.destinations or {}).values():
            spec = kinds.kind(d.kind)
            for f, v in sorted(d.config.items()):
                if spec.is_secret(f):
                    out[f"{d.address}#{f}"] = SECRET_UNSET if v is None else fingerprint(str(v), salt)
    return out


def build_document(
    plan: Plan,
    desired: DesiredState,
    *,
    base_uri: str,
    scoping: Mapping[str, list[str]] | None = None,
    rotate_secrets: bool = False,
    created: datetime | None = None,
    salt: str | None = None,
) -> dict[str, Any]:
    salt = salt or pysecrets.token_hex(16)
    doc: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "ldseg_version": __version__,
        "created": (created or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "base_uri": base_uri,
        "config": {"files": list(desired.files), "digest": config_digest(desired)},
        "scoping": dict(scoping or {}),
        "options": {"rotate_secrets": rotate_secrets},
        "partial": bool(plan.partial),
        "secrets": {"salt": salt, "fingerprints": secret_fingerprints(desired, salt)},
        "summary": plan.summary().to_dict() | {"line": plan.summary().line()},
        "warnings": list(plan.warnings),
        "safety": [i.to_dict() for i in plan.safety],
        "changes": [c.to_dict() for c in plan.changes],
    }
    doc["checksum"] = checksum(doc)
    return doc


def checksum(doc: Mapping[str, Any]) -> str:
    body = {k: v for k, v in doc.items() if k != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def dumps(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class SavedPlan:
    doc: dict[str, Any]
    plan: Plan

    @property
    def files(self) -> list[str]:
        return list(self.doc["config"]["files"])


def load_document(text: str, source: str) -> SavedPlan:
    """Parse and verify a saved plan; every failure is one clear error."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise PlanFileError(
            f"{source} is not a saved ldseg plan (invalid or truncated JSON: {exc})."
        ) from None
    if not isinstance(doc, dict) or "format_version" not in doc:
        raise PlanFileError(f"{source} is not a saved ldseg plan (no format_version).")
    if doc["format_version"] != FORMAT_VERSION:
        raise PlanFileError(
            f"{source} has plan format_version {doc['format_version']!r}; this ldseg ({__version__}) reads "
            f"version {FORMAT_VERSION}. Plan again with this version."
        )
    if doc.get("checksum") != checksum(doc):
        raise StalePlanError(
            f"{source} was edited after ldseg wrote it (its checksum does not match). "
            "A reviewed plan must be "
            "applied as written: run `ldseg plan --out` again."
        )
    import jsonschema  # here, not at the top: it adds ~50 ms to the start of every command

    errors = sorted(
        jsonschema.Draft202012Validator(load_schema("plan.schema.json")).iter_errors(doc), key=str
    )
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "the top level"
        raise PlanFileError(f"{source} is not a valid ldseg plan ({where}: {errors[0].message}).")
    try:
        changes = tuple(Change.from_dict(c) for c in doc["changes"])
        safety = tuple(SafetyIssue.from_dict(i) for i in doc.get("safety", ()))
    except (KeyError, ValueError, TypeError) as exc:
        raise PlanFileError(f"{source} holds a change ldseg cannot read ({exc}).") from None
    scoping = Scoping(**{k: tuple(v) for k, v in doc.get("scoping", {}).items()})
    partial = scoping.description() if doc.get("partial") else ""
    plan = Plan(changes, tuple(doc.get("warnings", ())), partial, safety)
    return SavedPlan(doc, plan)


def config_differences(saved: SavedPlan, desired: DesiredState) -> list[str]:
    """What differs between the config the plan was made from and ``desired``."""
    out: list[str] = []
    if saved.doc["config"]["digest"] != config_digest(desired):
        out.append("the configuration changed since the plan was made")
    salt = saved.doc["secrets"]["salt"]
    then: dict[str, str] = saved.doc["secrets"]["fingerprints"]
    now = secret_fingerprints(desired, salt)
    for key in sorted(set(then) | set(now)):
        if then.get(key) != now.get(key):
            address, _, field = key.partition("#")
            out.append(f"the secret config.{field} of {address} differs from the one planned with")
    return out
