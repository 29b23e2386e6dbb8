"""``ldseg report``: which flags export their events where, through which destinations, and
whether that works; as one HTML page, JSON or a Markdown summary."""

from __future__ import annotations

from pathlib import Path

import click

from ldseg.cli.app import open_connection
from ldseg.cli.options import (
    EXIT_OK,
    Settings,
    SmokeSettings,
    config_option,
    global_options,
    pass_settings,
    smoke_test_options,
)
from ldseg.cli.smoke_cmd import run_smoke_tests
from ldseg.config import DEFAULT_CONFIG
from ldseg.console import console
from ldseg.coverage import CoverageReport
from ldseg.errors import OutputError, UsageError
from ldseg.render.coverage import REPORT, REPORT_FORMATS, ReportFormat
from ldseg.render.table import Context
from ldseg.scoping import Scoping
from ldseg.words import count
from ldseg.workflow.planning import load_desired
from ldseg.workflow.reporting import account_report, config_report

_SUFFIXES: dict[str, ReportFormat] = {".json": "json", ".md": "markdown", ".markdown": "markdown"}


@click.command("report")
@config_option
@click.option(
    "--account",
    is_flag=True,
    help="Report the account as LaunchDarkly has it, every flag read, without a config "
    "(the default when there is no -c and no ./ldseg.yaml).",
)
@click.option("--project", "projects", multiple=True, metavar="KEY", help="Only this project (repeatable).")
@click.option("--env", "envs", multiple=True, metavar="KEY", help="Only this environment (repeatable).")
@click.option("-o", "--output", metavar="FILE", help="Write the report to FILE instead of stdout.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(REPORT_FORMATS),
    help="html: one self-contained page (the default; json if FILE ends in .json, markdown if in .md); "
    "json: the data (schemas/report.schema.json); markdown: a summary for a pull request or a wiki.",
)
@click.option(
    "--smoke", "run_smoke", is_flag=True, help="Smoke-test the declared destinations (as `ldseg test`)."
)
@smoke_test_options
@global_options
@pass_settings
def report(
    settings: Settings,
    config_paths: tuple[str, ...],
    account: bool,
    projects: tuple[str, ...],
    envs: tuple[str, ...],
    output: str | None,
    output_format: ReportFormat | None,
    run_smoke: bool,
    smoke: SmokeSettings,
) -> int:
    """Report which flags export where, through which destinations, and what the config wants.

    \b
    With a config (-c, or ./ldseg.yaml), reads what `ldseg plan` reads and marks
    pending changes and drift; with --account (or no config), reads the account
    as `ldseg export` does. Exit 0 when the report was written, 1 on an error.
    """
    if account and config_paths:
        raise UsageError("--account reports the account without a config: leave out -c, or --account.")
    with_config = bool(config_paths) or (not account and Path(DEFAULT_CONFIG).is_file())
    if run_smoke and not with_config:
        raise UsageError(
            "--smoke tests the destinations a config declares (LaunchDarkly never shows their write keys): "
            "give the config with -c."
        )
    if smoke.options.send_test_event and not run_smoke:
        raise UsageError("--send-test-event belongs to the smoke test: add --smoke.")
    fmt = output_format or _SUFFIXES.get(Path(output).suffix.lower() if output else "", "html")
    files: tuple[str, ...] = ()
    with open_connection(settings) as conn:
        result: CoverageReport
        if with_config:
            desired = load_desired(config_paths)
            files = desired.files
            tests = (lambda specs: run_smoke_tests(conn, specs, smoke)) if run_smoke else None
            result = config_report(conn, desired, Scoping(projects=projects, envs=envs), tests)
        else:
            result = account_report(conn, projects, envs)
        context = Context(files, conn.base_uri)
    text = REPORT.render(fmt, result, context)
    if output is None:
        console.out(text, nl=False)
        return EXIT_OK
    try:
        Path(output).write_text(console.clean(text), encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"Cannot write the report to {output}: {exc.strerror or exc}.") from None
    flags = sum(len(p.flags) for p in result.projects)
    console.info(f"Wrote {output} ({fmt}: {count(len(result.projects), 'project')}, {count(flags, 'flag')}).")
    return EXIT_OK
