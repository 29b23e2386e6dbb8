"""The click group, its error handling, and the per-command connection setup.

Exit codes: 0 success / no changes; 1 any error, usage errors included; 2 changes present
(``plan --detailed-exitcode``, ``drift``); 3 apply refused by the safety rails. Expected failures
print one paragraph on stderr, never a traceback (unless ``--debug``).
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from ldseg import __version__
from ldseg.cli.options import EXIT_ERROR, EXIT_OK, Settings, global_options
from ldseg.console import console, want_color
from ldseg.errors import LdsegError
from ldseg.runtime import Connection, connect


class LdsegGroup(click.Group):
    """A click group whose usage errors exit 1 (only "changes present" may exit 2), and whose
    commands are registered by name and imported when used (``register``): a command pays at
    start-up only for the modules it needs, not for every other command's (templates, exporters)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy: dict[str, tuple[str, str]] = {}

    def register(self, name: str, module: str, attribute: str) -> None:
        self._lazy[name] = (module, attribute)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self._lazy, *(n for n in super().list_commands(ctx) if n not in self._lazy)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self._lazy:
            return super().get_command(ctx, name)
        module, attribute = self._lazy[name]
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any) -> Any:  # type: ignore[override]
        argv = list(sys.argv[1:] if args is None else args)
        extra.pop("standalone_mode", None)
        sys.exit(_run(self, _rewrite_sandbox(argv), prog_name or "ldseg", extra))


def _run(group: click.Group, argv: list[str], prog_name: str, extra: dict[str, Any]) -> int:
    settings = Settings()
    console.reset(color=want_color(False))
    try:
        rv = click.Group.main(group, argv, prog_name, standalone_mode=False, obj=settings, **extra)
    except click.ClickException as exc:  # usage errors included: exit 1, never 2
        exc.show()
        return EXIT_ERROR
    except click.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # click wraps Ctrl-C in Abort
            click.echo("Interrupted; nothing was changed after this point.", err=True)
            return 130
        click.echo("Aborted.", err=True)
        return EXIT_ERROR
    except LdsegError as exc:
        if settings.debug:
            click.echo(console.clean(traceback.format_exc()), err=True)
        console.error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted; nothing was changed after this point.", err=True)
        return 130
    except Exception as exc:  # a bug: say so plainly, keep the traceback behind --debug
        if settings.debug:
            click.echo(console.clean(traceback.format_exc()), err=True)
            console.error(f"ldseg hit an unexpected internal error ({type(exc).__name__}: {exc}). Report it.")
        else:
            console.error(
                f"ldseg hit an unexpected internal error ({type(exc).__name__}: {exc}). "
                "Run again with --debug for the traceback and report it."
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


@click.group(cls=LdsegGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ldseg")
@global_options
def cli() -> None:
    """Declare LaunchDarkly Data Export destinations and export toggles in YAML; plan and apply.

    \b
    The options below work before or after the command name, on every command.
    Exit codes: 0 success or no changes; 1 error; 2 changes present
    (plan --detailed-exitcode, drift); 3 apply refused by the safety rails.
    """


def open_connection(settings: Settings) -> Connection:
    """Connect as the global options say: LaunchDarkly (base URI, token) or the embedded sandbox."""
    state = settings.sandbox_state
    if state is None and settings.sandbox:
        state = ""
    conn = connect(
        base_uri=settings.base_uri,
        sandbox_state=state,
        sandbox_seed=settings.sandbox_seed,
        limits=settings.limits,
    )
    for note in conn.notes:
        console.warn(note)
    if conn.sandbox is None:
        console.register_secret(conn.token)
    else:
        console.info(f"Using the embedded sandbox at {conn.sandbox.url} (state: {conn.sandbox.state_path}).")
    return conn
