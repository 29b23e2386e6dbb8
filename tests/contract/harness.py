"""Run ldseg's real CLI in-process against the sandbox over HTTP, or replay it from a cassette.

Why two grounds for one test: the sandbox is an emulation, and a cassette pins the client's wire
format. Running the same steps and assertions both ways means (a) a quirk test proves what ldseg
does with LD's behaviour, whichever ground it stands on, and (b) if the client changes what it
sends (method, path, query, body, content type, API version, auth scheme), replay finds no
recorded answer and fails, even though every sandbox-backed test may still pass.

- ``session(name, mode, ...)`` is a context manager yielding a :class:`Session`: call it like the
  CLI (``s("plan", "-c", cfg)``). ``mode="sandbox"`` runs against a fresh sandbox with the
  contract checker attached; ``mode="cassette"`` replays ``tests/cassettes/<name>.yaml`` with
  ``record_mode="none"`` against no server (``http://ld.sandbox.invalid``), or, with
  ``LDSEG_RECORD=1``, records it from a fresh sandbox (the one documented re-record command:
  ``LDSEG_RECORD=1 pytest tests/cassettes tests/contract/test_quirks.py``).
- Matching is on method, path, query (order-insensitive) and JSON body (key-order-insensitive),
  plus the headers LD's contract is about (content type, ``LD-API-Version``, the *shape* of
  ``Authorization``), never host or port. Among recorded requests that match, the first not yet
  played answers, so concurrency may reorder distinct requests freely and repeated ones (a 429
  and its retry) replay in recorded order. Every recorded interaction must be played.
- Nothing sleeps on replay: the client's ``sleep`` default is swapped for one that records the
  wait (``Session.waits``); against a sandbox it really sleeps, capped (``sleep_cap``), so scaled
  down rate-limit windows still pass.
- Scrubbing before anything is saved: ``Authorization`` becomes ``<token>`` (its scheme prefix,
  if any, kept: a ``Bearer`` must not match), secret config fields in request bodies become
  ``<secret>`` unless they are already masks, environment SDK/mobile keys in responses become
  ``<scrubbed>``, and with ``strict_secrets`` (live recordings) every destination secret in a
  response becomes ``********`` whatever LD's mask showed. Hosts become the fake base URI.
"""

from __future__ import annotations

import copy
import json
import os
import re
import textwrap
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import vcr  # type: ignore[import-untyped]
import vcr.cassette  # type: ignore[import-untyped]
from click.testing import CliRunner
from vcr.request import Request as VcrRequest  # type: ignore[import-untyped]

from ldseg.cli import cli
from ldseg.ld.client import LDClient
from ldseg.sandbox import DEFAULT_TOKEN
from ldseg.sandbox.testing import SandboxForTests
from tests.contract.checker import ContractChecker, Violation
from tests.contract.scenarios import SECRET_ENV, SECRETS
from tests.helpers import Result

Mode = Literal["sandbox", "cassette"]
MODES: tuple[Mode, ...] = ("sandbox", "cassette")

RECORD = os.environ.get("LDSEG_RECORD", "") not in ("", "0")
RECORD_COMMAND = "LDSEG_RECORD=1 pytest tests/cassettes tests/contract/test_quirks.py"
CASSETTE_DIR = Path(__file__).resolve().parents[1] / "cassettes"
FAKE_BASE_URI = "http://ld.sandbox.invalid"
#: the audit-log comment every recorded flag PATCH carries (the default one names a git commit)
COMMENT = "ldseg contract cassette"

SECRET_FIELDS = frozenset({"writeKey", "apiKey", "secret", "policyKey"})
ENV_KEY_FIELDS = frozenset({"apiKey", "mobileKey"})
SECRET_PLACEHOLDER = "<secret>"
KEY_PLACEHOLDER = "<scrubbed>"
STRICT_MASK = "********"
KEEP_REQUEST_HEADERS = ("authorization", "content-type", "ld-api-version", "accept")
KEEP_RESPONSE_HEADERS = (
    "content-type",
    "retry-after",
    "x-ratelimit-reset",
    "x-ratelimit-route-remaining",
    "x-ratelimit-global-remaining",
)
_SCHEME = re.compile(r"^\s*(bearer|basic|token)\s+", re.IGNORECASE)
_MASKED = "****"


