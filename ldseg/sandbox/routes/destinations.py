"""Data Export destinations: ``/api/v2/destinations...``.

Quirks emulated: a single global list (no query parameters, no pagination), no project/environment
fields on items (only ``_links.self``), secrets masked on every response, ``on`` false unless sent,
duplicate names allowed, PATCH as JSON Patch or merge patch but never the ``{comment, patch}``
wrapper (UNCONFIRMED for this endpoint, so ldseg must not rely on it).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING, Any

from .. import records, representations
from ..exceptions import bad_request, not_found
from ..exchange import Call, Reply
from ..masking import SECRET_FIELDS, looks_masked
from ..patching import apply_json_patch, check_json_patch, diff_paths, merge_patch, split_pointer
from .common import audit, get_env, get_project

if TYPE_CHECKING:
    from ..app import SandboxApp
    from ..store import Store

BASE = "/api/v2/destinations"
ITEM = BASE + "/{projectKey}/{environmentKey}/{id}"
POST_FIELDS = {"name", "kind", "config", "on"}
PATCHABLE = {"name", "on", "config"}


def register(app: SandboxApp) -> None:
    app.add_route("GET", BASE, list_destinations)
    app.add_route("POST", BASE + "/generate-warehouse-destination-key-pair", generate_key_pair)
    app.add_route(
        "POST",
        BASE + "/projects/{projKey}/environments/{envKey}/generate-trust-policy",
        generate_trust_policy,
    )
    app.add_route("POST", BASE + "/{projectKey}/{environmentKey}", post_destination)
    app.add_route("GET", ITEM, get_destination)
    app.add_route("PATCH", ITEM, patch_destination)
    app.add_route("DELETE", ITEM, delete_destination)


def list_destinations(call: Call) -> Reply:
    store = call.store
    with store.lock:
        settings = store.state["settings"]
        items = [representations.destination(d, settings) for d in store.state["destinations"].values()]
    return Reply(200, {"_links": {"self": representations.link(BASE)}, "items": items})


def _find(store: Store, project: str, env: str, dest_id: str) -> dict[str, Any]:
    get_env(store, project, env)
    rec: dict[str, Any] | None = store.state["destinations"].get(dest_id)
    if rec is None or rec["project"] != project or rec["environment"] != env:
        raise not_found(f"Unknown destination {dest_id!r} in {project}/{env}")
    return rec


def get_destination(call: Call) -> Reply:
    store = call.store
    with store.lock:
        rec = _find(store, call.args["projectKey"], call.args["environmentKey"], call.args["id"])
        return Reply(200, representations.destination(rec, store.state["settings"]))


def _config(value: Any) -> dict[str, Any]:
    """``config`` as an object; LD's spec example sends a JSON string, so accept that too."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise bad_request("config must be an object (or a JSON string of one)") from None
    if not isinstance(value, dict):
        raise bad_request("config must be an object")
    return value


def _validate(name: Any, kind: Any, config: dict[str, Any], on: Any, settings: dict[str, Any]) -> None:
    if not isinstance(name, str) or not name.strip():
        raise bad_request("name is required and must be a non-empty string")
    if kind not in records.DESTINATION_KINDS:
        raise bad_request(f"kind must be one of {', '.join(records.DESTINATION_KINDS)}, got {kind!r}")
    if not isinstance(on, bool):
        raise bad_request(f"on must be a boolean, got {on!r}")
    if settings["validate_config"]:
        missing = [f for f in records.REQUIRED_CONFIG.get(kind, ()) if config.get(f) in (None, "")]
        anyof = records.REQUIRED_ANY_CONFIG.get(kind, ())
        if anyof and all(config.get(f) in (None, "", []) for f in anyof):
            missing.append(" or ".join(anyof))
        if missing:
            raise bad_request(f"config for a {kind} destination is missing {', '.join(missing)}")


