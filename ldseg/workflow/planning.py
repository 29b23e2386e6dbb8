"""Planning steps: load the config, read LaunchDarkly and plan, check a saved plan, apply."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType

from ldseg import config, kinds
from ldseg.applier import Applier, ApplyReport, OnResult
from ldseg.console import console
from ldseg.errors import PlanFileError, StalePlanError, UnsafePlanError, UsageError
from ldseg.ld.client import DEFAULT_PARALLELISM
from ldseg.ld.reader import read
from ldseg.ld.writer import LDWriter
from ldseg.model import RESOURCE_TYPES, DesiredState, LiveState, ReadRequest
from ldseg.plan import Plan
from ldseg.planfile import SavedPlan, config_differences, load_document
from ldseg.planner import PlanOptions, make_plan, what_to_read
from ldseg.progress import Progress
from ldseg.runtime import Connection
from ldseg.scoping import Scoping
from ldseg.staleness import already_applied, stale_reasons
from ldseg.words import count


def load_desired(paths: Sequence[str]) -> DesiredState:
    """Load the config (raising ConfigError) and register its secrets for redaction. Its warnings
    travel on the DesiredState: a plan carries them into every output."""
    desired, _ = config.load_or_raise(paths)
    for scope in desired.scopes.values():
        for dest in (scope.destinations or {}).values():
            for f, v in dest.config.items():
                if kinds.kind(dest.kind).is_secret(f) and isinstance(v, str):
                    console.register_secret(v)
    return desired


def read_and_plan(
    conn: Connection,
    desired: DesiredState,
    *,
    scoping: Scoping | None = None,
    rotate_secrets: bool = False,
    parallelism: int = DEFAULT_PARALLELISM,
) -> Plan:
    """Read LaunchDarkly and plan; the plan's warnings (and safety rails) are shown on stderr."""
    plan, _ = _plan_now(conn, desired, scoping or Scoping(), rotate_secrets, parallelism)
    for w in [*plan.warnings, *(i.message for i in plan.safety)]:
        console.warn(w)
    return plan


def _plan_now(
    conn: Connection, desired: DesiredState, scoping: Scoping, rotate_secrets: bool, parallelism: int
) -> tuple[Plan, LiveState]:
    _, live = read_live(conn, desired, scoping, parallelism)
    plan = make_plan(desired, live, scoping, PlanOptions(rotate_secrets=rotate_secrets))
    return plan, live


def read_live(
    conn: Connection,
    desired: DesiredState,
    scoping: Scoping,
    parallelism: int = DEFAULT_PARALLELISM,
    *,
    widen: Callable[[ReadRequest], ReadRequest] | None = None,
) -> tuple[ReadRequest, LiveState]:
    """The reading a plan of ``scoping`` needs (returned), done; or, for ``ldseg report``, that
    reading as ``widen`` changes it."""
    unmatched = scoping.unmatched(desired)
    if unmatched:
        raise UsageError("Nothing to plan: " + "; ".join(unmatched) + ". Check the spelling.")
    types = [t for t in RESOURCE_TYPES if scoping.reads(t)]
    request = what_to_read(desired, scoping.scopes(desired), types)
    with conn.reader(parallelism) as client:
        progress = Progress(
            "Reading LaunchDarkly", lambda: count(client.request_count, "request"), enabled=not console.quiet
        )
        with progress:
            return request, read(client, request if widen is None else widen(request))


def refuse_if_unsafe(plan: Plan, force: bool, planfile: str | None = None) -> None:
    """The safety rails: exit 3 with nothing changed, unless --force."""
    if not plan.safety or force:
        return
    listing = "\n".join(f"  - {i.message}" for i in plan.safety)
    command = f"ldseg apply {planfile} --force" if planfile else "ldseg apply --force"
    raise UnsafePlanError(
        f"Apply refused by the safety rails; nothing was changed:\n{listing}\n"
        f"Run `{command}` to apply it anyway."
    )