# --- scrubbing -----------------------------------------------------------------------------------


def _looks_masked(value: Any) -> bool:
    return isinstance(value, str) and (_MASKED in value or value in (SECRET_PLACEHOLDER, KEY_PLACEHOLDER))


def scrub_secrets(node: Any, *, strict: bool = False, env_keys: bool = False) -> Any:
    """A copy of a JSON document with secrets replaced (see the module docstring).

    ``config`` given as a JSON string (an UNCONFIRMED form LD may use) is scrubbed inside too.
    """
    if isinstance(node, list):
        out_list = [scrub_secrets(v, strict=strict, env_keys=env_keys) for v in node]
        for op in out_list:  # JSON Patch: {"op": "replace", "path": "/config/writeKey", "value": ...}
            if isinstance(op, dict) and isinstance(op.get("path"), str) and "value" in op:
                last = op["path"].rsplit("/", 1)[-1]
                if last in SECRET_FIELDS and not _looks_masked(op["value"]):
                    op["value"] = SECRET_PLACEHOLDER
        return out_list
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    is_env = env_keys and "defaultTrackEvents" in node  # an Environment representation
    for key, value in node.items():
        if is_env and key in ENV_KEY_FIELDS and isinstance(value, str):
            out[key] = KEY_PLACEHOLDER
        elif key in SECRET_FIELDS and isinstance(value, str) and not is_env:
            out[key] = STRICT_MASK if strict else (value if _looks_masked(value) else SECRET_PLACEHOLDER)
        elif key == "config" and isinstance(value, str):
            try:
                parsed = json.loads(value)
            except ValueError:
                out[key] = value
            else:
                out[key] = json.dumps(scrub_secrets(parsed, strict=strict), separators=(",", ":"))
        else:
            out[key] = scrub_secrets(value, strict=strict, env_keys=env_keys)
    return out


def _scrub_auth(value: str) -> str:
    m = _SCHEME.match(value)
    return f"{m.group(1)} <token>" if m else "<token>"


def scrub_request(request: VcrRequest) -> VcrRequest:
    """``before_record_request``: applied when recording *and* to every request being matched."""
    r = copy.deepcopy(request)
    parts = urlsplit(r.uri)
    r.uri = FAKE_BASE_URI + parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {k.lower(): v for k, v in r.headers.items()}
    kept = {k: headers[k] for k in KEEP_REQUEST_HEADERS if k in headers}
    if "authorization" in kept:
        kept["authorization"] = _scrub_auth(kept["authorization"])
    r.headers = kept
    body = r.body
    if body:
        raw = body if isinstance(body, bytes) else str(body).encode()
        try:
            doc = json.loads(raw)
        except ValueError:
            pass
        else:
            r.body = json.dumps(scrub_secrets(doc), separators=(",", ":")).encode()
    return r


class WriteRefused(RuntimeError):
    """A live recording only reads: a write would change a real LaunchDarkly account."""


def refuse_writes(request: VcrRequest) -> VcrRequest:
    """``before_record_request`` for live recordings: vcrpy calls it before a request is sent, so
    raising here stops any non-GET request from ever reaching LaunchDarkly."""
    if request.method != "GET":
        raise WriteRefused(
            f"live recording is read-only; refused {request.method} {urlsplit(request.uri).path}"
        )
    return scrub_request(request)


