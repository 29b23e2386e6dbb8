"""Feature flags: ``GET /api/v2/flags/{projectKey}``, ``GET``/``PATCH .../{featureFlagKey}``.

Emulates API version 20240415: a paginated list (default limit 20, above ``max_flag_limit`` -> 400),
``environments`` only when ``env`` is given (at most ``max_flag_envs`` values), archived flags left
out unless asked for, and PATCH in all four of LD's forms. The default list order is by flag key
(ascending); ``sort`` accepts ``key``, ``name``, ``creationDate`` (``-`` = descending).
"""

from __future__ import annotations

import copy
import json
import re
from typing import TYPE_CHECKING, Any

from .. import approval_rules, records, representations
from ..exceptions import HttpError, bad_request, not_found
from ..exchange import Call, RawJSON, Reply
from ..pagination import page_links, parse_limit_offset
from ..patching import apply_json_patch, check_json_patch, diff_paths, merge_patch, split_pointer
from .common import audit, get_project, parse_bool, split_list

if TYPE_CHECKING:
    from ..app import SandboxApp
    from ..store import Store

LIST = "/api/v2/flags/{projectKey}"
ITEM = LIST + "/{featureFlagKey}"

ENV_FIELDS = ("trackEvents", "trackEventsFallthrough", "on")
FLAG_FIELDS = {"name": str, "description": str, "temporary": bool}
SORT_FIELDS = {"key", "name", "creationDate"}
KNOWN_SORTS = {"creationDate", "key", "maintainerId", "name", "tags", "targetingModifiedDate", "type"}
EXPANDS = {"codeReferences", "evaluation", "migrationSettings"}
FILTERS_EMULATED = {
    "query",
    "tags",
    "state",
    "archived",
    "type",
    "filterEnv",
    "creationDate",
    "hasExperiment",
}
FILTERS_DOCUMENTED = FILTERS_EMULATED | {
    "applicationEvaluated",
    "contextKindsEvaluated",
    "codeReferences.max",
    "codeReferences.min",
    "evaluated",
    "guardedRollout",
    "maintainerId",
    "maintainerTeamKey",
    "releasePipeline",
    "sdkAvailability",
}
SEMANTIC_KINDS = {"updateTrackEvents", "updateTrackEventsFallthrough", "turnFlagOn", "turnFlagOff"}


def register(app: SandboxApp) -> None:
    app.add_route("GET", LIST, list_flags)
    app.add_route("GET", ITEM, get_flag)
    app.add_route("PATCH", ITEM, patch_flag)


# --- listing ---------------------------------------------------------------------------------------


