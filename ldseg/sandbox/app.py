"""The sandbox's WSGI application: routing, the request pipeline, logging and extension hooks.

Pipeline for every request: route match (werkzeug ``Map``; unknown path -> 404, wrong method -> 405)
-> for non-admin routes: fixed latency, then the ``middleware`` chain around the core -> core: the
route's API guard (LD: token auth, roles, ``LD-API-Version``) and the handler -> request log ->
``observers``. Requests, calls and replies are the types of ``exchange``.

The app starts with no routes: the server registers them (``routes.register_all`` for LD's API and
the admin API, ``segment_emu.register`` for Segment's). Extension points:

- ``app.add_route(method, template, handler, api=...)``: templates use the spec's ``{param}``
  syntax; ``api`` picks the guard in ``app.guards`` (``"ld"``, ``"admin"`` = none, or a new one).
- ``app.middleware``: ``Callable[[SandboxRequest, Next], Response]`` wrapped around the core, first
  in the list = outermost. ``request.route`` (or ``None`` when no route matched) is already set, so
  a fault injector can target routes and answer e.g. a 429 without calling ``next``.
- ``app.observers``: ``Callable[[SandboxRequest, Response], None]`` called after every non-admin
  exchange (``response.get_json()`` gives the body), e.g. to check responses against the spec.
- ``app.faults``: the fault injector (``faults.FaultInjector``), ``middleware[0]`` from the start.

APIs: ``"ld"`` (LD's REST API), ``"admin"`` (``/_sandbox/``, see ``routes.admin``),
``"segment-tracking"`` and ``"segment-public"`` (Segment's tracking and Public APIs, see
``segment_emu``).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wrappers import Response

from .exceptions import HttpError, bad_request, error_body
from .exchange import (
    Call,
    Handler,
    Middleware,
    Next,
    Observer,
    Route,
    SandboxRequest,
    error_response,
    json_response,
)
from .faults import FaultInjector, shut_socket
from .reqlog import RequestLog
from .store import Store

log = logging.getLogger("ldseg.sandbox")

SUPPORTED_API_VERSIONS = ("20240415", "beta")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
DROP_FAULTS = ("drop", "drop_after")  # faults that close the connection instead of answering


Guard = Callable[["SandboxApp", SandboxRequest], None]


def _rule_path(template: str) -> str:
    return re.sub(r"\{(\w+)\}", r"<\1>", template)


def ld_guard(app: SandboxApp, request: SandboxRequest) -> None:
    """LD's auth: the raw token in ``Authorization`` (no ``Bearer``), roles, and ``LD-API-Version``."""
    token = request.headers.get("Authorization")
    role = app.role_for(token) if token else None
    if role is None:
        raise HttpError(401, "Invalid access token")
    request.role = role
    request.token = token
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
        # the fault injector is always there (with no rules it passes everything through) and
        # outermost, like the edge of LD's network; ``faults.configure(spec)`` arms it
        self.faults: FaultInjector = FaultInjector()
        self.middleware: list[Middleware] = [self.faults]
        self.observers: list[Observer] = []
        self.guards: dict[str, Guard | None] = {"ld": ld_guard, "admin": None}
        self._map = Map(strict_slashes=True, merge_slashes=False, redirect_defaults=False)
        self._routes: dict[str, Route] = {}

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
            reply = request.route.handler(Call(request, request.path_args, self.store))
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
            shut_socket(environ)
        return response(environ, start_response)
