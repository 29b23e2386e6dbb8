"""One HTTP layer for every API ldseg talks to (LaunchDarkly's REST API, Segment's two APIs).

- ``client``: ``Transport``, the request loop (retries, backoff, 429s, budgets, interrupts, the
  non-idempotent rule), with hooks each API's client overrides; ``RetryPolicy``.
- ``headers``: what rate-limit headers say (``Retry-After`` in seconds or as a date, resets in epoch
  milliseconds or as dates), in seconds from now; the jittered backoff.
- ``pacing``: ``Pacer``, spending the windows a server announces; ``SlidingWindow``, a limit known
  in advance.
- ``congestion``: ``Congestion``, the shared gate and AIMD concurrency for limits that announce
  nothing.
- ``waiting``: the line saying what requests wait for (slow answers, retries, rate limits), at
  most every few seconds, with or without a terminal.
"""

from ldseg.transport.client import (
    USER_AGENT,
    GiveUp,
    Params,
    RetryPolicy,
    Timeouts,
    Transport,
    bare,
)
from ldseg.transport.headers import RateInfo

__all__ = [
    "USER_AGENT",
    "GiveUp",
    "Params",
    "RateInfo",
    "RetryPolicy",
    "Timeouts",
    "Transport",
    "bare",
]
