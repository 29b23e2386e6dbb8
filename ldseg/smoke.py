"""Running the smoke tests: read LaunchDarkly's destinations and Segment's workspace once, run each
destination's checks (``smoke_checks``), send the test events and watch Segment's event volume
until they arrive or the time is up.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ldseg.errors import LdsegError, SegmentAuthError, SegmentError
from ldseg.ld.client import LDClient
from ldseg.ld.reader import list_destinations, read_ids
from ldseg.model import DestinationSpec
from ldseg.segment import PublicApi, Source, TrackingApi
from ldseg.smoke_checks import (
    ACCEPTED_ANYWAY,
    TEST_EVENT,
    Check,
    Outcome,
    SmokeResult,
    Workspace,
    delivery_check,
    eu_failure,
    readback_check,
    smoke_event,
    source_check,
)


@dataclass(frozen=True)
class SmokeOptions:
    send_test_event: bool = False
    timeout: float = 120.0  # seconds to wait for the test event to show in Segment's event volume
    poll_interval: float = 5.0  # between event-volume polls (Segment allows 60 requests a minute)


@dataclass(frozen=True)
class SegmentAccess:
    """Where Segment is, and the Public API token (``None``: no token, source checks unverified)."""

    api_url: str
    public_api_url: str
    token: str | None = None
    token_label: str = "SEGMENT_PUBLIC_API_TOKEN"


# --- running them --------------------------------------------------------------------------------


@dataclass
class _Watch:
    """Test events sent to one source, and what its event volume has shown."""

    source: Source
    baseline: int
    indexes: list[int] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)
    polled: bool = False
    last_error: str = ""
    arrived_after: float | None = None


@dataclass
class SmokeRunner:
    """Runs the checks for a list of destinations; clocks are parameters so tests need no sleeps."""

    ld: LDClient
    segment: SegmentAccess
    options: SmokeOptions = field(default_factory=SmokeOptions)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)

    def run(self, specs: Sequence[DestinationSpec]) -> list[SmokeResult]:
        if not specs:
            return []
        live, _ = list_destinations(self.ld)
        checks: list[list[Check]] = [[readback_check(s, live)] for s in specs]
        segment_idx = [i for i, s in enumerate(specs) if s.kind == "segment"]
        public = (
            PublicApi(self.segment.token, self.segment.public_api_url, **self._http())
            if self.segment.token
            else None
        )
        try:
            holders: dict[int, Source] = {}
            if segment_idx:
                workspace = self._workspace(public, any(_write_key(specs[i]) for i in segment_idx))
                for i in segment_idx:
                    check, holder = source_check(_write_key(specs[i]), workspace, _missing(specs[i]))
                    checks[i].append(check)
                    if holder is not None:
                        holders[i] = holder
            for i, s in enumerate(specs):
                if s.kind != "segment":
                    checks[i].append(delivery_check(s.kind, self.options.send_test_event))
            event_checks = (
                self._test_events(specs, segment_idx, checks, holders, public)
                if self.options.send_test_event
                else {
                    i: Check(
                        TEST_EVENT,
                        Outcome.SKIPPED,
                        "not sent (--send-test-event sends one and watches it arrive)",
                    )
                    for i in segment_idx
                }
            )
            for i, c in event_checks.items():
                checks[i].append(c)
        finally:
            if public is not None:
                public.close()
        return [SmokeResult(s.address, s.kind, tuple(c)) for s, c in zip(specs, checks, strict=True)]

    def _http(self) -> dict[str, Any]:
        """The Segment clients' clocks, and LaunchDarkly's client's timeouts and waiting line."""
        return {"clock": self.clock, "sleep": self.sleep, "timeouts": self.ld.timeouts, "say": self.ld.say}

    def _workspace(self, public: PublicApi | None, any_key: bool) -> Workspace:
        failure = eu_failure(self.segment.public_api_url, "the Segment Public API URL")
        if failure:
            return Workspace(failure=failure)
        if public is None:
            return Workspace(
                unavailable="SEGMENT_PUBLIC_API_TOKEN is not set (a Segment Public API token with the "
                "Source Admin permission lets ldseg check that the write key belongs to an enabled "
                "LaunchDarkly source)"
            )
        if not any_key:
            return Workspace(unavailable="no write key to look up")
        try:
            return Workspace(sources=tuple(public.sources()))
        except SegmentAuthError as exc:
            reason = str(exc).rstrip(".")
            return Workspace(unavailable=f"{reason} (the token used: {self.segment.token_label})")
        except SegmentError as exc:
            return Workspace(unavailable=str(exc))

    def _test_events(
        self,
        specs: Sequence[DestinationSpec],
        segment_idx: list[int],
        checks: list[list[Check]],
        holders: Mapping[int, Source],
        public: PublicApi | None,
    ) -> dict[int, Check]:
        out: dict[int, Check] = {}
        tracking_failure = eu_failure(self.segment.api_url, "the Segment tracking API URL")
        senders: list[int] = []
        for i in segment_idx:
            if any(c.outcome is Outcome.FAIL for c in checks[i]):
                out[i] = Check(TEST_EVENT, Outcome.SKIPPED, "not sent: an earlier check failed")
            elif _write_key(specs[i]) is None:
                out[i] = Check(
                    TEST_EVENT,
                    Outcome.UNVERIFIED,
                    f"not sent: the write key is not available{_missing(specs[i])}",
                )
            elif tracking_failure:
                out[i] = Check(TEST_EVENT, Outcome.FAIL, f"not sent: {tracking_failure}")
            else:
                senders.append(i)
        if not senders:
            return out
        start = _minute(self.now()) - timedelta(minutes=1)
        watches = self._baselines(senders, holders, public, start)
        tracking = TrackingApi(self.segment.api_url, **self._http())
        ids_cache: dict[tuple[str, str], tuple[str, str]] = {}
        try:
            for i in senders:
                spec = specs[i]
                scope = (spec.project, spec.environment)
                if scope not in ids_cache:
                    ids_cache[scope] = self._ld_ids(*scope)
                message_id = str(uuid.uuid4())
                key = _write_key(spec)
                assert key is not None
                try:
                    tracking.track(key, smoke_event(spec, ids_cache[scope], message_id, self.now()))
                except SegmentError as exc:
                    rejected = exc.status is not None and 400 <= exc.status < 500
                    outcome = Outcome.FAIL if rejected else Outcome.UNVERIFIED
                    verb = "Segment rejected the test event" if rejected else "could not send the test event"
                    out[i] = Check(TEST_EVENT, outcome, f"{verb}: {exc}")
                    continue
                watch = watches.get(holders[i].id) if i in holders else None
                if isinstance(watch, _Watch):
                    watch.indexes.append(i)
                    watch.message_ids.append(message_id)
                else:
                    why = watch if isinstance(watch, str) else _unwatched_reason(public)
                    out[i] = Check(
                        TEST_EVENT,
                        Outcome.UNVERIFIED,
                        f"sent by ldseg (messageId {message_id}); {ACCEPTED_ANYWAY}; {why}",
                    )
        finally:
            tracking.close()
        active = [w for w in watches.values() if isinstance(w, _Watch) and w.indexes]
        if active:
            assert public is not None
            self._poll(public, active, start)
            for w in active:
                for i, mid in zip(w.indexes, w.message_ids, strict=True):
                    out[i] = _arrival_check(w, mid, self.options.timeout)
        return out

    def _baselines(
        self, senders: list[int], holders: Mapping[int, Source], public: PublicApi | None, start: datetime
    ) -> dict[str, _Watch | str]:
        """Per source to watch: its event volume before anything is sent, or why it cannot be read."""
        out: dict[str, _Watch | str] = {}
        if public is None:
            return out
        for i in senders:
            source = holders.get(i)
            if source is None or source.id in out:
                continue
            try:
                count = public.event_volume(source.id, start, self._end(), event_name="custom")
            except SegmentError as exc:
                out[source.id] = f"its arrival cannot be watched: {exc}"
            else:
                out[source.id] = _Watch(source, count)
        return out

    def _poll(self, public: PublicApi, watches: list[_Watch], start: datetime) -> None:
        """Poll each source's event volume until it rose by the events sent to it, or the timeout."""
        began = self.clock()
        deadline = began + self.options.timeout
        while True:
            for w in watches:
                if w.arrived_after is not None:
                    continue
                try:
                    count = public.event_volume(
                        w.source.id, start, self._end(), event_name="custom", deadline=deadline
                    )
                except SegmentError as exc:
                    w.last_error = str(exc)
                    continue
                w.polled = True
                if count - w.baseline >= len(w.indexes):
                    w.arrived_after = self.clock() - began
            remaining = deadline - self.clock()
            if all(w.arrived_after is not None for w in watches) or remaining <= 0:
                return
            self.sleep(min(self.options.poll_interval, remaining))

    def _end(self) -> datetime:
        return _minute(self.now()) + timedelta(minutes=2)

    def _ld_ids(self, project: str, environment: str) -> tuple[str, str]:
        """LaunchDarkly's project id and environment id (the client-side id), which its events carry;
        the keys when they cannot be read."""
        try:
            return read_ids(self.ld, project, environment)
        except LdsegError:
            return project, environment


