"""LaunchDarkly approval requests for flag changes: reading the open ones, and the settings that
say whether an environment requires them.

An environment's ``approvalSettings`` gate a flag change when ``required`` is set (every flag) or the
flag carries one of ``requiredApprovalTags``. The open requests of a project are read with one list
call: ``GET /api/v2/approval-requests?filter=projectKey equals <p>, status anyOf ["pending"]``
(paginated), each item naming its flag and environment in ``resourceId``
(``proj/<p>:env/<e>:flag/<key>``). A request reviewed and approved, or declined, stays ``pending``
until someone applies it; one LaunchDarkly applied itself (``autoApplyApprovedChanges``) is
``completed`` and its flag already changed. Its ``instructions`` are semantic-patch instructions
(LaunchDarkly's examples show them as a JSON string, the spec as an array: both are read); ldseg's
own set trackEvents with ``{"kind": "updateTrackEvents", "trackEvents": <bool>}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ldseg.ld.client import LDClient
from ldseg.model import ApprovalRequest, ApprovalSettings, FlagEnv

#: the list's largest page (its default is 20)
PAGE_LIMIT = 200
UPDATE_TRACK_EVENTS = "updateTrackEvents"
_RESOURCE = re.compile(r"^proj/([^:]+):env/([^:]+):flag/(.+)$")


def parse_settings(raw: Any) -> ApprovalSettings:
    """An environment's ``approvalSettings`` (absent or malformed: no approvals required)."""
    if not isinstance(raw, Mapping):
        return ApprovalSettings()
    tags = raw.get("requiredApprovalTags")
    return ApprovalSettings(
        required=raw.get("required") is True,
        required_tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
    )


def read_open_requests(
    client: LDClient, projects: Iterable[str]
) -> dict[FlagEnv, tuple[ApprovalRequest, ...]]:
    """The open (pending) flag approval requests of ``projects``, one list call each (paginated),
    by (project, environment, flag), newest first."""
    found: dict[FlagEnv, list[ApprovalRequest]] = {}

    def one(project: str) -> list[ApprovalRequest]:
        params = [("filter", f'projectKey equals {project}, status anyOf ["pending"]'), ("limit", PAGE_LIMIT)]
        items = client.paginate("/api/v2/approval-requests", params)
        return [r for r in (parse_request(item, client.base_uri) for item in items) if r is not None]

    for requests in client.map(one, sorted(set(projects))):
        for r in requests:
            found.setdefault((r.project, r.environment, r.flag), []).append(r)
    return {k: tuple(sorted(v, key=_newest_first)) for k, v in found.items()}


def parse_request(
    item: Mapping[str, Any], base_uri: str = "", where: FlagEnv | None = None
) -> ApprovalRequest | None:
    """An approval request about one flag in one environment (``where`` for the flag-scoped
    representation, which has no ``resourceId``), or None (another kind of resource)."""
    m = _RESOURCE.match(str(item.get("resourceId") or ""))
    if (m is None and where is None) or not item.get("_id"):
        return None
    project, environment, flag = where if where is not None else m.groups()  # type: ignore[union-attr]
    href = ((item.get("_links") or {}).get("self") or {}).get("href") or ""
    return ApprovalRequest(
        id=str(item["_id"]),
        project=project,
        environment=environment,
        flag=flag,
        status=str(item.get("status") or ""),
        review_status=str(item.get("reviewStatus") or ""),
        track_events=track_events_of(item.get("instructions")),
        link=f"{base_uri}{href}" if href.startswith("/") else str(href),
        created=_int(item.get("creationDate")),
    )


def track_events_of(instructions: Any) -> bool | None:
    """The trackEvents the instructions set, when that is all they do (else None)."""
    if isinstance(instructions, str):
        try:
            instructions = json.loads(instructions)
        except ValueError:
            return None
    if not isinstance(instructions, list) or len(instructions) != 1 or not isinstance(instructions[0], dict):
        return None
    (one,) = instructions
    value = one.get("trackEvents")
    return value if one.get("kind") == UPDATE_TRACK_EVENTS and isinstance(value, bool) else None


def _int(value: Any) -> int:
    """creationDate: epoch ms, as a number (the spec) or a string of one (LaunchDarkly's example)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _newest_first(r: ApprovalRequest) -> tuple[int, str]:
    return (-r.created, r.id)
