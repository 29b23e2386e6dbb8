"""The ``ldseg`` command line. Thin: parse options, call the core, render, map errors to exit codes.

Exit codes (DESIGN §4): 0 success / no changes; 1 any error, usage errors included; 2 changes
present (``plan --detailed-exitcode``, ``drift``); 3 apply refused by the safety rails.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from ldseg import __version__, config, kinds
from ldseg.applier import Applier, ApplyReport, ChangeResult, Status
from ldseg.audit import audit_comment
from ldseg.console import Console, console, want_color
from ldseg.errors import ConfigError, LdsegError, Problem
from ldseg.exporter import export_config, variables_note
from ldseg.ld.account import read_account
from ldseg.ld.reader import read_live
from ldseg.model import DesiredState
from ldseg.plan import Plan
from ldseg.planner import PlanOptions, make_plan
from ldseg.render.report import flag_lines, result_line, totals_line
from ldseg.render.text import render_plan
from ldseg.resources import schema_path
from ldseg.runtime import Connection, connect

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_UNSAFE = 0, 1, 2, 3

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class _Flags:
    debug: bool = False


_flags = _Flags()


class LdsegGroup(click.Group):
    """A click group whose usage errors exit 1 (only "changes present" may exit 2) and whose
    expected failures print one paragraph, never a traceback (unless --debug)."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any) -> Any:  # type: ignore[override]
        argv = list(sys.argv[1:] if args is None else args)
        extra.pop("standalone_mode", None)
        code = _run(self, _rewrite_sandbox(argv), prog_name or "ldseg", extra)
        sys.exit(code)


def _run(group: click.Group, argv: list[str], prog_name: str, extra: dict[str, Any]) -> int:
    _flags.debug = False
    console.reset()
    try:
        rv = click.Group.main(group, argv, prog_name, standalone_mode=False, **extra)
    except click.UsageError as exc:
        exc.show()
        return EXIT_ERROR
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code if exc.exit_code != 2 else EXIT_ERROR
    except click.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_ERROR
    except LdsegError as exc:
        if _flags.debug:
            click.echo(console.clean(traceback.format_exc()), err=True)
        console.error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("\nInterrupted.", err=True)
        return 130
    except Exception as exc:  # a bug: say so plainly, keep the traceback behind --debug
        if _flags.debug:
            click.echo(console.clean(traceback.format_exc()), err=True)
        console.error(
            f"ldseg hit an unexpected internal error ({type(exc).__name__}: {exc}). "
            "Nothing more was changed after it. Run again with --debug for the traceback and report it."
        )
        return EXIT_ERROR
    return rv if isinstance(rv, int) else EXIT_OK


