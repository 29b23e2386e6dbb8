"""Connection settings for a command: base URI, token, or the embedded sandbox.

``--sandbox[=STATE]`` starts the sandbox in this process on a free loopback port, with its state in
a JSON file (default ``.ldseg/sandbox.json``, seeded from the quickstart seed when missing), so
that ``plan``, ``apply`` and ``plan`` run as three processes behave as against one real account.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from ldseg import secrets
from ldseg.errors import UsageError
from ldseg.ld.client import DEFAULT_ADVICE, DEFAULT_BASE_URI, DEFAULT_PARALLELISM, READ_FACTOR, LDClient
from ldseg.resources import quickstart_seed_path

if TYPE_CHECKING:
    from ldseg.sandbox import Sandbox

DEFAULT_SANDBOX_STATE = ".ldseg/sandbox.json"
TOKEN_VARS = ("LD_ACCESS_TOKEN", "LAUNCHDARKLY_ACCESS_TOKEN")


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

    def client(self, parallelism: int = DEFAULT_PARALLELISM, advice: str = DEFAULT_ADVICE) -> LDClient:
        """``advice``: what to do when a request's retry budget is spent, in the command's terms."""
        return LDClient(self.base_uri, self.token, parallelism=parallelism, advice=advice)

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
    *, base_uri: str | None, sandbox_state: str | None, env: Mapping[str, str] | None = None
) -> Connection:
    """Resolve the connection from options and the environment (options win)."""
    env = os.environ if env is None else env
    if sandbox_state is not None:
        return _start_sandbox(Path(sandbox_state or DEFAULT_SANDBOX_STATE))
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
        notes.append(_BEARER_NOTE)
    flaw = secrets.flaw(token)
    if flaw is not None:
        raise UsageError(
            f"The access token in {var} {flaw}; no LaunchDarkly access token does. Set {var} to the "
            "token alone."
        )
    return token, tuple(notes)


_BEARER_NOTE = (
    "The access token starts with 'Bearer '; LaunchDarkly expects the raw token, so ldseg sends it "
    "without that prefix. Remove it from LD_ACCESS_TOKEN to silence this warning."
)


def _start_sandbox(state: Path) -> Connection:
    from ldseg.sandbox import DEFAULT_SEGMENT_TOKEN, DEFAULT_TOKEN, Sandbox

    seed = None if state.exists() else quickstart_seed_path()
    state.parent.mkdir(parents=True, exist_ok=True)
    sandbox = Sandbox(seed=seed, state_path=state).start()
    return Connection(
        sandbox.url, DEFAULT_TOKEN, sandbox, segment_url=sandbox.url, segment_token=DEFAULT_SEGMENT_TOKEN
    )
