"""Destination changes for one scope.

Destinations are matched by (project, environment, name). In a scope whose destinations are owned
(the config has a ``destinations:`` block), an undeclared, unignored live destination is deleted.
A kind change is a replacement. Fields are diffed one by one; secrets are compared only through
``secrets.compare_secret``, never for equality with a mask.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from ldseg import kinds
from ldseg.errors import PlanError, Problem
from ldseg.model import DestinationSpec, LiveDestination, ScopeSpec
from ldseg.plan import Action, DestinationChange, DestinationGuard, FieldDiff
from ldseg.planner.context import Context, PlanOptions
from ldseg.secrets import SecretState, compare_secret


def plan_destinations(scope: ScopeSpec, live_items: Iterable[LiveDestination], ctx: Context) -> None:
    assert scope.destinations is not None
    live_by_name, leftovers = _index_live(scope, [d for d in live_items if not scope.ignores(d.name)])
    for name in sorted(scope.destinations):
        spec = scope.destinations[name]
        current = live_by_name.get(name)
        if current is None:
            _plan_create(spec, ctx)
        elif current.kind != spec.kind:
            _plan_replace(spec, current, ctx)
        else:
            diffs = _diff_destination(spec, current, ctx)
            if diffs:
                ctx.changes.append(
                    DestinationChange(
                        address=spec.address,
                        action=Action.UPDATE,
                        diffs=tuple(diffs),
                        kind=spec.kind,
                        live_id=current.id,
                        guard=destination_guard(current),
                    )
                )
    undeclared = [d for n, d in live_by_name.items() if n not in scope.destinations]
    for current in sorted([*undeclared, *leftovers], key=lambda d: (d.name, d.id)):
        ctx.changes.append(
            DestinationChange(
                address=current.address,
                action=Action.DELETE,
                diffs=tuple(_describe_live(current)),
                kind=current.kind,
                live_id=current.id,
                guard=destination_guard(current),
            )
        )


def _index_live(
    scope: ScopeSpec, managed: list[LiveDestination]
) -> tuple[dict[str, LiveDestination], list[LiveDestination]]:
    """Index live destinations by name. Several with one name are refused, except the trace of an
    interrupted replacement: exactly one has the declared kind; the others are then deleted."""
    assert scope.destinations is not None
    groups: dict[str, list[LiveDestination]] = {}
    for d in managed:
        groups.setdefault(d.name, []).append(d)
    by_name: dict[str, LiveDestination] = {}
    leftovers: list[LiveDestination] = []
    conflicts: dict[str, list[str]] = {}
    for name, items in groups.items():
        if len(items) == 1:
            by_name[name] = items[0]
            continue
        spec = scope.destinations.get(name)
        matching = [d for d in items if spec is not None and d.kind == spec.kind]
        if len(matching) == 1:
            by_name[name] = matching[0]
            leftovers.extend(d for d in items if d is not matching[0])
        else:
            conflicts[name] = [d.id for d in items]
    if conflicts:
        listing = "; ".join(f"{n!r}: ids {', '.join(ids)}" for n, ids in sorted(conflicts.items()))
        raise PlanError(
            "LaunchDarkly has several destinations with the same name in "
            f"{scope.project}/{scope.environment} "
            f"({listing}). ldseg identifies destinations by name, so it cannot tell which one the config "
            "means. Rename or delete the extra ones in LaunchDarkly, or add the name to ignore_destinations."
        )
    return by_name, leftovers


def _plan_create(spec: DestinationSpec, ctx: Context) -> None:
    if spec.name in ctx.unplaced_destinations:
        raise PlanError(
            f"LaunchDarkly listed a destination named {spec.name!r} without a _links.self.href, so ldseg "
            f"cannot tell whether it is {spec.address}; it will not create a possible duplicate. Check the "
            "destination in LaunchDarkly (or rename one of them)."
        )
    if not _require_secrets(spec, ctx, "create this destination"):
        return
    diffs = [FieldDiff("kind", None, spec.kind), FieldDiff("on", None, spec.on), *_describe_config(spec)]
    ctx.changes.append(
        DestinationChange(
            address=spec.address,
            action=Action.CREATE,
            diffs=tuple(diffs),
            kind=spec.kind,
            guard=DestinationGuard(absent=True),
        )
    )


def _plan_replace(spec: DestinationSpec, current: LiveDestination, ctx: Context) -> None:
    if not _require_secrets(spec, ctx, "replace this destination (its kind changed)"):
        return
    old_config = [d for d in _describe_live(current) if d.path.startswith("config.")]
    diffs = [
        FieldDiff("kind", current.kind, spec.kind),
        FieldDiff("on", None, spec.on),
        *(replace(d, op="remove") for d in old_config),  # the old destination goes, config and all
        *_describe_config(spec),
    ]
    ctx.changes.append(
        DestinationChange(
            address=spec.address,
            action=Action.REPLACE,
            diffs=tuple(diffs),
            kind=spec.kind,
            old_kind=current.kind,
            live_id=current.id,
            guard=destination_guard(current),
        )
    )


def _require_secrets(spec: DestinationSpec, ctx: Context, what: str, only: str | None = None) -> bool:
    """Secrets the plan must write need their ``${VAR}`` set; report each missing one."""
    missing = {f: u for f, u in spec.unresolved_secrets.items() if only is None or f == only}
    for f, u in sorted(missing.items()):
        names = ", ".join(u.variables)
        ctx.problems.append(
            Problem(
                u.location.file,
                u.location.line,
                f"destination {spec.project}/{spec.environment}/{spec.name}: config.{f}: environment "
                f"variable {names} is not set, and the plan must {what}; set it",
            )
        )
    return not missing


def _describe_config(spec: DestinationSpec) -> list[FieldDiff]:
    k = kinds.kind(spec.kind)
    return [
        FieldDiff(f"config.{f}", None, None, sensitive=True)
        if k.is_secret(f)
        else FieldDiff(f"config.{f}", None, v)
        for f, v in sorted(spec.config.items())
    ]


def _describe_live(current: LiveDestination) -> list[FieldDiff]:
    k = kinds.kind(current.kind)
    out = [FieldDiff("kind", current.kind, None), FieldDiff("on", current.on, None)]
    for f, v in sorted(current.config.items()):
        out.append(
            FieldDiff(f"config.{f}", sensitive=True) if k.is_secret(f) else FieldDiff(f"config.{f}", v, None)
        )
    return out


def destination_diffs(
    spec: DestinationSpec, current: LiveDestination, options: PlanOptions | None = None
) -> tuple[list[FieldDiff], list[str]]:
    """How ``current`` (same name and kind) differs from ``spec``, exactly as a plan would see it,
    and the warnings that came up (the smoke test's read-back uses this too)."""
    ctx = Context(options or PlanOptions())
    return _diff_destination(spec, current, ctx), ctx.all_warnings()


def _diff_destination(spec: DestinationSpec, current: LiveDestination, ctx: Context) -> list[FieldDiff]:
    k = kinds.kind(spec.kind)
    # Fields ldseg manages: the kind's documented fields plus whatever is declared. Fields LD
    # returns that ldseg does not know are left alone (never removed), as are open kinds' fields.
    managed = set(spec.config) | (set() if k.open else set(k.fields))
    plain = sorted(f for f in managed if not k.is_secret(f))
    before = {"on": current.on, **{f"config.{f}": current.config[f] for f in plain if f in current.config}}
    after = {"on": spec.on, **{f"config.{f}": spec.config[f] for f in plain if f in spec.config}}
    diffs = [
        FieldDiff(path, before.get(path), after.get(path), op=_op(path in before, path in after))
        for path in _changed_keys(before, after)
    ]
    for f in sorted(f for f in managed if k.is_secret(f)):
        d = _diff_secret(spec, current, f, ctx)
        if d is not None:
            diffs.append(d)
    return sorted(diffs, key=lambda d: (d.path != "on", d.path))


def _op(present_before: bool, present_after: bool) -> str:
    if not present_after:
        return "remove"
    return "replace" if present_before else "add"


def _changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Top-level keys whose values differ (deep, numeric types compared by value). Identical
    values, the usual case, are recognised without deepdiff, which costs about a millisecond per
    call: a config of thousands of unchanged destinations must not pay that for each."""
    if _identical(before, after):
        return []
    from deepdiff import DeepDiff  # imported when needed: it adds ~30 ms to every run's start

    dd = DeepDiff(dict(before), dict(after), ignore_numeric_type_changes=True)
    return sorted(str(k) for k in dd.affected_root_keys)


def _identical(a: Any, b: Any) -> bool:
    """Equal values of the same JSON types (stricter than deepdiff: ``1 == 1.0`` or ``1 == True``
    is left for deepdiff to judge)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_identical(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(_identical(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _diff_secret(spec: DestinationSpec, current: LiveDestination, f: str, ctx: Context) -> FieldDiff | None:
    path = f"config.{f}"
    present = f in current.config
    if f not in spec.config:
        if present:
            return FieldDiff(
                path, sensitive=True, reason="not in the configuration: it will be removed", op="remove"
            )
        return None
    unresolved = spec.unresolved_secrets.get(f)
    if unresolved is not None:
        if current.config.get(f) in (None, ""):
            _require_secrets(spec, ctx, "set it (LaunchDarkly has no value for it)", only=f)
        else:
            names = " and ".join(unresolved.variables)
            ctx.warn(
                spec.address,
                f"{unresolved.location}: {spec.address} {path}: environment variable {names} is not set; "
                "the secret in LaunchDarkly is left as it is.",
            )
        return None
    op = _op(present, True)
    if ctx.options.rotate_secrets:
        return FieldDiff(path, sensitive=True, reason="--rotate-secrets", op=op)
    state = compare_secret(current.config.get(f), str(spec.config[f]))
    if state is SecretState.MISSING:
        return FieldDiff(path, sensitive=True, reason="LaunchDarkly has no value for it", op=op)
    if state is SecretState.CONTRADICTS:
        return FieldDiff(
            path,
            sensitive=True,
            op=op,
            reason="the masked value in LaunchDarkly does not match the configured secret",
        )
    if state is SecretState.UNREADABLE:
        ctx.warn(
            spec.address,
            f"{spec.address} {path}: LaunchDarkly returned it in a form ldseg cannot compare; it is "
            "assumed unchanged (use --rotate-secrets to re-send it).",
        )
    return None


def destination_guard(current: LiveDestination) -> DestinationGuard:
    """What a saved plan checks before touching this destination again."""
    return DestinationGuard(current.id, current.version, content_fingerprint(current))


def content_fingerprint(current: LiveDestination) -> str:
    body = {"name": current.name, "kind": current.kind, "on": current.on, "config": current.config}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:32]
