"""Small builders shared by the tests."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ldseg.model import LiveDestination

CANARY_WRITE_KEY = "canary-wk-7f3e9a1c5b2d8e4f6a0b"


def in_production(body: str) -> str:
    """A config whose one environment, web/production, holds ``body`` (YAML, any indentation)."""
    header = "version: 1\nprojects:\n  web:\n    environments:\n      production:\n"
    return header + textwrap.indent(textwrap.dedent(body).lstrip("\n"), " " * 8)


#: the smallest useful config: one Segment destination whose write key is the canary
ONE_DESTINATION = in_production(
    """
    destinations:
      segment-main:
        kind: segment
        config: {writeKey: "${SEGMENT_WRITE_KEY}"}
    """
)


@dataclass
class Result:
    """What one in-process CLI run produced."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def live_dest(
    name: str,
    kind: str = "segment",
    *,
    on: bool = True,
    config: dict[str, Any] | None = None,
    project: str = "web",
    environment: str = "production",
    id: str | None = None,
    version: int = 1,
) -> LiveDestination:
    return LiveDestination(
        id=id or f"id-{name}",
        project=project,
        environment=environment,
        name=name,
        kind=kind,
        on=on,
        config=config if config is not None else {"writeKey": "********"},
        version=version,
    )


#: a fixed epoch instant for tests with a fake clock
NOW = 1_700_000_000.0


class FakeTime:
    """A clock that only moves when something sleeps: timing logic tested without waiting."""

    def __init__(self, start: float = NOW) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