def _split_filter(raw: str) -> list[str]:
    """Split ``a:1,b:{"x":1,"y":2}`` on commas outside braces."""
    parts, depth, cur = [], 0, ""
    for ch in raw:
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def parse_filter(raw: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in _split_filter(raw or ""):
        field, sep, value = part.partition(":")
        if not sep:
            raise bad_request(f"invalid filter {part!r}: expected field:value")
        if field not in FILTERS_DOCUMENTED:
            raise bad_request(f"unknown filter field {field!r}")
        if field not in FILTERS_EMULATED:
            raise bad_request(f"filter field {field!r} is not emulated by the sandbox")
        out[field] = value
    for field in ("archived", "hasExperiment"):
        if field in out and out[field] not in ("true", "false"):
            raise bad_request(f"filter {field} must be true or false")
    if out.get("state", "live") not in ("live", "deprecated", "archived"):
        raise bad_request("filter state must be live, deprecated or archived")
    if out.get("type", "temporary") not in ("temporary", "permanent"):
        raise bad_request("filter type must be temporary or permanent")
    if "creationDate" in out:
        try:
            cd = json.loads(out["creationDate"])
            if not isinstance(cd, dict) or not isinstance(cd.get("before"), int):
                raise ValueError
        except ValueError:
            raise bad_request('filter creationDate must be {"before": <unix ms>}') from None
    return out


def parse_sort(raw: str | None) -> tuple[tuple[str, bool], ...]:
    out = []
    for part in split_list(raw):
        desc = part.startswith("-")
        field = part.lstrip("-")
        if field not in KNOWN_SORTS:
            raise bad_request(f"unknown sort field {field!r}")
        if field not in SORT_FIELDS:
            raise bad_request(f"sort field {field!r} is not emulated by the sandbox")
        out.append((field, desc))
    return tuple(out)


def _matcher(filters: dict[str, str], tag: str | None, archived_param: bool | None) -> Any:
    state = filters.get("state")
    if state == "archived" or filters.get("archived") == "true" or (archived_param and state is None):
        want_archived: bool | None = True
    elif state in ("live", "deprecated") or filters.get("archived") == "false" or archived_param is False:
        want_archived = False
    else:
        want_archived = False  # archived flags are excluded unless asked for
    tags_all = [t for t in filters.get("tags", "").split("+") if t] if "tags" in filters else []
    query = filters.get("query", "").lower()
    type_ = filters.get("type")
    before = json.loads(filters["creationDate"])["before"] if "creationDate" in filters else None
    has_exp = filters.get("hasExperiment")

    def match(f: dict[str, Any]) -> bool:
        if want_archived is not None and f["archived"] != want_archived:
            return False
        if state == "live" and f["deprecated"]:
            return False
        if state == "deprecated" and not f["deprecated"]:
            return False
        if tag is not None and tag not in f["tags"]:
            return False
        if tags_all and not all(t in f["tags"] for t in tags_all):
            return False
        if query and query not in f["key"].lower() and query not in f["name"].lower():
            return False
        if type_ is not None and f["temporary"] != (type_ == "temporary"):
            return False
        if before is not None and f["creationDate"] >= before:
            return False
        return has_exp != "true"  # the sandbox has no experiments

    return match


def _sort_key(flags: dict[str, Any], field: str) -> Any:
    return lambda k: flags[k][field]


def _matching_keys(
    store: Store,
    project: str,
    flags: dict[str, Any],
    filters: dict[str, str],
    tag: str | None,
    archived_param: bool | None,
    sort: tuple[tuple[str, bool], ...],
) -> list[str]:
    """Filtered, sorted keys; cached per project generation so paging 10k flags stays cheap."""
    cache_key = (
        project,
        store.flag_generation(project),
        tuple(sorted(filters.items())),
        tag,
        archived_param,
        sort,
    )
    hit = store.query_cache.get(cache_key)
    if hit is not None:
        return hit
    match = _matcher(filters, tag, archived_param)
    keys = [k for k in store.flag_keys(project) if match(flags[k])]
    for field, desc in reversed(sort):  # stable sorts, last field first
        if field != "key" or desc:
            keys.sort(key=_sort_key(flags, field), reverse=desc)
    store.query_cache[cache_key] = keys
    return keys


def _requested_envs(call: Call, envs: dict[str, Any], limit: int | None) -> list[str]:
    requested = call.query.getlist("env")
    if limit is not None and len(requested) > limit:
        raise bad_request(f"at most {limit} env values are allowed, got {len(requested)}")
    for e in requested:
        if e not in envs:
            raise bad_request(f"unknown environment {e!r} in env parameter")
    return list(dict.fromkeys(requested))


def list_flags(call: Call) -> Reply:
    store, q, project_key = call.store, call.query, call.args["projectKey"]
    with store.lock:
        settings = store.state["settings"]
        project = get_project(store, project_key)
        envs = project["environments"]
        env_keys = _requested_envs(call, envs, settings["max_flag_envs"])
        limit, offset = parse_limit_offset(q, default=20, max_limit=settings["max_flag_limit"])
        summary = parse_bool(q.get("summary"), "summary", True)
        archived_param = parse_bool(q.get("archived"), "archived", None)
        if q.get("compare") is not None:
            raise bad_request("compare is unavailable in API version 20240415")
        filters = parse_filter(q.get("filter"))
        if "filterEnv" in filters and filters["filterEnv"] not in envs:
            raise bad_request(f"unknown environment {filters['filterEnv']!r} in filterEnv")
        sort = parse_sort(q.get("sort"))
        bad_expand = set(split_list(q.get("expand"))) - EXPANDS
        if bad_expand:
            raise bad_request(f"unknown expand field(s) {', '.join(sorted(bad_expand))}")
        flags = project["flags"]
        keys = _matching_keys(store, project_key, flags, filters, q.get("tag"), archived_param, sort)
        total = len(keys)
        shape = (
            tuple(env_keys or ()),
            bool(env_keys),
            bool(summary),
            tuple(envs[e]["name"] for e in env_keys or ()),
        )
        cache = store.flag_json.setdefault(project_key, {})
        items = []
        for k in keys[offset : offset + limit]:
            rendered = cache.setdefault(k, {})
            if shape not in rendered:
                flag = representations.flag(
                    project_key, flags[k], envs, env_keys or None, summary=bool(summary)
                )
                rendered[shape] = json.dumps(flag, separators=(",", ":"))
            items.append(rendered[shape])
    links = page_links(f"/api/v2/flags/{project_key}", q.items(multi=True), limit, offset, total)
    body = f'{{"items":[{",".join(items)}],"_links":{json.dumps(links)},"totalCount":{total}}}'
    return Reply(200, RawJSON(body))


def _get_flag(store: Store, project_key: str, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    project = get_project(store, project_key)
    flag = project["flags"].get(key)
    if flag is None:
        raise not_found(f"Unknown flag key {key!r} in project {project_key!r}")
    return project, flag


def get_flag(call: Call) -> Reply:
    store, project_key = call.store, call.args["projectKey"]
    with store.lock:
        project, flag = _get_flag(store, project_key, call.args["featureFlagKey"])
        envs = project["environments"]
        env_keys = _requested_envs(call, envs, None) or list(envs)
        return Reply(200, representations.flag(project_key, flag, envs, env_keys, summary=False))


# --- patching --------------------------------------------------------------------------------------

_ENV_PATH = re.compile(r"^environments/([^/]+)/([^/]+)$")


def _check_path(parts: list[str], envs: dict[str, Any], ptr: str, *, op_path: bool) -> None:
    """Allow the fields LD lets a flag patch change here; anything else is a 400."""
    if parts and parts[0] == "environments" and len(parts) >= 2 and parts[1] not in envs:
        raise bad_request(f"unknown environment {parts[1]!r} in patch path {ptr}")
    if len(parts) == 1 and (parts[0] in FLAG_FIELDS or parts[0] == "tags"):
        return
    if op_path and len(parts) == 2 and parts[0] == "tags" and (parts[1] == "-" or parts[1].isdigit()):
        return
    if len(parts) == 3 and parts[0] == "environments" and parts[2] in ENV_FIELDS:
        return
    raise bad_request(
        f"{ptr or '/'} cannot be changed by the sandbox's flag PATCH; allowed: /name, "
        "/description, /tags, /temporary, "
        "/environments/{env}/trackEvents|trackEventsFallthrough|on"
    )


def _parse_body(call: Call, body: Any) -> tuple[str, str | None, Any]:
    """(form, comment, payload) for the non-semantic forms."""
    if isinstance(body, list):
        return "json-patch", None, body
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON Patch array or an object")
    if "instructions" in body:
        raise bad_request(
            "a semantic patch needs Content-Type: application/json; "
            "domain-model=launchdarkly.semanticpatch (read as a JSON patch, it is invalid)"
        )
    comment = body.get("comment")
    if "patch" in body or "merge" in body:
        key = "patch" if "patch" in body else "merge"
        extra = sorted(set(body) - {key, "comment"})
        if extra:
            raise bad_request(f"unexpected field(s) {', '.join(extra)} next to {key}")
        if comment is not None and not isinstance(comment, str):
            raise bad_request("comment must be a string")
        if key == "merge" and not isinstance(body["merge"], dict):
            raise bad_request("merge must be an object")
        form = "json-patch-with-comment" if key == "patch" else "merge-patch-with-comment"
        return form, comment, body[key]
    return "merge-patch", None, body


def _apply_representation(
    call: Call, project_key: str, flag: dict[str, Any], envs: dict[str, Any], form: str, payload: Any
) -> tuple[dict[str, Any], list[str]]:
    before = representations.flag(project_key, flag, envs, list(envs), summary=False)
    if form.startswith("json-patch"):
        ops = check_json_patch(payload)
        for op in ops:
            # (pointer, written?): test reads its path, copy reads its from, move empties its from.
            targets = [(op["path"], op["op"] != "test")]
            if op["op"] in ("move", "copy"):
                targets.append((op["from"], op["op"] == "move"))
            for ptr, written in targets:
                parts = split_pointer(ptr)
                if written:
                    _check_path(parts, envs, ptr, op_path=True)
                elif len(parts) >= 2 and parts[0] == "environments" and parts[1] not in envs:
                    raise bad_request(f"unknown environment {parts[1]!r} in patch path {ptr}")
        after = apply_json_patch(before, ops)
    else:
        after = merge_patch(before, payload)
    if not isinstance(after, dict):
        raise bad_request("the patch must leave a flag object")
    changed = diff_paths(before, after)
    for ptr in changed:
        _check_path(split_pointer(ptr), envs, ptr, op_path=False)
    new = copy.deepcopy(flag)
    for field, typ in FLAG_FIELDS.items():
        if not isinstance(after.get(field), typ):
            raise bad_request(f"/{field} must be a {typ.__name__}")
        new[field] = after[field]
    if not new["name"].strip():
        raise bad_request("/name must not be empty")
    tags = after.get("tags")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise bad_request("/tags must be an array of strings")
    new["tags"] = list(tags)
    for env in envs:
        cfg = after["environments"][env]
        for field in ENV_FIELDS:
            if not isinstance(cfg.get(field), bool):
                raise bad_request(f"/environments/{env}/{field} must be a boolean")
            new["environments"][env][field] = cfg[field]
    return new, changed


def instruction_target(i: int, ins: Any) -> tuple[str, bool]:
    """(environment field, value) that instruction ``i`` sets; 400 unless it is one the sandbox runs.

    LD's instructions (patchFeatureFlag's description): ``turnFlagOn``/``turnFlagOff``, and
    ``updateTrackEvents``/``updateTrackEventsFallthrough`` with a boolean ``trackEvents``.
    """
    if not isinstance(ins, dict) or not isinstance(ins.get("kind"), str):
        raise bad_request(f"instruction {i} must be an object with a kind")
    kind = ins["kind"]
    if kind not in SEMANTIC_KINDS:
        raise bad_request(f"instruction {i}: kind {kind!r} is unknown or not emulated by the sandbox")
    if kind in ("turnFlagOn", "turnFlagOff"):
        return "on", kind == "turnFlagOn"
    if not isinstance(ins.get("trackEvents"), bool):
        raise bad_request(f"instruction {i} ({kind}): trackEvents must be a boolean")
    return ("trackEvents" if kind == "updateTrackEvents" else "trackEventsFallthrough"), ins["trackEvents"]


def instruction_targets(instructions: Any) -> list[tuple[str, bool]]:
    """``instruction_target`` of each instruction of a non-empty list."""
    if not isinstance(instructions, list) or not instructions:
        raise bad_request("instructions must be a non-empty array")
    return [instruction_target(i, ins) for i, ins in enumerate(instructions)]


def moved_targets(rec: dict[str, Any], cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """The instructions of approval request ``rec`` that would fail against ``cfg`` (its environment's
    flag configuration): a field it sets changed, since the request was made, to a value that is
    neither the one it had then nor the one the request sets."""
    return [
        {
            "instruction": ins,
            "reason": f"{field} changed from {json.dumps(rec['baseline'][field])} to "
            f"{json.dumps(cfg[field])} since the approval request was made",
        }
        for ins, (field, value) in zip(
            rec["instructions"], instruction_targets(rec["instructions"]), strict=True
        )
        if cfg[field] != rec["baseline"][field] and cfg[field] != value
    ]


def pending_conflicts(store: Store, project_key: str, new: dict[str, Any], env_keys: list[str]) -> list[str]:
    """Ids of the pending approval requests of flag ``new`` in ``env_keys`` that this version of the
    flag would make fail."""
    return [
        rec["_id"]
        for rec in store.state["approval_requests"].values()
        if rec["status"] == "pending"
        and rec["project"] == project_key
        and rec["flag"] == new["key"]
        and rec["environment"] in env_keys
        and moved_targets(rec, new["environments"][rec["environment"]])
    ]


def apply_targets(
    flag: dict[str, Any], envs: dict[str, Any], env: str, targets: list[tuple[str, bool]]
) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``flag`` with ``targets`` set in ``env``, and the pointers that changed."""
    new = copy.deepcopy(flag)
    for field, value in targets:
        new["environments"][env][field] = value
    changed = [
        f"/environments/{e}/{f}"
        for e in envs
        for f in ENV_FIELDS
        if new["environments"][e][f] != flag["environments"][e][f]
    ]
    return new, changed


def _apply_semantic(
    flag: dict[str, Any], envs: dict[str, Any], body: Any
) -> tuple[dict[str, Any], list[str], str | None]:
    if not isinstance(body, dict):
        raise bad_request("a semantic patch must be an object with instructions")
    extra = sorted(set(body) - {"comment", "environmentKey", "instructions"})
    if extra:
        raise bad_request(f"unexpected field(s) {', '.join(extra)} in semantic patch")
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise bad_request("comment must be a string")
    targets = instruction_targets(body.get("instructions"))
    env = body.get("environmentKey")
    if env is None:
        raise bad_request(f"instruction 0 ({body['instructions'][0]['kind']}) requires environmentKey")
    if not isinstance(env, str) or env not in envs:
        raise bad_request(f"unknown environmentKey {env!r}")
    new, changed = apply_targets(flag, envs, env, targets)
    return new, changed, comment


def changed_env_keys(changed: list[str]) -> list[str]:
    return sorted({p.split("/")[2] for p in changed if p.startswith("/environments/")})


def bump_versions(new: dict[str, Any], changed: list[str]) -> None:
    """A change bumps the flag's ``_version`` and each changed environment's ``version``, as in LD."""
    if not changed:
        return
    now = records.now_ms()
    new["_version"] += 1
    for e in changed_env_keys(changed):
        new["environments"][e]["version"] += 1
        new["environments"][e]["lastModified"] = now


def gated_envs(
    call: Call, flag: dict[str, Any], new: dict[str, Any], envs: dict[str, Any], changed_envs: list[str]
) -> list[str]:
    """The changed environments whose approval settings gate this flag (none for a bypass token).

    The flag's tags before and after the patch both count (UNCONFIRMED which LD reads).
    """
    if call.request.role == "bypass":
        return []
    tags = list(flag["tags"]) + list(new["tags"])
    return [e for e in changed_envs if approval_rules.gates(approval_rules.settings_of(envs[e]), tags)]


def patch_flag(call: Call) -> Reply:
    store, q = call.store, call.query
    project_key, key = call.args["projectKey"], call.args["featureFlagKey"]
    dry_run = bool(parse_bool(q.get("dryRun"), "dryRun", False))
    ignore_conflicts = bool(parse_bool(q.get("ignoreConflicts"), "ignoreConflicts", False))
    with store.lock:
        _get_flag(store, project_key, key)
    semantic = call.is_semantic_patch()
    body = call.json_body(semantic_ok=True)
    with store.lock:
        project, flag = _get_flag(store, project_key, key)
        envs = project["environments"]
        if semantic:
            form = "semantic-patch"
            new, changed, comment = _apply_semantic(flag, envs, body)
        else:
            form, comment, payload = _parse_body(call, body)
            new, changed = _apply_representation(call, project_key, flag, envs, form, payload)
        if gated_envs(call, flag, new, envs, changed_env_keys(changed)):
            raise HttpError(405, "Approval is required to make this request", "method_not_allowed")
        blocked = (
            [] if ignore_conflicts else pending_conflicts(store, project_key, new, changed_env_keys(changed))
        )
        if blocked:
            raise bad_request(
                f"this change would make pending approval request {', '.join(sorted(blocked))} fail; "
                "send ignoreConflicts=true to make it anyway"
            )
        bump_versions(new, changed)
        if not dry_run:
            project["flags"][key] = new
            store.flags_touched(project_key, key)
            audit(
                call,
                f"flag:{project_key}/{key}",
                changed=bool(changed),
                comment=comment,
                form=form,
                changes=changed,
            )
        result = representations.flag(project_key, new, envs, list(envs), summary=False)
    if not dry_run:
        store.changed()
    return Reply(200, result)
