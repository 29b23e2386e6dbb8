"""Options shared by commands, and the per-command setup they drive (console, connection)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from ldseg.console import console, want_color
from ldseg.runtime import Connection, connect
from ldseg.scoping import Scoping

#: exit codes (DESIGN §4); 3, apply refused by the safety rails, is UnsafePlanError.exit_code
EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
FORMATS = ("text", "markdown", "json")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Flags:
    debug: bool = False


flags = Flags()


def decorate(fn: F, options: Sequence[Callable[[Any], Any]]) -> F:
    """Apply several click decorators, the first outermost (as if stacked in that order)."""
    for option in reversed(options):
        fn = option(fn)
    return fn


def _meta(ctx: click.Context) -> dict[str, Any]:
    meta: dict[str, Any] = ctx.find_root().meta.setdefault("ldseg", {})
    return meta


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    _meta(ctx)[param.name or ""] = value
    return value


def global_options(fn: F) -> F:
    """--debug, --quiet, --no-color (DESIGN §4 "global"), applied to the console at once."""

    def debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        flags.debug = flags.debug or value

    def quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        console.quiet = console.quiet or value

    def no_color(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        console.color = want_color(value)

    def flag(name: str, cb: Callable[[click.Context, click.Parameter, bool], None], help: str) -> Any:
        return click.option(name, is_flag=True, callback=cb, expose_value=False, is_eager=True, help=help)

    return decorate(
        fn,
        [
            flag("--debug", debug, "Show tracebacks for errors."),
            flag("--quiet", quiet, "Only results and errors: no progress, no warnings."),
            flag("--no-color", no_color, "Never colour the output (also: NO_COLOR)."),
        ],
    )


def connection_options(fn: F) -> F:
    """--base-uri, --sandbox[=STATE]; read back with ``open_connection()``."""
    return decorate(
        fn,
        [
            click.option(
                "--base-uri",
                envvar="LD_BASE_URI",
                metavar="URL",
                callback=_store,
                expose_value=False,
                help="LaunchDarkly base URI (default https://app.launchdarkly.com; also LD_BASE_URI).",
            ),
            click.option(
                "--sandbox",
                "use_sandbox",
                is_flag=True,
                callback=_store,
                expose_value=False,
                help="Run against the embedded sandbox; --sandbox=STATE picks its state file "
                "(default .ldseg/sandbox.json).",
            ),
            click.option("--sandbox-state", hidden=True, callback=_store, expose_value=False),
        ],
    )


def open_connection() -> Connection:
    meta = _meta(click.get_current_context())
    state = meta.get("sandbox_state")
    if state is None and meta.get("use_sandbox"):
        state = ""
    conn = connect(base_uri=meta.get("base_uri"), sandbox_state=state)
    for note in conn.notes:
        console.warn(note)
    if conn.sandbox is None:
        console.register_secret(conn.token)
    else:
        console.info(f"Using the embedded sandbox at {conn.sandbox.url} (state: {conn.sandbox.state_path}).")
    return conn


config_option = click.option(
    "-c",
    "--config",
    "config_paths",
    multiple=True,
    metavar="PATH",
    help="Config file or directory (repeatable; default ./ldseg.yaml).",
)

format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for terminals, markdown for pull-request comments, json for machines.",
)


def scoping_options(fn: F) -> F:
    """--target/--project/--env; read back with ``scoping()``."""
    return decorate(
        fn,
        [
            click.option(
                "--target",
                "targets",
                multiple=True,
                metavar="ADDR",
                callback=_store,
                expose_value=False,
                help="Only this address (repeatable; globs, e.g. 'flag:web/production/*').",
            ),
            click.option(
                "--project",
                "projects",
                multiple=True,
                metavar="KEY",
                callback=_store,
                expose_value=False,
                help="Only this project (repeatable).",
            ),
            click.option(
                "--env",
                "envs",
                multiple=True,
                metavar="KEY",
                callback=_store,
                expose_value=False,
                help="Only this environment (repeatable).",
            ),
        ],
    )


def scoping() -> Scoping:
    meta = _meta(click.get_current_context())
    return Scoping(
        tuple(meta.get("targets") or ()), tuple(meta.get("projects") or ()), tuple(meta.get("envs") or ())
    )


def count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
