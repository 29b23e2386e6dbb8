"""Headless Chromium for the report's page: Playwright's Python package driving the system's
Chromium (Debian's package; Playwright's own browser download is never used), started so that it
stalls on nothing on a closed network. Playwright's ``launch`` gives it a fresh profile."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    """``LDSEG_CHROMIUM`` if set, else the system's Chromium."""
    explicit = os.environ.get("LDSEG_CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (it is in the test extras: pip install -e '.[test]')"
    explicit = os.environ.get("LDSEG_CHROMIUM")
    if explicit and chromium_path() is None:
        return f"LDSEG_CHROMIUM is set to {explicit!r}, which is not an executable file"
    if chromium_path() is None:
        return (
            "no Chromium on this machine (Debian: apt-get install chromium, which .ci/run does; "
            "or point LDSEG_CHROMIUM at one)"
        )
    return None


@contextmanager
def chromium() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield browser
        finally:
            browser.close()
