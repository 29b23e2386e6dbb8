"""Smoke tests: for each destination, the strongest verdict the evidence allows, and no stronger.

LaunchDarkly has no API for its "Send a test event" button, and Segment's tracking API answers 200
even for an invalid write key (it validates keys asynchronously and drops what it cannot use). So a
destination is
judged by checks that each *could have failed*, and the verdict says what they add up to:

- **LaunchDarkly read-back**: the destination exists in its project and environment with the declared
  kind, ``on`` and non-secret config, and each masked secret does not contradict the declared one
  (``secrets.compare_secret``: a mask is never compared for equality). This proves LaunchDarkly's
  side only.
- **Segment source** (segment kind): through Segment's Public API, the declared write key is in the
  ``writeKeys`` of an *enabled* source whose catalog entry is LaunchDarkly. Another kind of source,
  a disabled one, a key no source has, or an EU host (the LaunchDarkly source is US-only) fail it;
  no token, or a token that cannot see write keys (no Source Admin), leave it unverified. It checks
  the *declared* key (LaunchDarkly never shows its own); the read-back is what ties the two together,
  as far as the mask allows, and says so when the mask shows nothing.
- **Test event** (``--send-test-event``, segment kind): one ``track`` ``custom`` event shaped like
  LaunchDarkly's own, sent by ldseg straight to Segment with the write key; then, when the source is
  known, Segment's event volume for it is polled until it rises (arrived) or the timeout passes.
  The volume API counts events by name only, so another ``custom`` event reaching the same source
  in the same minutes would count too; the detail says so.
- **Delivery** (other kinds): ldseg has no way to look into Kinesis, Pub/Sub ... so it says plainly
  that only LaunchDarkly's side was checked.

Verdict rules (``verdict_of``):

- ``FAIL`` when any check failed;
- ``PASS`` when none failed or was left unverified, and a check beyond the LaunchDarkly read-back
  passed (the read-back alone never makes a PASS);
- ``UNVERIFIED`` otherwise, with the reasons in the checks.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any

from ldseg import kinds
from ldseg.errors import LdsegError, SegmentAuthError, SegmentError
from ldseg.ld.client import LDClient
from ldseg.ld.reader import list_destinations, read_ids
from ldseg.model import Address, DestinationSpec, LiveDestination
from ldseg.planner.destinations import destination_diffs
from ldseg.secrets import SecretState, compare_secret
from ldseg.segment import (
    LAUNCHDARKLY_CATALOG_ID,
    PublicApi,
    Source,
    TrackingApi,
    region_of,
)
from ldseg.words import count

READBACK = "LaunchDarkly read-back"
SOURCE = "Segment source"
TEST_EVENT = "Test event"
DELIVERY = "Delivery"

SMOKE_EVENT_KEY = "ldseg-smoke-test"
SMOKE_CONTEXT_KEY = "ldseg-smoke-test"
ACCEPTED_ANYWAY = "Segment accepted the request, which it also does for invalid keys"


class Outcome(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    UNVERIFIED = "unverified"
    SKIPPED = "skipped"  # not asked for, or pointless after an earlier failure


class Verdict(str, Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    UNVERIFIED = "UNVERIFIED"


@dataclass(frozen=True)
class Check:
    name: str
    outcome: Outcome
    detail: str


@dataclass(frozen=True)
class SmokeResult:
    address: Address
    kind: str
    checks: tuple[Check, ...]

    @property
    def verdict(self) -> Verdict:
        return verdict_of(self.checks)


def verdict_of(checks: Iterable[Check]) -> Verdict:
    """See the module docstring: FAIL beats UNVERIFIED beats PASS, and PASS needs a check beyond
    LaunchDarkly's own read-back."""
    checks = list(checks)
    outcomes = {c.outcome for c in checks}
    if Outcome.FAIL in outcomes:
        return Verdict.FAIL
    if Outcome.UNVERIFIED in outcomes:
        return Verdict.UNVERIFIED
    if any(c.outcome is Outcome.PASS and c.name != READBACK for c in checks):
        return Verdict.PASS
    return Verdict.UNVERIFIED


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


# --- LaunchDarkly read-back ----------------------------------------------------------------------


def readback_check(spec: DestinationSpec, live: Sequence[LiveDestination]) -> Check:
    """Compare what LaunchDarkly has (``live``: every destination it listed) with ``spec``."""
    where = f"{spec.project}/{spec.environment}"
    named = [
        d for d in live if (d.project, d.environment, d.name) == (spec.project, spec.environment, spec.name)
    ]
    if not named:
        return Check(
            READBACK, Outcome.FAIL, f"LaunchDarkly has no destination named {spec.name!r} in {where}"
        )
    current = named[0]
    if len(named) > 1:
        same_kind = [d for d in named if d.kind == spec.kind]
        if len(same_kind) != 1:
            ids = ", ".join(d.id for d in named)
            return Check(
                READBACK,
                Outcome.FAIL,
                f"LaunchDarkly has {len(named)} destinations named {spec.name!r} in {where} (ids {ids}); "
                "ldseg cannot tell which one the config means",
            )
        current = same_kind[0]
    if current.kind != spec.kind:
        return Check(
            READBACK, Outcome.FAIL, f"LaunchDarkly has kind {current.kind}, the config says {spec.kind}"
        )
    diffs, _ = destination_diffs(spec, current)  # what a plan would change is what does not match
    if diffs:
        return Check(READBACK, Outcome.FAIL, "; ".join(d.describe() for d in diffs))
    state = "on" if spec.on else "off, as declared (LaunchDarkly exports nothing through it)"
    detail = f"exists in {where} (id {current.id}) with kind {spec.kind}, {state}, and the declared config"
    return Check(READBACK, Outcome.PASS, "; ".join([detail, *_secret_notes(spec, current)]))


