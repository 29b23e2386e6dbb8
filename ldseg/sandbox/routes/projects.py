"""Projects and environments: lists (paginated), single reads, and environment PATCH (JSON Patch only).

An environment PATCH may change the approval settings LD lets it change (``/approvalSettings/required``,
``requiredApprovalTags``, ``minNumApprovals``, ``canReviewOwnRequest``, ``canApplyDeclinedChanges``),
never ``required`` and ``requiredApprovalTags`` together (400, as LD documents).

Default order is creation order (the seed's order) for both; ``sort`` accepts ``name`` and
``createdOn`` (and ``critical`` for environments), ``-`` for descending.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import approval_rules, representations
from ..exceptions import bad_request
from ..exchange import Call, Reply
from ..pagination import page_links, parse_limit_offset
from ..patching import apply_json_patch, check_json_patch, diff_paths, split_pointer
from .common import audit, get_env, get_project, split_list

if TYPE_CHECKING:
    from ..app import SandboxApp
    from ..store import Store

PROJECTS = "/api/v2/projects"
PROJECT = PROJECTS + "/{projectKey}"
ENVS = PROJECT + "/environments"
ENV = ENVS + "/{environmentKey}"

ENV_PATCHABLE: dict[str, type | tuple[type, ...]] = {
    "defaultTrackEvents": bool,
    "name": str,
    "color": str,
    "defaultTtl": int,
    "secureMode": bool,
    "requireComments": bool,
    "confirmChanges": bool,
    "tags": list,
    "critical": bool,
}


APPROVALS = "approvalSettings"
EDITABLE = approval_rules.EDITABLE_SETTINGS  # LD: only these approval settings can be patched


def _patchable(parts: list[str]) -> bool:
    """A pointer an environment PATCH may write: a patchable field, a tag, an editable approval
    setting or one of its ``requiredApprovalTags``."""
    if len(parts) == 1:
        return parts[0] in ENV_PATCHABLE
    index = parts[-1] == "-" or parts[-1].isdigit()
    if parts[0] == "tags":
        return len(parts) == 2 and index
    if parts[0] != APPROVALS or parts[1] not in EDITABLE:
        return False
    return len(parts) == 2 or (len(parts) == 3 and parts[1] == "requiredApprovalTags" and index)


def _type_ok(value: Any, typ: type | tuple[type, ...]) -> bool:
    return isinstance(value, typ) and not (typ is int and isinstance(value, bool))


def register(app: SandboxApp) -> None:
    app.add_route("GET", PROJECTS, list_projects)
    app.add_route("GET", PROJECT, get_project_route)
    app.add_route("GET", ENVS, list_environments)
    app.add_route("GET", ENV, get_environment)
    app.add_route("PATCH", ENV, patch_environment)


def _filters(raw: str | None, allowed: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in split_list(raw):
        field, sep, value = part.partition(":")
        if not sep or field not in allowed:
            raise bad_request(f"unsupported filter {part!r}; fields: {', '.join(sorted(allowed))}")
        out[field] = value
    return out


def _match(rec: dict[str, Any], filters: dict[str, str]) -> bool:
    if "query" in filters:
        q = filters["query"].lower()
        if q not in rec["key"].lower() and q not in rec["name"].lower():
            return False
    if "tags" in filters and not all(t in rec["tags"] for t in filters["tags"].split("+") if t):
        return False
    return not ("keys" in filters and rec["key"] not in filters["keys"].split("|"))


def _by(field: str) -> Any:
    return lambda rec: rec[field]


def _sorted(recs: list[dict[str, Any]], raw: str | None, allowed: dict[str, str]) -> list[dict[str, Any]]:
    for part in reversed(split_list(raw)):
        desc = part.startswith("-")
        field = part.lstrip("-")
        if field not in allowed:
            raise bad_request(f"unsupported sort field {field!r}; fields: {', '.join(sorted(allowed))}")
        recs = sorted(recs, key=_by(allowed[field]), reverse=desc)
    return recs


def _expand(raw: str | None) -> bool:
    fields = set(split_list(raw))
    if fields - {"environments"}:
        raise bad_request(f"unsupported expand field(s) {', '.join(sorted(fields - {'environments'}))}")
    return "environments" in fields


def _env_page(
    store: Store,
    project_key: str,
    args: Any,
    limit: int,
    offset: int,
    filters: dict[str, str],
    sort: str | None,
) -> dict[str, Any]:
    project = get_project(store, project_key)
    envs = [e for e in project["environments"].values() if _match(e, filters)]
    envs = _sorted(envs, sort, {"name": "name", "createdOn": "creationDate", "critical": "critical"})
    page = envs[offset : offset + limit]
    return {
        "_links": page_links(f"/api/v2/projects/{project_key}/environments", args, limit, offset, len(envs)),
        "totalCount": len(envs),
        "items": [representations.environment(project_key, e) for e in page],
    }


def _project(store: Store, rec: dict[str, Any], expand: bool) -> dict[str, Any]:
    envs = _env_page(store, rec["key"], [], 20, 0, {}, None) if expand else None
    return representations.project(rec, envs)


def list_projects(call: Call) -> Reply:
    store, q = call.store, call.query
    with store.lock:
        max_limit = store.state["settings"]["max_project_limit"]
        limit, offset = parse_limit_offset(q, default=20, max_limit=max_limit)
        filters = _filters(q.get("filter"), {"query", "tags", "keys"})
        expand = _expand(q.get("expand"))
        recs = [p for p in store.state["projects"].values() if _match(p, filters)]
        recs = _sorted(recs, q.get("sort"), {"name": "name", "createdOn": "creationDate"})
        items = [_project(store, p, expand) for p in recs[offset : offset + limit]]
    links = page_links(PROJECTS, q.items(multi=True), limit, offset, len(recs))
    return Reply(200, {"_links": links, "items": items, "totalCount": len(recs)})


def get_project_route(call: Call) -> Reply:
    store = call.store
    with store.lock:
        expand = _expand(call.query.get("expand"))
        return Reply(200, _project(store, get_project(store, call.args["projectKey"]), expand))


def list_environments(call: Call) -> Reply:
    store, q = call.store, call.query
    with store.lock:
        get_project(store, call.args["projectKey"])
        limit, offset = parse_limit_offset(
            q, default=20, max_limit=store.state["settings"]["max_environment_limit"]
        )
        filters = _filters(q.get("filter"), {"query", "tags"})
        page = _env_page(
            store, call.args["projectKey"], q.items(multi=True), limit, offset, filters, q.get("sort")
        )
    return Reply(200, page)


def get_environment(call: Call) -> Reply:
    store = call.store
    with store.lock:
        env = get_env(store, call.args["projectKey"], call.args["environmentKey"])
        return Reply(200, representations.environment(call.args["projectKey"], env))


def patch_environment(call: Call) -> Reply:
    store = call.store
    project_key, env_key = call.args["projectKey"], call.args["environmentKey"]
    with store.lock:
        get_env(store, project_key, env_key)
    body = call.json_body()
    if not isinstance(body, list):
        raise bad_request("environments are updated with a JSON Patch array only")
    ops = check_json_patch(body)
    for op in ops:
        targets = [op["path"]] if op["op"] != "test" else []
        if op["op"] == "move":
            targets.append(op["from"])
        for ptr in targets:
            if not _patchable(split_pointer(ptr)):
                allowed = [*("/" + f for f in ENV_PATCHABLE), *(f"/{APPROVALS}/{f}" for f in EDITABLE)]
                raise bad_request(f"{ptr or '/'} cannot be changed; allowed: " + ", ".join(allowed))
    with store.mutate():
        env = get_env(store, project_key, env_key)
        before = representations.environment(project_key, env)
        after = apply_json_patch(before, ops)
        changed = diff_paths(before, after)
        if not all(_patchable(split_pointer(p)) for p in changed):  # e.g. a copy op into an odd place
            raise bad_request(f"cannot change {', '.join(changed)}")
        fields = {p.split("/")[1] for p in changed} - {APPROVALS}
        settings = None
        if any(p.startswith(f"/{APPROVALS}/") for p in changed):
            gone = [
                f for f in EDITABLE if not isinstance(after.get(APPROVALS), dict) or f not in after[APPROVALS]
            ]
            if gone:
                raise bad_request(f"/{APPROVALS}/{gone[0]} cannot be removed; replace its value instead")
            settings = {**approval_rules.settings_of(env), **{f: after[APPROVALS][f] for f in EDITABLE}}
            problem = approval_rules.settings_problem(settings)
            if problem:
                raise bad_request(f"/{APPROVALS}: {problem}")
        for field in fields:
            typ = ENV_PATCHABLE[field]
            value: Any = after[field]
            if not _type_ok(value, typ):
                raise bad_request(f"/{field} has the wrong type")
            if field == "tags" and not all(isinstance(t, str) for t in value):
                raise bad_request("/tags must be an array of strings")
            if field == "name" and not value.strip():
                raise bad_request("/name must not be empty")
        for field in fields:
            env[field] = after[field]
        if settings is not None:
            env["approvalSettings"] = settings
        audit(call, f"environment:{project_key}/{env_key}", changed=bool(changed), changes=changed)
        return Reply(200, representations.environment(project_key, env))
