"""One HTTP exchange as handlers and middleware see it: the request, the handler's call and reply.

- :class:`SandboxRequest`: a werkzeug request plus what routing, auth and the fault injector found
  out about it (``route``, ``path_args``, ``role``, ``fault``...);
- :class:`Route`: a method, the spec's path template and the handler; ``api`` names the API it
  belongs to (``"ld"``, ``"admin"``, ``"segment-tracking"``, ``"segment-public"``), which picks
  the app's guard;
- :class:`Call`: what a handler gets (request, path arguments, the store), with the body parsing
  every handler shares (``json_body``); :class:`Reply`: what it returns;
- ``json_response`` / ``error_response``: the JSON responses the app and middleware send.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from .exceptions import HttpError, bad_request
from .store import Store


class SandboxRequest(Request):
    """A werkzeug request plus what routing and auth found out about it."""

    route: Route | None = None
    path_args: dict[str, str]
    role: str | None = None
    token: str | None = None  # the LD access token the guard accepted (each one acts as a member)
    route_error: HttpError | None = None
    fault: str | None = None  # set by the fault injector: "rate_limited", "error", "drop", "drop_after"
    segment_token: str | None = None  # the Segment Public API token the guard accepted


@dataclass
class Reply:
    """What a handler returns: status, a JSON-able body (``None`` = empty) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[["Call"], Reply]
Next = Callable[[SandboxRequest], Response]
Middleware = Callable[[SandboxRequest, Next], Response]
Observer = Callable[[SandboxRequest, Response], None]


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # the spec's path template, e.g. "/api/v2/flags/{projectKey}"
    handler: Handler
    api: str = "ld"

    @property
    def name(self) -> str:
        label = f"{self.method} {self.template}"
        return f"ADMIN {label}" if self.api == "admin" else label


@dataclass
class Call:
    """Everything a handler needs: the request, path arguments and the store."""

    request: SandboxRequest
    args: dict[str, str]
    store: Store

    @property
    def query(self) -> Any:
        return self.request.args

    def json_body(self, *, semantic_ok: bool = False) -> Any:
        """The parsed body; 400 unless Content-Type is application/json and the JSON is valid."""
        req = self.request
        if req.mimetype != "application/json":
            raise bad_request(f"Content-Type must be application/json, got {req.content_type or 'none'!r}")
        if self.is_semantic_patch() and not semantic_ok:
            raise bad_request(
                "semantic patch (domain-model=launchdarkly.semanticpatch) is not supported here"
            )
        data = req.get_data(cache=True)
        if not data.strip():
            raise bad_request("request body is required")
        try:
            return json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise bad_request(f"request body is not valid JSON: {e}") from None

    def is_semantic_patch(self) -> bool:
        return self.request.mimetype_params.get("domain-model") == "launchdarkly.semanticpatch"


class RawJSON(str):
    """A body that is already JSON text (sent as is, not encoded again)."""


def json_response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Response:
    if body is None:
        resp = Response(status=status)
        resp.headers.remove("Content-Type")
    else:
        text = body if isinstance(body, RawJSON) else json.dumps(body, separators=(",", ":"))
        resp = Response(text, status=status, mimetype="application/json")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def error_response(err: HttpError) -> Response:
    return json_response(err.status, err.body(), err.headers)