def _secret_notes(spec: DestinationSpec, current: LiveDestination) -> list[str]:
    """What the read-back could and could not see of each declared secret (none contradicts it,
    or the plan comparison would have found a difference)."""
    k = kinds.kind(spec.kind)
    notes: list[str] = []
    for f in sorted(f for f in spec.config if k.is_secret(f)):
        live = current.config.get(f)
        if f in spec.unresolved_secrets:
            names = ", ".join(spec.unresolved_secrets[f].variables)
            notes.append(f"config.{f} was not compared ({names} is not set)")
            continue
        state = compare_secret(live, str(spec.config[f]))
        if state is SecretState.UNREADABLE:
            notes.append(f"config.{f} comes back in a form ldseg cannot compare (assumed unchanged)")
        elif state is SecretState.MATCHES:
            notes.append(f"config.{f} matches")
        elif isinstance(live, str) and not live.strip("*•●"):
            notes.append(f"config.{f} is masked completely, so LaunchDarkly could hold another value unseen")
        else:
            notes.append(f"the visible characters of the masked config.{f} match the declared secret")
    return notes


# --- Segment source ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workspace:
    """What Segment's Public API showed, or why it could not be asked.

    ``failure``: a reason every source check fails (an EU host); ``unavailable``: a reason it cannot
    run (no token, a rejected token, Segment unreachable); else ``sources`` is the whole workspace.
    """

    sources: tuple[Source, ...] = ()
    failure: str | None = None
    unavailable: str | None = None


def eu_failure(url: str, what: str) -> str | None:
    if region_of(url) != "eu":
        return None
    return (
        f"{what} {url} is in Segment's EU region, and the LaunchDarkly source is US-only: an EU "
        "workspace cannot receive LaunchDarkly's events (LaunchDarkly sends to Segment's US endpoint)"
    )


def source_check(
    write_key: str | None, workspace: Workspace, missing_key: str = ""
) -> tuple[Check, Source | None]:
    """Whether ``write_key`` belongs to an enabled LaunchDarkly source; the source when it does."""
    if write_key is None:
        return Check(
            SOURCE, Outcome.UNVERIFIED, f"not checked: the write key is not available{missing_key}"
        ), None
    if workspace.failure:
        return Check(SOURCE, Outcome.FAIL, workspace.failure), None
    if workspace.unavailable:
        return Check(SOURCE, Outcome.UNVERIFIED, f"not checked: {workspace.unavailable}"), None
    sources = workspace.sources
    holder = next((s for s in sources if write_key in s.write_keys), None)
    if holder is None:
        hidden = [s for s in sources if not s.write_keys]
        if hidden:
            return (
                Check(
                    SOURCE,
                    Outcome.UNVERIFIED,
                    f"not checked: the token cannot see the write keys of {len(hidden)} of "
                    f"{count(len(sources), 'Segment source')}; it needs the Source Admin permission "
                    "(Segment leaves writeKeys empty without it)",
                ),
                None,
            )
        ws = f" {sources[0].workspace_id}" if sources else ""
        return (
            Check(
                SOURCE,
                Outcome.FAIL,
                f"no source in the Segment workspace{ws} has this write key: it is mistyped, was revoked, "
                "or belongs to another workspace; Segment silently drops events sent with an unknown key",
            ),
            None,
        )
    label = f"source {holder.name!r} ({holder.id})"
    problems = []
    if not holder.is_launchdarkly:
        problems.append(
            f"it is a {holder.catalog_name} source, not a LaunchDarkly one "
            f"(catalog id {LAUNCHDARKLY_CATALOG_ID})"
        )
    if not holder.enabled:
        problems.append("it is disabled, so Segment drops everything sent to it")
    if problems:
        return Check(
            SOURCE, Outcome.FAIL, f"the write key belongs to {label}, but " + "; and ".join(problems)
        ), None
    return Check(
        SOURCE, Outcome.PASS, f"the write key belongs to {label}, an enabled LaunchDarkly source"
    ), holder


def delivery_check(kind: str, send_test_event: bool) -> Check:
    extra = "; --send-test-event applies to Segment destinations only" if send_test_event else ""
    return Check(
        DELIVERY,
        Outcome.UNVERIFIED,
        f"ldseg cannot see inside {kind} destinations: only LaunchDarkly's side was checked{extra}",
    )


# --- the test event ------------------------------------------------------------------------------


def smoke_event(
    spec: DestinationSpec, ids: tuple[str, str], message_id: str, now: datetime
) -> dict[str, Any]:
    """A ``track`` ``custom`` event shaped like LaunchDarkly's ``custom`` event:
    ``properties.project``/``environment`` are LD's project and environment ids, ``contextKeys``
    holds the context kind the destination maps to ``userId``, and ``userId`` is always set
    (Segment drops events with neither ``userId`` nor ``anonymousId``)."""
    stamp = now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    context_kind = str(spec.config.get("userIDContextKind") or "user")
    return {
        "type": "track",
        "event": "custom",
        "userId": SMOKE_CONTEXT_KEY,
        "messageId": message_id,
        "timestamp": stamp,
        "originalTimestamp": stamp,
        "sentAt": stamp,
        "integrations": {},
        "properties": {
            "contextKeys": {context_kind: SMOKE_CONTEXT_KEY},
            "project": ids[0],
            "environment": ids[1],
            "key": SMOKE_EVENT_KEY,
            "eventId": str(uuid.uuid4()),
            "version": 1,
        },
    }


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
