"""The sandbox's own admin API under ``/_sandbox/`` (no auth; not part of LaunchDarkly).

Lets a test or a person in another process inspect and reset a running sandbox.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..app import Call, Reply
from ..errors import bad_request
from ..seed import SeedError

if TYPE_CHECKING:
    from ..app import SandboxApp


def register(app: SandboxApp) -> None:
    app.add_route("GET", "/_sandbox/requests", get_requests, api="admin")
    app.add_route("DELETE", "/_sandbox/requests", clear_requests, api="admin")
    app.add_route("GET", "/_sandbox/state", get_state, api="admin")
    app.add_route("GET", "/_sandbox/violations", get_violations, api="admin")
    app.add_route("POST", "/_sandbox/reset", reset, api="admin")


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