def scrub_response_factory(strict: bool) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        response["headers"] = {k: headers[k] for k in KEEP_RESPONSE_HEADERS if k in headers}
        body = response.get("body", {}).get("string")
        if body:
            raw = body if isinstance(body, bytes) else str(body).encode()
            try:
                doc = json.loads(raw)
            except ValueError:
                return response
            scrubbed = scrub_secrets(doc, strict=strict, env_keys=True)
            response["body"]["string"] = json.dumps(scrubbed, separators=(",", ":")).encode()
        return response

    return scrub_response


def _ld_headers(r1: VcrRequest, r2: VcrRequest) -> None:
    """Matcher: the headers LD's contract is about must be what was recorded."""
    h1 = {k.lower(): v for k, v in r1.headers.items()}
    h2 = {k.lower(): v for k, v in r2.headers.items()}
    for name in ("content-type", "ld-api-version", "authorization"):
        if h1.get(name) != h2.get(name):
            raise AssertionError(f"{name}: {h1.get(name)!r} != recorded {h2.get(name)!r}")


def make_vcr(*, record: bool, strict_secrets: bool = False, directory: Path = CASSETTE_DIR) -> vcr.VCR:
    my_vcr = vcr.VCR(
        cassette_library_dir=str(directory),
        serializer="yaml",
        record_mode="all" if record else "none",
        match_on=["method", "path", "query", "body", "ld_headers"],
        before_record_request=scrub_request,
        before_record_response=scrub_response_factory(strict_secrets),
        decode_compressed_response=True,
    )
    my_vcr.register_matcher("ld_headers", _ld_headers)
    return my_vcr


# --- the session ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One request the client sent (every attempt of a retried one), with the status it got."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: Any
    status: int | None

    def param(self, name: str) -> list[str]:
        return [v for k, v in self.query if k == name]


@dataclass
class Session:
    """One ground (sandbox or cassette) and the CLI pointed at it."""

    mode: Mode
    base_uri: str
    tmp_path: Path
    sandbox: SandboxForTests | None
    env: dict[str, str | None]
    sent: list[Sent] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)

    @property
    def replaying(self) -> bool:
        return self.sandbox is None

    def __call__(self, *args: str, env: Mapping[str, str | None] | None = None) -> Result:
        full_env: dict[str, str | None] = {
            "LD_ACCESS_TOKEN": DEFAULT_TOKEN,
            "LAUNCHDARKLY_ACCESS_TOKEN": None,
            "LD_BASE_URI": self.base_uri,
            "NO_COLOR": "1",
            "LDSEG_COMMENT": COMMENT,
            **SECRET_ENV,
            **self.env,
            **(env or {}),
        }
        res = CliRunner().invoke(cli, list(args), env=full_env, catch_exceptions=False)
        result = Result(res.exit_code, res.stdout, res.stderr)
        self.results.append(result)
        return result

    def config(self, text: str, name: str = "ldseg.yaml") -> str:
        path = self.tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return str(path)

    def live(self, fn: Callable[[SandboxForTests], object]) -> None:
        """Change the account between steps (a hand edit); on replay the cassette already has it."""
        if self.sandbox is not None:
            fn(self.sandbox)

    def requests(self, method: str | None = None, path: str | None = None) -> list[Sent]:
        return [
            s
            for s in self.sent
            if (method is None or s.method == method) and (path is None or re.fullmatch(path, s.path))
        ]


def cassette_path(name: str) -> Path:
    return CASSETTE_DIR / f"{name}.yaml"


def _patch_sleep(monkeypatch: pytest.MonkeyPatch, waits: list[float], cap: float | None) -> None:
    """Swap the client's default ``sleep`` (bound at definition time, so patching ``time.sleep``
    would not reach it) for one that records the wait and sleeps at most ``cap`` (None: never)."""
    defaults = LDClient.__init__.__kwdefaults__
    assert defaults is not None and "sleep" in defaults, "LDClient no longer takes sleep=: update the harness"

    def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        if cap is not None and seconds > 0:
            time.sleep(min(seconds, cap))

    monkeypatch.setitem(defaults, "sleep", fake_sleep)


