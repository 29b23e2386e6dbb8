"""Smoke tests as a step: which destinations (``ldseg test [ADDR]...``, or what an apply changed),
where Segment is, and running the checks (``ldseg.smoke`` runs them; ``ldseg.smoke_checks`` holds
the checks and verdicts).

Segment is reached at ``--segment-api-url`` / ``SEGMENT_API_URL`` and ``--segment-public-api-url``
/ ``SEGMENT_PUBLIC_API_URL``, with the Public API token ``SEGMENT_PUBLIC_API_TOKEN``. With
``--sandbox`` both URLs are the embedded sandbox's unless given on the command line: like
``LD_BASE_URI``, ambient ``SEGMENT_*_URL`` variables never send sandbox keys to the real Segment;
the token is SEGMENT_PUBLIC_API_TOKEN when set, else the sandbox's default token, which the
quickstart seed grants Source Admin.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from urllib.parse import urlparse

from ldseg import secrets
from ldseg.applier import ApplyReport, Status
from ldseg.console import console
from ldseg.errors import UsageError
from ldseg.model import DesiredState, DestinationSpec, Patterns
from ldseg.plan import Action, DestinationChange
from ldseg.progress import Progress
from ldseg.runtime import Connection
from ldseg.segment import DEFAULT_API_URL, DEFAULT_PUBLIC_API_URL
from ldseg.smoke import SegmentAccess, SmokeOptions, SmokeRunner
from ldseg.smoke_checks import SmokeResult

TOKEN_VAR = "SEGMENT_PUBLIC_API_TOKEN"
_SMOKED_ACTIONS = (Action.CREATE, Action.UPDATE, Action.REPLACE)


def segment_access(
    conn: Connection,
    api_url: tuple[str | None, bool],
    public_api_url: tuple[str | None, bool],
    env: Mapping[str, str] | None = None,
) -> SegmentAccess:
    """Where Segment is for this run; each URL is (value, given on the command line)."""
    env = os.environ if env is None else env

    def url(given: tuple[str | None, bool], default: str, option: str) -> str:
        value, from_command_line = given
        if value and (conn.segment_url is None or from_command_line):
            chosen = value.strip().rstrip("/")
        else:
            chosen = conn.segment_url or default
        parsed = urlparse(chosen)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise UsageError(f"{option} {chosen!r} is not an http(s) URL.")
        return chosen

    api = url(api_url, DEFAULT_API_URL, "--segment-api-url / SEGMENT_API_URL")
    public = url(public_api_url, DEFAULT_PUBLIC_API_URL, "--segment-public-api-url / SEGMENT_PUBLIC_API_URL")
    token = (env.get(TOKEN_VAR) or "").strip() or None
    flaw = None if token is None else secrets.token_flaw(token)
    if flaw is not None:
        raise UsageError(f"The Segment Public API token in {TOKEN_VAR} {flaw}; set it to the token alone.")
    label = TOKEN_VAR
    if token is None and conn.segment_token is not None:
        token, label = conn.segment_token, "the sandbox's default Segment token"
    console.register_secret(token)
    return SegmentAccess(api, public, token, label)


def select(desired: DesiredState, patterns: Sequence[str]) -> list[DestinationSpec]:
    """The declared destinations matching ``patterns`` (addresses or globs); all without any."""
    declared = sorted(
        (d for scope in desired.scopes.values() for d in (scope.destinations or {}).values()),
        key=lambda d: d.address,
    )
    if not patterns:
        return declared
    bad = [p for p in patterns if not p.startswith("destination:")]
    if bad:
        raise UsageError(
            f"{', '.join(repr(p) for p in bad)}: `ldseg test` takes destination addresses, e.g. "
            "destination:web/production/segment-main or 'destination:web/*/*'."
        )
    unmatched = [p for p in patterns if not any(Patterns((p,)).matches(str(d.address)) for d in declared)]
    if unmatched:
        raise UsageError(
            f"{', '.join(unmatched)} {'matches' if len(unmatched) == 1 else 'match'} no destination "
            "declared in the configuration; `ldseg plan` lists them."
        )
    wanted = Patterns(tuple(patterns))
    return [d for d in declared if wanted.matches(str(d.address))]


def changed_by(report: ApplyReport, desired: DesiredState) -> list[DestinationSpec]:
    """The destinations an apply created, updated or replaced (and so should be smoke-tested)."""
    addresses = sorted(
        {
            r.change.address
            for r in report.results
            if r.status is Status.APPLIED
            and isinstance(r.change, DestinationChange)
            and r.change.action in _SMOKED_ACTIONS
            and r.step in (None, "create")
        }
    )
    return [s for s in (desired.destination(a) for a in addresses) if s is not None]


def run(
    conn: Connection, specs: Sequence[DestinationSpec], access: SegmentAccess, options: SmokeOptions
) -> list[SmokeResult]:
    """Smoke-test ``specs``, with a progress line while it takes a while."""
    waiting = options.send_test_event and any(s.kind == "segment" for s in specs)
    label = "Smoke testing (waiting for test events to arrive in Segment)" if waiting else "Smoke testing"
    n = len(specs)
    progress = Progress(label, lambda: f"{n} destination{'s' if n != 1 else ''}", enabled=not console.quiet)
    with conn.client() as client, progress:
        return SmokeRunner(client, access, options).run(specs)
