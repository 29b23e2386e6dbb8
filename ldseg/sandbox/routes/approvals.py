"""Flag approval requests (LD's "Approvals" operations), so a client can change gated flags.

Flag-scoped, under ``/api/v2/projects/{projectKey}/flags/{featureFlagKey}/environments/{environmentKey}
/approval-requests``: list (getApprovalsForFlag), create (postApprovalRequestForFlag, 201), get
(getApprovalForFlag), ``{id}/reviews`` (postApprovalRequestReviewForFlag) and ``{id}/apply``
(postApprovalRequestApplyForFlag). Account-wide, under ``/api/v2/approval-requests``: list
(getApprovalRequests, with ``filter``, ``expand``, ``limit``/``offset``), get (getApprovalRequest) and
the same ``reviews``/``apply``. A request records its requestor (each token acts as one member),
instructions (the semantic-patch instructions the flag PATCH runs), notify lists, reviews,
``reviewStatus``, ``status`` and ``appliedDate``; every write goes to the audit log.

The rules of ``approval_rules`` decide reviews and applying, with the environment's settings as they
were when the request was made. From LD's spec and docs: a change "needs at least one approval before
you can apply it"; "changes that conflict will fail if approved and applied, and the flag will not be
updated" (``status: failed``); the list filter is ``field operator value`` joined by commas, fields
``notifyMemberIds``, ``requestorId``, ``resourceId`` (``proj/P:env/E:flag/F``), ``reviewStatus``,
``status``, ``projectKey``; the list's ``limit`` defaults to 20, at most 200.

The spec documents one operator per filter field (``anyOf [..]`` for ``notifyMemberIds``,
``reviewStatus`` and ``status``, ``equals`` for the others); any other is a 400. UNCONFIRMED, so the
most defensive reading: lists are newest first; an apply conflicts when a field the request sets was
changed to another value since the request was made (answered 200 with ``status: failed``);
reviewing or applying a request that is no longer pending, or applying one not approved enough, is a
400; a requester approving or declining their own request without ``canReviewOwnRequest`` is a 403
(LD's docs: the setting says "whether requestors can approve their own requests", though the spec's
field text speaks of applying one's own change; the spec lists 400, 401, 404, 405, 409 and 429 for a
review, no 403); more than 10 ``notifyMemberIds`` is a 400, and so is a ``limit`` over 200 (the spec
only says it is the maximum); ``autoApplyApprovedChanges`` (LD documents it for approval services
other than LaunchDarkly) applies a request the moment a review makes it appliable, whatever the
service, so a client must expect requests it never applied to be ``completed``.

A flag PATCH that would make a pending request fail (by the same rule as applying it) is refused
with a 400 unless it carries ``ignoreConflicts=true``, as LD's spec documents; the error's ``code``
is UNCONFIRMED. A change of a boolean such as ``trackEvents`` triggers it only against a request
that sets the value the field already had when the request was made.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import approval_rules, records, representations
from ..exceptions import HttpError, bad_request, not_found
from ..exchange import Call, Reply
from ..pagination import page_links, parse_limit_offset
from .common import audit, get_env, get_project, split_list
from .flags import apply_targets, bump_versions, instruction_targets, moved_targets

if TYPE_CHECKING:
    from ..app import SandboxApp
    from ..store import Store

ACCOUNT = "/api/v2/approval-requests"
ACCOUNT_ITEM = ACCOUNT + "/{id}"
FLAG = "/api/v2/projects/{projectKey}/flags/{featureFlagKey}/environments/{environmentKey}/approval-requests"
FLAG_ITEM = FLAG + "/{id}"

CREATE_FIELDS = {
    "comment",
    "description",
    "instructions",
    "notifyMemberIds",
    "notifyTeamKeys",
    "executionDate",
    "operatingOnId",
    "integrationConfig",
}
NOT_EMULATED = ("executionDate", "operatingOnId")  # scheduled changes
MAX_NOTIFY_MEMBERS = 10
#: the list filter's fields, each with the one operator LD's spec documents for it
FILTER_FIELDS = {
    "notifyMemberIds": "anyOf",
    "requestorId": "equals",
    "resourceId": "equals",
    "reviewStatus": "anyOf",
    "status": "anyOf",
    "projectKey": "equals",
}
EXPANDS = ("flag", "project", "environments")
MAX_LIMIT = 200


def register(app: SandboxApp) -> None:
    app.add_route("GET", ACCOUNT, list_account)
    app.add_route("GET", ACCOUNT_ITEM, get_account)
    app.add_route("POST", ACCOUNT_ITEM + "/reviews", review_account)
    app.add_route("POST", ACCOUNT_ITEM + "/apply", apply_account)
    app.add_route("GET", FLAG, list_flag)
    app.add_route("POST", FLAG, create)
    app.add_route("GET", FLAG_ITEM, get_flag)
    app.add_route("POST", FLAG_ITEM + "/reviews", review_flag)
    app.add_route("POST", FLAG_ITEM + "/apply", apply_flag)


# --- lookups and representations -------------------------------------------------------------------


def _flag_scope(call: Call) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(project, flag, environment key) of a flag-scoped path, or 404 (hold the lock)."""
    project = get_project(call.store, call.args["projectKey"])
    flag = project["flags"].get(call.args["featureFlagKey"])
    if flag is None:
        raise not_found(f"Unknown flag key {call.args['featureFlagKey']!r}")
    get_env(call.store, project["key"], call.args["environmentKey"])
    return project, flag, call.args["environmentKey"]


