"""``Sandbox``: the emulated LD account (and Segment workspace) served over real HTTP on loopback.

Runs werkzeug's threaded HTTP/1.1 server (which closes the connection after every response: its
server cannot drain a kept-alive stream safely) in a daemon thread for tests, or in the
foreground for ``ldseg sandbox``. State comes from ``state_path`` if that file exists, else from
the seed; it is written back debounced and on stop. ``faults`` arms the fault injector from the
start (see ``faultspec`` for the grammar). ``grants()`` says which tokens the loaded account accepts.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import signal
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, ClassVar, TypeVar

from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, WSGIRequestHandler

from . import routes, segment_emu
from .app import SandboxApp
from .exceptions import ServeError
from .faultspec import FaultSpec
from .persistence import Persister, read_state
from .seed import build_state, load_seed
from .store import Store

log = logging.getLogger("ldseg.sandbox")

_S = TypeVar("_S", bound="Sandbox")

#: The LD access token a ``Sandbox`` accepts unless given another: the admin token, always valid.
DEFAULT_TOKEN = "api-5a4db0c5-0000-4000-8000-000000000001"

#: The Public API token ``ldseg --sandbox`` uses when SEGMENT_PUBLIC_API_TOKEN is unset. The sandbox
#: knows it only because the quickstart seed lists it (``segment.tokens``, with Source Admin), so it
#: is an ordinary seeded token: a seed without it makes ``--sandbox`` source checks UNVERIFIED.
DEFAULT_SEGMENT_TOKEN = "sgp_sandbox_5e6d7c8b9a0f1e2d3c4b5a69788796a5"


@dataclass(frozen=True)
class Grants:
    """The tokens the loaded account accepts.

    ``ld_tokens``: LaunchDarkly access token -> role (``admin``, ``writer``, ``bypass``, ``reader``,
    ``none``), the sandbox's own admin token first, then the seed's ``tokens`` in seed order.
    ``segment_tokens``: Segment Public API token -> whether it has Source Admin (only those see
    sources' write keys), from the seed's ``segment.tokens``.
    """

    ld_tokens: dict[str, str]
    segment_tokens: dict[str, bool]

    def ld_token(self, roles: tuple[str, ...] = ("admin", "writer")) -> str | None:
        """The first LD token with one of ``roles`` (by default one that may write), or ``None``."""
        return next((t for t, role in self.ld_tokens.items() if role in roles), None)

    def segment_token(self) -> str | None:
        """The first Source Admin Public API token, else the first one at all, else ``None``."""
        admins = [t for t, admin in self.segment_tokens.items() if admin]
        return next(iter(admins or self.segment_tokens), None)


class _QuietHandler(WSGIRequestHandler):
    """No per-request access log; tracks its connection so ``stop()`` can close the open sockets."""

    connections: set[socket.socket]
    connections_lock: threading.Lock

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        # werkzeug would print to stderr (e.g. malformed request lines); keep it in our logger instead
        log.log(logging.WARNING if type == "error" else logging.DEBUG, message, *args)

    def setup(self) -> None:
        super().setup()
        with self.connections_lock:
            self.connections.add(self.connection)

    def finish(self) -> None:
        with self.connections_lock:
            self.connections.discard(self.connection)
        super().finish()


class _Server(ThreadedWSGIServer):
    """werkzeug's threaded server, except that a socket it cannot bind is a ``ServeError``: werkzeug
    would print two lines of its own on stderr and exit the process."""

    def server_bind(self) -> None:
        try:
            super().server_bind()
        except OSError as e:
            where = f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
            if e.errno == errno.EADDRINUSE:
                raise ServeError(f"{where} is in use by another program", in_use=True) from None
            raise ServeError(f"cannot listen on {where}: {e.strerror or e}") from None


class Sandbox:
    """An emulated LaunchDarkly account. ``with Sandbox(seed) as sb: httpx.get(sb.url + ...)``."""

    #: the store class (``testing.SandboxForTests`` uses one with a direct-access API)
    store_type: ClassVar[type[Store]] = Store

    def __init__(
        self,
        seed: dict[str, Any] | str | Path | None = None,
        state_path: str | Path | None = None,
        token: str = DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: float = 0,
        faults: FaultSpec = None,
    ) -> None:
        self.state_path = Path(state_path) if state_path is not None else None
        if self.state_path is not None and self.state_path.exists():
            self.store = self.store_type(read_state(self.state_path))
        else:
            doc = load_seed(seed) if isinstance(seed, (str, Path)) else seed
            self.store = self.store_type(build_state(doc))
        self.token = token
        self.host = host
        self.port = port
        self.app = SandboxApp(self.store, token=token, latency_ms=latency_ms)
        routes.register_all(self.app)  # LaunchDarkly's API and the admin API
        segment_emu.register(self.app)  # Segment's tracking and Public APIs
        self.app.faults.configure(faults)  # a bad spec fails here, before anything starts
        self._persister: Persister | None = None
        if self.state_path is not None:
            self._persister = Persister(self.state_path, self.store.to_json)
            self.store.add_listener(self._persister.mark_dirty)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    # --- lifecycle -----------------------------------------------------------------------------

    def _make_server(self) -> BaseWSGIServer:
        handler = type(
            "SandboxRequestHandler",
            (_QuietHandler,),
            {"connections": self._connections, "connections_lock": self._connections_lock},
        )
        server = _Server(self.host, self.port, self.app, handler)
        self.port = server.port
        if self._persister is not None:
            self._persister.flush()  # the state file exists from the start, like an account does
            self._persister.start()
        return server

    def start(self: _S) -> _S:
        """Serve in a daemon thread; returns ``self``."""
        if self._server is not None:
            raise RuntimeError("sandbox already started")
        self._server = self._make_server()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.5},
            name="ldseg-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down, close client connections and flush state to ``state_path``."""
        server, self._server = self._server, None
        if server is not None:
            self._shutdown(server)
            if self._thread is not None:
                self._thread.join()
                self._thread = None
            server.server_close()
            with self._connections_lock:
                conns = list(self._connections)
            for conn in conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        if self._persister is not None:
            self._persister.close()

    def _shutdown(self, server: BaseWSGIServer) -> None:
        """``server.shutdown()``, woken up by dummy connections instead of waiting out the poll interval."""
        stopper = threading.Thread(target=server.shutdown, daemon=True)
        stopper.start()
        while stopper.is_alive():
            with contextlib.suppress(OSError):
                socket.create_connection((self.host, self.port), timeout=0.5).close()
            stopper.join(0.02)

    def serve_forever(self) -> None:
        """Serve until Ctrl-C or SIGTERM, then stop and flush state (starts the server if needed)."""
        if self._server is None:
            self.start()

        def on_term(signum: int, frame: FrameType | None) -> None:
            raise KeyboardInterrupt

        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, on_term)
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.2)
        except KeyboardInterrupt:
            pass
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            self.stop()

    def __enter__(self: _S) -> _S:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- access --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("sandbox not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def seed_digest(self) -> str | None:
        """The fingerprint (``seed_digest()``) of the seed this account was built from, as the state
        recorded it; ``None`` for a state written before states recorded it."""
        with self.store.lock:
            digest = self.store.state.get("seed_digest")
        return digest if isinstance(digest, str) else None

    def grants(self) -> Grants:
        """The LD access tokens (with roles) and Segment Public API tokens the account accepts now."""
        with self.store.lock:
            state = self.store.state
            ld = {self.token: "admin", **{t: r for t, r in state["tokens"].items() if t != self.token}}
            segment = {t: bool(spec["source_admin"]) for t, spec in state["segment"]["tokens"].items()}
        return Grants(ld, segment)
