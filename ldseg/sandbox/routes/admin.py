"""The sandbox's own admin API under ``/_sandbox/`` (no auth; not part of LaunchDarkly): test machinery.

Lets a test, the benchmark's sandbox in its own process, or a person inspect and reset a running
sandbox, and arm or disarm its fault injector: ``GET``/``DELETE /_sandbox/requests`` (the request
log), ``GET /_sandbox/state`` (the whole state document), ``GET /_sandbox/violations``,
``POST /_sandbox/reset`` (a seed document in the body; empty = an empty account),
``PUT /_sandbox/faults`` takes a spec string (``text/plain``, or a JSON string), a JSON mapping or a
list of mappings (see ``faultspec``); ``GET`` shows the rules, their seeds and the stats; ``DELETE``
turns faults off. ``GET /_sandbox/segment/messages[?writeKey=...]`` lists the messages Segment's
tracking API received (``DELETE`` forgets them). Admin exchanges skip latency, middleware and
observers (the app's ``"admin"`` API).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..exceptions import SeedError, bad_request
from ..exchange import Call, Reply
from ..faults import FaultInjector
from ..reqlog import RequestLog
from ..seed import build_state

if TYPE_CHECKING:
    from ..app import SandboxApp

API = "admin"


def register(app: SandboxApp) -> None:
    admin = Admin(app.request_log, app.faults)
    app.add_route("GET", "/_sandbox/requests", admin.get_requests, api=API)
    app.add_route("DELETE", "/_sandbox/requests", admin.clear_requests, api=API)
    app.add_route("GET", "/_sandbox/state", get_state, api=API)
    app.add_route("GET", "/_sandbox/violations", get_violations, api=API)
    app.add_route("POST", "/_sandbox/reset", reset, api=API)
    app.add_route("GET", "/_sandbox/faults", admin.get_faults, api=API)
    app.add_route("PUT", "/_sandbox/faults", admin.put_faults, api=API)
    app.add_route("DELETE", "/_sandbox/faults", admin.delete_faults, api=API)
    app.add_route("GET", "/_sandbox/segment/messages", get_segment_messages, api=API)
    app.add_route("DELETE", "/_sandbox/segment/messages", clear_segment_messages, api=API)


class Admin:
    """The handlers that reach beyond the store: the app's request log and fault injector."""

    def __init__(self, request_log: RequestLog, faults: FaultInjector) -> None:
        self.request_log = request_log
        self.faults = faults

    def get_requests(self, call: Call) -> Reply:
        return Reply(200, {"items": self.request_log.entries()})

    def clear_requests(self, call: Call) -> Reply:
        self.request_log.clear()
        return Reply(204)

    def get_faults(self, call: Call) -> Reply:
        return Reply(200, self.faults.describe())

    def put_faults(self, call: Call) -> Reply:
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
            self.faults.configure(spec)
        except ValueError as e:
            raise bad_request(str(e)) from None
        return Reply(200, self.faults.describe())

    def delete_faults(self, call: Call) -> Reply:
        self.faults.clear()
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
        call.store.load(build_state(seed))
    except SeedError as e:
        raise bad_request(f"invalid seed: {e}") from None
    state = call.store.snapshot()
    return Reply(200, {"projects": len(state["projects"]), "destinations": len(state["destinations"])})


def get_segment_messages(call: Call) -> Reply:
    return Reply(200, {"items": call.store.segment_messages(call.query.get("writeKey"))})


def clear_segment_messages(call: Call) -> Reply:
    call.store.clear_segment_messages()
    return Reply(204)