def _request(store: Store, request_id: str) -> dict[str, Any]:
    rec: dict[str, Any] | None = store.state["approval_requests"].get(request_id)
    if rec is None:
        raise not_found(f"Unknown approval request {request_id!r}")
    return rec


def _flag_request(call: Call) -> dict[str, Any]:
    """The request of a flag-scoped path: 404 unless it is that flag's, in that environment."""
    project, flag, env = _flag_scope(call)
    rec = _request(call.store, call.args["id"])
    if (rec["project"], rec["flag"], rec["environment"]) != (project["key"], flag["key"], env):
        raise not_found(f"Unknown approval request {call.args['id']!r} for this flag and environment")
    return rec


def _targets(rec: dict[str, Any]) -> list[tuple[str, bool]]:
    return instruction_targets(rec["instructions"])


def _conflicts(store: Store, rec: dict[str, Any]) -> list[dict[str, Any]]:
    """A failed request: what made it fail. A pending one: instructions that another pending request
    for the same flag and environment sets to another value."""
    if rec["status"] == "failed":
        found: list[dict[str, Any]] = rec.get("failedConflicts", [])
        return found
    if rec["status"] != "pending":
        return []
    out = []
    mine = list(zip(rec["instructions"], _targets(rec), strict=True))
    for other in store.state["approval_requests"].values():
        same = (other["project"], other["flag"], other["environment"]) == (
            rec["project"],
            rec["flag"],
            rec["environment"],
        )
        if other is rec or not same or other["status"] != "pending":
            continue
        theirs = dict(_targets(other))
        for ins, (field, value) in mine:
            if field in theirs and theirs[field] != value:
                out.append({"instruction": ins, "reason": f"conflicts with approval request {other['_id']}"})
    return out


def _rep(store: Store, rec: dict[str, Any], *, account: bool, expand: frozenset[str] = frozenset()) -> Any:
    out = representations.approval_request(rec, _conflicts(store, rec), account=account)
    project = store.state["projects"].get(rec["project"])
    if project is None:
        return out
    if "project" in expand:
        out["project"] = representations.project(project)
    if "environments" in expand and rec["environment"] in project["environments"]:
        out["environments"] = [
            representations.environment(rec["project"], project["environments"][rec["environment"]])
        ]
    if "flag" in expand and rec["flag"] in project["flags"]:
        out["flag"] = representations.expanded_flag(rec["project"], project["flags"][rec["flag"]])
    return out


