"""The README quickstart, as a new user runs it: separate ldseg processes sharing one sandbox state."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart" / "ldseg.yaml"
DEFAULT_KEYS = ("qs-prod-4f9c2a7e51b3d860", "qs-staging-8d21e6b0c4a9f357")


def ldseg(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LD_", "LAUNCHDARKLY_", "SEGMENT_"))}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "ldseg", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_quickstart_plan_apply_replan(tmp_path: Path) -> None:
    plan = ldseg(tmp_path, "plan", "--sandbox", "-c", str(QUICKSTART))
    assert plan.returncode == 0, plan.stderr
    assert "+ destination:web/staging/segment-staging {" in plan.stdout
    assert "~ destination:web/production/segment-main {" in plan.stdout
    assert "- destination:web/staging/old-kinesis {" in plan.stdout
    assert "~ defaultTrackEvents = false -> true" in plan.stdout  # staging: all: true
    assert "  # flags in web/production: 2 to export, 0 to stop exporting" in plan.stdout
    assert "      + checkout-express-pay" in plan.stdout  # by key glob
    assert "      + onboarding-tour" in plan.stdout  # by tag
    assert "  # flags in web/staging: 6 to export, 0 to stop exporting" in plan.stdout
    assert (
        "Plan: 1 to add, 1 to change, 1 to destroy; flags: 8 to export, 0 to stop exporting; "
        "environments: 1 to change." in plan.stdout
    )
    assert (tmp_path / ".ldseg" / "sandbox.json").exists()

    apply = ldseg(tmp_path, "apply", "--sandbox", "-c", str(QUICKSTART), "--auto-approve")
    assert apply.returncode == 0, apply.stderr
    assert (
        "Apply complete! Resources: 1 added, 1 changed, 1 destroyed; flags: 8 now export, 0 stopped; "
        "environments: 1 changed." in apply.stdout
    )

    replan = ldseg(tmp_path, "plan", "--sandbox", "-c", str(QUICKSTART), "--detailed-exitcode")
    assert replan.returncode == 0, replan.stdout + replan.stderr
    assert replan.stdout.startswith("No changes.")

    report = ldseg(tmp_path, "report", "--sandbox", "-c", str(QUICKSTART), "-o", "report.html")
    assert report.returncode == 0, report.stderr
    assert "Wrote report.html (html: 1 project, 7 flags)." in report.stderr
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert '"summary":"No changes.' in page and not any(key in page for key in DEFAULT_KEYS)

    for result in (plan, apply, replan, report):
        for key in DEFAULT_KEYS:
            assert key not in result.stdout + result.stderr


def test_sandbox_state_option_and_positional_arguments_do_not_clash(tmp_path: Path) -> None:
    state = tmp_path / "elsewhere.json"
    result = ldseg(tmp_path, "plan", f"--sandbox={state}", "-c", str(QUICKSTART), "--detailed-exitcode")
    assert result.returncode == 2, result.stderr
    assert state.exists()
    assert not (tmp_path / ".ldseg").exists()


def test_global_options_work_before_and_after_the_command_on_every_command(tmp_path: Path) -> None:
    """`ldseg --sandbox plan` and `ldseg plan --sandbox` are the same; `validate --sandbox` (a command
    that never connects) accepts it; --debug before the command shows the traceback."""
    before = ldseg(tmp_path, "--sandbox", "--quiet", "plan", "-c", str(QUICKSTART), "--detailed-exitcode")
    after = ldseg(tmp_path, "plan", "--sandbox", "--quiet", "-c", str(QUICKSTART), "--detailed-exitcode")
    assert (before.returncode, after.returncode) == (2, 2), before.stderr + after.stderr
    assert before.stdout == after.stdout and before.stderr == after.stderr == ""  # --quiet held too
    validate = ldseg(tmp_path, "validate", "--sandbox", "-c", str(QUICKSTART))
    assert validate.returncode == 0, validate.stderr
    debug = ldseg(tmp_path, "--debug", "plan", "--sandbox", "-c", str(tmp_path / "nope.yaml"))
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr
