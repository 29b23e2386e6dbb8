"""Serve the benchmark's sandbox in its own process: ``python -m tests.bench.sandbox_runner``.

Why its own process: a sandbox in the measured interpreter (or the harness's) would share a GIL
with whoever it serves, and its JSON rendering would be billed to them. Why not ``ldseg sandbox``:
it reports its URL only as a human-readable line (the harness wants port 0 and a parseable answer),
and the harness needs the two admin routes below. State stays in memory (no ``--state`` file to
rewrite after every one of thousands of writes).

``GET /_bench/cpu`` reports this process's CPU time, so the harness can tell whether the sandbox
was the bottleneck of a scenario. ``POST /_bench/track-events`` (body
``[[project, key, env, bool], ...]``) changes flags the way a person clicking in LaunchDarkly's UI
would, behind ldseg's back: the harness creates the drift the "1,000 flag changes" scenarios plan
and apply with it, instantly (no request latency spent on setup) and without LD routes in the log.

The runner exits when its stdin closes, so a harness that dies never leaves a server behind.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from typing import Any

from ldseg.sandbox.exceptions import bad_request
from ldseg.sandbox.exchange import Call, Handler, Reply
from ldseg.sandbox.testing import SandboxForTests, StoreForTests


def track_events_setter(store: StoreForTests) -> Handler:
    """A handler applying ``[[project, key, env, bool], ...]`` to ``store`` directly (no LD route, no
    latency)."""

    def set_track_events(call: Call) -> Reply:
        body: Any = call.json_body()
        if not isinstance(body, list):
            raise bad_request("expected a list of [project, key, env, bool]")
        for item in body:
            if not (isinstance(item, list) and len(item) == 4 and isinstance(item[3], bool)):
                raise bad_request(f"expected [project, key, env, bool], got {item!r}")
            project, key, env, value = item
            store.set_track_events(str(project), str(key), str(env), value)
        return Reply(200, {"changed": len(body)})

    return set_track_events


def cpu_time(call: Call) -> Reply:
    """This process's CPU seconds so far: the harness takes deltas around a scenario to show whether
    the sandbox (one process, one GIL) was anywhere near saturating a core, i.e. the bottleneck."""
    return Reply(200, {"cpu_s": time.process_time()})


def _exit_when_stdin_closes() -> None:
    """The harness holds our stdin open; EOF means it stopped (or died): shut down cleanly."""
    sys.stdin.read()
    os.kill(os.getpid(), signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", required=True, help="Seed document (JSON or YAML).")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="Fixed latency per LD request.")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)

    sb = SandboxForTests(seed=args.seed, host=args.host, port=0, latency_ms=args.latency_ms)
    sb.app.add_route("POST", "/_bench/track-events", track_events_setter(sb.store), api="admin")
    sb.app.add_route("GET", "/_bench/cpu", cpu_time, api="admin")
    sb.start()
    print(json.dumps({"url": sb.url, "pid": os.getpid()}), flush=True)
    threading.Thread(target=_exit_when_stdin_closes, name="stdin-watch", daemon=True).start()
    sb.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