def _rewrite_sandbox(argv: list[str]) -> list[str]:
    """``--sandbox=STATE`` -> ``--sandbox --sandbox-state STATE``: the optional value only binds
    with ``=``, so ``apply --sandbox plan.json`` keeps plan.json as the positional argument."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            return out + argv[i:]
        if arg.startswith("--sandbox="):
            out += ["--sandbox", "--sandbox-state", arg.split("=", 1)[1]]
        else:
            out.append(arg)
    return out


# --- shared options ---------------------------------------------------------------------------


def global_options(fn: F) -> F:
    """Options every command accepts (DESIGN §4 "global")."""

    def set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
        _flags.debug = _flags.debug or value
        return value

    options = [
        click.option(
            "--debug",
            is_flag=True,
            callback=set_debug,
            expose_value=False,
            is_eager=True,
            help="Show tracebacks for errors.",
        ),
        click.option("--quiet", "-q", is_flag=True, help="Only results and errors; no progress or warnings."),
        click.option("--no-color", is_flag=True, help="Never colour the output (also: NO_COLOR)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def connection_options(fn: F) -> F:
    options = [
        click.option(
            "--base-uri",
            envvar="LD_BASE_URI",
            metavar="URL",
            help="LaunchDarkly base URI (default https://app.launchdarkly.com; also LD_BASE_URI).",
        ),
        click.option(
            "--sandbox",
            "use_sandbox",
            is_flag=True,
            help="Run against the embedded sandbox; --sandbox=STATE picks its state file "
            "(default .ldseg/sandbox.json).",
        ),
        click.option("--sandbox-state", hidden=True, default=None),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


config_option = click.option(
    "-c",
    "--config",
    "config_paths",
    multiple=True,
    metavar="PATH",
    help="Config file or directory (repeatable; default ./ldseg.yaml).",
)


def _setup_console(quiet: bool, no_color: bool) -> Console:
    console.quiet = quiet
    console.color = want_color(no_color)
    console.debug = _flags.debug
    return console


def _connect(base_uri: str | None, use_sandbox: bool, sandbox_state: str | None) -> Connection:
    state = sandbox_state if sandbox_state is not None else ("" if use_sandbox else None)
    conn = connect(base_uri=base_uri, sandbox_state=state)
    console.register_secret(conn.token if conn.sandbox is None else None)
    if conn.sandbox is not None:
        console.info(f"Using the embedded sandbox at {conn.sandbox.url} (state: {conn.sandbox.state_path}).")
    return conn


def _show_problems(problems: Sequence[Problem]) -> None:
    for p in problems:
        console.warn(str(p).replace(": warning: ", ": ", 1))


def _load(config_paths: Sequence[str]) -> DesiredState:
    desired, warnings = config.load_or_raise(config_paths)
    for scope in desired.scopes.values():
        for dest in (scope.destinations or {}).values():
            for f, v in dest.config.items():
                if kinds.kind(dest.kind).is_secret(f) and isinstance(v, str):
                    console.register_secret(v)
    _show_problems(warnings)
    return desired


def _compute_plan(
    conn: Connection, desired: DesiredState, rotate_secrets: bool, parallelism: int = 8
) -> Plan:
    with conn.client(parallelism) as client:
        result = read_live(client, desired, desired.scopes)
    for w in result.warnings:
        console.warn(w)
    plan = make_plan(desired, result.live, options=PlanOptions(rotate_secrets=rotate_secrets))
    for w in plan.warnings:
        console.warn(w)
    return plan


# --- commands ---------------------------------------------------------------------------------


@click.group(cls=LdsegGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ldseg")
def cli() -> None:
    """Declare LaunchDarkly Data Export destinations and export toggles in YAML; plan and apply.

    \b
    Exit codes: 0 success or no changes; 1 error; 2 changes present
    (plan --detailed-exitcode, drift); 3 apply refused by the safety rails.
    """


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


@cli.command()
@config_option
@global_options
def validate(config_paths: tuple[str, ...], quiet: bool, no_color: bool) -> int:
    """Check the config offline: every problem at once, with file:line. Needs no token or secrets."""
    _setup_console(quiet, no_color)
    result = config.load(config_paths, offline=True)
    _show_problems(result.warnings)
    if result.errors or result.desired is None:
        raise ConfigError(result.errors)
    scopes = result.desired.scopes.values()
    counts = [
        _count(len(result.desired.files), "file"),
        _count(len(scopes), "environment"),
        _count(sum(len(s.destinations or {}) for s in scopes), "destination"),
        _count(sum(1 for s in scopes if s.export), "export block"),
    ]
    console.out(f"The configuration is valid: {', '.join(counts)}.")
    return EXIT_OK


@cli.command()
@config_option
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes (0: none, 1: error).")
@click.option("--rotate-secrets", is_flag=True, help="Plan to re-send every declared secret.")
@connection_options
@global_options
def plan(
    config_paths: tuple[str, ...],
    detailed_exitcode: bool,
    rotate_secrets: bool,
    base_uri: str | None,
    use_sandbox: bool,
    sandbox_state: str | None,
    quiet: bool,
    no_color: bool,
) -> int:
    """Show what apply would change in LaunchDarkly."""
    _setup_console(quiet, no_color)
    desired = _load(config_paths)
    with _connect(base_uri, use_sandbox, sandbox_state) as conn:
        the_plan = _compute_plan(conn, desired, rotate_secrets)
    console.out(render_plan(the_plan, color=console.color), nl=False)
    return EXIT_CHANGES if detailed_exitcode and not the_plan.empty else EXIT_OK


@cli.command()
@config_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking for confirmation.")
@click.option(
    "--parallelism", type=click.IntRange(1, 64), default=8, show_default=True, help="Concurrent writes."
)
@click.option(
    "--comment",
    metavar="TEXT",
    help="Audit-log comment (also LDSEG_COMMENT, settings.comment; default: ldseg version + git commit).",
)
@click.option("--rotate-secrets", is_flag=True, help="Re-send every declared secret.")
@connection_options
@global_options
def apply(
    config_paths: tuple[str, ...],
    auto_approve: bool,
    parallelism: int,
    comment: str | None,
    rotate_secrets: bool,
    base_uri: str | None,
    use_sandbox: bool,
    sandbox_state: str | None,
    quiet: bool,
    no_color: bool,
) -> int:
    """Plan, confirm, and apply the changes to LaunchDarkly."""
    _setup_console(quiet, no_color)
    desired = _load(config_paths)
    with _connect(base_uri, use_sandbox, sandbox_state) as conn:
        the_plan = _compute_plan(conn, desired, rotate_secrets, parallelism)
        console.out(render_plan(the_plan, color=console.color), nl=False)
        if the_plan.empty:
            return EXIT_OK
        _confirm(auto_approve)
        console.out("")
        note = audit_comment(comment, desired.settings.comment)
        with conn.client(parallelism) as client:
            applier = Applier(client, desired, note, parallelism=parallelism, on_result=_print_result)
            report = applier.apply(the_plan)
    return _finish(report)


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _confirm(auto_approve: bool) -> None:
    if auto_approve:
        return
    if not _stdin_is_terminal():
        raise LdsegError(
            "apply needs a confirmation, and there is no terminal to ask on. Review the plan above and "
            "run again with --auto-approve (nothing was changed)."
        )
    answer = click.prompt(
        "\nDo you want to apply these changes? Only 'yes' will be accepted", default="", show_default=False
    )
    if answer.strip() != "yes":
        raise LdsegError("Apply cancelled; nothing was changed.")


def _print_result(result: ChangeResult) -> None:
    line = result_line(result)
    if line is not None:
        console.out(line)


def _finish(report: ApplyReport) -> int:
    for line in flag_lines(report):
        console.out(line)
    console.out("\n" + totals_line(report))
    if report.ok:
        return EXIT_OK
    failed, skipped = report.count(Status.FAILED), report.count(Status.SKIPPED)
    raise LdsegError(
        f"{failed} change(s) failed and {skipped} were skipped; the others were applied (listed above). "
        "Fix the cause and run apply again: it only does what is still missing."
    )


@cli.command(name="export")
@click.option("--project", "projects", multiple=True, metavar="KEY", help="Export this project (repeatable).")
@click.option(
    "--env", "envs", multiple=True, metavar="KEY", help="Export only this environment (repeatable)."
)
@click.option(
    "-o",
    "--output",
    metavar="FILE|DIR",
    help="Write to FILE, or one file per project into DIR (an existing directory or a path ending in /).",
)
@connection_options
@global_options
def export_command(
    projects: tuple[str, ...],
    envs: tuple[str, ...],
    output: str | None,
    base_uri: str | None,
    use_sandbox: bool,
    sandbox_state: str | None,
    quiet: bool,
    no_color: bool,
) -> int:
    """Write the live destinations and export toggles as ldseg.yaml (adopt an existing setup)."""
    _setup_console(quiet, no_color)
    per_project = output is not None and (output.endswith(("/", os.sep)) or Path(output).is_dir())
    with _connect(base_uri, use_sandbox, sandbox_state) as conn:
        with conn.client() as client:
            acct = read_account(client, projects, envs)
        result = export_config(
            acct, include_all=bool(projects), per_project=per_project, source=conn.base_uri
        )
    for w in [*acct.warnings, *result.warnings]:
        console.warn(w)
    if output is None:
        for text in result.files.values():
            console.out(text, nl=False)
    else:
        written = _write_files(Path(output), result.files, per_project)
        console.info("Wrote " + ", ".join(str(p) for p in written) + ".")
    console.info(variables_note(result.variables))
    return EXIT_OK


def _write_files(target: Path, files: dict[str, str], per_project: bool) -> list[Path]:
    paths = [target / name for name in files] if per_project else [target]
    try:
        if per_project:
            target.mkdir(parents=True, exist_ok=True)
        for path, text in zip(paths, files.values(), strict=True):
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise LdsegError(f"Cannot write {exc.filename or target}: {exc.strerror or exc}.") from None
    return paths


@cli.command()
@global_options
def schema(quiet: bool, no_color: bool) -> int:
    """Print the config JSON Schema (for editors and CI linters)."""
    _setup_console(quiet, no_color)
    console.out(schema_path("ldseg.schema.json").read_text(encoding="utf-8"), nl=False)
    return EXIT_OK


@cli.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8088, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--state", "state_path", metavar="FILE", help="Persist the account in this JSON file.")
@click.option(
    "--seed", "seed_path", metavar="FILE", help="Seed (YAML or JSON) used when the state file is new."
)
@click.option("--latency-ms", type=click.FloatRange(0), default=0, help="Extra latency per request.")
@global_options
def sandbox(
    port: int,
    host: str,
    state_path: str | None,
    seed_path: str | None,
    latency_ms: float,
    quiet: bool,
    no_color: bool,
) -> int:
    """Run the LaunchDarkly API sandbox as a standalone server."""
    from ldseg.sandbox import DEFAULT_TOKEN, Sandbox

    _setup_console(quiet, no_color)
    sb = Sandbox(seed=seed_path, state_path=state_path, host=host, port=port, latency_ms=latency_ms)
    sb.start()
    console.info(f"LaunchDarkly sandbox listening on {sb.url}")
    console.info(f"  token: {DEFAULT_TOKEN}   (export LD_BASE_URI={sb.url} LD_ACCESS_TOKEN=<token>)")
    console.info("  Ctrl-C to stop.")
    try:
        sb.serve_forever()
    finally:
        sb.stop()
    return EXIT_OK


def main() -> None:
    """Console-script entry point."""
    cli.main()
