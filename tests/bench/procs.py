"""Processes the benchmark starts: measured ``ldseg`` runs, and the sandbox server.

Peak memory comes from the OS, per process: ``os.wait4`` reaps exactly one child and returns *its*
``rusage`` (``ru_maxrss``, user and system CPU). ``getrusage(RUSAGE_CHILDREN)`` would not do: it
reports the maximum over every child reaped so far (the sandbox's setup runs included), so its
deltas say nothing about the run just measured. wait4 needs no wrapper inside the child, so the
measured process is exactly the ``ldseg`` a user runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from ldseg.sandbox import DEFAULT_TOKEN

REPO = Path(__file__).resolve().parents[2]


@dataclass
class ProcResult:
    """One finished child: what it printed, how long it took, what it cost the OS."""

    argv: list[str]
    returncode: int
    wall_s: float
    cpu_s: float
    maxrss_mb: float
    stdout: str
    stderr: str
    timed_out: bool = False


def _maxrss_mb(ru_maxrss: int) -> float:
    """ru_maxrss is KiB on Linux and the BSDs, bytes on macOS."""
    scale = 1 if sys.platform == "darwin" else 1024
    return ru_maxrss * scale / (1024 * 1024)


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every child: importable ``tests`` package, no colour, no stray token."""
    env = {k: v for k, v in os.environ.items() if k not in ("LAUNCHDARKLY_ACCESS_TOKEN", "LDSEG_COMMENT")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["NO_COLOR"] = "1"
    env.update(extra or {})
    return env


def run_measured(
    argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, timeout: float = 600.0
) -> ProcResult:
    """Run ``argv`` to completion and measure it (wall clock around the whole process, rusage from
    wait4). Output goes to files, not pipes, so a large plan cannot block the child on a full pipe."""
    if not hasattr(os, "wait4"):
        raise RuntimeError("the benchmark needs os.wait4 (Linux or macOS) to measure peak RSS per process")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=dict(env), cwd=cwd
        )
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            proc.kill()

        watchdog = threading.Timer(timeout, kill)
        watchdog.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl-C in the harness: take the child down with us
            proc.kill()
            proc.wait()
            raise
        finally:
            watchdog.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        out.seek(0)
        err.seek(0)
        return ProcResult(
            argv=list(argv),
            returncode=proc.returncode,
            wall_s=wall,
            cpu_s=usage.ru_utime + usage.ru_stime,
            maxrss_mb=_maxrss_mb(usage.ru_maxrss),
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            timed_out=killed.is_set(),
        )


def ldseg_argv(*args: str) -> list[str]:
    """``python -m ldseg ...`` with this interpreter: the installed ldseg, whatever the PATH says."""
    return [sys.executable, "-m", "ldseg", *args]


class SandboxProcess:
    """The sandbox in its own process (``sandbox_runner``), with the admin calls the harness needs."""

    def __init__(
        self,
        seed_path: Path,
        latency_ms: float,
        log_dir: Path,
        start_timeout: float = 60.0,
        name: str = "main",
    ) -> None:
        self.seed_path = seed_path
        self.latency_ms = latency_ms
        self.log_path = log_dir / f"sandbox-{name}.log"
        self.start_timeout = start_timeout
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self._admin: httpx.Client | None = None

    def start(self) -> SandboxProcess:
        self._log = self.log_path.open("wb")
        argv = [
            sys.executable,
            "-m",
            "tests.bench.sandbox_runner",
            "--seed",
            str(self.seed_path),
            "--latency-ms",
            str(self.latency_ms),
        ]
        self._proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, cwd=REPO, env=child_env()
        )
        line = self._first_line()
        try:
            self.url = str(json.loads(line)["url"])
        except (ValueError, KeyError, TypeError):
            self.stop()
            raise RuntimeError(
                f"the sandbox did not start (said {line!r}); see {self.log_path}: "
                f"{self.log_path.read_text(errors='replace')[-2000:]}"
            ) from None
        self._admin = httpx.Client(base_url=self.url, timeout=120.0)
        return self

    def _first_line(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        box: list[bytes] = []
        reader = threading.Thread(target=lambda: box.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.start_timeout)
        return box[0].decode("utf-8", "replace").strip() if box else ""

    def stop(self) -> None:
        """Close stdin (the runner's cue to stop), then TERM, then KILL: never leave it running."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        proc, self._proc = self._proc, None
        if proc is not None:
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- admin -----------------------------------------------------------------------------------

    @property
    def admin(self) -> httpx.Client:
        if self._admin is None:
            raise RuntimeError("sandbox not started")
        return self._admin

    def ldseg_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """What a measured ldseg needs to talk to this sandbox as if it were LaunchDarkly."""
        return child_env({"LD_BASE_URI": self.url, "LD_ACCESS_TOKEN": DEFAULT_TOKEN, **(extra or {})})

    def requests(self) -> list[dict[str, Any]]:
        """The LD requests logged since the last ``clear_requests`` (admin calls left out)."""
        r = self.admin.get("/_sandbox/requests")
        r.raise_for_status()
        items: list[dict[str, Any]] = r.json()["items"]
        return [e for e in items if not str(e.get("route") or "").startswith("ADMIN")]

    def clear_requests(self) -> None:
        self.admin.delete("/_sandbox/requests").raise_for_status()

    def set_faults(self, spec: str | None) -> None:
        if spec:
            self.admin.put(
                "/_sandbox/faults", content=spec, headers={"Content-Type": "text/plain"}
            ).raise_for_status()
        else:
            self.admin.delete("/_sandbox/faults").raise_for_status()

    def cpu_s(self) -> float:
        """The sandbox process's CPU seconds so far (user + system, all threads)."""
        r = self.admin.get("/_bench/cpu")
        r.raise_for_status()
        return float(r.json()["cpu_s"])

    def set_track_events(self, items: Sequence[tuple[str, str, str, bool]]) -> None:
        self.admin.post("/_bench/track-events", json=[list(i) for i in items]).raise_for_status()
