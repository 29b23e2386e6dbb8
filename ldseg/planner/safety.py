"""Safety rails (``settings.safety``): changes big enough that apply wants ``--force``.

- more destination deletes in one plan than ``max_destination_deletes`` (a replacement's delete
  does not count: its new destination is created first);
- turning export off for more than ``max_export_off_percent`` of a scope's exporting flags, in
  scopes with at least ``MIN_EXPORTING`` exporting flags (below that a percentage means little);
- opening more approval requests than ``max_approval_requests`` (each one notifies reviewers).

``plan`` shows them as warnings; ``apply`` refuses them (exit 3, nothing changed) unless ``--force``.
Each message names the scope, the counts, the effective threshold and the override.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ldseg.model import LiveState, Settings
from ldseg.plan import Action, ApprovalState, Change, DestinationChange, FlagChange, SafetyIssue

MIN_EXPORTING = 10
OVERRIDE = "Check that this is intended, then apply with --force (or raise the setting)."


def check(changes: Sequence[Change], live: LiveState, settings: Settings) -> list[SafetyIssue]:
    issues: list[SafetyIssue] = []
    deletes = [c for c in changes if isinstance(c, DestinationChange) and c.action is Action.DELETE]
    limit = settings.max_destination_deletes
    if len(deletes) > limit:
        names = ", ".join(str(c.address) for c in deletes[:5]) + (" ..." if len(deletes) > 5 else "")
        issues.append(
            SafetyIssue(
                "max_destination_deletes",
                "all",
                len(deletes),
                len(deletes),
                limit,
                f"The plan deletes {len(deletes)} destinations ({names}); "
                f"settings.safety.max_destination_deletes allows {limit}. {OVERRIDE}",
            )
        )
    requests = [
        c
        for c in changes
        if isinstance(c, FlagChange) and c.approval and c.approval.state is ApprovalState.NEEDED
    ]
    if len(requests) > settings.max_approval_requests:
        limit = settings.max_approval_requests
        issues.append(
            SafetyIssue(
                "max_approval_requests",
                "all",
                len(requests),
                len(requests),
                limit,
                f"The plan opens {len(requests)} approval requests (one per flag change in an environment "
                f"that requires approvals), each notifying reviewers; settings.safety.max_approval_requests "
                f"allows {limit}. {OVERRIDE}",
            )
        )
    offs = Counter("/".join(c.address.scope) for c in changes if isinstance(c, FlagChange) and not c.export)
    pct = settings.max_export_off_percent
    for scope, count in sorted(offs.items()):
        project, env = scope.split("/", 1)
        exporting = sum(
            1
            for f in live.flags.get(project, {}).values()
            if not f.archived and f.envs.get(env) is not None and f.envs[env].track_events
        )
        if exporting >= MIN_EXPORTING and count * 100 > pct * exporting:
            issues.append(
                SafetyIssue(
                    "max_export_off_percent",
                    scope,
                    count,
                    exporting,
                    pct,
                    f"The plan turns export off for {count} of the {exporting} exporting flags in {scope} "
                    f"({count * 100 / exporting:.0f}%); settings.safety.max_export_off_percent allows "
                    f"{pct:g}%. {OVERRIDE}",
                )
            )
    return issues
