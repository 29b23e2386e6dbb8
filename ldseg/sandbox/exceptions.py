"""The sandbox's exceptions: HTTP error responses, bad seeds, and direct-access misses.

- :class:`HttpError`: an error response. Every LD error body is ``{"code", "message", "id"}``;
  handlers raise ``HttpError`` and the app turns it into that body, so no handler formats an error by
  hand. Other APIs the sandbox emulates (Segment's) subclass it and override ``body()``.
- :class:`SeedError`: a seed document that does not describe a valid account.
- :class:`StateError`: a state file that is not one (a seed given in its place, another format).
- :class:`ServeError`: the server cannot listen where it was asked (the port is in use...).
- :class:`StoreError`: a direct-access call (tests, benchmarks) named something that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

# LD's error codes by HTTP status (``patch_failed`` is the 400 for patches that cannot be applied).
CODES: dict[int, str] = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "optimistic_locking_error",
    422: "unprocessable_entity",
    429: "rate_limited",
    500: "internal_error",
}


class HttpError(Exception):
    """An error response: status, LD error code and a human message."""

    def __init__(
        self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "invalid_request")
        self.message = message
        self.headers = dict(headers or {})  # e.g. Retry-After on a 429

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message)


class SeedError(ValueError):
    """A seed document that does not describe a valid account; the message says where."""


class StateError(SeedError):
    """A state file that is not one: not JSON, or JSON without the state format marker (a seed
    given where a state file was expected), or a state of another format version."""


class ServeError(RuntimeError):
    """The server cannot listen on its host and port (in use, not an address of this machine);
    one line saying which, instead of the HTTP server's own messages and exit."""

    def __init__(self, message: str, *, in_use: bool = False) -> None:
        super().__init__(message)
        self.in_use = in_use


class StoreError(KeyError):
    """A direct-access call named something that does not exist (or already exists)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "store error"


def error_body(code: str, message: str) -> dict[str, Any]:
    """The common LD error document; ``id`` is what a user would quote to LD Support."""
    return {"code": code, "message": message, "id": str(uuid.uuid4())}


def bad_request(message: str) -> HttpError:
    return HttpError(400, message)


def patch_failed(message: str) -> HttpError:
    return HttpError(400, message, "patch_failed")


def not_found(message: str = "Invalid resource identifier") -> HttpError:
    return HttpError(404, message)
