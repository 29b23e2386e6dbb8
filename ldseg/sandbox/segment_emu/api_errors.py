"""Segment's error documents, as ``HttpError`` subclasses so the app's pipeline renders them.

- Public API: ``{"errors": [{"type", "message", "data"?}]}`` (docs.segmentapis.com), content type
  ``application/vnd.segment.v1+json``.
- Tracking API: Segment does not document its 400 body; analytics-python reads ``code`` and
  ``message`` from it, so that is what the sandbox sends (``{"success": false, "code", "message"}``).
"""

from __future__ import annotations

from typing import Any

from ..exceptions import HttpError

PUBLIC_API_MIMETYPE = "application/vnd.segment.v1+json"


class PublicApiError(HttpError):
    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, message, type_, {"Content-Type": PUBLIC_API_MIMETYPE, **(headers or {})})
        self.data = data

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return {"errors": [error]}


class TrackingError(HttpError):
    """A 400 from the tracking API (invalid JSON, oversize): the only non-200 it gives."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(400, message, code)

    def body(self) -> dict[str, Any]:
        return {"success": False, "code": self.code, "message": self.message}
