"""Small helpers the route modules share: boolean query params, lookups that 404, audit entries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..exceptions import bad_request, not_found

if TYPE_CHECKING:
    from ..exchange import Call
    from ..store import Store

_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def parse_bool(raw: str | None, name: str, default: bool | None) -> bool | None:
    if raw is None:
        return default
    low = raw.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise bad_request(f"{name} must be a boolean, got {raw!r}")


def get_project(store: Store, key: str) -> dict[str, Any]:
    """The live project record (caller holds ``store.lock``) or 404."""
    project: dict[str, Any] | None = store.state["projects"].get(key)
    if project is None:
        raise not_found(f"Unknown project key {key!r}")
    return project


def get_env(store: Store, project: str, env: str) -> dict[str, Any]:
    e: dict[str, Any] | None = get_project(store, project)["environments"].get(env)
    if e is None:
        raise not_found(f"Unknown environment key {env!r} in project {project!r}")
    return e


def split_list(raw: str | None) -> list[str]:
    return [p.strip() for p in (raw or "").split(",") if p.strip()]


def audit(call: Call, resource: str, *, changed: bool, comment: str | None = None, **extra: Any) -> None:
    """Record a successful write in the store's audit log."""
    route = call.request.route
    call.store.record_write(
        {
            "method": call.request.method,
            "path": call.request.path,
            "route": route.name if route else None,
            "resource": resource,
            "comment": comment,
            "changed": changed,
            **extra,
        }
    )
