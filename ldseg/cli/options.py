"""The options commands share, and the typed objects they become.

Global options (``--debug``, ``--quiet``, ``--no-color``, ``--base-uri``, ``--sandbox[=STATE]``,
``--sandbox-seed``, ``--connect-timeout``, ``--read-timeout``, ``--request-deadline``)
work before and after the command name (``ldseg --sandbox plan`` or ``ldseg plan --sandbox``) on
every command: both positions fill in the invocation's one ``Settings`` object, which a command
receives as its first argument (``@pass_settings``). Option groups (``--target/--project/--env``,
the smoke-test options) reach a command as one typed value each (``Scoping``, ``SmokeSettings``)
instead of loose parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from ldseg.console import console, want_color
from ldseg.ld.client import DEFAULT_DEADLINE
from ldseg.runtime import TimeLimits
from ldseg.scoping import Scoping
from ldseg.segment import DEFAULT_API_URL, DEFAULT_PUBLIC_API_URL
from ldseg.smoke import SmokeOptions
from ldseg.transport import Timeouts

#: exit codes; 3, apply refused by the safety rails, is UnsafePlanError.exit_code
EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
FORMATS = ("text", "markdown", "json")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Settings:
    """What the global options say, for one invocation."""

    debug: bool = False
    quiet: bool = False
    no_color: bool = False
    base_uri: str | None = None
    #: ``--sandbox``: the embedded sandbox, with its state in ``sandbox_state`` (None: the default file)
    sandbox: bool = False
    sandbox_state: str | None = None
    #: ``--sandbox-seed``: the seed a new sandbox state file is made from (implies ``--sandbox``)
    sandbox_seed: str | None = None
    #: ``--connect-timeout``, ``--read-timeout`` (per attempt) and ``--request-deadline``
    connect_timeout: float = Timeouts().connect
    read_timeout: float = Timeouts().read
    request_deadline: float = DEFAULT_DEADLINE

    @property
    def limits(self) -> TimeLimits:
        return TimeLimits(Timeouts(self.connect_timeout, self.read_timeout), self.request_deadline)

    def apply_to_console(self) -> None:
        console.quiet = self.quiet
        console.color = want_color(self.no_color)


pass_settings = click.make_pass_decorator(Settings, ensure=True)


def decorate(fn: F, options: Sequence[Callable[[Any], Any]]) -> F:
    """Apply several click decorators, the first outermost (as if stacked in that order)."""
    for option in reversed(options):
        fn = option(fn)
    return fn


def _setting(name: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A callback storing a global option in the Settings, unless it was left at its default (so
    the command's own copy of an option given before the command name does not undo it)."""

    def store(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        settings = ctx.ensure_object(Settings)
        if ctx.get_parameter_source(param.name or "") is not ParameterSource.DEFAULT:
            setattr(settings, name, value)
            settings.apply_to_console()
        return value

    return store


def _global_option(*decls: str, attr: str, **attrs: Any) -> Callable[[F], F]:
    return click.option(*decls, callback=_setting(attr), expose_value=False, is_eager=True, **attrs)


def _seconds_option(flag: str, attr: str, help: str) -> Callable[[F], F]:
    """A global time limit in seconds, also set by ``LDSEG_<ATTR>``."""
    return _global_option(
        flag,
        attr=attr,
        type=click.FloatRange(min=0, min_open=True),
        envvar=f"LDSEG_{attr.upper()}",
        metavar="SECONDS",
        help=help,
    )


GLOBAL_OPTIONS: list[Callable[[Any], Any]] = [
    _global_option("--debug", attr="debug", is_flag=True, help="Show tracebacks for errors."),
    _global_option(
        "--quiet", attr="quiet", is_flag=True, help="Only results and errors: no progress, no warnings."
    ),
    _global_option(
        "--no-color", attr="no_color", is_flag=True, help="Never colour the output (also: NO_COLOR)."
    ),
    _global_option(
        "--base-uri",
        attr="base_uri",
        envvar="LD_BASE_URI",
        metavar="URL",
        help="LaunchDarkly base URI (default https://app.launchdarkly.com; also LD_BASE_URI).",
    ),
    _global_option(
        "--sandbox",
        attr="sandbox",
        is_flag=True,
        help="Run against the embedded sandbox; --sandbox=STATE picks its state file "
        "(default .ldseg/sandbox.json).",
    ),
    _global_option("--sandbox-state", attr="sandbox_state", hidden=True),
    _global_option(
        "--sandbox-seed",
        attr="sandbox_seed",
        metavar="FILE",
        help="Start the embedded sandbox (implies --sandbox) from this seed (YAML or JSON) when its "
        "state file is new; a state file made from another seed is refused.",
    ),
    _seconds_option(
        "--connect-timeout",
        "connect_timeout",
        f"Wait this long for a connection (default {Timeouts().connect:g}; also LDSEG_CONNECT_TIMEOUT).",
    ),
    _seconds_option(
        "--read-timeout",
        "read_timeout",
        f"Wait this long for each answer (default {Timeouts().read:g}; also LDSEG_READ_TIMEOUT).",
    ),
    _seconds_option(
        "--request-deadline",
        "request_deadline",
        f"Give up on a request after this long, retries, timeouts and waits included (default "
        f"{DEFAULT_DEADLINE:g}; also LDSEG_REQUEST_DEADLINE).",
    ),
]


def global_options(fn: F) -> F:
    """The global options, accepted by the group and by every command."""
    return decorate(fn, GLOBAL_OPTIONS)


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


def _grouped(
    options: Sequence[Callable[[Any], Any]], names: Sequence[str], into: str, build: Callable[..., Any]
) -> Callable[[F], F]:
    """Options that reach the command as one value: ``build(**their values)`` passed as ``into``."""

    def decorator(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            kwargs[into] = build(**{n: kwargs.pop(n) for n in names})
            return fn(*args, **kwargs)

        return decorate(wrapper, options)  # type: ignore[return-value]

    return decorator


def _scoping(targets: tuple[str, ...], projects: tuple[str, ...], envs: tuple[str, ...]) -> Scoping:
    return Scoping(targets, projects, envs)


scoping_options = _grouped(
    [
        click.option(
            "--target",
            "targets",
            multiple=True,
            metavar="ADDR",
            help="Only this address (repeatable; globs, e.g. 'flag:web/production/*').",
        ),
        click.option(
            "--project", "projects", multiple=True, metavar="KEY", help="Only this project (repeatable)."
        ),
        click.option(
            "--env", "envs", multiple=True, metavar="KEY", help="Only this environment (repeatable)."
        ),
    ],
    ["targets", "projects", "envs"],
    "scoping",
    _scoping,
)


@dataclass(frozen=True)
class SmokeSettings:
    """The smoke-test options of ``test`` and ``apply``. A Segment URL remembers whether it came
    from the command line: with ``--sandbox`` only such a URL overrides the sandbox's own (an
    ambient SEGMENT_*_URL must never send sandbox keys to the real Segment)."""

    options: SmokeOptions = field(default_factory=SmokeOptions)
    api_url: str | None = None
    api_url_from_command_line: bool = False
    public_api_url: str | None = None
    public_api_url_from_command_line: bool = False
    skip: bool = False


def _smoke(
    send_test_event: bool,
    smoke_timeout: float,
    segment_api_url: str | None,
    segment_public_api_url: str | None,
    poll_interval: float,
    no_smoke_test: bool = False,
) -> SmokeSettings:
    ctx = click.get_current_context()

    def given(name: str) -> bool:
        return ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE

    return SmokeSettings(
        SmokeOptions(send_test_event, smoke_timeout, poll_interval),
        segment_api_url,
        given("segment_api_url"),
        segment_public_api_url,
        given("segment_public_api_url"),
        no_smoke_test,
    )


_SMOKE_OPTIONS: list[Callable[[Any], Any]] = [
    click.option(
        "--send-test-event",
        is_flag=True,
        help="Send one LaunchDarkly-shaped test event to each Segment destination's write key and, with "
        "SEGMENT_PUBLIC_API_TOKEN, wait for it to show in the source's event volume.",
    ),
    click.option(
        "--timeout",
        "smoke_timeout",
        type=click.FloatRange(min=0),
        default=120.0,
        show_default=True,
        metavar="SECONDS",
        help="How long to wait for the test event to arrive.",
    ),
    click.option(
        "--segment-api-url",
        envvar="SEGMENT_API_URL",
        metavar="URL",
        help=f"Segment's tracking API (default {DEFAULT_API_URL}; also SEGMENT_API_URL).",
    ),
    click.option(
        "--segment-public-api-url",
        envvar="SEGMENT_PUBLIC_API_URL",
        metavar="URL",
        help=f"Segment's Public API (default {DEFAULT_PUBLIC_API_URL}; also SEGMENT_PUBLIC_API_URL).",
    ),
    # tests shorten the event-volume polling through this, instead of waiting real seconds
    click.option("--poll-interval", type=click.FloatRange(min=0.01), default=5.0, hidden=True),
]
_SMOKE_NAMES = [
    "send_test_event",
    "smoke_timeout",
    "segment_api_url",
    "segment_public_api_url",
    "poll_interval",
]

#: ``ldseg test``'s options, as ``smoke: SmokeSettings``
smoke_test_options = _grouped(_SMOKE_OPTIONS, _SMOKE_NAMES, "smoke", _smoke)
#: ``apply``'s: the same, and --no-smoke-test
smoke_options = _grouped(
    [
        click.option("--no-smoke-test", is_flag=True, help="Skip the smoke tests after applying."),
        *_SMOKE_OPTIONS,
    ],
    [*_SMOKE_NAMES, "no_smoke_test"],
    "smoke",
    _smoke,
)
