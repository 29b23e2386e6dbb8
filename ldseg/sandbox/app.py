"""The sandbox's WSGI application: routing, the LD request pipeline, logging and extension hooks.

Pipeline for every request: route match (werkzeug ``Map``; unknown path -> 404, wrong method -> 405)
-> for LD routes: fixed latency, then the ``middleware`` chain around the core -> core: the route's
API guard (LD: token auth, roles, ``LD-API-Version``) and the handler -> request log -> ``observers``.

Extension points, for later work (Segment's APIs, fault injection, contract checking):

- ``app.add_route(method, template, handler, api=...)``: templates use the spec's ``{param}``
  syntax; ``api`` picks the guard in ``app.guards`` (``"ld"``, ``"admin"`` = none, or a new one).
- ``app.middleware``: ``Callable[[SandboxRequest, Next], Response]`` wrapped around the core, first
  in the list = outermost. ``request.route`` (or ``None`` when no route matched) is already set, so
  a fault injector can target routes and answer e.g. a 429 without calling ``next``.
- ``app.observers``: ``Callable[[SandboxRequest, Response], None]`` called after every non-admin
  exchange (``response.get_json()`` gives the body), e.g. to check responses against the spec.
- ``app.faults``: the fault injector (``faults.FaultInjector``), ``middleware[0]`` from the start.

APIs: ``"ld"`` (LD's REST API), ``"admin"`` (``/_sandbox/``), ``"segment-tracking"`` and
``"segment-public"`` (Segment's tracking and Public APIs, see ``segment/``).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wrappers import Request, Response

from .exceptions import HttpError, bad_request, error_body
from .reqlog import RequestLog
from .store import Store

if TYPE_CHECKING:
    from .faults import FaultInjector

log = logging.getLogger("ldseg.sandbox")

SUPPORTED_API_VERSIONS = ("20240415", "beta")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
DROP_FAULTS = ("drop", "drop_after")  # faults that close the connection instead of answering


class SandboxRequest(Request):
    """A werkzeug request plus what routing and auth found out about it."""

    route: Route | None = None
    path_args: dict[str, str]
    role: str | None = None
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
Guard = Callable[["SandboxApp", SandboxRequest], None]


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
    """Everything a handler needs: the request, path arguments, the app (and so the store)."""

    request: SandboxRequest
    args: dict[str, str]
    app: SandboxApp

    @property
    def store(self) -> Store:
        return self.app.store

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


def _rule_path(template: str) -> str:
    return re.sub(r"\{(\w+)\}", r"<\1>", template)


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


def ld_guard(app: SandboxApp, request: SandboxRequest) -> None:
    """LD's auth: the raw token in ``Authorization`` (no ``Bearer``), roles, and ``LD-API-Version``."""
    token = request.headers.get("Authorization")
    role = app.role_for(token) if token else None
    if role is None:
        raise HttpError(401, "Invalid access token")
    request.role = role
    if role == "none" or (role == "reader" and request.method in WRITE_METHODS):
        raise HttpError(403, "Access to the requested resource was denied")
    version = request.headers.get("LD-API-Version")
    if version is not None and version not in SUPPORTED_API_VERSIONS:
        supported = ", ".join(SUPPORTED_API_VERSIONS)
        raise bad_request(f"Invalid LD-API-Version {version!r}; supported: {supported}")


