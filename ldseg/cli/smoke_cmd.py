"""``ldseg test [ADDR]...``, and the smoke test ``ldseg apply`` runs after applying.

The checks and verdicts are ``ldseg.smoke_checks``', the steps ``workflow.smoke_tests``'; this module
parses the options and prints the results.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from ldseg.applier import ApplyReport
from ldseg.cli.app import open_connection
from ldseg.cli.options import (
    EXIT_ERROR,
    EXIT_OK,
    Settings,
    SmokeSettings,
    config_option,
    format_option,
    global_options,
    pass_settings,
    smoke_test_options,
)
from ldseg.console import console
from ldseg.errors import LdsegError
from ldseg.model import DesiredState, DestinationSpec
from ldseg.render.table import TEST, Context, Format
from ldseg.runtime import Connection
from ldseg.smoke_checks import SmokeResult, Verdict
from ldseg.words import count
from ldseg.workflow import smoke_tests
from ldseg.workflow.planning import load_desired

EXIT_INTERRUPTED = 130


def run_smoke_tests(
    conn: Connection, specs: Sequence[DestinationSpec], smoke: SmokeSettings
) -> list[SmokeResult]:
    access = smoke_tests.segment_access(
        conn,
        (smoke.api_url, smoke.api_url_from_command_line),
        (smoke.public_api_url, smoke.public_api_url_from_command_line),
    )
    return smoke_tests.run(conn, specs, access, smoke.options)


def _failed(results: Sequence[SmokeResult]) -> list[str]:
    return [str(r.address) for r in results if r.verdict is Verdict.FAIL]


def after_apply(
    conn: Connection, desired: DesiredState, report: ApplyReport, smoke: SmokeSettings
) -> tuple[list[SmokeResult] | None, int | None]:
    """Smoke-test what the apply created, updated or replaced: the results (None: nothing was
    tested) and an exit code (None: fine). The caller renders the results."""
    if smoke.skip:
        return None, None
    specs = smoke_tests.changed_by(report, desired)
    if not specs:
        return None, None
    try:
        results = run_smoke_tests(conn, specs, smoke)
    except LdsegError as exc:
        console.error(
            f"The changes above were applied, but the smoke test could not run: {exc} "
            "Run `ldseg test` to try again."
        )
        return None, EXIT_ERROR
    except KeyboardInterrupt:
        console.error("Smoke test interrupted; the changes above were applied. `ldseg test` checks them.")
        return None, EXIT_INTERRUPTED
    failed = _failed(results)
    if not failed:
        return results, None
    console.error(
        "The changes above were applied (ldseg does not roll them back), but "
        f"{count(len(failed), 'destination')} failed the smoke test: {', '.join(failed)}. Fix what the "
        "checks say and run `ldseg test` again."
    )
    return results, EXIT_ERROR


@click.command("test")
@click.argument("addresses", nargs=-1, metavar="[ADDR]...")
@config_option
@format_option
@smoke_test_options
@global_options
@pass_settings
def smoke_test(
    settings: Settings,
    addresses: tuple[str, ...],
    config_paths: tuple[str, ...],
    output_format: Format,
    smoke: SmokeSettings,
) -> int:
    """Smoke-test declared destinations (all, or those matching ADDR): PASS, FAIL or UNVERIFIED.

    \b
    Each verdict lists the checks behind it: LaunchDarkly read-back; for
    Segment, the write key's source (needs SEGMENT_PUBLIC_API_TOKEN) and, with
    --send-test-event, a test event watched until it arrives. Exit 1 on any FAIL.
    """
    desired = load_desired(config_paths)
    for w in desired.warnings:
        console.warn(w)
    specs = smoke_tests.select(desired, addresses)
    with open_connection(settings) as conn:
        results = run_smoke_tests(conn, specs, smoke)
        context = Context(desired.files, conn.base_uri, console.color, desired.warnings)
    console.out(TEST.render(output_format, results, context), nl=False)
    failed = _failed(results)
    if failed:
        console.error(f"{count(len(failed), 'destination')} failed the smoke test: {', '.join(failed)}.")
        return EXIT_ERROR
    return EXIT_OK
