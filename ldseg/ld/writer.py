"""Every write ldseg makes to LaunchDarkly, in LaunchDarkly's wire format: paths, JSON Patch
bodies, the audit-log comment. The applier decides what to write and in which order; this module
knows how each write looks on the wire.

- Destinations: ``POST /api/v2/destinations/{p}/{e}`` with name, kind, on and config; updates as
  JSON Patch operations on ``/on`` and ``/config/<field>`` only (the masked ``config`` LaunchDarkly
  returns is never written back); ``DELETE`` by id (a 404 means it is already gone).
- Environments: a JSON Patch replacing ``/defaultTrackEvents``.
- Flags: one ``PATCH /api/v2/flags/{p}/{key}`` per flag for all its environments, as
  ``{"comment": ..., "patch": [replace /environments/<env>/trackEvents ...]}``.
- Approval requests (environments that require approvals): ``POST .../flags/{key}/environments/
  {e}/approval-requests`` with the semantic-patch instruction ``updateTrackEvents``, a description,
  the audit comment and the reviewers to notify; ``POST .../approval-requests/{id}/apply`` to apply
  an approved one; the flag's requests listed to find one opened before.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ldseg.errors import ApiError
from ldseg.ld.approvals import UPDATE_TRACK_EVENTS, parse_request
from ldseg.ld.client import LDClient, seg
from ldseg.ld.reader import list_destinations, parse_destination
from ldseg.model import Address, ApprovalRequest, DestinationSpec, FlagEnv, LiveDestination, Reviewers


@dataclass(frozen=True)
class FieldWrite:
    """One field of a destination update: ``on`` or a config field, and how it changes."""

    field: str  # "on" or the config field's name
    op: Literal["add", "replace", "remove"]
    value: Any = None

    @property
    def pointer(self) -> str:
        return "/on" if self.field == "on" else "/config/" + pointer_token(self.field)


class Writer(Protocol):
    """What the applier needs from LaunchDarkly (``LDWriter``; tests use a fake)."""

    stop: threading.Event | None

    def create_destination(self, spec: DestinationSpec) -> str: ...

    def find_destination(self, address: Address, kind: str) -> LiveDestination | None: ...

    def get_destination(self, address: Address, live_id: str) -> LiveDestination | None: ...

    def update_destination(
        self, address: Address, live_id: str, writes: Sequence[FieldWrite], *, idempotent: bool
    ) -> None: ...

    def delete_destination(self, address: Address, live_id: str) -> bool: ...

    def set_default_track_events(self, project: str, environment: str, value: bool) -> None: ...

    def set_track_events(self, project: str, key: str, envs: Mapping[str, bool], comment: str) -> None: ...

    def open_flag_approval(
        self, where: FlagEnv, export: bool, *, description: str, comment: str, reviewers: Reviewers
    ) -> ApprovalRequest: ...

    def flag_approvals(self, where: FlagEnv) -> list[ApprovalRequest]: ...

    def apply_flag_approval(self, where: FlagEnv, request_id: str, comment: str) -> ApprovalRequest: ...

    def pause_before_retry(self, attempt: int) -> None: ...


class LDWriter:
    """The Writer over LaunchDarkly's REST API."""

    def __init__(self, client: LDClient) -> None:
        self.client = client

    @property
    def stop(self) -> threading.Event | None:
        return self.client.stop

    @stop.setter
    def stop(self, event: threading.Event | None) -> None:
        if event is not None:
            self.client.stop = event

    def create_destination(self, spec: DestinationSpec) -> str:
        """POST is not idempotent: an ambiguous failure raises AmbiguousWriteError (never resent)."""
        body = {"name": spec.name, "kind": spec.kind, "on": spec.on, "config": dict(spec.config)}
        created = self.client.post(f"/api/v2/destinations/{seg(spec.project)}/{seg(spec.environment)}", body)
        return str((created or {}).get("_id", "?"))

    def find_destination(self, address: Address, kind: str) -> LiveDestination | None:
        placed, _ = list_destinations(self.client)
        return next((d for d in placed if d.address == address and d.kind == kind), None)

    def get_destination(self, address: Address, live_id: str) -> LiveDestination | None:
        return parse_destination(self.client.get(_destination_path(address, live_id)))

    def update_destination(
        self, address: Address, live_id: str, writes: Sequence[FieldWrite], *, idempotent: bool
    ) -> None:
        ops: list[dict[str, Any]] = [
            {"op": "remove", "path": w.pointer}
            if w.op == "remove"
            else {"op": w.op, "path": w.pointer, "value": w.value}
            for w in writes
        ]
        self.client.patch(_destination_path(address, live_id), ops, idempotent=idempotent)

    def delete_destination(self, address: Address, live_id: str) -> bool:
        """Delete; False when LaunchDarkly says it is already gone (404)."""
        try:
            self.client.delete(_destination_path(address, live_id))
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def set_default_track_events(self, project: str, environment: str, value: bool) -> None:
        ops = [{"op": "replace", "path": "/defaultTrackEvents", "value": value}]
        self.client.patch(f"/api/v2/projects/{seg(project)}/environments/{seg(environment)}", ops)

    def set_track_events(self, project: str, key: str, envs: Mapping[str, bool], comment: str) -> None:
        ops = [
            {"op": "replace", "path": f"/environments/{pointer_token(e)}/trackEvents", "value": value}
            for e, value in envs.items()
        ]
        body = {"comment": comment, "patch": ops}
        self.client.patch(f"/api/v2/flags/{seg(project)}/{seg(key)}", body, answer=False)

    def open_flag_approval(
        self, where: FlagEnv, export: bool, *, description: str, comment: str, reviewers: Reviewers
    ) -> ApprovalRequest:
        """POST is not idempotent: an ambiguous failure raises AmbiguousWriteError (never resent)."""
        body: dict[str, Any] = {
            "description": description,
            "comment": comment,
            "instructions": [{"kind": UPDATE_TRACK_EVENTS, "trackEvents": export}],
        }
        if reviewers.members:
            body["notifyMemberIds"] = list(reviewers.members)
        if reviewers.teams:
            body["notifyTeamKeys"] = list(reviewers.teams)
        return self._approval(self.client.post(_approvals_path(where), body), where)

    def flag_approvals(self, where: FlagEnv) -> list[ApprovalRequest]:
        """The flag's approval requests in the environment (any status), newest first."""
        items = (self.client.get(_approvals_path(where)) or {}).get("items") or []
        found = [parse_request(i, self.client.base_uri, where) for i in items if isinstance(i, dict)]
        return sorted((r for r in found if r is not None), key=lambda r: (-r.created, r.id))

    def apply_flag_approval(self, where: FlagEnv, request_id: str, comment: str) -> ApprovalRequest:
        """Apply an approved request; LaunchDarkly answers with it, ``completed`` or ``failed``."""
        path = f"{_approvals_path(where)}/{seg(request_id)}/apply"
        return self._approval(self.client.post(path, {"comment": comment}), where)

    def _approval(self, body: Any, where: FlagEnv) -> ApprovalRequest:
        request = parse_request(body if isinstance(body, dict) else {}, self.client.base_uri, where)
        if request is None:
            raise ApiError(
                f"LaunchDarkly answered an approval request for {where[2]} in {where[0]}/{where[1]} without "
                "its id.",
                code="unexpected_body",
            )
        return request

    def pause_before_retry(self, attempt: int) -> None:
        self.client.pause_before_retry(attempt)


def _approvals_path(where: FlagEnv) -> str:
    project, environment, key = where
    return (
        f"/api/v2/projects/{seg(project)}/flags/{seg(key)}/environments/{seg(environment)}/approval-requests"
    )


def _destination_path(address: Address, live_id: str) -> str:
    return f"/api/v2/destinations/{seg(address.project)}/{seg(address.environment)}/{seg(live_id)}"


def pointer_token(token: str) -> str:
    """A JSON Pointer reference token (RFC 6901): ``~`` and ``/`` escaped."""
    return token.replace("~", "~0").replace("/", "~1")
