"""``ldseg report`` as steps: read what a plan reads (or the account, as ``ldseg export`` does),
plan, optionally smoke-test the declared destinations, and build the coverage report
(``ldseg.coverage``) from it all.

With a config the reading is a plan's, widened (``coverage.report_request``): the flag listings
keep every flag they return, not only those the config selects (the pages are fetched anyway, so
the matrix shows the whole project at no extra request), and the destinations are listed even
where the config owns none (one request); the plan is made from exactly what ``ldseg plan`` would
have read (``coverage.as_planned``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone

from ldseg.console import console
from ldseg.coverage import (
    CoverageReport,
    FlagsRead,
    SmokeCheck,
    SmokeVerdict,
    as_planned,
    build_report,
    flags_read,
    report_request,
)
from ldseg.ld.account import read_account
from ldseg.model import Address, DesiredState, DestinationSpec, LiveState, Scope
from ldseg.planner import make_plan
from ldseg.runtime import Connection
from ldseg.scoping import Scoping
from ldseg.smoke_checks import SmokeResult
from ldseg.workflow.planning import read_live

SmokeTests = Callable[[Sequence[DestinationSpec]], Sequence[SmokeResult]]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def config_report(
    conn: Connection, desired: DesiredState, scoping: Scoping, smoke: SmokeTests | None = None
) -> CoverageReport:
    """The report of the config's scopes: a plan's reading, the plan, and ``smoke`` (if given)
    run on the declared destinations of those scopes."""
    request, live = read_live(conn, desired, scoping, widen=report_request)
    plan = make_plan(desired, as_planned(live, request), scoping)
    for w in [*plan.warnings, *(i.message for i in plan.safety)]:
        console.warn(w)
    verdicts: dict[Address, SmokeVerdict] = {}
    if smoke is not None:
        scopes = set(request.scopes)
        specs = [
            d
            for key, scope in sorted(desired.scopes.items())
            if key in scopes
            for d in sorted((scope.destinations or {}).values(), key=lambda d: d.name)
        ]
        verdicts = {r.address: _verdict(r) for r in smoke(specs)}
    return build_report(
        live,
        flags_read(request),
        desired=desired,
        plan=plan,
        smoke=verdicts,
        generated_at=_now(),
        notes=plan.warnings,
    )


def account_report(conn: Connection, projects: Sequence[str], envs: Sequence[str]) -> CoverageReport:
    """The report of the account (or some projects and environments of it), read as ``ldseg
    export`` reads it: every flag of every environment."""
    with conn.reader() as client:
        acct = read_account(client, projects, envs)
    for w in acct.warnings:
        console.warn(w)
    live = LiveState(
        environments=acct.environments,
        destinations={s: tuple(ds) for s, ds in acct.destinations.items()},
        flags=acct.flags,
    )
    read: dict[Scope, FlagsRead] = dict.fromkeys(acct.environments, "all")
    return build_report(live, read, generated_at=_now(), notes=acct.warnings)


def _verdict(result: SmokeResult) -> SmokeVerdict:
    checks = tuple(SmokeCheck(c.name, c.outcome.value, c.detail) for c in result.checks)
    return SmokeVerdict(result.verdict.value, checks)