def _check_secrets(call: Call, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
    """Record a violation when a write puts something that looks like our mask into a secret field."""
    style = call.store.state["settings"]["mask_style"]
    for field in sorted(SECRET_FIELDS & set(new)):
        previous = None if old is None else old.get(field)
        if old is not None and field in old and new[field] == previous:
            continue
        if looks_masked(new[field], previous, style):
            call.store.record_violation(
                f"{call.request.method} {call.request.path}: config.{field} was set to {new[field]!r}, "
                "which looks like the masked value the API returns; the real secret is overwritten"
            )


def post_destination(call: Call) -> Reply:
    store = call.store
    project, env = call.args["projectKey"], call.args["environmentKey"]
    with store.lock:
        get_env(store, project, env)
    body = call.json_body()
    if not isinstance(body, dict):
        raise bad_request("the body must be a DestinationPost object")
    unknown = sorted(set(body) - POST_FIELDS)
    if unknown:
        raise bad_request(f"unknown field(s) {', '.join(unknown)}; allowed: name, kind, config, on")
    if "config" not in body:
        raise bad_request("config is required")
    config = _config(body["config"])
    on = body.get("on", False)
    with store.mutate() as state:
        get_env(store, project, env)
        _validate(body.get("name"), body.get("kind"), config, on, state["settings"])
        _check_secrets(call, None, config)
        dest_id = store.next_id("destination", project, env, body["name"])
        rec = records.new_destination(
            dest_id,
            project,
            env,
            name=body["name"],
            kind=body["kind"],
            config=config,
            on=on,
            creation_ms=records.now_ms(),
        )
        state["destinations"][dest_id] = rec
        audit(call, f"destination:{project}/{env}/{dest_id}", changed=True, name=rec["name"])
        return Reply(201, representations.destination(rec, state["settings"]))


def _check_op_paths(ops: list[dict[str, Any]]) -> None:
    for op in ops:
        if op["op"] == "test":
            continue
        for ptr in [op["path"]] + ([op["from"]] if op["op"] == "move" else []):
            parts = split_pointer(ptr)
            if not parts or parts[0] not in PATCHABLE:
                raise bad_request(f"{ptr or '/'} cannot be changed; a destination's name, on and config can")


def patch_destination(call: Call) -> Reply:
    store = call.store
    project, env, dest_id = call.args["projectKey"], call.args["environmentKey"], call.args["id"]
    with store.lock:
        _find(store, project, env, dest_id)
    body = call.json_body()
    with store.mutate() as state:
        rec = _find(store, project, env, dest_id)
        settings = state["settings"]
        before = representations.destination(rec, settings, masked=False)
        if isinstance(body, list):
            ops = check_json_patch(body)
            _check_op_paths(ops)
            after = apply_json_patch(before, ops)
            form = "json-patch"
        elif isinstance(body, dict):
            if "patch" in body:
                raise bad_request(
                    "the {comment, patch} wrapper is not supported for destinations: "
                    "send a bare JSON Patch array or a JSON merge patch object"
                )
            after = merge_patch(before, body)
            form = "merge-patch"
        else:
            raise bad_request("the body must be a JSON Patch array or a JSON merge patch object")
        if not isinstance(after, dict):
            raise bad_request("the patch must leave a destination object")
        changed = diff_paths(before, after)
        fixed = sorted({p.split("/")[1] for p in changed} - PATCHABLE)
        if fixed:
            raise bad_request(
                f"{', '.join('/' + f for f in fixed)} cannot be changed; "
                "a destination's name, on and config can"
            )
        if changed:
            config = _config(after.get("config"))
            _validate(after.get("name"), rec["kind"], config, after.get("on"), settings)
            _check_secrets(call, rec["config"], config)
            rec.update(name=after["name"], on=after["on"], config=config)
            rec["version"] += 1
        audit(
            call, f"destination:{project}/{env}/{dest_id}", changed=bool(changed), form=form, changes=changed
        )
        return Reply(200, representations.destination(rec, settings))


def delete_destination(call: Call) -> Reply:
    store = call.store
    project, env, dest_id = call.args["projectKey"], call.args["environmentKey"], call.args["id"]
    with store.mutate() as state:
        _find(store, project, env, dest_id)
        del state["destinations"][dest_id]
        audit(call, f"destination:{project}/{env}/{dest_id}", changed=True)
    return Reply(204)


def _fake_pem(seed: str, label: str) -> str:
    raw = b"".join(hashlib.sha256(f"{seed}/{i}".encode()).digest() for i in range(9))
    body = base64.b64encode(raw).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def generate_key_pair(call: Call) -> Reply:
    seed = call.store.next_id("keypair")
    return Reply(
        201,
        {"public_key": _fake_pem(seed, "RSA PUBLIC KEY"), "public_key_pkcs8": _fake_pem(seed, "PUBLIC KEY")},
    )


def generate_trust_policy(call: Call) -> Reply:
    store = call.store
    project, env = call.args["projKey"], call.args["envKey"]
    with store.lock:
        get_project(store, project)
        e = get_env(store, project, env)
    return Reply(
        201,
        {
            "awsTrustPolicy": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["sts:AssumeRole"],
                        "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                        "Condition": {"StringEquals": {"sts:ExternalId": e["_id"]}},
                    }
                ],
            }
        },
    )
