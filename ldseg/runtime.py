"""Connection settings for a command: base URI, token, or the embedded sandbox.

``--sandbox[=STATE]`` starts the sandbox in this process on a free loopback port, with its state in
a JSON file (default ``.ldseg/sandbox.json``, seeded when missing from ``--sandbox-seed FILE`` or
else the quickstart seed), so that ``plan``, ``apply`` and ``plan`` run as three processes behave
as against one real account. ``start_sandbox`` (also used by ``ldseg sandbox``) turns everything
that can stop the sandbox from starting into one ``SandboxError`` paragraph.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from ldseg import secrets
from ldseg.console import console
from ldseg.errors import SandboxError, UsageError
from ldseg.ld.client import (
    DEFAULT_ADVICE,
    DEFAULT_BASE_URI,
    DEFAULT_DEADLINE,
    DEFAULT_PARALLELISM,
    READ_FACTOR,
    LDClient,
)
from ldseg.resources import quickstart_seed_path
from ldseg.transport import Timeouts

if TYPE_CHECKING:
    from ldseg.sandbox import Sandbox

DEFAULT_SANDBOX_STATE = ".ldseg/sandbox.json"
TOKEN_VARS = ("LD_ACCESS_TOKEN", "LAUNCHDARKLY_ACCESS_TOKEN")


@dataclass(frozen=True)
class TimeLimits:
    """How long ldseg waits on the network (``--connect-timeout``, ``--read-timeout``,
    ``--request-deadline``): per attempt, and for one request with its retries and waits."""

    timeouts: Timeouts = field(default_factory=Timeouts)
    deadline: float = DEFAULT_DEADLINE

    def advice(self) -> str:
        """What to do about a timeout, with the values in force."""
        return (
            "If LaunchDarkly is slow rather than down, allow more time: --connect-timeout, "
            f"--read-timeout, --request-deadline (now {self.timeouts.connect:g}, "
            f"{self.timeouts.read:g} and {self.deadline:g} s)."
        )


@dataclass
class Connection:
    """Where to send LaunchDarkly requests; owns the in-process sandbox, if any."""

    base_uri: str
    token: str
    sandbox: Sandbox | None = None
    #: things worth a warning about how the connection was set up
    notes: tuple[str, ...] = ()
    #: with ``--sandbox``: where the sandbox serves Segment's APIs, and the Public API token to send
    segment_url: str | None = None
    segment_token: str | None = None
    limits: TimeLimits = field(default_factory=TimeLimits)
    #: set once LaunchDarkly has answered any client of this connection
    reached: threading.Event = field(default_factory=threading.Event)

    def client(self, parallelism: int = DEFAULT_PARALLELISM, advice: str = DEFAULT_ADVICE) -> LDClient:
        """``advice``: what to do when a request's retry budget is spent, in the command's terms.
        While requests wait (slow answers, retries, rate limits) it says so on stderr."""
        return LDClient(
            self.base_uri,
            self.token,
            parallelism=parallelism,
            advice=advice,
            timeouts=self.limits.timeouts,
            retry_budget=self.limits.deadline,
            timeout_advice=self.limits.advice(),
            say=console.info,
            reached=self.reached,
        )

    def reader(self, parallelism: int = DEFAULT_PARALLELISM) -> LDClient:
        """A client for reading: GETs run READ_FACTOR times as concurrently as writes."""
        return self.client(parallelism * READ_FACTOR)

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def connect(
    *,
    base_uri: str | None,
    sandbox_state: str | None,
    sandbox_seed: str | None = None,
    limits: TimeLimits | None = None,
    env: Mapping[str, str] | None = None,
) -> Connection:
    """Resolve the connection from options and the environment (options win). ``sandbox_state``
    ("" for the default file) or ``sandbox_seed`` selects the embedded sandbox."""
    conn = _connect(base_uri, sandbox_state, sandbox_seed, os.environ if env is None else env)
    conn.limits = limits or TimeLimits()
    return conn


def _connect(
    base_uri: str | None, sandbox_state: str | None, sandbox_seed: str | None, env: Mapping[str, str]
) -> Connection:
    if sandbox_state is not None or sandbox_seed is not None:
        state = Path(sandbox_state or DEFAULT_SANDBOX_STATE)
        return _start_sandbox(state, None if sandbox_seed is None else Path(sandbox_seed))
    uri = (base_uri or env.get("LD_BASE_URI") or DEFAULT_BASE_URI).rstrip("/")
    examples = (
        "Use e.g. https://app.launchdarkly.com, https://app.eu.launchdarkly.com or "
        "https://app.launchdarkly.us (--base-uri / LD_BASE_URI)."
    )
    try:
        parsed = urlparse(uri)
        parsed.port  # noqa: B018  (raises ValueError for a malformed port or IPv6 host)
    except ValueError:
        raise UsageError(f"The base URI {uri!r} is not a valid URL. {examples}") from None
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UsageError(f"The base URI {uri!r} is not an http(s) URL. {examples}")
    if parsed.username is not None or parsed.password is not None:  # never shown: it may be a password
        raise UsageError(
            "The base URI holds a user name or password (user:password@host); LaunchDarkly takes the "
            f"access token only, and ldseg shows the base URI in its output and saved plans. {examples}"
        )
    if parsed.path not in ("", "/") or parsed.query:
        raise UsageError(
            f"The base URI {uri!r} has a path; give the host only (ldseg adds /api/v2/...). {examples}"
        )
    var, raw = next(((v, env[v]) for v in TOKEN_VARS if env.get(v)), ("", ""))
    token, notes = _clean_token(var, raw)
    return Connection(uri, token, notes=notes)


def _clean_token(var: str, raw: str) -> tuple[str, tuple[str, ...]]:
    """The token to send, and what was wrong with how it was given. Surrounding whitespace (the
    newline of ``echo``, a copied CI secret) is removed with a warning: no LaunchDarkly token holds
    any, and the token is only sent, never stored, so removing it cannot change which token is
    meant. A control character inside is an error. (A destination secret with either is an error:
    it would be stored in LaunchDarkly.) The token itself is never shown."""
    token = raw.strip()
    if not token:
        raise UsageError(
            "No LaunchDarkly access token: set LD_ACCESS_TOKEN (or LAUNCHDARKLY_ACCESS_TOKEN) to a "
            "personal or service access token, or try ldseg against the embedded sandbox with --sandbox."
        )
    notes: list[str] = []
    if token != raw:
        notes.append(
            f"The access token in {var} {secrets.flaw(raw)}; ldseg sends it without the surrounding "
            f"whitespace. Remove that from {var} to silence this warning."
        )
    if token.lower().startswith("bearer "):  # LD wants the raw token, no Bearer prefix
        token = token[7:].strip()
        notes.append(_BEARER_NOTE.format(var=var))
    flaw = secrets.token_flaw(token)
    if flaw is not None:
        raise UsageError(
            f"The access token in {var} {flaw}; no LaunchDarkly access token does. Set {var} to the "
            "token alone."
        )
    return token, tuple(notes)


_BEARER_NOTE = (
    "The access token starts with 'Bearer '; LaunchDarkly expects the raw token, so ldseg sends it "
    "without that prefix. Remove it from {var} to silence this warning."
)


def _start_sandbox(state: Path, seed: Path | None) -> Connection:
    from ldseg.sandbox import DEFAULT_SEGMENT_TOKEN, DEFAULT_TOKEN

    sandbox = start_sandbox(
        state=state, seed=seed, default_seed=quickstart_seed_path(), names=SANDBOX_OPTION_NAMES
    )
    return Connection(
        sandbox.url, DEFAULT_TOKEN, sandbox, segment_url=sandbox.url, segment_token=DEFAULT_SEGMENT_TOKEN
    )


@dataclass(frozen=True)
class SandboxOptionNames:
    """How the command that starts a sandbox names its state and seed options, for messages."""

    state: str
    seed: str
    port: str | None = None


SANDBOX_OPTION_NAMES = SandboxOptionNames(state="--sandbox=FILE", seed="--sandbox-seed")
SANDBOX_SEED_HELP = 'the seed format is in the README, "The sandbox"'


def start_sandbox(
    *,
    state: Path | None,
    seed: Path | None,
    names: SandboxOptionNames,
    default_seed: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    latency_ms: float = 0,
    faults: str | None = None,
) -> Sandbox:
    """Start a sandbox serving the account in ``state`` (a JSON state file; created from ``seed``,
    else ``default_seed``, when new). A state file that is not one, a seed that is not valid, a
    state made from another seed than the one given, or a port in use is a ``SandboxError``."""
    from ldseg.sandbox import Sandbox, SeedError, ServeError, StateError, load_seed, seed_digest

    existed = state is not None and state.exists()
    if seed is not None and not seed.exists():
        raise SandboxError(f"Cannot start the sandbox: the seed file {seed} does not exist.")
    try:
        doc = load_seed(seed) if seed is not None else None
    except SeedError as e:
        raise SandboxError(f"Cannot start the sandbox: {e} ({SANDBOX_SEED_HELP}).") from None
    if doc is None and not existed and default_seed is not None:
        doc = load_seed(default_seed)
    try:
        sandbox = Sandbox(
            seed=doc, state_path=state, host=host, port=port, latency_ms=latency_ms, faults=faults
        )
    except StateError as e:
        raise SandboxError(
            f"Cannot start the sandbox: {e}. {names.state} names the file where the sandbox keeps its "
            f"account between runs, which it writes itself; to start from a seed of your own, use "
            f"{names.seed} {state}. A damaged state file can be deleted to start over."
        ) from None
    except SeedError as e:
        raise SandboxError(f"Cannot start the sandbox: {seed}: {e} ({SANDBOX_SEED_HELP}).") from None
    except (ValueError, OSError) as e:
        raise SandboxError(f"Cannot start the sandbox: {e}.") from None
    if existed and doc is not None and sandbox.seed_digest != seed_digest(doc):
        raise SandboxError(
            f"The sandbox state file {state} already exists and was not made from the seed {seed} "
            "(it holds the account as earlier runs left it, so that consecutive commands see one "
            f"account). Delete it to start over from {seed}, or give this seed a state file of its own "
            f"with {names.state}."
        )
    try:
        return sandbox.start()
    except ServeError as e:
        other = f"pick another port with {names.port} (0 takes a free one)" if names.port else "try again"
        fix = f"Stop that program, or {other}." if e.in_use else "Is the host an address of this machine?"
        raise SandboxError(f"Cannot start the sandbox: {e}. {fix}") from None
    except OSError as e:
        raise SandboxError(f"Cannot start the sandbox: {e.strerror or e}.") from None