def _arrival_check(w: _Watch, message_id: str, timeout: float) -> Check:
    src = f"source {w.source.name!r} ({w.source.id})"
    sent = f"sent by ldseg (messageId {message_id})"
    if w.arrived_after is not None:
        return Check(
            TEST_EVENT,
            Outcome.PASS,
            f"{sent}; arrived: the event volume of {src} rose within {w.arrived_after:.1f} s "
            "(Segment counts custom events by name, so another one reaching that source at the same "
            "time would count too)",
        )
    if not w.polled:
        return Check(
            TEST_EVENT,
            Outcome.UNVERIFIED,
            f"{sent}; {ACCEPTED_ANYWAY}, and its event volume could not be read: {w.last_error}",
        )
    return Check(
        TEST_EVENT,
        Outcome.FAIL,
        f"{sent}, but the event volume of {src} did not rise within {timeout:g} s "
        f"({ACCEPTED_ANYWAY}); look for the messageId in the source's Debugger, or retry with a "
        "longer --timeout",
    )


def _unwatched_reason(public: PublicApi | None) -> str:
    if public is None:
        return "set SEGMENT_PUBLIC_API_TOKEN to watch it arrive"
    return "without knowing the key's source ldseg cannot watch it arrive"


def _write_key(spec: DestinationSpec) -> str | None:
    value = spec.config.get("writeKey")
    return value if isinstance(value, str) and value else None


def _missing(spec: DestinationSpec) -> str:
    u = spec.unresolved_secrets.get("writeKey")
    return f" ({', '.join(u.variables)} is not set)" if u else ""


def _minute(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(second=0, microsecond=0)
