"""LaunchDarkly's approval rules over plain records, with no I/O: an environment's approval settings,
which flag changes they gate, and where an approval request's reviews leave it.

Kept apart (and low in the layers) because the seed loader, the representations and the routes all
apply the same rules. Facts from LD's spec and docs: the fields of ``ApprovalSettings``; a change is
gated when ``required`` is set or the flag carries one of ``requiredApprovalTags`` ("Require approval
only on flags with the provided tags. Otherwise all flags will require approval"), never both
(LD refuses an environment with both); ``minNumApprovals`` is 1 to 5; "a change needs at least one
approval before you can apply it"; ``canApplyDeclinedChanges`` allows applying "as long as at least
one person has approved" (``minNumApprovals`` met) despite declines; ``canReviewOwnRequest`` lets a
requester approve or decline their own request (anyone may comment).

UNCONFIRMED, so the most defensive reading: a reviewer's latest approve/decline is the one that
counts; ``reviewStatus`` is ``declined`` as soon as anyone's latest review declines, ``approved``
once ``minNumApprovals`` reviewers approve, else ``pending``.
"""

from __future__ import annotations

import copy
from typing import Any

#: LD's ApprovalSettings fields in LD's order, with the values an environment has when nobody
#: configured approvals (what LD returns for such an environment).
DEFAULT_SETTINGS: dict[str, Any] = {
    "required": False,
    "bypassApprovalsForPendingChanges": False,
    "minNumApprovals": 1,
    "canReviewOwnRequest": False,
    "canApplyDeclinedChanges": True,
    "autoApplyApprovedChanges": False,
    "serviceKind": "launchdarkly",
    "serviceConfig": {},
    "requiredApprovalTags": [],
}
#: optional fields, returned only when set
OPTIONAL_SETTINGS: dict[str, type] = {"serviceKindConfigurationId": str}
SETTING_TYPES: dict[str, type] = {
    **{k: type(v) for k, v in DEFAULT_SETTINGS.items()},
    **OPTIONAL_SETTINGS,
}
#: what an environment PATCH may change (LD's patchEnvironment description)
EDITABLE_SETTINGS = ("canReviewOwnRequest", "canApplyDeclinedChanges", "minNumApprovals", "required",
                     "requiredApprovalTags")  # fmt: skip
MIN_APPROVALS, MAX_APPROVALS = 1, 5

REVIEW_KINDS = ("approve", "decline", "comment")
REVIEW_STATUSES = ("approved", "declined", "pending")
STATUSES = ("pending", "completed", "failed", "scheduled")


def settings_problem(settings: dict[str, Any]) -> str | None:
    """Why LD would refuse these settings (unknown field, wrong type, bad count, both gates), or None."""
    for field, value in settings.items():
        typ = SETTING_TYPES.get(field)
        if typ is None:
            return f"unknown approval setting {field!r}"
        if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
            return f"approval setting {field} must be a {typ.__name__}"
    tags = settings.get("requiredApprovalTags", [])
    if not all(isinstance(t, str) for t in tags):
        return "requiredApprovalTags must be strings"
    n = settings.get("minNumApprovals", MIN_APPROVALS)
    if not MIN_APPROVALS <= n <= MAX_APPROVALS:
        return f"minNumApprovals must be between {MIN_APPROVALS} and {MAX_APPROVALS}"
    if settings.get("required") and tags:
        return "approvals can be required for all flags or for flags with requiredApprovalTags, not both"
    return None


def new_settings(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults overlaid with ``overrides`` (not validated: see ``settings_problem``)."""
    out = copy.deepcopy(DEFAULT_SETTINGS)
    out.update(copy.deepcopy(overrides or {}))
    return out


def settings_of(env: dict[str, Any]) -> dict[str, Any]:
    """The environment record's settings (a state file written before they existed: from its
    ``approvalRequired`` flag)."""
    found: dict[str, Any] | None = env.get("approvalSettings")
    if found is None:
        return new_settings({"required": bool(env.get("approvalRequired", False))})
    return found


def gates(settings: dict[str, Any], flag_tags: list[str]) -> bool:
    """Whether a flag with ``flag_tags`` needs an approval request to change in that environment."""
    return bool(settings["required"]) or bool(set(settings["requiredApprovalTags"]) & set(flag_tags))


def decisions(reviews: list[dict[str, Any]]) -> tuple[int, int]:
    """(approvals, declines): each reviewer's latest approve or decline (comments do not count)."""
    latest: dict[str, str] = {}
    for review in reviews:
        if review["kind"] != "comment":
            latest[review["memberId"]] = review["kind"]
    kinds = list(latest.values())
    return kinds.count("approve"), kinds.count("decline")


def review_status(reviews: list[dict[str, Any]], settings: dict[str, Any]) -> str:
    approvals, declines = decisions(reviews)
    if declines:
        return "declined"
    return "approved" if approvals >= settings["minNumApprovals"] else "pending"


def apply_refusal(reviews: list[dict[str, Any]], settings: dict[str, Any]) -> str | None:
    """Why the request may not be applied yet, or None."""
    approvals, declines = decisions(reviews)
    if approvals < settings["minNumApprovals"]:
        need = settings["minNumApprovals"]
        return f"the approval request needs {need} approval(s) before it can be applied, it has {approvals}"
    if declines and not settings["canApplyDeclinedChanges"]:
        return "the approval request was declined, and this environment does not apply declined changes"
    return None
