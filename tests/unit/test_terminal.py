"""Terminal manners: colour only on a terminal and never with NO_COLOR; progress only on stderr TTYs."""

from __future__ import annotations

import io
import time

import pytest

from ldseg.console import want_color
from ldseg.progress import Progress


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr("sys.stdout", FakeTty())
    assert want_color(no_color=False) is True
    assert want_color(no_color=True) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert want_color(no_color=False) is False
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setattr("sys.stdout", io.StringIO())
    assert want_color(no_color=False) is False


def test_progress_draws_on_a_terminal_after_a_moment_and_clears_itself() -> None:
    stream = FakeTty()
    with Progress(
        "Reading LaunchDarkly", lambda: "12 requests", enabled=True, stream=stream, delay=0.01, interval=0.01
    ):
        time.sleep(0.1)
    out = stream.getvalue()
    assert "Reading LaunchDarkly… 12 requests" in out
    assert out.endswith("\r\x1b[2K")


def test_progress_stays_silent_when_quick_or_not_a_terminal_or_disabled() -> None:
    quick = FakeTty()
    with Progress("x", lambda: "", enabled=True, stream=quick, delay=5):
        pass
    assert quick.getvalue() == ""
    for stream, enabled in ((io.StringIO(), True), (FakeTty(), False)):
        with Progress("x", lambda: "", enabled=enabled, stream=stream, delay=0):
            time.sleep(0.05)
        assert stream.getvalue() == ""


def test_a_drawn_progress_line_is_erased_before_any_output(capsys: pytest.CaptureFixture[str]) -> None:
    from ldseg.console import console

    stream = FakeTty()
    progress = Progress("Applying", lambda: "1/2 changes", enabled=True, stream=stream, delay=0, interval=60)
    with progress:
        deadline = time.monotonic() + 2
        while "Applying" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        drawn = stream.getvalue()
        console.out("- destination:web/production/x: deleted")
        assert stream.getvalue() == drawn + "\r\x1b[2K"  # erased first, then the line printed
    assert capsys.readouterr().out == "- destination:web/production/x: deleted\n"
    assert console.transient is None