def _newest_first(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(recs, key=lambda r: (r["creationDate"], r["seq"]), reverse=True)


def _expand(raw: str | None) -> frozenset[str]:
    fields = frozenset(split_list(raw))
    unknown = sorted(fields - set(EXPANDS))
    if unknown:
        raise bad_request(f"unknown expand field(s) {', '.join(unknown)}; fields: {', '.join(EXPANDS)}")
    return fields


# --- the account-wide list and its filter ----------------------------------------------------------


def _split_outside_brackets(raw: str) -> list[str]:
    parts, depth, quote, cur = [], 0, "", ""
    for ch in raw:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[]":
            depth += 1 if ch == "[" else -1
        elif ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def _unquote(raw: str) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]
    return raw


_CLAUSE = re.compile(r"^(\w+)\s+(\w+)\s+(.+)$", re.DOTALL)


def parse_filter(raw: str | None) -> list[tuple[str, set[str]]]:
    """``field operator value`` clauses joined by commas (AND): ``projectKey equals web,
    status anyOf ["pending"]``. 400 for an unknown field or operator, or a value outside the enum."""
    clauses = []
    for part in _split_outside_brackets(raw or ""):
        m = _CLAUSE.match(part)
        if m is None:
            raise bad_request(f"invalid filter {part!r}: expected `field operator value`")
        field, op, value = m.groups()
        if field not in FILTER_FIELDS:
            raise bad_request(
                "Unsupported filter field. Filter field must be one of: " + ", ".join(FILTER_FIELDS)
            )
        if op != FILTER_FIELDS[field]:
            raise bad_request(f"unsupported filter operator {op!r} for {field}; use {FILTER_FIELDS[field]}")
        value = value.strip()
        is_list = value.startswith("[") and value.endswith("]")
        if (op == "anyOf") != is_list:
            raise bad_request(f"filter {field}: anyOf takes a list [..], equals a single value")
        values = {_unquote(v) for v in _split_outside_brackets(value[1:-1])} if is_list else {_unquote(value)}
        allowed = {"reviewStatus": approval_rules.REVIEW_STATUSES, "status": approval_rules.STATUSES}.get(
            field
        )
        if allowed is not None and values - set(allowed):
            raise bad_request(f"filter {field}: values must be among {', '.join(allowed)}")
        clauses.append((field, values))
    return clauses


def _matches(rec: dict[str, Any], clauses: list[tuple[str, set[str]]]) -> bool:
    fields = {
        "requestorId": {rec["requestorId"]},
        "resourceId": {representations.resource_id(rec)},
        "reviewStatus": {rec["reviewStatus"]},
        "status": {rec["status"]},
        "projectKey": {rec["project"]},
        "notifyMemberIds": set(rec["notifyMemberIds"]),
    }
    return all(fields[field] & values for field, values in clauses)


def list_account(call: Call) -> Reply:
    store, q = call.store, call.query
    with store.lock:
        limit, offset = parse_limit_offset(q, default=20, max_limit=MAX_LIMIT)
        clauses = parse_filter(q.get("filter"))
        expand = _expand(q.get("expand"))
        recs = _newest_first([r for r in store.state["approval_requests"].values() if _matches(r, clauses)])
        items = [_rep(store, r, account=True, expand=expand) for r in recs[offset : offset + limit]]
    links = page_links(ACCOUNT, q.items(multi=True), limit, offset, len(recs))
    return Reply(200, {"items": items, "totalCount": len(recs), "_links": links})


def get_account(call: Call) -> Reply:
    store = call.store
    with store.lock:
        expand = _expand(call.query.get("expand"))
        return Reply(200, _rep(store, _request(store, call.args["id"]), account=True, expand=expand))


# --- the flag-scoped list, get and create ----------------------------------------------------------


def list_flag(call: Call) -> Reply:
    store = call.store
    with store.lock:
        project, flag, env = _flag_scope(call)
        key = (project["key"], flag["key"], env)
        recs = [
            r
            for r in store.state["approval_requests"].values()
            if (r["project"], r["flag"], r["environment"]) == key
        ]
        items = [_rep(store, r, account=False) for r in _newest_first(recs)]
    href = FLAG.format(projectKey=key[0], featureFlagKey=key[1], environmentKey=env)
    return Reply(200, {"items": items, "_links": {"self": representations.link(href)}})


