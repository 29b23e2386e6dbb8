"""The smoke tests' checks and verdicts: for each destination, the strongest verdict the evidence
allows, and no stronger.

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

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from ldseg import kinds
from ldseg.model import Address, DestinationSpec, LiveDestination
from ldseg.planner.destinations import destination_diffs
from ldseg.secrets import SecretState, compare_secret
from ldseg.segment import LAUNCHDARKLY_CATALOG_ID, Source, region_of
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
