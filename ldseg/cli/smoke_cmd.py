"""Smoke tests of destinations: ``ldseg test [ADDR]...`` and the run after ``ldseg apply``.

The checks and verdicts live in ``ldseg.smoke``; this module parses the options, works out where
Segment is (``--segment-api-url`` / ``SEGMENT_API_URL``, ``--segment-public-api-url`` /
``SEGMENT_PUBLIC_API_URL``, token ``SEGMENT_PUBLIC_API_TOKEN``) and prints the result table.

With ``--sandbox`` both Segment URLs are the embedded sandbox's (it serves Segment's routes at root
paths), unless given on the command line: like ``LD_BASE_URI``, ambient ``SEGMENT_*_URL`` variables
never send sandbox keys to the real Segment. The token is SEGMENT_PUBLIC_API_TOKEN when set, else the
one the ``--sandbox`` connection carries (the sandbox's default token, which the quickstart seed
grants Source Admin).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlparse

import click
from click.core import ParameterSource

from ldseg.applier import ApplyReport, Status
from ldseg.cli.app import cli
from ldseg.cli.options import (
    EXIT_ERROR,
    EXIT_OK,
    config_option,
    connection_options,
    decorate,
    format_option,
    global_options,
    open_connection,
)
from ldseg.console import console
from ldseg.errors import LdsegError
from ldseg.model import DesiredState, DestinationSpec, glob_match
from ldseg.plan import Action, DestinationChange
from ldseg.planfile import dumps
from ldseg.progress import Progress
from ldseg.render.smoke import render_smoke_markdown, render_smoke_text, smoke_document
from ldseg.runtime import Connection
from ldseg.segment import DEFAULT_API_URL, DEFAULT_PUBLIC_API_URL
from ldseg.smoke import SegmentAccess, SmokeOptions, SmokeResult, SmokeRunner, Verdict
from ldseg.workflow import load_desired

F = TypeVar("F", bound=Callable[..., Any])

TOKEN_VAR = "SEGMENT_PUBLIC_API_TOKEN"
_META = "ldseg.smoke"
EXIT_INTERRUPTED = 130
_SMOKED_ACTIONS = (Action.CREATE, Action.UPDATE, Action.REPLACE)


def _meta(ctx: click.Context | None = None) -> dict[str, Any]:
    ctx = ctx or click.get_current_context(silent=True)
    if ctx is None:
        return {}
    meta: dict[str, Any] = ctx.find_root().meta.setdefault(_META, {})
    return meta


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Keep the value and where it came from (command line, environment, default)."""
    _meta(ctx)[param.name or ""] = (value, ctx.get_parameter_source(param.name or ""))
    return value


def _option(*decls: str, **attrs: Any) -> Callable[[F], F]:
    return click.option(*decls, callback=_store, expose_value=False, **attrs)


_TEST_OPTIONS: list[Callable[[Any], Any]] = [
    _option(
        "--send-test-event",
        is_flag=True,
        help="Send one LaunchDarkly-shaped test event to each Segment destination's write key and, with "
        "SEGMENT_PUBLIC_API_TOKEN, wait for it to show in the source's event volume.",
    ),
    _option(
        "--timeout",
        "smoke_timeout",
        type=click.FloatRange(min=0),
        default=120.0,
        show_default=True,
        metavar="SECONDS",
        help="How long to wait for the test event to arrive.",
    ),
    _option(
        "--segment-api-url",
        envvar="SEGMENT_API_URL",
        metavar="URL",
        help=f"Segment's tracking API (default {DEFAULT_API_URL}; also SEGMENT_API_URL).",
    ),
    _option(
        "--segment-public-api-url",
        envvar="SEGMENT_PUBLIC_API_URL",
        metavar="URL",
        help=f"Segment's Public API (default {DEFAULT_PUBLIC_API_URL}; also SEGMENT_PUBLIC_API_URL).",
    ),
    # tests shorten the event-volume polling through this, instead of waiting real seconds
    _option("--poll-interval", type=click.FloatRange(min=0.01), default=5.0, hidden=True),
]


def smoke_options(fn: F) -> F:
    """Options ``apply`` takes for its smoke test run (``--no-smoke-test`` ...), kept out of its
    signature: they are read back from the click context by ``after_apply``."""
    skip = _option("--no-smoke-test", is_flag=True, help="Skip the smoke tests after applying.")
    return decorate(fn, [skip, *_TEST_OPTIONS])


def smoke_test_options(fn: F) -> F:
    """Options of ``ldseg test``: apply's smoke options without --no-smoke-test."""
    return decorate(fn, _TEST_OPTIONS)


def _value(meta: dict[str, Any], name: str, default: Any = None) -> tuple[Any, ParameterSource | None]:
    value, source = meta.get(name, (default, None))
    return (default if value is None else value), source


