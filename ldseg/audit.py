"""The audit-log comment ldseg sends with flag changes.

Precedence: ``--comment``, then ``LDSEG_COMMENT``, then ``settings.comment``, else
"ldseg <version>" plus the git commit when run inside a repository, so that every change in
LaunchDarkly's audit log points back at the reviewed commit.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping

from ldseg import __version__


def git_commit(cwd: str | None = None) -> str | None:
    """The short commit of the repository around ``cwd``, or None outside one (or without git)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and commit else None


def audit_comment(
    option: str | None, configured: str | None, env: Mapping[str, str] | None = None, cwd: str | None = None
) -> str:
    env = os.environ if env is None else env
    for candidate in (option, env.get("LDSEG_COMMENT"), configured):
        if candidate and candidate.strip():
            return candidate.strip()
    commit = git_commit(cwd)
    return f"ldseg {__version__}" + (f" (commit {commit})" if commit else "")
