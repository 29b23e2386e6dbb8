"""The sandbox's own admin API under ``/_sandbox/`` (no auth; not part of LaunchDarkly).

Lets a test or a person in another process inspect and reset a running sandbox, and arm or disarm
its fault injector: ``PUT /_sandbox/faults`` takes a spec string (``text/plain``, or a JSON string),
a JSON mapping or a list of mappings (see ``faultspec``); ``GET`` shows the rules, their seeds and
the stats; ``DELETE`` turns faults off. ``GET /_sandbox/segment/messages[?writeKey=...]`` lists the
messages Segment's tracking API received (``DELETE`` forgets them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..app import Call, Reply
from ..exceptions import bad_request
from ..seed import SeedError

if TYPE_CHECKING:
    from ..app import SandboxApp


def register(app: SandboxApp) -> None:
    app.add_route("GET", "/_sandbox/requests", get_requests, api="admin")
    app.add_route("DELETE", "/_sandbox/requests", clear_requests, api="admin")
    app.add_route("GET", "/_sandbox/state", get_state, api="admin")
    app.add_route("GET", "/_sandbox/violations", get_violations, api="admin")
    app.add_route("POST", "/_sandbox/reset", reset, api="admin")
    app.add_route("GET", "/_sandbox/faults", get_faults, api="admin")
    app.add_route("PUT", "/_sandbox/faults", put_faults, api="admin")
    app.add_route("DELETE", "/_sandbox/faults", delete_faults, api="admin")
    app.add_route("GET", "/_sandbox/segment/messages", get_segment_messages, api="admin")
    app.add_route("DELETE", "/_sandbox/segment/messages", clear_segment_messages, api="admin")


def get_requests(call: Call) -> Reply:
    return Reply(200, {"items": call.app.request_log.entries()})


def clear_requests(call: Call) -> Reply:
    call.app.request_log.clear()
    return Reply(204)


def get_state(call: Call) -> Reply:
    return Reply(200, call.store.snapshot())


def get_violations(call: Call) -> Reply:
    return Reply(200, {"items": call.store.violations})


def reset(call: Call) -> Reply:
    """Replace the account with the seed in the body (empty body = empty account)."""
    seed = call.json_body() if call.request.get_data(cache=True).strip() else None
    if seed is not None and not isinstance(seed, dict):
        raise bad_request("the body must be a seed document (a JSON object)")
    try:
        call.store.reset(seed)
    except SeedError as e:
        raise bad_request(f"invalid seed: {e}") from None
    state = call.store.snapshot()
    return Reply(200, {"projects": len(state["projects"]), "destinations": len(state["destinations"])})


def get_faults(call: Call) -> Reply:
    return Reply(200, call.app.faults.describe())


def put_faults(call: Call) -> Reply:
    req = call.request
    if req.mimetype == "application/json":
        spec = call.json_body()
    else:
        try:
            spec = req.get_data(cache=True).decode("utf-8")
        except UnicodeDecodeError:
            raise bad_request("the fault spec must be UTF-8 text") from None
    if spec is not None and not isinstance(spec, (str, dict, list)):
        raise bad_request("the body must be a fault spec: a string, a mapping or a list of mappings")
    try:
        call.app.faults.configure(spec)
    except ValueError as e:
        raise bad_request(str(e)) from None
    return Reply(200, call.app.faults.describe())


def delete_faults(call: Call) -> Reply:
    call.app.faults.clear()
    return Reply(204)


def get_segment_messages(call: Call) -> Reply:
    return Reply(200, {"items": call.store.segment_messages(call.query.get("writeKey"))})


def clear_segment_messages(call: Call) -> Reply:
    call.store.clear_segment_messages()
    return Reply(204)
