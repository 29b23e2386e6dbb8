"""What rate-limit headers say, in seconds from now, and the jittered backoff for everything else.

The APIs disagree on formats: ``Retry-After`` is seconds or an HTTP date (RFC 9110); LaunchDarkly
sends ``X-Ratelimit-Reset`` in epoch **milliseconds**, sometimes already in the past (so it must be
ignored, not turned into a negative or zero wait); Segment's Public API sends ``X-RateLimit-Reset``
as an RFC 5322 date. Each API's client says which reset format it gets; everything after this
module works in seconds from now.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timezone
from email.utils import parsedate_to_datetime

#: the base and the cap of the exponential backoff for server errors and dropped connections
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0


@dataclass(frozen=True)
class RateInfo:
    """What one response says about the rate limit it was counted against."""

    #: ``Retry-After``, in seconds from now (429s)
    retry_after: float | None = None
    #: seconds until the window resets; None when absent, unreadable or already in the past
    reset_in: float | None = None
    #: requests left in the window, by scope (``"route"``, ``"global"``)
    remaining: Mapping[str, int] = field(default_factory=dict)

    @property
    def has_window(self) -> bool:
        """Whether a client can pace by this: a reset still to come."""
        return self.reset_in is not None


def number(value: str | None) -> float | None:
    """A header's number; None when absent, unreadable or not finite (``nan``, ``inf``, ``1e400``)."""
    if value is None:
        return None
    try:
        found = float(value)
    except ValueError:
        return None
    return found if math.isfinite(found) else None


def _date(value: str | None) -> float | None:
    """An HTTP / RFC 5322 date as epoch seconds; None if absent or unreadable."""
    if not value or not value.strip():
        return None
    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:  # "-0000" and asctime dates: HTTP dates are always UTC
            when = when.replace(tzinfo=timezone.utc)
        return when.timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def http_date_in(value: str | None, now: float) -> float | None:
    """Seconds from ``now`` (epoch) until an HTTP / RFC 5322 date; None if unreadable or past."""
    when = _date(value)
    return when - now if when is not None and when > now else None


def epoch_ms_in(value: str | None, now: float) -> float | None:
    """Seconds from ``now`` until an epoch-milliseconds instant; None if unreadable or past."""
    ms = number(value)
    if ms is None or ms / 1000.0 <= now:
        return None
    return ms / 1000.0 - now


def retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After``: delay-seconds, or an HTTP date. ``0`` or a date already past says nothing
    usable (None): taken literally, a client would retry at once, again and again; its own backoff
    or probing decides instead."""
    seconds = number(value)
    if seconds is not None:
        return seconds if seconds > 0 else None
    when = _date(value)
    return None if when is None or when <= now else when - now


def remaining_counts(headers: Mapping[str, str], names: Mapping[str, str]) -> dict[str, int]:
    """``{scope: count}`` from the remaining-count headers ``names`` maps scopes to."""
    out: dict[str, int] = {}
    for scope, header in names.items():
        count = number(headers.get(header))
        if count is not None:
            out[scope] = int(count)
    return out


def header_wait(info: RateInfo, known_reset_in: float | None = None, cap: float = 300.0) -> float | None:
    """Seconds a 429 asks to wait: ``Retry-After``, else a reset still to come, else the reset of
    a window learned from earlier responses (+50 ms, to land after it); None when nothing says."""
    if info.retry_after is not None:
        return min(cap, info.retry_after)
    if info.reset_in is not None:
        return min(cap, info.reset_in)
    if known_reset_in is not None and known_reset_in > 0:
        return min(cap, known_reset_in + 0.05)
    return None


def retry_wait(info: RateInfo, attempt: int, cap: float = 300.0) -> float:
    """A 429's wait for a request that waits on its own: what the headers say, else the backoff."""
    wait = header_wait(info, None, cap)
    return backoff(attempt) if wait is None else wait


def backoff(attempt: int, cap: float = BACKOFF_CAP) -> float:
    """Jittered exponential backoff (0.5 s doubling, capped), half to full length: retries of
    concurrent requests spread out instead of arriving together."""
    base: float = min(cap, BACKOFF_BASE * 2.0 ** (attempt - 1))
    return base * (0.5 + random.random() / 2)
