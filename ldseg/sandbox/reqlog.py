"""A bounded, thread-safe log of the HTTP exchanges the sandbox served.

Tests count and inspect requests here (e.g. "plan makes one destinations call"). The token is never
logged, only whether an Authorization header was present.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

DEFAULT_LIMIT = 200_000


class RequestLog:
    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._lock = threading.Lock()
        self._seq = 0

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._seq += 1
            entry = {"seq": self._seq, **entry}
            self._entries.append(entry)
            return entry

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
