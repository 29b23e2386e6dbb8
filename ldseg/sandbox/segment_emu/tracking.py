"""Segment's HTTP Tracking API (https://api.segment.io/v1/...), as stateless and forgiving as the real one.

``POST /v1/{identify,track,page,screen,group,alias,batch}`` and analytics.js's ``/v1/{i,t,p,s,g,a,b}``.
The write key comes from the body's ``writeKey``, else HTTP Basic (username = key, with or without
the colon), and ``Authorization: Bearer <oauth token>`` needs it in the body. Any content type
(``application/json``, analytics.js's ``text/plain``) and ``Content-Encoding: gzip`` are read.

Like Segment's edge it answers ``200 {"success": true}`` to any well-formed request whatever the key,
and 400 only for invalid JSON, a message over 32 KB or a batch request over 500 KB. Everything it
receives is recorded in the store, with the reason Segment would silently drop it (``intake``).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from typing import TYPE_CHECKING, Any

from ..exceptions import HttpError
from ..exchange import Call, Reply, SandboxRequest
from . import messages
from .api_errors import TrackingError
from .intake import Envelope, ingest

if TYPE_CHECKING:
    from ..app import SandboxApp

API = "segment-tracking"


def register(app: SandboxApp) -> None:
    app.guards[API] = None  # Segment's edge validates nothing
    # one rule for all 14 paths (each werkzeug rule costs compile time at every sandbox start)
    app.add_route("POST", "/v1/{method}", receive, api=API)


def _decoded_body(request: SandboxRequest) -> bytes:
    data = request.get_data(cache=True)
    encoding = (request.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding in ("", "identity"):
        return data
    if encoding == "gzip":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise TrackingError("invalid_request", f"could not gunzip the body: {e}") from None
    raise TrackingError("invalid_request", f"unsupported Content-Encoding {encoding!r}")


def _write_key(request: SandboxRequest, body: dict[str, Any]) -> tuple[str | None, str | None]:
    """``(key, how)``; a body ``writeKey`` wins over the Basic username."""
    in_body = body.get("writeKey")
    body_key = in_body if isinstance(in_body, str) and in_body else None
    scheme, _, credentials = (request.headers.get("Authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer":
        return body_key, "bearer"
    if body_key is not None:
        return body_key, "body"
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        key = decoded.partition(":")[0]
        return (key, "basic") if key else (None, None)
    return None, None


def receive(call: Call) -> Reply:
    request = call.request
    kind = messages.PATH_TYPES.get(call.args["method"])
    if kind is None:
        raise HttpError(404, f"No route for POST {request.path}")
    raw = _decoded_body(request)
    is_batch = kind == messages.BATCH
    limit = messages.MAX_BATCH_BYTES if is_batch else messages.MAX_MESSAGE_BYTES
    if len(raw) > limit:
        what = "batch request" if is_batch else "message"
        raise TrackingError("request_too_large", f"{what} of {len(raw)} bytes exceeds {limit} bytes")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise TrackingError("invalid_json", f"invalid JSON: {e}") from None
    if not isinstance(body, dict):
        raise TrackingError("invalid_request", "the body must be a JSON object")
    write_key, auth = _write_key(request, body)
    if is_batch:
        batch = body.get("batch")
        if not isinstance(batch, list):
            raise TrackingError("invalid_request", "a batch needs a 'batch' array")
        for i, item in enumerate(batch):
            size = len(json.dumps(item, separators=(",", ":")).encode("utf-8"))
            if size > messages.MAX_MESSAGE_BYTES:
                message = f"batch item {i} of {size} bytes exceeds {messages.MAX_MESSAGE_BYTES} bytes"
                raise TrackingError("request_too_large", message)
        items = [messages.batch_item(item, body) for item in batch]
    else:
        items = [messages.with_type(body, kind)]
    envelope = Envelope(
        write_key=write_key,
        auth=auth,
        path=request.path,
        batch=is_batch,
        batch_too_large=is_batch and len(items) > messages.MAX_BATCH_ITEMS,
    )
    ingest(call.store, items, envelope)
    return Reply(200, {"success": True})