def get_flag(call: Call) -> Reply:
    with call.store.lock:
        return Reply(200, _rep(call.store, _flag_request(call), account=False))


def _strings(body: dict[str, Any], field: str) -> list[str]:
    value = body.get(field, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"{field} must be an array of strings")
    return list(value)


def _parse_create(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("the body must be an object with description and instructions")
    extra = sorted(set(body) - CREATE_FIELDS)
    if extra:
        raise bad_request(f"unexpected field(s) {', '.join(extra)}")
    for field in NOT_EMULATED:
        if field in body:
            raise bad_request(f"{field} (scheduled changes) is not emulated by the sandbox")
    description = body.get("description")
    if not isinstance(description, str) or not description.strip():
        raise bad_request("description is required")
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise bad_request("comment must be a string")
    integration = body.get("integrationConfig")
    if integration is not None and not isinstance(integration, dict):
        raise bad_request("integrationConfig must be an object")
    instruction_targets(body.get("instructions"))  # 400 unless every instruction is runnable
    notify = _strings(body, "notifyMemberIds")
    if len(notify) > MAX_NOTIFY_MEMBERS:
        raise bad_request(f"at most {MAX_NOTIFY_MEMBERS} members can be notified, got {len(notify)}")
    return {
        "description": description,
        "comment": comment,
        "instructions": body["instructions"],
        "notifyMemberIds": notify,
        "notifyTeamKeys": _strings(body, "notifyTeamKeys"),
        "integrationConfig": integration,
    }


def create(call: Call) -> Reply:
    store = call.store
    with store.lock:
        _flag_scope(call)
    fields = _parse_create(call.json_body())
    with store.mutate() as state:
        project, flag, env = _flag_scope(call)
        request_id = store.next_id("approval-request", project["key"], flag["key"], env)
        cfg = flag["environments"][env]
        rec: dict[str, Any] = {
            "_id": request_id,
            "seq": len(state["approval_requests"]) + 1,
            "_version": 1,
            "creationDate": records.now_ms(),
            "project": project["key"],
            "flag": flag["key"],
            "environment": env,
            "requestorId": records.member_id(call.request.token or ""),
            **fields,
            "allReviews": [],
            "reviewStatus": "pending",
            "status": "pending",
            "approvalSettings": representations.approval_settings(project["environments"][env]),
            # what the fields the instructions set were when asked: an apply conflicts if they moved
            "baseline": {field: cfg[field] for field, _ in instruction_targets(fields["instructions"])},
            "appliedDate": None,
            "appliedByMemberId": None,
        }
        state["approval_requests"][request_id] = rec
        _audit(call, rec, "createApprovalRequest", comment=fields["comment"])
        return Reply(201, _rep(store, rec, account=False))


def _audit(call: Call, rec: dict[str, Any], action: str, *, comment: str | None = None, **extra: Any) -> None:
    audit(
        call,
        f"approval-request:{rec['project']}/{rec['environment']}/{rec['flag']}/{rec['_id']}",
        changed=True,
        comment=comment,
        action=action,
        **extra,
    )


# --- reviews and applying --------------------------------------------------------------------------


def _still_pending(rec: dict[str, Any], what: str) -> None:
    if rec["status"] != "pending":
        done = "has already been applied" if rec["status"] == "completed" else f"is {rec['status']}"
        raise bad_request(f"approval request {rec['_id']} {done}; it can no longer be {what}")


def _parse_comment_body(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    extra = sorted(set(body) - allowed)
    if extra:
        raise bad_request(f"unexpected field(s) {', '.join(extra)}")
    if body.get("comment") is not None and not isinstance(body["comment"], str):
        raise bad_request("comment must be a string")
    return body


Finder = Callable[[Call], dict[str, Any]]


def _review(call: Call, find: Finder, *, account: bool) -> Reply:
    store = call.store
    with store.lock:
        find(call)
    body = _parse_comment_body(call.json_body(), {"kind", "comment"})
    kind = body.get("kind")
    if kind not in approval_rules.REVIEW_KINDS:
        raise bad_request(f"kind must be one of {', '.join(approval_rules.REVIEW_KINDS)}")
    member = records.member_id(call.request.token or "")
    with store.mutate():
        rec = find(call)
        _still_pending(rec, "reviewed")
        settings = rec["approvalSettings"]
        if kind != "comment" and member == rec["requestorId"] and not settings["canReviewOwnRequest"]:
            raise HttpError(403, "You cannot approve or decline your own approval request", "forbidden")
        review = {"_id": store.next_id("review", rec["_id"]), "kind": kind, "creationDate": records.now_ms()}
        if body.get("comment") is not None:
            review["comment"] = body["comment"]
        review["memberId"] = member
        reviews = [*rec["allReviews"], review]
        auto_apply = (
            settings["autoApplyApprovedChanges"] and approval_rules.apply_refusal(reviews, settings) is None
        )
        if auto_apply:
            _target(store, rec)  # a 404 here, before anything is recorded
        rec["allReviews"] = reviews
        rec["reviewStatus"] = approval_rules.review_status(reviews, settings)
        rec["_version"] += 1
        _audit(call, rec, "reviewApprovalRequest", comment=body.get("comment"), kind=kind)
        if auto_apply:
            _execute(call, rec, applied_by=None)
        return Reply(200, _rep(store, rec, account=account))


def _apply(call: Call, find: Finder, *, account: bool) -> Reply:
    store = call.store
    with store.lock:
        find(call)
    body = _parse_comment_body(call.json_body(), {"comment"})
    with store.mutate():
        rec = find(call)
        _still_pending(rec, "applied")
        refusal = approval_rules.apply_refusal(rec["allReviews"], rec["approvalSettings"])
        if refusal is not None:
            raise bad_request(refusal)
        _execute(
            call, rec, applied_by=records.member_id(call.request.token or ""), comment=body.get("comment")
        )
        return Reply(200, _rep(store, rec, account=account))


def _target(store: Store, rec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The project and flag ``rec`` changes; 404 when the flag or its environment is gone."""
    project = get_project(store, rec["project"])
    flag = project["flags"].get(rec["flag"])
    if flag is None or rec["environment"] not in project["environments"]:
        raise not_found(f"the flag or environment of approval request {rec['_id']} no longer exists")
    return project, flag


def _execute(call: Call, rec: dict[str, Any], *, applied_by: str | None, comment: str | None = None) -> None:
    """Run the request's instructions on the flag (hold the lock): ``completed``, or ``failed`` with
    the flag unchanged when a field it sets moved to another value since the request was made."""
    store = call.store
    project, flag = _target(store, rec)
    targets = _targets(rec)
    moved = moved_targets(rec, flag["environments"][rec["environment"]])
    if moved:
        rec["status"] = "failed"
        rec["failedConflicts"] = moved
    else:
        new, changed = apply_targets(flag, project["environments"], rec["environment"], targets)
        bump_versions(new, changed)
        project["flags"][flag["key"]] = new
        store.flags_touched(project["key"], flag["key"])
        audit(
            call,
            f"flag:{project['key']}/{flag['key']}",
            changed=bool(changed),
            comment=rec["comment"],
            form="approval-request",
            changes=changed,
            approval_request=rec["_id"],
        )
        rec["status"] = "completed"
        rec["appliedDate"] = records.now_ms()
        rec["appliedByMemberId"] = applied_by
    rec["_version"] += 1
    _audit(call, rec, "applyApprovalRequest", comment=comment, status=rec["status"])


def _account_request(call: Call) -> dict[str, Any]:
    return _request(call.store, call.args["id"])


def review_account(call: Call) -> Reply:
    return _review(call, _account_request, account=True)


def apply_account(call: Call) -> Reply:
    return _apply(call, _account_request, account=True)


def review_flag(call: Call) -> Reply:
    return _review(call, _flag_request, account=False)


def apply_flag(call: Call) -> Reply:
    return _apply(call, _flag_request, account=False)