class SandboxApp:
    """The WSGI app. ``store`` holds the account; ``token`` is the admin token that always works."""

    def __init__(
        self, store: Store, *, token: str, latency_ms: float = 0, log_limit: int | None = None
    ) -> None:
        self.store = store
        self.admin_token = token
        self.latency_ms = latency_ms
        self.request_log = RequestLog(log_limit) if log_limit else RequestLog()
        from .faults import FaultInjector  # late import: faults imports this module

        # the fault injector is always there (with no rules it passes everything through) and
        # outermost, like the edge of LD's network; ``faults.configure(spec)`` arms it
        self.faults: FaultInjector = FaultInjector()
        self.middleware: list[Middleware] = [self.faults]
        self.observers: list[Observer] = []
        self.guards: dict[str, Guard | None] = {"ld": ld_guard, "admin": None}
        self._map = Map(strict_slashes=True, merge_slashes=False, redirect_defaults=False)
        self._routes: dict[str, Route] = {}
        from .routes import register_all  # late import: the route modules import this one

        register_all(self)

    # --- routing -------------------------------------------------------------------------------

    def add_route(self, method: str, template: str, handler: Handler, *, api: str = "ld") -> Route:
        route = Route(method.upper(), template, handler, api)
        self._routes[route.name] = route
        self._map.add(Rule(_rule_path(template), endpoint=route.name, methods=[route.method]))
        return route

    @property
    def routes(self) -> list[Route]:
        return list(self._routes.values())

    def role_for(self, token: str) -> str | None:
        if token == self.admin_token:
            return "admin"
        with self.store.lock:
            role: str | None = self.store.state["tokens"].get(token)
        return role

    def _match(self, request: SandboxRequest) -> None:
        adapter = self._map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match(path_info=request.path, method=request.method)
        except MethodNotAllowed:
            request.route_error = HttpError(405, f"Method {request.method} is not allowed on {request.path}")
        except (NotFound, RequestRedirect):  # no slash-redirects: a sloppy URL is a 404 (defensive)
            request.route_error = HttpError(404, f"No route for {request.method} {request.path}")
        else:
            request.route = self._routes[endpoint]
            request.path_args = dict(args)

    # --- the pipeline --------------------------------------------------------------------------

    def _core(self, request: SandboxRequest) -> Response:
        try:
            if request.route is None:
                raise request.route_error or HttpError(404, "Not found")
            guard = self.guards.get(request.route.api)
            if guard is not None:
                guard(self, request)
            reply = request.route.handler(Call(request, request.path_args, self))
        except HttpError as e:
            return error_response(e)
        except Exception as e:  # a sandbox bug: answer like a server would, and say so loudly
            log.exception("sandbox handler failed for %s %s", request.method, request.path)
            return json_response(500, error_body("internal_error", f"sandbox error: {type(e).__name__}: {e}"))
        return json_response(reply.status, reply.body, reply.headers)

    def _chain(self) -> Next:
        nxt: Next = self._core
        for mw in reversed(self.middleware):
            nxt = (lambda m, n: lambda r: m(r, n))(mw, nxt)
        return nxt

    def handle(self, request: SandboxRequest) -> Response:
        override = request.headers.get("X-HTTP-Method-Override")
        if override and request.method == "POST":
            request.environ["REQUEST_METHOD"] = override.upper()
            request.method = override.upper()
        self._match(request)
        is_admin = request.route is not None and request.route.api == "admin"
        if is_admin:
            return self._core(request)
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000)
        return self._chain()(request)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = SandboxRequest(environ)
        start = time.perf_counter()
        response = self.handle(request)
        duration = (time.perf_counter() - start) * 1000
        route = request.route
        dropped = request.fault in DROP_FAULTS  # the client never sees this response
        entry: dict[str, Any] = {
            "method": request.method,
            "path": request.path,
            "route": route.name if route else None,
            "query": {k: request.args.getlist(k) for k in request.args},
            "status": 0 if dropped else response.status_code,
            "duration_ms": round(duration, 3),
            "headers": {
                "ld-api-version": request.headers.get("LD-API-Version"),
                "content-type": request.headers.get("Content-Type"),
                "authorization-present": "Authorization" in request.headers,
            },
        }
        if request.fault is not None:
            entry["fault"] = request.fault
            if request.fault == "drop_after":
                entry["handler_status"] = response.status_code  # what the change returned, unseen
        self.request_log.append(entry)
        if route is None or route.api != "admin":
            for observer in list(self.observers):
                try:
                    observer(request, response)
                except Exception:
                    log.exception("sandbox observer failed")
        if dropped:
            from .faults import shut_socket  # late import: faults imports this module

            shut_socket(environ)
        return response(environ, start_response)