def load_saved_plan(path: str) -> SavedPlan:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanFileError(f"No plan file {path!r}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanFileError(f"Cannot read the plan file {path!r}: {exc}.") from None
    return load_document(text, path)


def check_saved_plan(saved: SavedPlan, desired: DesiredState, conn: Connection, parallelism: int) -> Plan:
    """Return the plan to apply: a fresh plan identical to the saved one. Refuse (StalePlanError,
    nothing changed) when the config, a secret, the account or LaunchDarkly moved since the plan
    was made, or the file no longer says what a plan made now says (see staleness.py); a plan
    LaunchDarkly already has entirely is refused in one sentence saying so."""
    reasons = config_differences(saved, desired)
    planned_uri = saved.doc["base_uri"]
    if planned_uri != conn.base_uri and conn.sandbox is None:
        reasons.append(f"the plan was made against {planned_uri}, not {conn.base_uri}")
    fresh = saved.plan
    if not reasons:
        scoping = Scoping(**{k: tuple(v) for k, v in saved.doc.get("scoping", {}).items()})
        rotate = bool(saved.doc.get("options", {}).get("rotate_secrets", False))
        fresh, live = _plan_now(conn, desired, scoping, rotate, parallelism)
        reasons = stale_reasons(saved.plan, fresh, live)
        if reasons and already_applied(saved.plan, fresh, live):
            raise StalePlanError(_applied_message(len(saved.plan.changes), len(fresh.changes)))
    if reasons:
        listing = "\n".join(f"  - {r}" for r in reasons)
        raise StalePlanError(
            f"The saved plan is stale; nothing was changed:\n{listing}\nRun `ldseg plan --out` again and "
            "review the new plan."
        )
    return fresh


def _applied_message(planned: int, others: int) -> str:
    done = "its change" if planned == 1 else f"all {planned:,} of its changes"
    text = (
        f"This plan was already applied: LaunchDarkly has {done}, and a plan made now from the same "
        "config changes none of them; nothing was changed."
    )
    if not others:
        return text + ' There is nothing left to do (`ldseg plan` says "No changes.").'
    what = "1 other change" if others == 1 else f"{others:,} other changes"
    return text + f" A plan made now has {what}: run `ldseg plan --out` again and review it."


#: a write whose retry budget is spent: running apply again is safe and does only what is missing
APPLY_ADVICE = "Run `ldseg apply` again later: it only does what is still missing."


def apply_plan(
    conn: Connection,
    desired: DesiredState,
    plan: Plan,
    *,
    comment: str,
    parallelism: int,
    on_result: OnResult,
    force: bool = False,
) -> ApplyReport:
    """Apply ``plan``. Approval requests the plan did not foresee (LaunchDarkly answers 405) may be
    opened up to what settings.safety.max_approval_requests leaves, or without limit with --force."""
    planned = plan.summary().approvals_needed
    unplanned = None if force else max(0, desired.settings.max_approval_requests - planned)
    with conn.client(parallelism, APPLY_ADVICE) as client:
        applier = Applier(
            LDWriter(client),
            desired,
            comment,
            parallelism=parallelism,
            on_result=on_result,
            unplanned_requests=unplanned,
        )
        total = len(plan.changes)
        progress = Progress(
            "Applying",
            lambda: f"{len(applier.report.results)}/{count(total, 'change')}",
            enabled=not console.quiet,
        )
        with progress, _stopping_on_signals(applier):
            return applier.apply(plan)


@contextlib.contextmanager
def _stopping_on_signals(applier: Applier) -> Iterator[None]:
    """SIGINT/SIGTERM during an apply: start no new writes, let the in-flight ones finish, and
    report (the caller exits 128 + signal). A second Ctrl-C quits at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if applier.stop.is_set():  # the second signal: quit now, without waiting for anything
            console.error(
                "Quitting at once: writes in flight may or may not have been applied. "
                "Run `ldseg plan` to see where LaunchDarkly stands; `ldseg apply` finishes the job."
            )
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(128 + signum)
        applier.report.interrupted_by = signum
        applier.stop.set()
        console.info(
            f"\n{signal.Signals(signum).name}: starting no new changes; waiting for those in flight "
            "(Ctrl-C again to quit at once)."
        )

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