def _patch_send(monkeypatch: pytest.MonkeyPatch, sent: list[Sent], host: str) -> None:
    """Record every request the client sends to LD (in both modes, from the client's side)."""
    original = httpx.Client.send
    lock = threading.Lock()

    def send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        status: int | None = None
        try:
            response = original(self, request, **kwargs)
            status = response.status_code
            return response
        finally:
            if request.url.host == host:
                content = request.content
                body = json.loads(content) if content else None
                query = tuple(parse_qsl(request.url.query.decode(), keep_blank_values=True))
                with lock:
                    sent.append(Sent(request.method, request.url.path, query, body, status))

    monkeypatch.setattr(httpx.Client, "send", send)


def _locked_playback(monkeypatch: pytest.MonkeyPatch) -> None:
    """vcrpy's playback bookkeeping is not thread-safe; the client is concurrent."""
    lock = threading.RLock()
    for name in ("play_response", "can_play_response_for"):
        original = getattr(vcr.cassette.Cassette, name)

        def locked(self: Any, request: Any, _original: Any = original) -> Any:
            with lock:
                return _original(self, request)

        monkeypatch.setattr(vcr.cassette.Cassette, name, locked)


@contextmanager
def session(
    name: str,
    mode: Mode,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    seed: dict[str, Any],
    faults: str | None = None,
    setup: Callable[[SandboxForTests], object] | None = None,
    env: Mapping[str, str | None] | None = None,
    sleep_cap: float = 0.3,
    allow: Callable[[Violation], bool] | None = None,
) -> Iterator[Session]:
    """See the module docstring. ``setup`` arranges the sandbox (middleware, store edits) before
    the first step; on replay it is not called: the cassette holds its effects. ``allow`` names
    contract violations a test provokes on purpose (e.g. LD breaking its own schema)."""
    waits: list[float] = []
    sent: list[Sent] = []
    replay = mode == "cassette" and not RECORD
    _patch_sleep(monkeypatch, waits, None if replay else sleep_cap)
    if replay:
        path = cassette_path(name)
        if not path.exists():
            pytest.fail(f"cassette {path.name} is missing: record it with `{RECORD_COMMAND}`")
        _patch_send(monkeypatch, sent, urlsplit(FAKE_BASE_URI).hostname or "")
        _locked_playback(monkeypatch)
        s = Session(mode, FAKE_BASE_URI, tmp_path, None, dict(env or {}), sent, waits)
        with make_vcr(record=False).use_cassette(path.name) as cassette:
            yield s
        unplayed = len(cassette.data) - sum(1 for n in cassette.play_counts.values() if n)
        assert cassette.all_played, (
            f"{unplayed} recorded request(s) of {path.name} were not sent this time: the client's wire "
            f"traffic changed. If that is intended, re-record with `{RECORD_COMMAND}`."
        )
        _assert_no_leak(s)
        return

    checker = ContractChecker(profile="ldseg")
    with SandboxForTests(seed=seed, faults=faults) as sb:
        sb.app.observers.append(checker.observe)
        if setup is not None:
            setup(sb)
        _patch_send(monkeypatch, sent, "127.0.0.1")
        s = Session(mode, sb.url, tmp_path, sb, dict(env or {}), sent, waits)
        if mode == "cassette":  # recording
            _locked_playback(monkeypatch)
            path = cassette_path(name)
            path.unlink(missing_ok=True)
            with make_vcr(record=True).use_cassette(path.name):
                yield s
        else:
            yield s
        assert sb.store.violations == [], "the client did something LaunchDarkly forbids"
    unexpected = [v for v in checker.violations if allow is None or not allow(v)]
    assert not unexpected, checker.report()
    _assert_no_leak(s)


def _assert_no_leak(s: Session) -> None:
    for result in s.results:
        for secret in (*SECRETS, DEFAULT_TOKEN):
            assert secret not in result.output, "a secret or the token leaked into ldseg's output"
