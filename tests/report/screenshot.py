"""Write the README's screenshot of ``ldseg report``: the quickstart before ``apply`` (pending
changes, drift, an environment whose events go nowhere), in headless Chromium.

    python -m tests.report.screenshot [OUT]        # default docs/report.png
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from tests.report.browser import chromium, unavailable
from tests.report.support import quickstart_sandbox, run_ldseg

REPO = Path(__file__).resolve().parents[2]
WIDTH = 1200


def main(argv: list[str]) -> int:
    out = (REPO / (argv[0] if argv else "docs/report.png")).resolve()
    reason = unavailable()
    if reason is not None:
        print(f"Cannot take the screenshot: {reason}.", file=sys.stderr)
        return 1
    os.chdir(REPO)  # so the page names the config as the README does
    with tempfile.TemporaryDirectory() as tmp, quickstart_sandbox() as sb:
        page_path = Path(tmp) / "report.html"
        result = run_ldseg(sb, "report", "-c", "examples/quickstart/ldseg.yaml", "-o", str(page_path))
        if result.exit_code != 0:
            print(result.output, file=sys.stderr)
            return 1
        with chromium() as browser:
            page = browser.new_page(viewport={"width": WIDTH, "height": 800})
            page.goto(page_path.as_uri())
            page.wait_for_selector("html[data-ready]")
            bottom = page.eval_on_selector(".pager", "e => e.getBoundingClientRect().bottom + window.scrollY")
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=str(out), full_page=True, clip={"x": 0, "y": 0, "width": WIDTH, "height": bottom + 12}
            )
    print(
        f"Wrote {out.relative_to(REPO) if out.is_relative_to(REPO) else out} ({out.stat().st_size:,} bytes)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