def smoke_settings(conn: Connection, env: dict[str, str] | None = None) -> tuple[SmokeOptions, SegmentAccess]:
    """The options and Segment endpoints for this command (see the module docstring for --sandbox)."""
    meta = _meta()
    env = dict(os.environ) if env is None else env
    options = SmokeOptions(
        send_test_event=bool(_value(meta, "send_test_event", False)[0]),
        timeout=float(_value(meta, "smoke_timeout", 120.0)[0]),
        poll_interval=float(_value(meta, "poll_interval", 5.0)[0]),
    )
    sandbox_url = conn.segment_url

    def url(name: str, default: str, option: str) -> str:
        value, source = _value(meta, name)
        if value and (sandbox_url is None or source is ParameterSource.COMMANDLINE):
            chosen = str(value).strip().rstrip("/")
        else:
            chosen = sandbox_url or default
        parsed = urlparse(chosen)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise LdsegError(f"{option} {chosen!r} is not an http(s) URL.")
        return chosen

    api_url = url("segment_api_url", DEFAULT_API_URL, "--segment-api-url / SEGMENT_API_URL")
    public_url = url(
        "segment_public_api_url", DEFAULT_PUBLIC_API_URL, "--segment-public-api-url / SEGMENT_PUBLIC_API_URL"
    )
    token = (env.get(TOKEN_VAR) or "").strip() or None
    label = TOKEN_VAR
    if token is None and conn.segment_token is not None:
        token, label = conn.segment_token, "the sandbox's default Segment token"
    console.register_secret(token)
    return options, SegmentAccess(api_url, public_url, token, label)


def run_smoke_tests(conn: Connection, specs: Sequence[DestinationSpec]) -> list[SmokeResult]:
    options, access = smoke_settings(conn)
    waiting = options.send_test_event and any(s.kind == "segment" for s in specs)
    label = "Smoke testing (waiting for test events to arrive in Segment)" if waiting else "Smoke testing"
    n = len(specs)
    progress = Progress(label, lambda: f"{n} destination{'s' if n != 1 else ''}", enabled=not console.quiet)
    with conn.client() as client, progress:
        return SmokeRunner(client, access, options).run(specs)


def _failed(results: Sequence[SmokeResult]) -> list[str]:
    return [str(r.address) for r in results if r.verdict is Verdict.FAIL]


def after_apply(conn: Connection, desired: DesiredState, report: ApplyReport) -> int | None:
    """Smoke-test what the apply created, updated or replaced; an exit code, or None for "fine"."""
    if _value(_meta(), "no_smoke_test", False)[0]:
        return None
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
    specs = [s for s in (desired.destination(a) for a in addresses) if s is not None]
    if not specs:
        return None
    console.out("")
    try:
        results = run_smoke_tests(conn, specs)
    except LdsegError as exc:
        console.error(
            f"The changes above were applied, but the smoke test could not run: {exc} "
            "Run `ldseg test` to try again."
        )
        return EXIT_ERROR
    except KeyboardInterrupt:
        console.error("Smoke test interrupted; the changes above were applied. `ldseg test` checks them.")
        return EXIT_INTERRUPTED
    console.out(render_smoke_text(results, color=console.color), nl=False)
    failed = _failed(results)
    if not failed:
        return None
    console.error(
        f"The changes above were applied (ldseg does not roll them back), but {len(failed)} destination(s) "
        f"failed the smoke test: {', '.join(failed)}. Fix what the checks say and run `ldseg test` again."
    )
    return EXIT_ERROR


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
        raise LdsegError(
            f"{', '.join(repr(p) for p in bad)}: `ldseg test` takes destination addresses, e.g. "
            "destination:web/production/segment-main or 'destination:web/*/*'."
        )
    unmatched = [p for p in patterns if not any(glob_match(p, str(d.address)) for d in declared)]
    if unmatched:
        raise LdsegError(
            f"{', '.join(unmatched)} {'matches' if len(unmatched) == 1 else 'match'} no destination "
            "declared in the configuration; "
            "`ldseg plan` lists them."
        )
    return [d for d in declared if any(glob_match(p, str(d.address)) for p in patterns)]


@cli.command("test")
@click.argument("addresses", nargs=-1, metavar="[ADDR]...")
@config_option
@format_option
@smoke_test_options
@connection_options
@global_options
def smoke_test(addresses: tuple[str, ...], config_paths: tuple[str, ...], output_format: str) -> int:
    """Smoke-test declared destinations (all, or those matching ADDR): PASS, FAIL or UNVERIFIED.

    \b
    Each verdict lists the checks behind it: LaunchDarkly read-back; for
    Segment, the write key's source (needs SEGMENT_PUBLIC_API_TOKEN) and, with
    --send-test-event, a test event watched until it arrives. Exit 1 on any FAIL.
    """
    desired = load_desired(config_paths)
    specs = select(desired, addresses)
    with open_connection() as conn:
        results = run_smoke_tests(conn, specs)
        base_uri = conn.base_uri
    if output_format == "json":
        console.out(dumps(smoke_document(results, desired.files, base_uri)), nl=False)
    elif output_format == "markdown":
        console.out(render_smoke_markdown(results, desired.files), nl=False)
    else:
        console.out(render_smoke_text(results, color=console.color), nl=False)
    failed = _failed(results)
    if failed:
        console.error(f"{len(failed)} destination(s) failed the smoke test: {', '.join(failed)}.")
        return EXIT_ERROR
    return EXIT_OK
